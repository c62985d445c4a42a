"""Start-up of the wall display (``--mode wall``) and of the in-process wall window (single PC).

The wall PC: the district, the last layout from disk (shown at once, broker or not), then the
link to the broker — layouts in, state out, alarms for the ticker and the presets. Nothing
here ever opens a dialog: a wall runs for days with nobody at it, and every problem is logged
and reported in its state for the workstations to show.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from desktop.core.config import Config
from desktop.core.wall.controller import WallController
from desktop.core.wall.settings import WallConfig
from desktop.core.wall.store import LastLayoutStore, store_path
from desktop.core.wall.takeover import Takeover

from .display import WallDisplay, WallSettings

log = logging.getLogger("pingan.wall")

ALARM_TOPICS = ("pingan/alarm", "pingan/alarm/+/state")
MAX_LINKED = 9  # cameras an alarm preset puts on the wall


def camera_linker(district):
    """``cameras_for(alarm_id, lon, lat, named)``: the alarm's own cameras the district knows,
    then those whose field of view covers the point, best first."""
    from desktop.core.alarms.linkage import CameraArrays, cameras_covering
    cams = CameraArrays.from_table(district.cameras) if len(district.cameras) else None

    def cameras_for(alarm_id, lon, lat, named):
        out = [c for c in named if district.cameras.get(c) is not None]
        if cams is not None:
            out += [c for c, _score in cameras_covering(lon, lat, cams, limit=MAX_LINKED)]
        return list(dict.fromkeys(out))[:MAX_LINKED]
    return cameras_for


def resolver(district):
    from desktop.core.video.demo_cameras import demo_streams_for
    from desktop.core.video.source import streams_for_camera

    def resolve(camera_id):
        cam = district.cameras.get(camera_id)  # a camera without URL plays the demo's clips
        return streams_for_camera(cam, without_url=demo_streams_for) if cam is not None else None
    return resolve


def make_controller(cfg: Config, district, wall_id: str | None = None) -> WallController:
    from desktop.paths import data_dir
    wc: WallConfig = cfg.wall or WallConfig()
    wall_id = wall_id or cfg.wall_id or "main"
    store = LastLayoutStore(store_path(data_dir(), wall_id), wall_id)
    return WallController(wall_id, store, cameras_for=camera_linker(district),
                          takeover=Takeover(wc.takeover_priorities, wc.dwell_s, wc.timeout_s))


def alarm_router(display: WallDisplay):
    """Feed messages (topic, raw bytes) → the display's alarm signals (called in the link's thread)."""
    from desktop.core.feeds.schema import AlarmMessage, PayloadError, StateMessage, fill_positions, parse
    counts = {"rejected": 0}

    def alarm_kwargs(m, arrived=None):
        return dict(alarm_id=m.id, priority=m.priority, lon_wgs=m.lon_wgs, lat_wgs=m.lat_wgs, type=m.type,
                    text=m.text, epoch=m.epoch, cameras=list(m.camera_ids), arrived=arrived)

    def route(topic: str, payload: bytes) -> None:
        if not payload:
            return  # a retained alarm state cleared once the alarm was long closed
        try:
            m = parse(topic, payload)
        except PayloadError as err:
            counts["rejected"] += 1
            if counts["rejected"] <= 20 or counts["rejected"] % 1000 == 0:
                log.warning("wall: alarm feed payload rejected on %s: %s", topic, err)
            return
        if isinstance(m, AlarmMessage):
            display.alarm_arrived.emit(alarm_kwargs(m))
        elif isinstance(m, StateMessage):
            # the state first: an alarm learnt with its state closed must not claim the wall
            display.alarm_state_arrived.emit(m.alarm_id, m.state.value)
            if m.alarm is not None:
                # a retained state carries its alarm: a wall that starts late lists it too; it
                # counts as having arrived when it happened (an old one does not take the wall)
                display.alarm_arrived.emit(alarm_kwargs(fill_positions([m.alarm])[0], arrived=m.alarm.epoch))
    route.counts = counts
    return route


def run_wall(app: QApplication, cfg: Config, district, projection, screenshot: str | None = None,
             after: float = 3.0) -> int:
    """The wall display for ``cfg.wall_id`` until the program is stopped; returns the exit code."""
    wc: WallConfig = cfg.wall or WallConfig()
    controller = make_controller(cfg, district)
    if controller.load_error:
        log.error("wall %s: %s", controller.wall, controller.load_error)
    settings = WallSettings(screens=wc.screens, span=wc.span, bezel_px=wc.bezel_px, fullscreen=True)
    display = WallDisplay(controller, district, projection, resolver(district), settings)
    channel = None
    if cfg.broker:
        from desktop.core.wall.link import MqttWallChannel
        channel = MqttWallChannel.from_url(
            cfg.broker, wall=controller.wall, extra_topics=ALARM_TOPICS,
            on_layout=display.layout_arrived.emit, on_layout_error=display.layout_failed.emit,
            on_message=alarm_router(display), on_status=display.link_changed.emit)
        display.publish_state = channel.publish_state
    log.info("wall %s starting from %s layout (revision %d)%s", controller.wall, controller.started_from,
             controller.applied_revision, f", broker {cfg.broker}" if cfg.broker else ", no broker")
    display.start()
    if channel is not None:
        channel.start()
    app.display = display  # kept alive with the application (and reachable for tests)

    def shutdown():
        if channel is not None:
            channel.stop("stopped")
        display.stop()
    app.aboutToQuit.connect(shutdown)
    if screenshot:
        def shoot():
            ok = display.save_picture(Path(screenshot))
            print(f"screenshot {'saved to' if ok else 'FAILED'} {screenshot}", file=sys.stderr)
            app.exit(0 if ok else 4)
        QTimer.singleShot(int(after * 1000), shoot)
    return app.exec()


def open_local_wall(window, cfg: Config, district, projection, hub=None):
    """Operator mode on a single PC: a wall window in this program, reached in-process by "Send
    to wall". Full screen on the second screen when there is one, else a plain window."""
    from PySide6.QtGui import QGuiApplication
    from desktop.core.wall.link import LocalWallChannel
    wc: WallConfig = cfg.wall or WallConfig()
    controller = make_controller(cfg, district)
    screens = QGuiApplication.screens()
    if wc.screens:
        chosen, full = wc.screens, True
    elif len(screens) > 1:
        chosen, full = (1,), True
    else:
        chosen, full = (), False
    settings = WallSettings(screens=tuple(chosen), span=wc.span, bezel_px=wc.bezel_px, fullscreen=full)
    display = WallDisplay(controller, district, projection, resolver(district), settings)
    channel = getattr(window, "wall_channel", None) or LocalWallChannel()
    window.wall_channel = channel
    display.publish_state = lambda st: channel.publish_state(controller.wall, st)
    display.start()
    channel.subscribe_layouts(controller.wall, display.layout_arrived.emit, display.layout_failed.emit)
    if hub is not None:
        def on_events(events):
            for ev in events:
                a = getattr(ev, "alarm", None)
                if a is None:
                    continue
                kind = str(ev.kind)
                if kind == "new":
                    display.alarm_arrived.emit(dict(alarm_id=a.id, priority=a.priority, lon_wgs=a.lon_wgs,
                                                    lat_wgs=a.lat_wgs, type=a.type, text=a.text, epoch=a.epoch,
                                                    cameras=list(a.camera_ids), subdistrict=a.subdistrict))
                elif kind == "state_changed":
                    display.alarm_state_arrived.emit(a.id, str(a.state))
        window.wall_alarm_sub = hub.subscribe("alarms", on_events)
    window.local_wall = display
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(display.stop)
    return display
