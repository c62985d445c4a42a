"""Live (--broker): radar reports through the real mosquitto are tracked and watched in the feed
process — a target entering the watched waters raises a radar_target alarm with the radar's
cameras — and forwarded to the map, which draws the targets; a bad report is rejected, counted
and listed with its field, and the reports around it are not lost."""
import time

import pytest

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from desktop.qt.map.radar_layer import attach_radar
from tests.fixtures.district import LAT0, LON0
from tests.fixtures.mqtt import Publisher
from tests.radar_district import report, write_coastal_district

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

OUTSIDE = (LON0 + 0.009, LAT0 - 0.012)
INSIDE = (LON0 + 0.009, LAT0 - 0.003)


def test_radar_targets_live_through_mosquitto(qtbot, tmp_path, mqtt_broker):
    d = load_district(write_coastal_district(tmp_path / "coast"))
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(broker=mqtt_broker.url, operator="李警官", workstation="ws-radar")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "alarms.sqlite").start()
    assert session.remote and session.radar_feed is None  # the radar feed runs in the feed process
    mgr = start_plugins(w, cfg, d, bus=session.bus, services=session.services())
    _waters, layer = attach_radar(w, d, w.stream_hub)
    pub = Publisher(mqtt_broker, client_id="radar-pub")
    try:
        assert session.wait_connected(10)
        qtbot.waitUntil(lambda: "pingan/radar/+/targets" in w.stream_hub.topic_filters(), timeout=5000)
        t0 = time.time() - 10
        pub.publish("pingan/radar/RAD1/targets", report("RAD1", t0, [("T1", *OUTSIDE, 0, 9), ("T2", LON0 + 0.02,
                                                                                              LAT0 - 0.02, 270, 4)]))
        bad = report("RAD1", t0 + 1, [("T1", *OUTSIDE)])
        bad["targets"][0]["lat"] = 95
        pub.publish("pingan/radar/RAD1/targets", bad)
        pub.publish("pingan/radar/RAD1/targets", b"{not json")
        pub.publish("pingan/radar/RAD1/targets", report("RAD1", t0 + 2, [("T1", *INSIDE, 0, 9),
                                                                          ("T2", LON0 + 0.019, LAT0 - 0.02, 270, 4)]))
        assert pub.wait_all_sent(10)
        # the alarm, raised in the feed process and journaled there, with the radar's cameras
        qtbot.waitUntil(lambda: session.alarms.alarms(types=["radar_target"]) != [], timeout=10000)
        (a,) = session.alarms.alarms(types=["radar_target"])
        assert a.source == "RAD1" and a.camera_ids[0] == "RAD1" and "PTZ1" in a.camera_ids
        assert "T1" in a.text
        # the map: both targets, with their tracks, T1 in the watched waters
        qtbot.waitUntil(lambda: len(layer.board) == 2 and len(layer.board.trail("RAD1/T1")) == 2, timeout=10000)
        assert layer.board.get("RAD1/T2").heading_deg == 270
        hit = layer.hit_test(*w.projection.forward(INSIDE[0], INSIDE[1], "GCJ02"), w.canvas.vp)
        assert hit is not None and hit.kind == "radar_target" and hit.id == "RAD1/T1"
        # the rejections: counted and listed by the alarm service, naming the field
        qtbot.waitUntil(lambda: session.alarms.counters().get("rejected", 0) >= 2, timeout=10000)
        fields = {(r.topic, r.field) for r in session.alarms.recent_rejections()}
        assert ("pingan/radar/RAD1/targets", "targets[0].lat") in fields
    finally:
        pub.close()
        mgr.unload_all()
        session.stop()
