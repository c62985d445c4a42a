"""The radar core: tracks, watched waters (drawn sea zones, else the coastal views minus land),
entries raising radar_target alarms with the radar's cameras, and the feed on a real bus with
the real alarm service."""
import time

import numpy as np
import pytest
import shapely

from desktop.core.alarms.service import AlarmService
from desktop.core.district.loader import load_district
from desktop.core.feeds.bus import REJECTED_TOPIC, EventBus
from desktop.core.feeds.schema import parse_radar
from desktop.core.geo.crs import gcj02_to_wgs84
from desktop.core.radar.demo import RadarDemo, demo_boats
from desktop.core.radar.feed import RadarFeed
from desktop.core.radar.tracks import TrackBoard
from desktop.core.radar.watch import ALARM_TYPE, RadarCameras, SeaWatch
from desktop.core.radar.waters import COVERAGE_GROUP, WatchedWaters
from tests.fixtures.district import LAT0, LON0
from tests.radar_district import RADAR, SEA_ZONE, report, write_coastal_district

T0 = 1_796_176_800.0  # 2026-12-02 10:00 +08:00
OUTSIDE = (LON0 + 0.009, LAT0 - 0.012)  # at sea, south of the anchorage
INSIDE = (LON0 + 0.009, LAT0 - 0.003)  # in the anchorage


@pytest.fixture
def coastal(tmp_path):
    return load_district(write_coastal_district(tmp_path / "coast"))


@pytest.fixture
def coastal_undrawn(tmp_path):
    return load_district(write_coastal_district(tmp_path / "coast2", sea_zone=False))


def rep(t, *targets, radar="RAD1"):
    return parse_radar(f"pingan/radar/{radar}/targets", report(radar, t, targets))


def test_tracks_keep_a_short_trail_ignore_late_fixes_and_go_lost():
    board = TrackBoard(track_s=60, lost_s=30, forget_s=120)
    for i in range(100):
        board.ingest(rep(T0 + i, ("T1", LON0 + i * 1e-5, LAT0 - 0.01, 90, 8)))
    st = board.get("RAD1/T1")
    assert st.epoch == T0 + 99 and not st.lost
    trail = board.trail("RAD1/T1")
    assert len(trail) == 61 and trail[0, 0] == T0 + 39  # the last minute only
    assert board.ingest(rep(T0 + 50, ("T1", 0.0, 0.0))) == []  # a late fix does not move it back
    assert board.get("RAD1/T1").epoch == T0 + 99
    board.ingest(rep(T0 + 99, ("T1", LON0, LAT0 - 0.01), radar="RAD2"))  # another radar: another target
    assert len(board) == 2
    lost, gone = board.expire(T0 + 140)
    assert sorted(lost) == ["RAD1/T1", "RAD2/T1"] and gone == [] and board.get("RAD1/T1").lost
    assert board.expire(T0 + 250) == ([], ["RAD1/T1", "RAD2/T1"]) and len(board) == 0


def test_drawn_sea_zones_are_the_watched_waters(coastal):
    w = WatchedWaters.from_district(coastal)
    assert [z.id for z in w.zones] == ["Z-SEA"]  # the land zone Z1 is not watched
    lon, lat = gcj02_to_wgs84(*INSIDE)
    assert [z.id for z in w.zones_at(lon, lat)] == ["Z-SEA"]
    olon, olat = gcj02_to_wgs84(*OUTSIDE)
    assert list(w.inside_many([lon, olon], [lat, olat])) == [True, False]


def test_without_drawn_zones_the_coastal_views_minus_land_are_watched(coastal_undrawn):
    w = WatchedWaters.from_district(coastal_undrawn)
    ids = {z.id for z in w.zones}
    assert {"PTZ1", "CST1", "PTZ9"} <= ids and "RAD1" not in ids  # coastal and ptz, not the radar itself
    assert {z.group for z in w.zones} == {COVERAGE_GROUP}
    sea = gcj02_to_wgs84(LON0 + 0.0102, LAT0 - 0.004)  # 450 m south of PTZ1, in its view
    land = gcj02_to_wgs84(LON0 + 0.0102, LAT0 + 0.0002)  # in its view too, but ashore
    behind = gcj02_to_wgs84(LON0 + 0.0102, LAT0 - 0.012)  # beyond its 900 m
    assert list(w.inside_many(*zip(sea, land, behind))) == [True, False, False]
    union = w.union()
    assert not union.intersects(shapely.Point(*gcj02_to_wgs84(LON0 + 0.01, LAT0 + 0.01)))


