"""The patrol panel plugin in the real window, on the real session (bus, alarm and patrol
services): units on the map and in the list, stale units, dispatch from the ranking with the
arrival journaled, and a replay that shows what was recorded."""
import time

import numpy as np
import pytest

from desktop.core.alarms.model import AlarmState
from desktop.core.clock import iso
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection, gcj02_to_wgs84
from desktop.core.session import Session
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from desktop.qt.map.layer import Hit
from tests.fixtures.district import LAT0, LON0


def fix(unit, kind, lon, lat, t=None, speed=20.0, heading=45.0):
    return {"unit": unit, "kind": kind, "time": iso(time.time() if t is None else t), "lon": lon, "lat": lat,
            "crs": "GCJ02", "speed_kmh": speed, "heading_deg": heading}


def alarm(aid, lon, lat):
    return {"id": aid, "type": "one_key", "priority": 1, "time": iso(time.time()), "lon": lon, "lat": lat,
            "crs": "GCJ02", "source": f"phone-{aid}", "text": "一键报警"}


@pytest.fixture
def ws(qtbot, tiny_district, tmp_path):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(operator="李警官")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "alarms.sqlite", demo_feed=False).start()
    mgr = start_plugins(w, cfg, d, bus=session.bus, services=session.services())
    w.show()
    rec = mgr.records["patrol"]
    assert rec.state == "enabled", rec.last_error
    yield w, session, rec.instance
    mgr.unload_all()
    session.stop()


def test_units_reach_map_and_list_and_a_silent_one_goes_stale(ws, qtbot):
    w, session, plugin = ws
    session.bus.publish("pingan/patrol/C1/position", fix("C1", "car", LON0 + 0.005, LAT0 + 0.005))
    session.bus.publish("pingan/patrol/F1/position", fix("F1", "foot", LON0 + 0.01, LAT0 + 0.01,
                                                         t=time.time() - 120))  # last heard two minutes ago
    layer = w.canvas.layer("units")
    qtbot.waitUntil(lambda: set(layer.units) == {"C1", "F1"}, timeout=5000)
    x, y = w.projection.forward(LON0 + 0.005, LAT0 + 0.005, "GCJ02")
    assert abs(layer.units["C1"]["x"] - x) < 0.5 and abs(layer.units["C1"]["y"] - y) < 0.5
    qtbot.waitUntil(lambda: plugin.panel.units.model().rowCount() == 2, timeout=5000)
    rows = {r[0]: r[2] for r in plugin.panel.units.model().rows}
    assert rows["F1"] == "stale" and rows["C1"] == "moving"
    qtbot.waitUntil(lambda: layer.units["F1"]["state"] == "stale", timeout=5000)  # greyed on the map
    hit = layer.hit_test(x, y, w.canvas.vp)
    assert hit is not None and hit.kind == "patrol_unit" and hit.id == "C1"
    menu = w.feature_menu(hit)
    assert "Replay this unit's last hour" in [a.text() for a in menu.actions()]


def test_dispatch_the_ranked_unit_then_its_arrival_is_journaled(ws, qtbot):
    w, session, plugin = ws
    a_lon, a_lat = LON0 + 0.006, LAT0 + 0.006  # on the tiny district's one route (a diagonal)
    session.bus.publish("pingan/patrol/C1/position", fix("C1", "car", LON0 + 0.004, LAT0 + 0.004))
    session.bus.publish("pingan/patrol/C2/position", fix("C2", "car", LON0 + 0.015, LAT0 + 0.015))
    session.bus.publish("pingan/alarm", alarm("AL1", a_lon, a_lat))
    qtbot.waitUntil(lambda: session.alarms.get("AL1") is not None and len(session.patrol.positions()) == 2,
                    timeout=5000)
    plugin.rank_for("AL1")
    qtbot.waitUntil(lambda: plugin.panel.ranking.count() == 2, timeout=5000)
    assert plugin.panel.ranking.item(0).data(256) == "C1"  # 256: Qt.UserRole
    assert "C1" in plugin.panel.explain.text() and "m" in plugin.panel.explain.text()
    assert len(w.canvas.layer("dispatch_route").path) >= 2  # the route drawn
    session.alarms.transition("AL1", AlarmState.ACKNOWLEDGED, "李警官").result(5)
    plugin.dispatch_selected()
    qtbot.waitUntil(lambda: session.alarms.get("AL1").state == AlarmState.DISPATCHED, timeout=5000)
    assert session.alarms.get("AL1").assigned_unit == "C1"
    qtbot.waitUntil(lambda: session.patrol.busy().get("C1") == "AL1", timeout=5000)
    assert not session.patrol.arrivals(0, 2e9)
    session.bus.publish("pingan/patrol/C1/position", fix("C1", "car", a_lon + 0.0001, a_lat))  # ~9 m away
    qtbot.waitUntil(lambda: len(session.patrol.arrivals(0, 2e9)) == 1, timeout=5000)
    rec = session.patrol.arrivals(0, 2e9)[0]
    assert rec.unit == "C1" and rec.alarm_id == "AL1" and rec.response_s >= 0
    qtbot.waitUntil(lambda: plugin.statuses.get("C1") is not None and plugin.statuses["C1"].busy, timeout=5000)
    session.alarms.transition("AL1", AlarmState.RESOLVED, "李警官").result(5)
    qtbot.waitUntil(lambda: "C1" not in session.patrol.busy(), timeout=5000)


