"""Camera faults in the window: a status report or a wall tile's own failure changes the camera's
map icon (read back from the rendered map), lists it in the Faulty cameras dock with since-when in
the district's time, and moves the online rate in the status bar; back online, all of it clears."""
import socket
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection, mercator_scale
from desktop.core.localtime import format_local
from desktop.core.session import Session
from desktop.core.video.source import CameraStreams, StreamSpec
from desktop.core.video.worker import DecodeWorker
from desktop.qt.app import _wall_factory
from desktop.qt.camera_faults import watch_cameras
from desktop.qt.main_window import MainWindow
from desktop.qt.map.camera_layer import FAULT_FILL, KIND_COLORS, OFFLINE_FILL


@pytest.fixture
def desk(qtbot, tiny_district, tmp_path):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection(), wall_factory=_wall_factory())
    qtbot.addWidget(w)
    session = Session(Config(), d, w.projection, journal_path=tmp_path / "j.sqlite", demo_feed=False).start()
    watcher = watch_cameras(w, session.cameras.health)
    watcher.timer.setInterval(50)
    w.resize(1400, 900)
    w.show()
    yield w, session, watcher
    if w.wall is not None:
        w.wall.close_all()
    session.stop()


def icon_pixels(w, camera_id: str, hex_: str) -> int:
    """How many pixels of a camera's icon, rendered at street level (no clustering), have the
    colour ``hex_`` (an icon is 14 px: an icon in that colour has dozens)."""
    layer = w.canvas.layer("cameras")
    k = [str(layer.table.records[int(r)].id) for r in layer.rows].index(camera_id)
    x, y = float(layer.x[k]), float(layer.y[k])
    vp = w.canvas.vp
    vp.cx, vp.cy = x, y
    vp.scale = mercator_scale(float(layer.table.lat_wgs[int(layer.rows[k])])) / 0.5
    img = QImage(vp.width, vp.height, QImage.Format_ARGB32)
    img.fill(0)
    p = QPainter(img)
    layer.paint(p, vp)
    p.end()
    sx, sy = vp.to_screen(np.array([x]), np.array([y]))
    cx, cy = int(round(sx[0])), int(round(sy[0]))
    ref = QColor(hex_)
    n = 0
    for px in range(cx - 7, cx + 8):
        for py in range(cy - 7, cy + 8):
            c = img.pixelColor(px, py)
            if c.alpha() > 200 and abs(c.red() - ref.red()) + abs(c.green() - ref.green()) \
                    + abs(c.blue() - ref.blue()) < 30:  # opaque: the icon, not its faint cone
                n += 1
    return n


def looks(w, camera_id: str, hex_: str) -> bool:
    others = [h for h in (KIND_COLORS["hd"], OFFLINE_FILL, FAULT_FILL) if h != hex_]
    counts = {h: icon_pixels(w, camera_id, h) for h in (hex_, *others)}
    return counts[hex_] >= 12 and all(counts[h] < 3 for h in others)


def status(cid, state, when, reason=""):
    return {"status": state, "time": when.isoformat(), "reason": reason}


def test_a_reported_fault_shows_on_the_icon_in_the_list_and_in_the_rate(desk, qtbot):
    w, session, watcher = desk
    health = session.cameras.health
    total = len(health)
    assert looks(w, "CAM001", KIND_COLORS["hd"])
    assert "100.0 %" in watcher.label.text()
    when = datetime.now(timezone.utc) - timedelta(minutes=5)
    session.bus.publish("pingan/camera/CAM001/status", status("CAM001", "offline", when, "no heartbeat"))
    session.bus.publish("pingan/camera/CAM002/status", status("CAM002", "fault", when, "video loss"))
    qtbot.waitUntil(lambda: len(watcher.panel.model.rows) == 2, timeout=5000)
    assert looks(w, "CAM001", OFFLINE_FILL) and looks(w, "CAM002", FAULT_FILL)
    m = watcher.panel.model
    row = {m.data(m.index(r, 0)): [m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(2)}
    assert row["CAM001"][2] == "offline" and row["CAM001"][5] == "no heartbeat"
    assert row["CAM001"][3] == format_local(when.timestamp())  # the district's local time
    assert row["CAM001"][4].startswith("5 min") and row["CAM002"][6] == "status feed"
    rate = 100 * (total - 2) / total
    assert f"{rate:.1f} %" in watcher.label.text() and "target 98 %" in watcher.label.text()
    assert "1 offline, 1 faulty" in watcher.label.toolTip()
    assert watcher.dock.windowTitle() == "Faulty cameras (2)"
    # the details name the state and since when, first
    layer = w.canvas.layer("cameras")
    cam = layer.table.get("CAM001")
    hit = layer.hit_test(cam.x, cam.y, w.canvas.vp)
    assert hit.title.endswith("offline") and list(hit.props)[:2] == ["state", "out of service since"]
    session.bus.publish("pingan/camera/CAM001/status", status("CAM001", "online", datetime.now(timezone.utc)))
    qtbot.waitUntil(lambda: [f.camera_id for f in watcher.panel.model.rows] == ["CAM002"], timeout=5000)
    assert looks(w, "CAM001", KIND_COLORS["hd"])
    assert [f.camera_id for f in session.cameras.faulty()] == ["CAM002"]  # plugins see the same


def test_the_wall_s_own_failures_put_the_camera_on_the_map(desk, qtbot, video_clips, monkeypatch):
    """A stream that decodes to garbage is a fault; an RTSP camera nobody answers for is offline."""
    w, session, watcher = desk
    monkeypatch.setattr(DecodeWorker, "OFFLINE_AFTER_S", 0.5)
    monkeypatch.setattr(DecodeWorker, "BACKOFF_FIRST_S", 0.2)
    with socket.socket() as s:  # a local port with nothing behind it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = CameraStreams("CAM007", "坏流", StreamSpec(str(video_clips["garbage"]), None, None, "main"), None)
    gone = CameraStreams("CAM008", "断线", StreamSpec(f"rtsp://127.0.0.1:{port}/none", None, None, "main"), None)
    w.wall.open_camera(bad, 0)
    w.wall.open_camera(gone, 1)
    qtbot.waitUntil(lambda: {f.camera_id for f in watcher.panel.model.rows} == {"CAM007", "CAM008"}, timeout=20000)
    faults = {f.camera_id: f for f in session.cameras.faulty()}
    assert (faults["CAM007"].status, faults["CAM007"].source) == ("fault", "video")
    assert (faults["CAM008"].status, faults["CAM008"].source) == ("offline", "video")
    assert looks(w, "CAM007", FAULT_FILL) and looks(w, "CAM008", OFFLINE_FILL)
    m = watcher.panel.model
    assert {m.data(m.index(r, 6)) for r in range(2)} == {"video wall"}