def test_an_entry_raises_one_alarm_with_the_radar_cameras_and_rearms(coastal):
    w = WatchedWaters.from_district(coastal)
    watch = SeaWatch(w, RadarCameras(coastal), rearm_s=300, radar_names={"RAD1": "一号雷达"})
    board = TrackBoard()

    def step(t, *targets):
        return watch.observe(board.ingest(rep(t, *targets)))

    assert step(T0, ("T1", *OUTSIDE, 0, 12)) == []
    entries = step(T0 + 2, ("T1", *INSIDE, 0, 12))
    assert len(entries) == 1
    e = entries[0]
    p = e.payload
    assert p["type"] == ALARM_TYPE and p["priority"] == 2 and p["source"] == "RAD1"
    assert p["id"] == "RADAR-RAD1-T1-Z-SEA-20261202T020002"
    assert p["camera_ids"][0] == "RAD1" and "PTZ1" in p["camera_ids"]  # the radar's video first
    assert "PTZ9" not in p["camera_ids"]  # another station's camera, however far it sees
    assert "锚地警戒区" in p["text"] and "一号雷达" in p["text"] and "12.0 kn" in p["text"]
    assert e.zone_id == "Z-SEA" and p["lon"] == pytest.approx(gcj02_to_wgs84(*INSIDE)[0], abs=1e-6)
    assert step(T0 + 4, ("T1", INSIDE[0] + 1e-4, INSIDE[1])) == []  # still inside: no repeat
    assert step(T0 + 60, ("T1", *OUTSIDE)) == []
    assert step(T0 + 62, ("T1", *INSIDE)) == []  # back within 5 min: loitering on the edge
    assert step(T0 + 400, ("T1", *OUTSIDE)) == []
    again = step(T0 + 402, ("T1", *INSIDE))
    assert len(again) == 1 and again[0].payload["id"] != p["id"]
    first_sighting = step(T0 + 402, ("T2", *INSIDE))  # appears inside: not seen coming, alarm at once
    assert len(first_sighting) == 1 and first_sighting[0].target.id == "T2"


def test_the_feed_rejects_bad_reports_and_the_alarm_service_journals_the_alarm(coastal, tmp_path):
    bus = EventBus()
    alarms = AlarmService(tmp_path / "alarms.sqlite", bus=bus, workstation="ws").start()
    feed = RadarFeed(bus, coastal, expire_s=0).start()
    try:
        bad = report("RAD1", T0, [("T1", *OUTSIDE)])
        bad["targets"][0]["speed_kn"] = "fast"
        bus.publish("pingan/radar/RAD1/targets", bad)
        bus.publish("pingan/radar/RAD1/targets", report("RAD1", T0, [("T1", *OUTSIDE)]))
        bus.publish("pingan/radar/RAD1/targets", report("RAD1", T0 + 2, [("T1", *INSIDE)]))
        assert alarms.flush(10)
        assert feed.counters["rejected"] == 1 and feed.counters["alarms"] == 1
        rej = alarms.recent_rejections()
        assert len(rej) == 1 and rej[0].field == "targets[0].speed_kn" and rej[0].reason == "wrong_type"
        assert rej[0].topic == "pingan/radar/RAD1/targets"
        (a,) = alarms.alarms(types=[ALARM_TYPE])
        assert a.camera_ids[0] == "RAD1" and a.source == "RAD1" and a.priority == 2
        assert len(feed.board) == 1 and feed.board.get("RAD1/T1").lat_gcj == pytest.approx(INSIDE[1])
        # the same report again (a broker's redelivery) raises nothing new
        bus.publish("pingan/radar/RAD1/targets", report("RAD1", T0 + 2, [("T1", *INSIDE)]))
        assert alarms.flush(10) and len(alarms.alarms(types=[ALARM_TYPE])) == 1
    finally:
        feed.stop()
        alarms.stop()


def test_the_demo_boats_stay_at_sea_and_some_enter_the_watched_waters():
    d = load_district("maps/shinan")
    waters = WatchedWaters.from_district(d)
    boats = demo_boats(d, waters)
    assert len(boats) >= 3 and len({b.radar for b in boats}) >= 3
    from desktop.core.radar.demo import _land
    land = _land(d)
    entered = set()
    for b in boats:
        for t in np.arange(0.0, b.cycle_s, 10.0):
            lon, lat, heading, speed = b.at(T0 + t)
            assert not land.contains(shapely.Point(lon, lat)), f"{b.id} ashore at t={t}"
            assert 0 <= heading < 360 and 3 < speed < 40
            if waters.inside_many([lon], [lat])[0]:
                entered.add(b.id)
    assert entered and entered != {b.id for b in boats}  # some come in, some pass outside
    bus = EventBus()
    got = []
    bus.subscribe("pingan/radar/+/targets", lambda topic, p: got.append(parse_radar(topic, p, topic.split("/")[2])))
    demo = RadarDemo(d, bus, period_s=0.05).start()
    try:
        deadline = time.monotonic() + 5
        while len(got) < 2 * len(demo.radars) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        demo.stop()
    assert {r.radar for r in got} == set(demo.radars)  # every radar's report passes the schema
