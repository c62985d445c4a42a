"""Units: kinds and their profiles, live/stale/offline and moving/stopped, trips and stops."""
from __future__ import annotations

import numpy as np
import pytest

from desktop.core.alarms.linkage import SPEED_KMH
from desktop.core.feeds.schema import PATROL_KINDS, PatrolPosition, parse_patrol
from desktop.core.patrol.geometry import LocalFrame
from desktop.core.patrol.service import PatrolService
from desktop.core.patrol.stops import find_stops, find_trips, trips_and_stops
from desktop.core.patrol.track import Track
from desktop.core.patrol.units import KINDS, PROFILES, link_state, profile

T0 = 1717203600.0
FRAME = LocalFrame(120.38, 36.06)


def pos(unit, kind, t, x, y, speed=0.0):
    lon, lat = FRAME.inv(x, y)
    return PatrolPosition(unit=unit, kind=kind, time="", epoch=float(t), lon=float(lon), lat=float(lat), crs="WGS84",
                          speed_kmh=speed, heading_deg=90.0, lon_wgs=float(lon), lat_wgs=float(lat))


def test_kinds_are_the_feeds_and_speeds_are_linkages():
    assert KINDS == PATROL_KINDS == ("car", "ebike", "foot", "boat")
    assert {k: p.speed_kmh for k, p in PROFILES.items()} == SPEED_KMH
    assert profile("hovercraft") is PROFILES["foot"] and PROFILES["boat"].water


def test_link_state_thresholds():
    assert [link_state(a) for a in (0, 60, 60.01, 300, 300.01)] == ["live", "live", "stale", "stale", "offline"]


def test_stale_offline_and_motion_from_fixes(tmp_path):
    clock = {"now": T0}
    with PatrolService(tmp_path / "j.sqlite", None, clock=lambda: clock["now"], autoflush_s=0) as svc:
        # car-01 reports 0 km/h but moved 100 m in 10 s: moving. foot-01 stands still.
        svc.ingest([pos("car-01", "car", T0 - 10, 0, 0), pos("car-01", "car", T0, 100, 0),
                    pos("foot-01", "foot", T0 - 10, 5, 5), pos("foot-01", "foot", T0, 5, 6)])
        # parsed straight from a feed payload (WGS84 not filled in yet): converted on ingest
        raw = parse_patrol("pingan/patrol/ebike-01/position",
                           {"unit": "ebike-01", "kind": "ebike", "time": "2024-06-01T09:00:00+08:00", "lon": 120.3852,
                            "lat": 36.0612, "crs": "GCJ02", "speed_kmh": 15.0, "heading_deg": 10}, convert=False)
        assert svc.ingest(raw) == 1
        st = {s.unit: s for s in svc.positions()}
        assert st["car-01"].motion == "moving" and st["foot-01"].motion == "stopped"
        assert st["ebike-01"].motion == "moving" and abs(st["ebike-01"].lon - 120.3852) > 1e-4  # now WGS84
        assert abs(st["ebike-01"].lon_gcj - 120.3852) < 1e-6
        assert {s.link for s in st.values()} == {"live"}
        assert svc.tick(T0 + 30).stale == ()
        rep = svc.tick(T0 + 61)
        assert rep.stale == ("car-01", "ebike-01", "foot-01") and rep.offline == ()
        assert svc.tick(T0 + 62).stale == ()  # reported once
        svc.ingest(pos("foot-01", "foot", T0 + 290, 5, 6))  # back: live again
        clock["now"] = T0 + 301
        st = {s.unit: s for s in svc.positions()}
        assert st["car-01"].link == "offline" and st["foot-01"].link == "live" and st["car-01"].age_s == 301
        assert svc.tick(T0 + 301).offline == ("car-01", "ebike-01")
        # an older fix is journaled but does not move the unit
        svc.ingest(pos("foot-01", "foot", T0 + 50, 999, 999))
        assert {s.unit: s.epoch for s in svc.positions()}["foot-01"] == T0 + 290
        assert len(svc.track("foot-01", T0 - 100, T0 + 300)) == 4


