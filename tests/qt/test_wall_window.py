"""The wall window inside the operator program (a single PC without a broker): "Send to wall"
reaches it in-process, its state comes back to the Wall menu, an urgent alarm from the
in-process alarm stream takes it over and its resolution gives it back; screens changing at
run time rebuild the windows without restarting the video. Real RTSP cameras."""
from __future__ import annotations

import time

import pytest

from desktop.bench.wall import camera_point, write_rtsp_district
from desktop.core.alarms.model import Alarm, AlarmEvent, AlarmState, EventKind
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.plugin_api.streams import StreamHub
from desktop.core.wall.settings import WallConfig

pytestmark = [pytest.mark.timeout(90)]


def _alarm(aid: str, state=AlarmState.NEW, cam=3) -> Alarm:
    from desktop.core.geo.crs import gcj02_to_wgs84
    lon, lat = camera_point(cam)
    lon_wgs, lat_wgs = gcj02_to_wgs84(lon, lat)
    return Alarm(id=aid, type="one_key", priority=1, time="2026-12-02T10:00:00+08:00", epoch=time.time(),
                 lon=lon, lat=lat, crs="GCJ02", lon_wgs=float(lon_wgs), lat_wgs=float(lat_wgs), lon_gcj=lon,
                 lat_gcj=lat, source="s1", camera_ids=(f"CAM{cam:03d}",), text="help", state=state)


@pytest.fixture
def operator_and_wall(qtbot, rtsp_server, tmp_path, monkeypatch):
    monkeypatch.setenv("PINGAN_DATA", str(tmp_path / "data"))
    from desktop.qt.main_window import MainWindow
    from desktop.qt.video.wall import VideoWall
    from desktop.qt.wall.app import open_local_wall, resolver
    from desktop.qt.wall.sender import attach_wall_sender
    folder = write_rtsp_district(tmp_path / "d", [(rtsp_server.url("cam1"), rtsp_server.url("cam1s")),
                                                 (rtsp_server.url("cam2"), rtsp_server.url("cam2s"))], 12)
    district = load_district(folder, MapProjection())
    window = MainWindow(district, MapProjection(), wall_factory=lambda w: VideoWall(
        resolve=resolver(district), settings_path=tmp_path / "layouts.json"))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    cfg = Config(wall=WallConfig(window=True, dwell_s=0.0))
    hub = StreamHub()
    display = open_local_wall(window, cfg, district, window.projection, hub=hub)
    sender = attach_wall_sender(window, cfg, "ws1", "zhang")
    yield window, display, sender, hub
    display.stop()
    window.wall.stop()


def test_send_to_wall_in_process_and_state_back(operator_and_wall, qtbot):
    window, display, sender, hub = operator_and_wall
    assert not display.settings.fullscreen  # one screen: a plain window beside the operator's
    window.wall.open_camera_ids(["CAM000", "CAM001"])
    window.canvas.center_on(*window.projection.forward(*camera_point(5), "GCJ02"))
    sent = sender.send_current()
    qtbot.waitUntil(lambda: display.controller.visible_revision == sent.revision, timeout=20000)
    video = display.videos["video"]
    assert [video.tiles[i].camera_id for i in range(2)] == ["CAM000", "CAM001"]
    assert all(video.tile_state(i) == "live" for i in range(2))
    # the map region looks where the workstation looked
    (m,) = [p for (rid, _s), p in display.maps.items() if rid == "map"]
    lon, lat = window.projection.inverse(m._region_view[0], m._region_view[1], "GCJ02")
    assert abs(lon - camera_point(5)[0]) < 1e-4 and abs(lat - camera_point(5)[1]) < 1e-4
    qtbot.waitUntil(lambda: sender.walls.get("main", {}).get("visible_revision") == sent.revision, timeout=5000)
    assert "online" in sender.describe("main") and str(sent.revision) in sender.label.text()
    # a saved layout, sent: it wins over the first (a newer revision)
    window.wall.set_layout("1")
    window.wall.save_layout_as("one")
    second = sender.send_saved("main", "one")
    assert second.revision > sent.revision
    qtbot.waitUntil(lambda: display.controller.visible_revision == second.revision, timeout=20000)
    assert display.videos["video"].layout_name == "1"


def test_urgent_alarm_takes_the_wall_and_resolving_gives_it_back(operator_and_wall, qtbot):
    window, display, sender, hub = operator_and_wall
    hub.publish("alarms", AlarmEvent(kind=EventKind.NEW, alarm=_alarm("A1")))
    hub.deliver()
    qtbot.waitUntil(lambda: display.controller.showing_alarm == "A1", timeout=5000)
    qtbot.waitUntil(lambda: getattr(display.controller, "visible_alarm", "") == "A1", timeout=20000)
    video = display.videos["video"]
    shown = [video.tiles[i].camera_id for i in range(video.tile_count)]
    assert shown[0] == "CAM003"  # the alarm's own camera first, then those covering its point
    assert display.captions["video"].text == "A1  help"
    assert any(m.marker for m in display.maps.values())
    img = display.picture()
    assert not img.isNull() and img.width() == 1280
    hub.publish("alarms", AlarmEvent(kind=EventKind.STATE_CHANGED, alarm=_alarm("A1", AlarmState.RESOLVED)))
    hub.deliver()
    qtbot.waitUntil(lambda: display.controller.showing_alarm is None, timeout=5000)
    assert not display.captions["video"].text
    assert sender.walls["main"]["showing"] == "layout"


def test_screens_changing_rebuilds_the_windows_keeping_the_video(operator_and_wall, qtbot):
    window, display, sender, hub = operator_and_wall
    window.wall.open_camera_ids(["CAM002"])
    sent = sender.send_current()
    qtbot.waitUntil(lambda: display.controller.visible_revision == sent.revision, timeout=20000)
    video = display.videos["video"]
    player = video.tiles[0].player
    old_windows = list(display.windows)
    display._screens_changed()
    assert display.windows and display.windows[0] is not old_windows[0]
    assert display.videos["video"] is video and video.tiles[0].player is player  # no reconnect
    assert video.window() is display.windows[0]
    assert display.shown is not None and display.shown.revision == sent.revision
