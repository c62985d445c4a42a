"""The map canvas: a QWidget that paints layers through a :class:`Viewport`.

Static layers are painted into a backing image a margin larger than the window, so a pan
is one blit until the view leaves the margin; dynamic layers (alarms, units) and overlays
(selection, scale bar) paint every frame on top. When that image no longer fits the view
(a zoom, a pan past the margin, a static layer changed) a new one is rendered on the
render thread (``static_render.py``) and the frame shows the previous image shifted and
stretched meanwhile: no frame pays for a full render on the GUI thread, except the very
first (nothing to show yet) and renders asked for explicitly (``allow_stale=False``). The canvas only routes input to the view
and hit-tests; what a click means is decided by whoever listens to its signals.
"""
from __future__ import annotations

import json
import logging
import time

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDrag, QFont, QImage, QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QToolTip, QWidget

from desktop.core.geo.viewport import Viewport, nice_scale_bar
from desktop.qt.theme import MAP, TEXT

from .layer import Hit, MapLayer
from .static_render import RenderJob, StaticRenderer, render_static

log = logging.getLogger(__name__)

CAMERA_MIME = "application/x-pingan-camera"
CACHE_MARGIN = 256  # pixels of pre-rendered map around the window


class MapCanvas(QWidget):
    """Pan/zoom map widget hosting :class:`MapLayer` objects."""

    cursor_moved = Signal(float, float)  # map coordinates
    hovered = Signal(object)  # Hit | None
    selected = Signal(object)  # Hit | None
    activated = Signal(object)  # Hit (double-click)
    context_requested = Signal(object, QPoint)  # Hit | None, global position (right click)
    view_changed = Signal()
    layer_failed = Signal(str, str)  # layer id, error
    _static_ready = Signal()  # emitted by the render thread; queued to the GUI thread

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(320, 240)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.vp = Viewport(width=max(self.width(), 1), height=max(self.height(), 1))
        self.layers: list[MapLayer] = []
        self.home_bounds: tuple[float, float, float, float] | None = None
        self._at_home = True
        self.selection: Hit | None = None
        self.hover: Hit | None = None
        self._cache: QImage | None = None
        self._cache_key = None
        self._cache_center = (0.0, 0.0)
        self._press: QPoint | None = None
        self._press_hit: Hit | None = None
        self._dragging = False
        self._last_pos = QPoint()
        self.frame_times: list[float] = []  # ms of recent paints, for the status bar / bench
        self.first_frame_at: float | None = None
        self.first_frame_callbacks: list = []
        self.frame_callbacks: list = []  # called after every painted frame (benchmarks, frame pacing)
        self.interactive_zoom = True
        self.static_render_ms: list[float] = []  # cost of each full re-render of the static layers
        self._cache_scale = 1.0
        self._settle = QTimer(self)  # re-render crisply once a zoom gesture pauses
        self._settle.setSingleShot(True)
        self._settle.setInterval(120)
        self._settle.timeout.connect(self._settled)
        self._last_paint_end = 0.0
        self._anim = QTimer(self)
        self._anim.setInterval(50)  # flashing alarms: 20 fps is smooth enough and halves the cost
        self._anim.timeout.connect(self._tick)
        # static layers rendered off the GUI thread (False: in place, as before)
        self.async_render = True
        self._renderer = StaticRenderer(on_ready=self._static_ready.emit)
        self._static_ready.connect(self.update)
        self._job_seq = 0
        self._cache_seq = 0
        self.stale_frames = 0  # frames that showed a shifted/stretched image while a render ran
        self.destroyed.connect(self._renderer.stop)

    # -- layers -----------------------------------------------------------------------------
    def add_layer(self, layer: MapLayer) -> None:
        self.layers.append(layer)
        self.layers.sort(key=lambda l: l.z)
        layer.on_change(self._layer_changed)
        self._layer_changed(layer)

    def remove_layer(self, layer: MapLayer) -> None:
        if layer in self.layers:
            self.layers.remove(layer)
            self._layer_changed(layer)

    def layer(self, layer_id: str) -> MapLayer | None:
        return next((l for l in self.layers if l.id == layer_id), None)

    def _layer_changed(self, layer: MapLayer) -> None:
        if layer.static:
            self._cache_key = None
        if any(l.visible and l.animating() for l in self.layers) and not self._anim.isActive():
            self._anim.start()
        self.update()

    def _settled(self) -> None:
        self._cache_key = None
        self.update()

    def _tick(self) -> None:
        if not any(l.visible and l.animating() for l in self.layers):
            self._anim.stop()
        # a frame painted lately (a layer changed: an alarm flood paints 30 times a second)
        # showed the animation too; painting again for the tick alone doubled the frames
        if time.perf_counter() - self._last_paint_end < 0.8 * self._anim.interval() / 1000.0:
            return
        self.update()

    # -- view -------------------------------------------------------------------------------
    def set_home(self, bounds: tuple[float, float, float, float]) -> None:
        self.home_bounds = bounds
        self.zoom_home()

    def zoom_home(self) -> None:
        if self.home_bounds:
            self.vp.fit(*self.home_bounds, padding=0.04)
            self._view_moved()
            self._at_home = True

    def center_on(self, x: float, y: float, min_scale: float | None = None) -> None:
        self.vp.cx, self.vp.cy = float(x), float(y)
        if min_scale is not None and self.vp.scale < min_scale:
            self.vp.scale = min_scale
        self._view_moved()

    def _view_moved(self) -> None:
        self._at_home = False
        self.update()
        self.view_changed.emit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        self.vp.width, self.vp.height = max(self.width(), 1), max(self.height(), 1)
        self._cache_key = None
        if self._at_home and self.home_bounds:  # until the user moves, keep the district framed
            self.zoom_home()
        super().resizeEvent(event)

    # -- painting ---------------------------------------------------------------------------
    def _content_key(self):
        return (self.vp.width, self.vp.height, self.devicePixelRatioF(),
                tuple((id(l), l.visible, l.version) for l in self.layers if l.static))

    def _static_key(self):
        return (round(self.vp.scale, 12),) + self._content_key()

    def _static_job(self) -> RenderJob:
        self._job_seq += 1
        return RenderJob(seq=self._job_seq, key=self._static_key(), cx=self.vp.cx, cy=self.vp.cy,
                         scale=self.vp.scale, width=self.vp.width + 2 * CACHE_MARGIN,
                         height=self.vp.height + 2 * CACHE_MARGIN, dpr=self.devicePixelRatioF(),
                         background=MAP.sea, layers=tuple(l for l in self.layers if l.static and l.visible))

    def _adopt(self, result) -> None:
        """Make a finished render the cache (GUI thread); report the layers that failed in it."""
        job = result.job
        if job.seq > self._cache_seq:
            self._cache = result.image
            self._cache_center = (job.cx, job.cy)
            self._cache_scale = job.scale
            self._cache_key = job.key
            self._cache_seq = job.seq
            self.static_render_ms.append(result.ms)
            del self.static_render_ms[:-200]
        for layer, exc in result.failures:
            if not layer.visible:
                continue
            report = getattr(layer, "paint_failed", None)
            if report is not None:  # a plugin's layer: its guard disables the plugin, here
                report(exc)
            if layer.visible and layer in self.layers:  # (a disabled plugin's layer is gone)
                layer.visible = False
                self.layer_failed.emit(layer.id, str(exc))

    def _adopt_finished(self) -> None:
        result = self._renderer.take()
        if result is not None:
            self._adopt(result)

    def _render_static(self) -> None:
        """Render the static layers now, on this thread (the first frame, explicit requests)."""
        job = self._static_job()
        with self._renderer.paint_lock:
            result = render_static(job)
        self._adopt(result)

    def _request_static(self) -> None:
        """Ask the render thread for the current view, unless it already works on it."""
        busy = self._renderer.in_flight()
        if busy is not None and busy.key == self._static_key():
            dx = (busy.cx - self.vp.cx) * self.vp.scale
            dy = (self.vp.cy - busy.cy) * self.vp.scale
            if abs(dx) <= CACHE_MARGIN / 2 and abs(dy) <= CACHE_MARGIN / 2:
                return
        self._renderer.request(self._static_job())

    def wait_render(self, timeout: float = 5.0) -> bool:
        """Wait for the render thread and take its image (tests, screenshots)."""
        ok = self._renderer.wait_idle(timeout)
        self._adopt_finished()
        return ok

    def _draw_stale_cache(self, p: QPainter) -> None:
        """The last image, moved and stretched to where the current view puts it."""
        f = self.vp.scale / self._cache_scale
        w = self._cache.width() / self._cache.devicePixelRatio()
        h = self._cache.height() / self._cache.devicePixelRatio()
        left = (self._cache_center[0] - self.vp.cx) * self.vp.scale + self.vp.width / 2.0 - w / 2.0 * f
        top = (self.vp.cy - self._cache_center[1]) * self.vp.scale + self.vp.height / 2.0 - h / 2.0 * f
        p.fillRect(QRectF(0, 0, self.vp.width, self.vp.height), QColor(MAP.sea))
        if abs(f - 1.0) < 1e-9:
            p.drawImage(QPointF(left, top), self._cache)
        else:
            p.drawImage(QRectF(left, top, w * f, h * f), self._cache)
        self.stale_frames += 1

    def _cache_offset(self) -> tuple[float, float] | None:
        """Where the cached image goes, or None when it no longer covers the window."""
        if self._cache is None or self._cache_key != self._static_key():
            return None
        dx = (self._cache_center[0] - self.vp.cx) * self.vp.scale
        dy = (self.vp.cy - self._cache_center[1]) * self.vp.scale
        if abs(dx) > CACHE_MARGIN or abs(dy) > CACHE_MARGIN:
            return None
        return dx - CACHE_MARGIN, dy - CACHE_MARGIN

    def _draw_scaled_cache(self, p: QPainter) -> bool:
        """While zooming, stretch the last crisp image instead of re-rendering every step.

        Returns False when that would look wrong (other content, or zoomed too far), in
        which case the caller renders afresh. A timer re-renders once the zoom settles.
        """
        if self._cache is None or self._cache_key is None or self._cache_key[1:] != self._content_key():
            return False
        f = self.vp.scale / self._cache_scale
        if not (0.3 < f < 3.5) or abs(f - 1.0) < 1e-9:
            return False  # too far to stretch, or a plain pan past the margin: render afresh
        w = self._cache.width() / self._cache.devicePixelRatio()
        h = self._cache.height() / self._cache.devicePixelRatio()
        left = (self._cache_center[0] - self.vp.cx) * self.vp.scale + self.vp.width / 2.0 - w / 2.0 * f
        top = (self.vp.cy - self._cache_center[1]) * self.vp.scale + self.vp.height / 2.0 - h / 2.0 * f
        # the stretched image may not cover the window (zoom out, or a pan during the zoom)
        p.fillRect(QRectF(0, 0, self.vp.width, self.vp.height), QColor(MAP.sea))
        p.drawImage(QRectF(left, top, w * f, h * f), self._cache)
        self._settle.start()
        return True

    def render_to(self, p: QPainter, allow_stale: bool = True) -> None:
        """Paint one full frame into ``p`` (the widget, or an image for tests and benchmarks).

        ``allow_stale=False`` waits for / renders the static layers of this very view."""
        if not allow_stale and self._renderer.in_flight() is not None:
            self._renderer.wait_idle()
        self._adopt_finished()
        offset = self._cache_offset()
        if offset is None and allow_stale and self.async_render and self._cache is not None:
            self._request_static()
            self._draw_stale_cache(p)
            offset = False
        elif offset is None and allow_stale and self.interactive_zoom and self._draw_scaled_cache(p):
            offset = False
        elif offset is None:
            self._render_static()
            offset = (-CACHE_MARGIN, -CACHE_MARGIN)
        if offset is not False:
            p.drawImage(QPointF(*offset), self._cache)
        p.setRenderHint(QPainter.Antialiasing)
        for layer in self.layers:
            if not layer.static and layer.visible:
                self._paint_layer(layer, p, self.vp)
        self._paint_overlays(p)

    def _paint_layer(self, layer: MapLayer, p: QPainter, vp: Viewport) -> None:
        """Paint one layer; a layer that raises is hidden and reported, the frame goes on."""
        p.save()
        try:
            layer.paint(p, vp)
        except Exception as exc:  # noqa: BLE001 - one bad layer must not blank the map
            log.exception("map layer %s failed to paint; hiding it", layer.id)
            layer.visible = False
            self.layer_failed.emit(layer.id, str(exc))
        finally:
            p.restore()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt)
        t0 = time.perf_counter()
        p = QPainter(self)
        self.render_to(p)
        p.end()
        self._last_paint_end = time.perf_counter()
        ms = (self._last_paint_end - t0) * 1000.0
        self.frame_times.append(ms)
        del self.frame_times[:-120]
        if self.first_frame_at is None:
            self.first_frame_at = time.perf_counter()
            for cb in self.first_frame_callbacks:
                QTimer.singleShot(0, cb)
        for cb in self.frame_callbacks:
            cb()

    def _paint_selected_view(self, p: QPainter, hit: Hit) -> None:
        """The selected camera's field of view, at any zoom (the layer draws cones only zoomed in)."""
        try:
            heading = float(hit.props.get("heading_deg", 0.0))
            fov = float(hit.props.get("fov_deg", 360.0))
            rng = float(hit.props.get("range_m", 0.0))
        except (TypeError, ValueError):
            return
        r = min(rng / self.vp.ground_metres_per_pixel(), 4000.0)
        if r < 6:
            r = 6.0
        sx, sy = self.vp.to_screen(hit.x, hit.y)
        rect = QRectF(float(sx) - r, float(sy) - r, 2 * r, 2 * r)
        fill = QColor(MAP.selection)
        fill.setAlpha(45)
        p.setBrush(fill)
        p.setPen(QPen(QColor(MAP.selection), 1.0))
        if fov >= 359.9:
            p.drawEllipse(rect)
        else:  # Qt: 0° = east, counter-clockwise; headings: 0° = north, clockwise
            p.drawPie(rect, int((90.0 - heading - fov / 2.0) * 16), int(fov * 16))

    def _paint_overlays(self, p: QPainter) -> None:
        if self.selection is not None and self.selection.kind == "camera":
            self._paint_selected_view(p, self.selection)
        for hit, color, width in ((self.hover, "#9fdcff", 1.5), (self.selection, MAP.selection, 2.5)):
            if hit is None or hit.kind in ("grid", "zone", "control_area", "cluster", "route"):
                continue
            sx, sy = self.vp.to_screen(hit.x, hit.y)
            p.setBrush(Qt.NoBrush)
            p.setPen(QPen(QColor(color), width))
            p.drawEllipse(QPointF(float(sx), float(sy)), 12, 12)
        self._paint_scale_bar(p)

    def _paint_scale_bar(self, p: QPainter) -> None:
        px, _, label = nice_scale_bar(self.vp.ground_metres_per_pixel())
        x0, y0 = 16.0, self.vp.height - 22.0
        p.setPen(QPen(QColor("#0b1219"), 5))
        p.drawLine(QPointF(x0, y0), QPointF(x0 + px, y0))
        p.setPen(QPen(QColor(TEXT), 2))
        p.drawLine(QPointF(x0, y0), QPointF(x0 + px, y0))
        p.drawLine(QPointF(x0, y0 - 5), QPointF(x0, y0 + 1))
        p.drawLine(QPointF(x0 + px, y0 - 5), QPointF(x0 + px, y0 + 1))
        font = QFont(p.font())
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(x0, y0 - 22, px + 60, 18), Qt.AlignLeft | Qt.AlignBottom, label)

    # -- hit-testing ------------------------------------------------------------------------
    def hit_test(self, sx: float, sy: float) -> Hit | None:
        """The most specific feature under screen pixel (sx, sy), over visible layers."""
        x, y = self.vp.to_map(sx, sy)
        best: Hit | None = None
        for layer in reversed(self.layers):
            if not layer.visible:
                continue
            hit = layer.hit_test(float(x), float(y), self.vp)
            if hit is not None and (best is None or hit.priority > best.priority):
                best = hit
        return best

    def select(self, hit: Hit | None) -> None:
        self.selection = hit
        self.update()
        self.selected.emit(hit)

    # -- input ------------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() == Qt.LeftButton:
            self._press = e.position().toPoint()
            self._last_pos = self._press
            self._dragging = False
            self._press_hit = self.hit_test(e.position().x(), e.position().y())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        pos = e.position().toPoint()
        x, y = self.vp.to_map(pos.x(), pos.y())
        self.cursor_moved.emit(float(x), float(y))
        if self._press is not None and e.buttons() & Qt.LeftButton:
            if not self._dragging and (pos - self._press).manhattanLength() > 6:
                if self._press_hit is not None and self._press_hit.kind == "camera":
                    self._start_camera_drag(self._press_hit)
                    self._press = None
                    return
                self._dragging = True
                self.setCursor(Qt.ClosedHandCursor)
            if self._dragging:
                d = pos - self._last_pos
                self.vp.pan_pixels(d.x(), d.y())
                self._last_pos = pos
                self._view_moved()
            return
        hit = self.hit_test(pos.x(), pos.y())
        if (hit and (hit.layer_id, hit.id, hit.kind)) != (self.hover and (self.hover.layer_id, self.hover.id, self.hover.kind)):
            self.hover = hit
            self.hovered.emit(hit)
            self.update()
            if hit is not None:
                QToolTip.showText(e.globalPosition().toPoint(), hit.title, self)
            else:
                QToolTip.hideText()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if e.button() != Qt.LeftButton or self._press is None:
            return
        if not self._dragging:
            hit = self._press_hit
            if hit is not None and hit.kind == "cluster":
                self.vp.zoom_at(2.5, e.position().x(), e.position().y())
                self._view_moved()
            else:
                self.select(hit)
        self._press = None
        self._dragging = False
        self.unsetCursor()

    def contextMenuEvent(self, e) -> None:  # noqa: N802
        self.context_requested.emit(self.hit_test(e.pos().x(), e.pos().y()), e.globalPos())

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        hit = self.hit_test(e.position().x(), e.position().y())
        if hit is not None and hit.kind not in ("grid", "cluster"):
            self.activated.emit(hit)
        else:
            self.vp.zoom_at(2.0, e.position().x(), e.position().y())
            self._view_moved()

    def wheelEvent(self, e: QWheelEvent) -> None:  # noqa: N802
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.vp.zoom_at(1.25 ** steps, e.position().x(), e.position().y())
            self._view_moved()

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        step = 120
        k = e.key()
        if k == Qt.Key_Left:
            self.vp.pan_pixels(step, 0)
        elif k == Qt.Key_Right:
            self.vp.pan_pixels(-step, 0)
        elif k == Qt.Key_Up:
            self.vp.pan_pixels(0, step)
        elif k == Qt.Key_Down:
            self.vp.pan_pixels(0, -step)
        elif k in (Qt.Key_Plus, Qt.Key_Equal):
            self.vp.zoom_at(1.5)
        elif k in (Qt.Key_Minus, Qt.Key_Underscore):
            self.vp.zoom_at(1 / 1.5)
        elif k == Qt.Key_Home:
            self.zoom_home()
            return
        elif k == Qt.Key_Escape:
            self.select(None)
            return
        else:
            super().keyPressEvent(e)
            return
        self._view_moved()

    def _start_camera_drag(self, hit: Hit) -> None:
        mime = QMimeData()
        mime.setData(CAMERA_MIME, json.dumps({"ids": [hit.id]}).encode("utf-8"))
        mime.setText(hit.id)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.CopyAction)