def test_replay_shows_what_was_recorded(ws, qtbot):
    w, session, plugin = ws
    t_end = time.time() - 5
    n = 300
    ts = t_end - n + np.arange(n)
    lons = LON0 + 0.002 + np.linspace(0, 0.01, n)
    for t, lon in zip(ts, lons):
        session.bus.publish("pingan/patrol/E1/position", fix("E1", "ebike", float(lon), LAT0 + 0.008, t=float(t)))
    qtbot.waitUntil(lambda: len(session.patrol.track("E1", 0, 2e9)) == n, timeout=10000)
    plugin.replay_unit("E1")
    qtbot.waitUntil(lambda: plugin.replay is not None, timeout=10000)
    model = plugin.replay
    assert model.units == ("E1",) and model.fixes == n
    assert plugin.replay_layer.follow == "" or model.followed == "E1"
    mid = float(ts[150])
    plugin.replay.seek(mid)
    plugin.replay.pause()
    plugin.replay_frame(force=True)
    lon_w, lat_w = gcj02_to_wgs84(float(lons[150]), LAT0 + 0.008)
    layer = w.canvas.layer("replay")
    i = layer.units.index("E1")
    x, y = w.projection.forward(lon_w, lat_w, "WGS84")
    assert abs(layer.x[i] - x) < 1.0 and abs(layer.y[i] - y) < 1.0  # where it was at that second
    assert not w.canvas.layer("units").visible  # the live units step aside during a replay
    plugin.panel.slider.setValue(0)
    plugin.seek_fraction(0.0)
    assert plugin.replay.t == plugin.replay.t0
    plugin.step(3)
    assert plugin.replay.t == pytest.approx(plugin.replay.t0 + 30.0)
    plugin.close_replay()
    assert w.canvas.layer("units").visible and plugin.replay is None


def test_without_a_patrol_service_the_plugin_says_so_and_the_rest_runs(qtbot, tiny_district, tmp_path):
    from desktop.core.alarms.service import AlarmService
    from desktop.core.feeds.bus import EventBus
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    bus = EventBus()
    svc = AlarmService(tmp_path / "a.sqlite", bus=bus).start()
    mgr = start_plugins(w, Config(), d, bus=bus, services={"alarms": svc})
    assert mgr.records["patrol"].state == "failed" and "no patrol service" in mgr.records["patrol"].last_error
    assert mgr.records["alarms"].state == "enabled"
    assert w.canvas.layer("units") is None
    mgr.unload_all()
    svc.stop()


def test_segment_coverage_shows_the_driven_stretch(ws, qtbot):
    w, session, plugin = ws
    t0 = time.time() - 60
    for i in range(40):  # 40 s along the first third of the tiny district's one route (a diagonal)
        f = 0.002 + i * 0.00015
        session.bus.publish("pingan/patrol/C7/position", fix("C7", "car", LON0 + f, LAT0 + f, t=t0 + i))
    qtbot.waitUntil(lambda: len(session.patrol.track("C7", 0, 2e9)) == 40, timeout=5000)
    plugin.panel.coverage.setChecked(True)
    layer = w.canvas.layer("coverage")
    qtbot.waitUntil(lambda: layer.visible and bool(layer.parts), timeout=5000)
    assert "R1" in plugin.panel.coverage_summary.text() or "一级巡线1" in plugin.panel.coverage_summary.text()
    pct = session.patrol.coverage(30)[0].fraction
    assert 0.2 < pct < 0.6  # a third of the line, not all of it and not nothing
    plugin.panel.coverage.setChecked(False)
    assert not layer.visible


def test_another_plugin_finds_the_unit_layer_until_patrol_is_disabled(ws):
    w, session, plugin = ws
    mgr = w.plugin_manager
    alarms_host = mgr.records["alarms"].host
    assert alarms_host.find_layer("patrol", "units") is w.canvas.layer("units")
    mgr.disable("patrol")
    assert alarms_host.find_layer("patrol", "units") is None
    assert w.canvas.layer("units") is None and w.canvas.layer("replay") is None
    assert not [e for e in w.feature_actions if e[0].startswith("patrol.")]