def test_a_restart_shows_the_units_seen_in_the_last_minutes(tmp_path):
    with PatrolService(tmp_path / "j.sqlite", None, clock=lambda: T0, autoflush_s=0) as svc:
        svc.ingest([pos("car-01", "car", T0 - 100, 0, 0), pos("car-02", "car", T0 - 1000, 0, 0)])
    with PatrolService(tmp_path / "j.sqlite", None, clock=lambda: T0, autoflush_s=0) as svc:
        assert [s.unit for s in svc.positions()] == ["car-01"]


def scripted_car(rng):
    """1 Hz: parked 300 s at A and 180 s at B (GPS jitter ±4 m) with 2 km in 240 s between, 90 s
    stuck at a light after 500 m (not a stop), on 500 m, parked 30 s (not a stop), on 300 m."""
    t, x, y = [], [], []
    clock = 0.0

    def stay(seconds, px, py, jitter=4.0):
        nonlocal clock
        for _ in range(int(seconds)):
            t.append(clock)
            x.append(px + rng.uniform(-jitter, jitter))
            y.append(py + rng.uniform(-jitter, jitter))
            clock += 1

    def drive(seconds, x0, y0, x1, y1):
        nonlocal clock
        for k in range(int(seconds)):
            f = k / seconds
            t.append(clock)
            x.append(x0 + f * (x1 - x0))
            y.append(y0 + f * (y1 - y0))
            clock += 1

    stay(300, 0, 0)                 # 0..299
    drive(240, 0, 0, 2000, 0)       # 300..539
    stay(180, 2000, 0)              # 540..719
    drive(60, 2000, 0, 2000, 500)   # 720..779
    stay(90, 2000, 500, 0.0)        # 780..869 (90 s: shorter than a stop)
    drive(60, 2000, 500, 2000, 1000)
    stay(30, 2000, 1000, 0.0)
    drive(40, 2000, 1000, 2300, 1000)
    lon, lat = FRAME.inv(np.array(x), np.array(y))
    return Track("car-01", "car", T0 + np.array(t), np.asarray(lon), np.asarray(lat), np.zeros(len(t)), np.zeros(len(t)))


def test_trips_and_stops_of_a_scripted_track():
    tr = scripted_car(np.random.default_rng(4))
    trips, stops = trips_and_stops(tr)
    # Leaving at 30 km/h, a car is within the 50 m radius for 6 more seconds.
    assert [(s.arrival - T0, s.departure - T0) for s in stops] == [
        (0.0, pytest.approx(305, abs=2)), (pytest.approx(534, abs=2), pytest.approx(725, abs=2))]
    a = stops[0]
    x, y = FRAME.fwd(a.lon, a.lat)
    assert abs(x) < 3 and abs(y) < 3 and a.fixes == pytest.approx(306, abs=2)
    assert len(trips) == 2
    first, second = trips
    assert first.start == stops[0].departure and first.end == stops[1].arrival
    assert first.distance_m == pytest.approx(2000 - 2 * 50, rel=0.03)
    assert first.max_speed_kmh == pytest.approx(30, rel=0.1)  # from the fixes: the track reports 0 km/h
    assert second.distance_m == pytest.approx(1300 - 50, rel=0.05)
    # The same fixes as a walker's: a 20 m radius is wider than the jitter, 180 s the minimum.
    walker = Track("foot-01", "foot", tr.t, tr.lon, tr.lat, tr.speed_kmh, tr.heading_deg)
    assert [round(s.duration_s) for s in find_stops(walker)] == [pytest.approx(302, abs=2), pytest.approx(184, abs=2)]
    assert find_trips(Track.empty("x")) == [] and find_stops(tr.between(T0 + 300, T0 + 500)) == []


def test_two_stays_a_few_metres_apart_are_one_stop():
    t = np.arange(0, 600, 1.0)
    x = np.where(t < 300, 0.0, 40.0)  # moved 40 m across a car park half-way
    lon, lat = FRAME.inv(x, np.zeros_like(x))
    tr = Track("car-01", "car", T0 + t, np.asarray(lon), np.asarray(lat), np.zeros_like(t), np.zeros_like(t))
    trips, stops = trips_and_stops(tr)
    assert len(stops) == 1 and stops[0].duration_s == 599 and trips == []
