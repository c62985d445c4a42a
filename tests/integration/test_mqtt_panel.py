"""End to end through a real mosquitto into the operator window: published alarm → journal →
alarm panel and flashing map point; the workflow change is published back for other
workstations; malformed payloads are counted in the panel; the state survives a restart."""
import json
import threading
from datetime import datetime, timezone

import pytest

from desktop.core.alarms.model import AlarmState
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from tests.fixtures.district import LAT0, LON0
from tests.fixtures.mqtt import Publisher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def open_workstation(qtbot, district_dir, broker, journal):
    d = load_district(district_dir)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(broker=broker.url, operator="王警官", workstation="ws-a")
    session = Session(cfg, d, w.projection, journal_path=journal).start()
    mgr = start_plugins(w, cfg, d, bus=session.bus,
                        services={"alarms": session.alarms, "operator": "王警官", "clock": session.clock})
    w.show()
    assert session.wait_connected(10)
    return w, session, mgr, mgr.records["alarms"].instance


def test_broker_to_panel_workflow_back_to_broker_and_restart(qtbot, tiny_district, mqtt_broker, tmp_path):
    journal = tmp_path / "ws-a.sqlite"
    w, session, mgr, plugin = open_workstation(qtbot, tiny_district, mqtt_broker, journal)
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion
    states = []
    got = threading.Event()
    watcher = paho.Client(CallbackAPIVersion.VERSION2, client_id="ws-b-watcher")
    watcher.on_message = lambda c, u, m: (states.append(json.loads(m.payload)), got.set())
    watcher.connect(mqtt_broker.host, mqtt_broker.port)
    watcher.subscribe("pingan/alarm/+/state", qos=1)
    watcher.loop_start()
    pub = Publisher(mqtt_broker, client_id="phone-gateway")
    try:
        pub.publish("pingan/alarm", b"\xff\xfe not utf-8")
        pub.publish("pingan/alarm", {"id": "M1", "type": "one_key", "priority": 9, "time": "2026-11-24T10:00:00+08:00",
                                     "lon": LON0, "lat": LAT0, "crs": "GCJ02", "source": "x"})
        pub.publish("pingan/alarm", {"id": "M2", "type": "one_key", "priority": 1,
                                     "time": datetime.now(timezone.utc).isoformat(), "lon": LON0 + 0.002,
                                     "lat": LAT0 + 0.00245, "crs": "GCJ02", "source": "app-user-1",
                                     "text": "有人尾随"})
        qtbot.waitUntil(lambda: [a.id for a in plugin.panel.model.rows] == ["M2"], timeout=15000)
        qtbot.waitUntil(lambda: "rejected 2" in plugin.panel.counters.text(), timeout=5000)
        dialog = plugin.show_rejections()  # read from the feed process
        reasons = sorted(dialog.table.item(r, 2).text() for r in range(dialog.table.rowCount()))
        assert len(reasons) == 2 and all(dialog.table.item(r, 1).text() == "pingan/alarm" for r in range(2))
        dialog.close()
        assert w.canvas.layer("alarms").animating()  # flashing until acknowledged
        assert plugin.linked and plugin.linked[0][0] == "CAM000"
        plugin.select("M2")
        plugin.panel.note.setText("已联系")
        plugin.move_selected(AlarmState.ACKNOWLEDGED)
        assert got.wait(10), "the workflow change was not published"
        assert states[-1]["id"] == "M2" and states[-1]["state"] == "acknowledged"
        assert states[-1]["operator"] == "王警官"
        qtbot.waitUntil(lambda: not w.canvas.layer("alarms").animating(), timeout=5000)
    finally:
        watcher.loop_stop()
        watcher.disconnect()
        pub.close()
        mgr.unload_all()
        session.stop()
        w.close()
    # a restart of the workstation shows the alarm in its last state
    w2, session2, mgr2, plugin2 = open_workstation(qtbot, tiny_district, mqtt_broker, journal)
    try:
        qtbot.waitUntil(lambda: [a.id for a in plugin2.panel.model.rows] == ["M2"], timeout=10000)
        a = plugin2.panel.model.rows[0]
        assert a.state == AlarmState.ACKNOWLEDGED and a.history[0].note == "已联系"
    finally:
        mgr2.unload_all()
        session2.stop()
