"""The whole chain with real servers: an alarm published to mosquitto reaches the operator
window, and the camera whose field of view covers its point opens on the video wall by
itself and plays real H.264 from the GStreamer RTSP server — no click — and the audit log
records who watched what."""
import json
from datetime import datetime, timezone

import numpy as np
import pytest

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.app import _wall_factory, start_plugins
from desktop.qt.audit import AuditLogDialog, AuditTrail
from desktop.qt.main_window import MainWindow
from tests.fixtures.district import LAT0, LON0
from tests.fixtures.mqtt import Publisher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_broker_alarm_opens_the_covering_camera_live_on_the_wall(qtbot, tiny_district, mqtt_broker, rtsp_server,
                                                                 tmp_path):
    # CAM000 (50 m south of the alarm, looking north) streams from the RTSP server; its
    # neighbours keep no URL and would play demo clips if they were (wrongly) linked
    path = tiny_district / "cameras.geojson"
    fc = json.loads(path.read_text(encoding="utf-8"))
    for f in fc["features"]:
        if f["properties"]["id"] == "CAM000":
            f["properties"].update(main_url=rtsp_server.url("cam1"), sub_url=rtsp_server.url("cam1s"))
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    d = load_district(tiny_district)
    factory = _wall_factory()
    assert factory is not None
    w = MainWindow(d, MapProjection(), wall_factory=factory)
    qtbot.addWidget(w)
    w.resize(1600, 900)
    cfg = Config(broker=mqtt_broker.url, operator="李警官", workstation="ws-wall")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "j.sqlite").start()
    mgr = start_plugins(w, cfg, d, bus=session.bus,
                        services={"alarms": session.alarms, "operator": "李警官", "clock": session.clock})
    trail = AuditTrail(session.alarms, "李警官")
    trail.attach(w)
    w.show()
    pub = Publisher(mqtt_broker, client_id="perimeter-gateway")
    try:
        assert session.wait_connected(10)
        plugin = mgr.records["alarms"].instance
        assert not any(t.camera_id for t in w.wall.tiles)
        pub.publish("pingan/alarm", {"id": "WALL-1", "type": "perimeter", "priority": 2,
                                     "time": datetime.now(timezone.utc).isoformat(), "lon": LON0 + 0.002,
                                     "lat": LAT0 + 0.00245, "crs": "GCJ02", "source": "fence-7"})
        qtbot.waitUntil(lambda: plugin.book.get("WALL-1") is not None, timeout=15000)
        qtbot.waitUntil(lambda: w.wall.tiles[0].camera_id == "CAM000", timeout=5000)
        assert [t.camera_id for t in w.wall.tiles if t.camera_id] == ["CAM000"]  # only the camera that sees it
        qtbot.waitUntil(lambda: w.wall.tile_state(0) == "live" and w.wall.tiles[0].frames_shown >= 10,
                        timeout=20000)
        frame = w.wall.tiles[0].frame.image
        assert frame.ndim == 3 and float(np.asarray(frame[..., :3], float).std()) > 5.0  # a picture, not a blank
        # who watched what is on record: the linkage and the camera put on the wall
        log = session.alarms.audit_log(50)
        assert ("alarm_linkage", "WALL-1") in [(e.action, e.target) for e in log]
        assert next(e for e in log if e.action == "alarm_linkage").detail["cameras"] == ["CAM000"]
        opened = [e for e in log if e.action == "camera_opened"]
        assert [e.target for e in opened] == ["CAM000"] and opened[0].operator == "李警官"
        dialog = AuditLogDialog(session.alarms, w)
        shown = {dialog.table.item(r, 4).text() for r in range(dialog.table.rowCount())}
        assert {"WALL-1", "CAM000"} <= shown
        dialog.close()
    finally:
        pub.close()
        mgr.unload_all()
        w.wall.stop()
        session.stop()
        w.close()
