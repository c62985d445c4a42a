"""Live (--broker): patrol positions through the real mosquitto reach the patrol panel, the
patrol service runs in the feed process, its journal is readable from the GUI process, and a
dispatch made in the panel is followed there."""
import time

import pytest

from desktop.core.alarms.model import AlarmState
from desktop.core.clock import iso
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from tests.fixtures.district import LAT0, LON0
from tests.fixtures.mqtt import Publisher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def fix(unit, lon, lat, t=None):
    return {"unit": unit, "kind": "car", "time": iso(time.time() if t is None else t), "lon": lon, "lat": lat,
            "crs": "GCJ02", "speed_kmh": 25.0, "heading_deg": 90.0}


def test_positions_reach_the_panel_live_and_dispatch_is_followed_in_the_feed_process(
        qtbot, tiny_district, tmp_path, mqtt_broker):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(broker=mqtt_broker.url, operator="王警官", workstation="ws-live")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "alarms.sqlite").start()
    assert session.remote and session.patrol is not None
    mgr = start_plugins(w, cfg, d, bus=session.bus, services=session.services())
    pub = Publisher(mqtt_broker, client_id="patrol-pub")
    try:
        rec = mgr.records["patrol"]
        assert rec.state == "enabled", rec.last_error
        plugin = rec.instance
        assert session.wait_connected(10)
        t0 = time.time() - 20
        for i in range(20):
            pub.publish("pingan/patrol/L1/position", fix("L1", LON0 + 0.003 + i * 1e-4, LAT0 + 0.003, t0 + i))
        layer = w.canvas.layer("units")
        qtbot.waitUntil(lambda: "L1" in layer.units, timeout=10000)  # on the map, live
        qtbot.waitUntil(lambda: plugin.panel.units.model().rowCount() == 1, timeout=10000)  # the service's state, via the pipe
        assert plugin.statuses["L1"].link == "live"
        qtbot.waitUntil(lambda: len(session.patrol.track("L1", 0, 2e9)) == 20, timeout=10000)  # journaled there
        model = session.patrol.replay(["L1"], t0 - 10, t0 + 30)  # read from the file here, beside the writer
        assert model.units == ("L1",) and model.fixes == 20
        pub.publish("pingan/alarm", {"id": "LV1", "type": "one_key", "priority": 1, "time": iso(time.time()),
                                     "lon": LON0 + 0.006, "lat": LAT0 + 0.006, "crs": "GCJ02", "source": "p-lv1"})
        qtbot.waitUntil(lambda: session.alarms.get("LV1") is not None, timeout=10000)
        plugin.rank_for("LV1")
        qtbot.waitUntil(lambda: plugin.panel.ranking.count() == 1, timeout=10000)
        session.alarms.transition("LV1", AlarmState.ACKNOWLEDGED, "王警官").result(10)
        qtbot.waitUntil(lambda: session.alarms.get("LV1").state == AlarmState.ACKNOWLEDGED, timeout=10000)
        plugin.dispatch_selected()
        qtbot.waitUntil(lambda: session.patrol.busy().get("L1") == "LV1", timeout=10000)
    finally:
        pub.close()
        mgr.unload_all()
        session.stop()
