"""The wall display: full-screen windows over the wall's screens showing what the controller decides.

One window per screen, or one window spanning them all (``span``), frameless, cursor hidden,
no menus and no dialogs: nothing on the wall waits for a click. Each region of the layout is
placed by :func:`desktop.core.wall.geometry.place_regions` (bezel compensation included); a map
region is drawn piece by piece, one per screen it covers, continuing behind the frames.
Screens added or removed while running rebuild the windows (half a second later, once the
windowing system has settled), and the layout is laid out again on what is there.

Inputs arrive from the link's thread through Qt signals (queued into the GUI thread); a timer
advances the alarm rules and republishes the wall's state every few seconds (per-tile health).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QWidget

from desktop.core.geo.crs import mercator_scale
from desktop.core.geo.viewport import Viewport
from desktop.core.i18n import tr
from desktop.core.wall.controller import WallController
from desktop.core.wall.geometry import ScreenRect, place_regions
from desktop.core.wall.layout import WallLayout

from . import load_catalog
from .regions import WALL_BG, CaptionOverlay, ClockWidget, TickerWidget, WallMapPiece

log = logging.getLogger(__name__)

STATE_EVERY_S = 5.0


@dataclass
class WallSettings:
    """How this PC drives its wall: which screens (indices of the desktop's screens; empty =
    all), one spanning window or one per screen, bezel width in pixels, full screen or not."""

    screens: tuple = ()
    span: bool = True
    bezel_px: tuple = (0, 0)
    fullscreen: bool = True
    window_size: tuple = (1280, 720)  # when not full screen (the single-PC wall window)


class WallScreenWindow(QWidget):
    """One top-level wall window: black, frameless, no cursor; region widgets are its children."""

    def __init__(self, index: int):
        super().__init__(None, Qt.Window | Qt.FramelessWindowHint)
        self.index = index
        self.group: list[int] = []  # indices of the screens it covers
        self.origin = (0, 0)  # its top-left on the desktop
        self.setWindowTitle(tr("Pingan Desk wall"))
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setCursor(Qt.BlankCursor)
        self.setAutoFillBackground(False)

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(e.rect(), WALL_BG)
        p.end()


class WallDisplay(QObject):
    """Windows, region widgets and the glue between them and a :class:`WallController`.

    ``publish_state(payload)`` sends the wall's state (MQTT or in-process); ``resolve`` turns a
    camera id into streams for the video regions (as on the workstation)."""

    layout_arrived = Signal(object)
    layout_failed = Signal(str)
    alarm_arrived = Signal(object)  # kwargs dict for WallController.alarm
    alarm_state_arrived = Signal(str, str)
    link_changed = Signal(str)
    became_visible = Signal(object, str)  # revision (may exceed 32 bits), alarm id ("" = the layout itself)

    def __init__(self, controller: WallController, district, projection, resolve: Callable,
                 settings: WallSettings | None = None, publish_state: Callable[[dict], None] | None = None,
                 video_kwargs: dict | None = None, pictures_dir: str | None = None, parent=None):
        super().__init__(parent)
        load_catalog()
        self.controller = controller
        self.district = district
        self.projection = projection
        self.resolve = resolve
        self.settings = settings or WallSettings()
        self.publish_state = publish_state
        self.video_kwargs = dict(video_kwargs or {})
        self.pictures_dir = pictures_dir or os.environ.get("PINGAN_WALL_PICTURES") or None
        self.windows: list[WallScreenWindow] = []
        self.screens: list[ScreenRect] = []
        self.maps: dict[tuple, WallMapPiece] = {}
        self.videos: dict[str, object] = {}
        self.captions: dict[str, CaptionOverlay] = {}
        self.tickers: dict[str, TickerWidget] = {}
        self.clocks: dict[str, ClockWidget] = {}
        self.link_status = "offline"
        self.shown: WallLayout | None = None
        self._pending: tuple | None = None  # (revision, alarm id, applied at) until video is live
        self._state_at = 0.0
        self.layout_arrived.connect(self._on_layout)
        self.layout_failed.connect(self._on_layout_error)
        self.alarm_arrived.connect(self._on_alarm)
        self.alarm_state_arrived.connect(self._on_alarm_state)
        self.link_changed.connect(self._on_link)
        self._timer = QTimer(self)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._tick)
        self._visible_timer = QTimer(self)
        self._visible_timer.setInterval(20)
        self._visible_timer.timeout.connect(self._check_visible)
        self._screens_timer = QTimer(self)
        self._screens_timer.setSingleShot(True)
        self._screens_timer.setInterval(500)
        self._screens_timer.timeout.connect(self._screens_changed)
        app = QGuiApplication.instance()
        if app is not None:
            app.screenAdded.connect(lambda _s: self._screens_timer.start())
            app.screenRemoved.connect(lambda _s: self._screens_timer.start())

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> "WallDisplay":
        self.build_windows()
        self._tick()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.stop()
        self._visible_timer.stop()
        for vw in self.videos.values():
            vw.stop()
        for w in self.windows:
            w.close()

    # -- screens ----------------------------------------------------------------------------
    def _chosen_screens(self):
        screens = QGuiApplication.screens()
        if self.settings.screens:
            chosen = [screens[i] for i in self.settings.screens if 0 <= i < len(screens)]
            if not chosen:  # the configured screens are gone: better all than none
                log.warning("wall: configured screens %s not present; using all %d", self.settings.screens, len(screens))
                chosen = screens
            return chosen
        return screens

    def build_windows(self) -> None:
        """(Re)create the windows for the screens there are now."""
        for vw in self.videos.values():
            vw.setParent(None)  # kept (and its players): placed again in the new windows
        for store in (self.maps, self.tickers, self.clocks, self.captions):
            for widget in store.values():
                widget.deleteLater()
            store.clear()
        for w in self.windows:
            w.close()
            w.deleteLater()
        self.windows = []
        qs = self._chosen_screens()
        if not self.settings.fullscreen:
            # a wall window on the operator's PC without a second screen: a plain window
            w, h = self.settings.window_size
            self.screens = [ScreenRect("window", 0, 0, int(w), int(h))]
        else:
            self.screens = [ScreenRect(s.name(), s.geometry().x(), s.geometry().y(),
                                       s.geometry().width(), s.geometry().height()) for s in qs] or \
                [ScreenRect("default", 0, 0, 1920, 1080)]
        groups = [list(range(len(self.screens)))] if self.settings.span else [[i] for i in range(len(self.screens))]
        for gi, group in enumerate(groups):
            win = WallScreenWindow(gi)
            x0 = min(self.screens[i].x for i in group)
            y0 = min(self.screens[i].y for i in group)
            x1 = max(self.screens[i].x + self.screens[i].width for i in group)
            y1 = max(self.screens[i].y + self.screens[i].height for i in group)
            win.group, win.origin = group, (x0, y0)
            win.setGeometry(QRect(x0, y0, x1 - x0, y1 - y0))
            if not self.settings.fullscreen:
                win.setWindowFlags(Qt.Window)
                win.resize(x1 - x0, y1 - y0)
                win.show()
            elif len(group) == 1 and qs:
                win.setScreen(qs[group[0]] if group[0] < len(qs) else qs[0])
                win.showFullScreen()
            else:
                win.show()  # spanning several screens: a frameless window over their union
            self.windows.append(win)
        log.info("wall: %d screen(s), %d window(s)%s", len(self.screens), len(self.windows),
                 f", bezel {self.settings.bezel_px}" if any(self.settings.bezel_px) else "")
        if self.shown is not None:
            layout, self.shown = self.shown, None
            self._show(layout, self.controller.showing_alarm)

    def _screens_changed(self) -> None:
        log.info("wall: screens changed (%d now)", len(QGuiApplication.screens()))
        self.build_windows()
        self._publish()

    def _window_of(self, screen: int) -> tuple[WallScreenWindow, tuple]:
        for w in self.windows:
            if screen in w.group:
                s = self.screens[screen]
                return w, (s.x - w.origin[0], s.y - w.origin[1])
        return self.windows[0], (0, 0)

    # -- inputs ------------------------------------------------------------------------------
    def _on_layout(self, layout: WallLayout) -> None:
        if self.controller.offer_layout(layout):
            self._tick()
        self._publish()  # applied or ignored: the workstations see which

    def _on_layout_error(self, err: str) -> None:
        self.controller.layout_rejected(err)
        self._publish()

    def _on_link(self, status: str) -> None:
        self.link_status = status
        if status == "connected":
            self._publish()

    def _on_alarm(self, kw: dict) -> None:
        self.controller.alarm(**kw)
        if self.controller.takeover.claims(kw["priority"]):
            self._tick()  # at once: the urgent alarm's cameras are what the wall is for
        # others reach the ticker with the next timer tick (a flood costs four refreshes a second)

    def _on_alarm_state(self, alarm_id: str, state: str) -> None:
        self.controller.alarm_state(alarm_id, state)
        if alarm_id == self.controller.showing_alarm:
            self._tick()

    def _tick(self) -> None:
        layout = self.controller.tick()
        if layout is not None:
            self._show(layout, self.controller.showing_alarm)
            self._publish()  # what it shows now (again once its video is live)
        if self.controller.ticker_changed():
            self._refresh_tickers()
            if time.monotonic() - self._state_at >= 1.0:
                self._publish()  # the state lists the ticker: workstations see what the wall lists
        for m in self.maps.values():
            if m.marker:
                m.update()
        if time.monotonic() - self._state_at >= STATE_EVERY_S:
            self._publish()

    # -- showing a layout ---------------------------------------------------------------------
    def _map_view(self, region, size: tuple) -> tuple[float, float, float]:
        if region.view is not None:
            v = region.view
            x, y = self.projection.forward(v.lon, v.lat, v.crs)
            return float(x), float(y), mercator_scale(v.lat) / v.metres_per_px
        vp = Viewport(width=max(1, size[0]), height=max(1, size[1]))
        vp.fit(*self.district.map_bounds(), padding=0.03)
        return vp.cx, vp.cy, vp.scale

    def _new_map(self) -> WallMapPiece:
        from desktop.qt.main_window import build_district_layers
        m = WallMapPiece()
        for layer in build_district_layers(self.district):
            if layer is not None:
                m.add_layer(layer)
        return m

    def _new_video(self):
        from desktop.qt.video.wall import VideoWall
        kw = {"show_toolbar": False, "font_scale": 2.2, "scheduler": True, "empty_hint": False}
        kw.update(self.video_kwargs)
        vw = VideoWall(resolve=self.resolve, **kw)
        vw.notice.connect(lambda text, level: log.info("wall video: %s", text))
        return vw

    def _show(self, layout: WallLayout, alarm_id: str | None) -> None:
        t0 = time.time()
        pieces = place_regions(layout, self.screens, self.settings.bezel_px)
        used_maps, used_videos, used_tickers, used_clocks = set(), set(), set(), set()
        regions = {r.id: r for r in layout.regions}
        for pc in pieces:
            reg = regions[pc.region_id]
            win, (ox, oy) = self._window_of(pc.screen)
            x, y, w, h = pc.rect
            geom = QRect(ox + x, oy + y, w, h)
            if reg.kind == "map":
                key = (reg.id, pc.screen)
                m = self.maps.get(key) or self._new_map()
                self.maps[key] = m
                used_maps.add(key)
                m.setParent(win)
                m.setGeometry(geom)
                m.place(pc.src, pc.region_size)
                cx, cy, scale = self._map_view(reg, pc.region_size)
                m.set_view(cx, cy, scale)
                if reg.layers is not None:
                    wanted = set(reg.layers) | {"basemap", "labels"}
                    for layer in m.layers:
                        layer.visible = getattr(layer, "id", "") in wanted
                m.label = reg.label
                m.marker = (cx, cy) if alarm_id else None
                m.show()
                m.update()
            elif reg.kind == "video":
                vw = self.videos.get(reg.id) or self._new_video()
                self.videos[reg.id] = vw
                used_videos.add(reg.id)
                vw.setParent(win)
                # a caption (an alarm preset says which alarm) takes a band above the tiles
                band = max(40, h // 12) if reg.label else 0
                vw.setGeometry(geom.adjusted(0, band, 0, 0))
                vw.show()
                state = {"layout": reg.video["layout"], "tiles": reg.video["tiles"]}
                vw.apply_layout_state(state)
                tour = reg.video.get("tour")
                if tour:
                    vw.start_tour(tour["cameras"], tour["interval_s"], tour.get("tile"))
                cap = self.captions.get(reg.id)
                if cap is None or cap.parent() is not win:
                    if cap is not None:
                        cap.deleteLater()
                    cap = CaptionOverlay(win)
                    self.captions[reg.id] = cap
                cap.setGeometry(geom.x(), geom.y(), w, max(1, band))
                cap.set_text(reg.label)
                cap.raise_()
            elif reg.kind == "ticker":
                tk = self.tickers.get(reg.id) or TickerWidget()
                self.tickers[reg.id] = tk
                used_tickers.add(reg.id)
                tk.setParent(win)
                tk.setGeometry(geom)
                tk.cfg = reg.ticker or {}
                tk.show()
            elif reg.kind == "clock":
                ck = self.clocks.get(reg.id) or ClockWidget()
                self.clocks[reg.id] = ck
                used_clocks.add(reg.id)
                ck.setParent(win)
                ck.setGeometry(geom)
                ck.show()
        for store, used in ((self.maps, used_maps), (self.tickers, used_tickers), (self.clocks, used_clocks)):
            for key in [k for k in store if k not in used]:
                store.pop(key).deleteLater()
        for rid in [k for k in self.videos if k not in used_videos]:
            vw = self.videos.pop(rid)
            vw.stop()  # players closed at once: nothing decodes for a region no longer shown
            vw.deleteLater()
            cap = self.captions.pop(rid, None)
            if cap is not None:
                cap.deleteLater()
        self.shown = layout
        self._refresh_tickers()
        self._pending = (layout.revision, alarm_id or "", t0)
        self._visible_timer.start()
        log.info("wall: showing %s (revision %d%s)", layout.name or "layout", layout.revision,
                 f", alarm {alarm_id}" if alarm_id else "")

    def _refresh_tickers(self) -> None:
        for tk in self.tickers.values():
            cfg = getattr(tk, "cfg", {}) or {}
            tk.set_items(self.controller.ticker(cfg.get("max_items", 6), cfg.get("priorities", (1, 2, 3, 4))))

    def _check_visible(self) -> None:
        """The layout counts as visible once every video tile with a camera shows a live frame."""
        if self._pending is None:
            self._visible_timer.stop()
            return
        for vw in self.videos.values():
            for i in range(vw.tile_count):
                t = vw.tiles[i]
                if t.streams is not None and (t.qimage is None or vw.tile_state(i) != "live"):
                    return
        revision, alarm_id, _t0 = self._pending
        self._pending = None
        self._visible_timer.stop()
        for vw in self.videos.values():
            vw._refresh_status()  # tile overlays say "live" in the picture we report, not "connecting"
        for w in self.windows:
            w.repaint()  # the picture is on screen when we say so
        self.controller.mark_visible(revision, time.time())
        self.controller.visible_alarm = alarm_id
        self.became_visible.emit(revision, alarm_id)
        self._publish()
        if self.pictures_dir:
            name = f"wall-{revision}" + (f"-alarm-{alarm_id}" if alarm_id else "") + ".png"
            self.save_picture(Path(self.pictures_dir) / name)

    # -- state and pictures ---------------------------------------------------------------------
    def tiles_health(self) -> list[dict]:
        out = []
        for rid, vw in self.videos.items():
            for i in range(vw.tile_count):
                t = vw.tiles[i]
                if t.streams is not None:
                    out.append({"region": rid, "tile": i, "camera": t.camera_id, "state": vw.tile_state(i) or "idle"})
        return out

    def _publish(self) -> None:
        self._state_at = time.monotonic()
        if self.publish_state is None:
            return
        payload = self.controller.state_payload(self.tiles_health(), screens=len(self.screens), link=self.link_status)
        payload["visible_alarm"] = getattr(self.controller, "visible_alarm", "")
        try:
            self.publish_state(payload)
        except Exception:  # noqa: BLE001 - a broker hiccup must not stop the wall
            log.exception("wall: state not published")

    def picture(self) -> QImage:
        """The whole wall as one image (all windows at their desktop positions)."""
        x0 = min((w.x() for w in self.windows), default=0)
        y0 = min((w.y() for w in self.windows), default=0)
        x1 = max((w.x() + w.width() for w in self.windows), default=1)
        y1 = max((w.y() + w.height() for w in self.windows), default=1)
        img = QImage(max(1, x1 - x0), max(1, y1 - y0), QImage.Format_RGB32)
        img.fill(WALL_BG)
        p = QPainter(img)
        for w in self.windows:
            p.drawPixmap(w.x() - x0, w.y() - y0, w.grab())
        p.end()
        return img

    def save_picture(self, path: Path) -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.part.png")  # whoever waits for the file sees it whole
        ok = self.picture().save(str(tmp))
        if ok:
            os.replace(tmp, path)
        log.info("wall picture %s %s", "saved to" if ok else "FAILED", path)
        return ok
