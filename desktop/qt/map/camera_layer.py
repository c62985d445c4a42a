"""Camera icons: thousands of markers from one numpy table, one atlas, one draw call.

Follows pyqtgraph's ScatterPlotItem: the visible cameras' screen positions go into a
float64 array laid out as ``QPainter.PixmapFragment`` and are drawn with a single
``drawPixmapFragments``. At low zoom the markers are clustered on a screen grid (count
bubbles), and when zoomed in each camera shows its field-of-view cone.

Each camera's state (online, offline, fault — :mod:`desktop.core.camera_health`) picks the
atlas row of its icon: the kind's own colour when online, grey with a slash when offline, red
with a white bar when faulty. A camera that is not online stays an icon of its own even where
the others are clustered into bubbles, so a fault is seen where it happens at every zoom.
"""
from __future__ import annotations

import math

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap

from desktop.core.district.model import CAMERA_KINDS, CameraTable
from desktop.core.geo.spatial import PointIndex
from desktop.core.geo.viewport import Viewport
from desktop.core.i18n import tr
from desktop.qt.theme import MAP

from .layer import Hit, MapLayer

KIND_COLORS = {
    "hd": MAP.cam_hd, "checkpoint": MAP.cam_checkpoint, "coastal": MAP.cam_coastal,
    "ptz": MAP.cam_ptz, "radar": MAP.cam_radar,
}
ICON = 14  # logical pixels
STATE_ROWS = ("online", "offline", "fault")  # atlas rows, in the order of camera_health's codes
OFFLINE_FILL = "#8b949e"
FAULT_FILL = "#ff3d3d"
CLUSTER_CELL = 46  # pixels per clustering cell


def _kind_icon(p: QPainter, kind: str, s: float, state: str = "online") -> None:
    """Draw one kind's marker into a square of side ``s`` at the painter's origin, in a state's look."""
    c = QColor(KIND_COLORS[kind] if state == "online" else OFFLINE_FILL if state == "offline" else FAULT_FILL)
    p.setPen(QPen(QColor("#0b1219") if state == "online" else QColor("#f0f0f0"), max(1.0, s / 10)))
    p.setBrush(c)
    m = s * 0.12
    r = QRectF(m, m, s - 2 * m, s - 2 * m)
    if kind == "hd":
        p.drawEllipse(r)
        p.setBrush(QColor("#0b1219"))
        p.drawEllipse(QRectF(s * 0.38, s * 0.38, s * 0.24, s * 0.24))
    elif kind == "checkpoint":
        p.drawRect(r)
        p.setBrush(QColor("#0b1219"))
        p.drawRect(QRectF(s * 0.32, s * 0.44, s * 0.36, s * 0.12))
    elif kind == "coastal":
        path = QPainterPath()
        path.moveTo(s / 2, m)
        path.lineTo(s - m, s / 2)
        path.lineTo(s / 2, s - m)
        path.lineTo(m, s / 2)
        path.closeSubpath()
        p.drawPath(path)
    elif kind == "ptz":
        p.drawEllipse(r)
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(QColor("#0b1219"), max(1.0, s / 8)))
        p.drawEllipse(QRectF(s * 0.3, s * 0.3, s * 0.4, s * 0.4))
    else:  # radar
        path = QPainterPath()
        path.moveTo(s / 2, m)
        path.lineTo(s - m, s - m)
        path.lineTo(m, s - m)
        path.closeSubpath()
        p.drawPath(path)
    if state == "offline":  # a slash across: no picture
        p.setPen(QPen(QColor("#0b1219"), max(1.5, s / 7), Qt.SolidLine, Qt.RoundCap))
        p.drawLine(QPointF(s * 0.2, s * 0.8), QPointF(s * 0.8, s * 0.2))
    elif state == "fault":  # a white bar: something is wrong with it
        p.setPen(Qt.NoPen)
        p.setBrush(QColor("#ffffff"))
        p.drawRect(QRectF(s * 0.44, s * 0.24, s * 0.12, s * 0.34))
        p.drawRect(QRectF(s * 0.44, s * 0.64, s * 0.12, s * 0.12))


def build_atlas(dpr: float = 1.0) -> QPixmap:
    """One pixmap: every kind's icon side by side (then a selection ring), one row per state."""
    s = int(math.ceil(ICON * dpr))
    pm = QPixmap(s * (len(CAMERA_KINDS) + 1), s * len(STATE_ROWS))
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    for row, state in enumerate(STATE_ROWS):
        for i, kind in enumerate(CAMERA_KINDS):
            p.save()
            p.translate(i * s, row * s)
            _kind_icon(p, kind, s, state)
            p.restore()
    p.translate(len(CAMERA_KINDS) * s, 0)
    p.setBrush(Qt.NoBrush)
    p.setPen(QPen(QColor(MAP.selection), max(1.5, s / 7)))
    p.drawEllipse(QRectF(1, 1, s - 2, s - 2))
    p.end()
    pm.setDevicePixelRatio(dpr)
    return pm


BUBBLE_SIZES = (9, 16, 22, 28, 34)  # diameters of cluster bubbles by log10(count)


def build_bubble_atlas(dpr: float = 1.0) -> QPixmap:
    """Cluster bubbles of each size class, each centred in a cell of the largest size."""
    cell = int(math.ceil(BUBBLE_SIZES[-1] * dpr))
    pm = QPixmap(cell * len(BUBBLE_SIZES), cell)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    base = QColor(MAP.cluster)
    fill = QColor(base)
    fill.setAlpha(150)
    p.setPen(QPen(base, 1.5 * dpr))
    p.setBrush(fill)
    for i, d in enumerate(BUBBLE_SIZES):
        dd = d * dpr - 2 * dpr
        p.drawEllipse(QRectF(i * cell + (cell - dd) / 2, (cell - dd) / 2, dd, dd))
    p.end()
    pm.setDevicePixelRatio(dpr)
    return pm


class FragmentArray:
    """A reusable float64 array shaped like ``QPainter::PixmapFragment[]`` (10 doubles each)."""

    FIELDS = 10  # x, y, sourceLeft, sourceTop, width, height, scaleX, scaleY, rotation, opacity

    def __init__(self) -> None:
        self.array = np.zeros((0, self.FIELDS))

    def fill(self, sx: np.ndarray, sy: np.ndarray, src_left: np.ndarray, size: float,
             src_top: np.ndarray | float = 0.0) -> np.ndarray:
        """Fragments for ``n`` markers at screen points, each cut from the atlas at
        (``src_left``, ``src_top``) with side ``size``; returns the array."""
        n = len(sx)
        if self.array.shape[0] < n:
            self.array = np.zeros((max(n, 2 * self.array.shape[0]), self.FIELDS))
            self.array[:, 6:8] = 1.0
            self.array[:, 9] = 1.0
        a = self.array
        a[:n, 0] = sx
        a[:n, 1] = sy
        a[:n, 2] = src_left
        a[:n, 3] = src_top
        a[:n, 4] = size
        a[:n, 5] = size
        return a

    def draw(self, p: QPainter, n: int, pixmap: QPixmap) -> None:
        if n <= 0:
            return
        ptr = shiboken6.wrapInstance(self.array.ctypes.data, QPainter.PixmapFragment)
        p.drawPixmapFragments(ptr, n, pixmap)


class CameraLayer(MapLayer):
    """Cameras of some kinds from the shared :class:`CameraTable`."""

    z = 50

    def __init__(self, table: CameraTable, kinds: tuple[str, ...], layer_id: str, title: str,
                 cluster: bool = True):
        super().__init__()
        self.id = layer_id
        self.title = title
        self.table = table
        self.kinds = kinds
        codes = [CAMERA_KINDS.index(k) for k in kinds]
        self.rows = np.flatnonzero(np.isin(table.kind, codes))
        self.x = table.x[self.rows]
        self.y = table.y[self.rows]
        self.kind = table.kind[self.rows].astype(np.int64)
        self.heading = table.heading[self.rows]
        self.fov = table.fov[self.rows]
        self.range_m = table.range_m[self.rows]
        self.index = PointIndex(self.x, self.y)
        self.cluster_enabled = cluster
        self.cluster_above = 1200  # visible markers before clustering kicks in
        self.cone_below_mpp = 1.6  # metres per pixel under which FOV cones are drawn
        self.cones_max = 800  # more cones than this overlap into an unreadable blur
        self._frags = FragmentArray()
        self._bubbles: QPixmap | None = None
        self._bubbles_dpr = 0.0
        self._labels: dict[int, QPixmap] = {}
        self._atlas: QPixmap | None = None
        self._atlas_dpr = 0.0
        self.last_drawn = 0
        self.last_mode = "icons"
        self.state = np.zeros(len(self.rows), np.int8)  # 0 online, 1 offline, 2 fault (STATE_ROWS)
        self.health = None  # a desktop.core.camera_health.CameraHealth, when one is watched
        self._health_version = -1

    # -- camera states ----------------------------------------------------------------------
    def set_health(self, health) -> None:
        """Take each camera's state from ``health`` (its ``codes`` follow the camera table)."""
        self.health = health
        self._health_version = -1
        self.sync_states()

    def sync_states(self) -> bool:
        """Pick up state changes (one array copy); True, and a repaint asked, when there were any."""
        h = self.health
        if h is None or h.version == self._health_version:
            return False
        self._health_version = h.version
        state = h.codes[self.rows] if len(h.codes) == len(self.table) else np.zeros(len(self.rows), np.int8)
        if np.array_equal(state, self.state):
            return False
        self.state = state
        self.changed()
        return True

    # -- painting ---------------------------------------------------------------------------
    def _visible(self, vp: Viewport) -> np.ndarray:
        minx, miny, maxx, maxy = vp.bounds(margin_px=ICON)
        return np.flatnonzero((self.x >= minx) & (self.x <= maxx) & (self.y >= miny) & (self.y <= maxy))

    def clustered(self, vp: Viewport, n_visible: int) -> bool:
        return self.cluster_enabled and n_visible > self.cluster_above and vp.ground_metres_per_pixel() > 1.0

    def paint(self, p: QPainter, vp: Viewport) -> None:
        vis = self._visible(vp)
        if not len(vis):
            self.last_drawn = 0
            return
        sx, sy = vp.to_screen(self.x[vis], self.y[vis])
        if self.clustered(vp, len(vis)):
            self._paint_clusters(p, sx, sy)
            self.last_mode = "clusters"
            down = np.flatnonzero(self.state[vis])
            if len(down):  # cameras not online stay visible on their own, above the bubbles
                self._paint_icons(p, vis[down], sx[down], sy[down])
            return
        self.last_mode = "icons"
        mpp = vp.ground_metres_per_pixel()
        if mpp < self.cone_below_mpp and len(vis) <= self.cones_max:
            self._paint_cones_budgeted(p, vis, sx, sy, mpp, vp)
        self._paint_icons(p, vis, sx, sy)
        self.last_drawn = len(vis)

    def _paint_icons(self, p: QPainter, vis, sx, sy) -> None:
        dpr = p.device().devicePixelRatioF() if p.device() else 1.0
        if self._atlas is None or self._atlas_dpr != dpr:
            self._atlas = build_atlas(dpr)
            self._atlas_dpr = dpr
        cell = ICON * dpr
        state = self.state[vis]
        if state.any():
            # faulty ones last, so they are drawn above their online neighbours
            order = np.argsort(state, kind="stable")
            vis, sx, sy, state = vis[order], sx[order], sy[order], state[order]
        self._frags.fill(sx, sy, self.kind[vis] * cell, cell, state * cell)
        self._frags.draw(p, len(vis), self._atlas)

    def _paint_clusters(self, p: QPainter, sx: np.ndarray, sy: np.ndarray) -> None:
        cx = np.floor(sx / CLUSTER_CELL).astype(np.int64)
        cy = np.floor(sy / CLUSTER_CELL).astype(np.int64)
        key = (cx + 1000) * 100000 + (cy + 1000)
        uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        mx = np.bincount(inv, weights=sx) / counts
        my = np.bincount(inv, weights=sy) / counts
        dpr = p.device().devicePixelRatioF() if p.device() else 1.0
        if self._bubbles is None or self._bubbles_dpr != dpr:
            self._bubbles = build_bubble_atlas(dpr)
            self._bubbles_dpr = dpr
        # bubble size class grows with log10(count): 1, 2-9, 10-99, 100-999, 1000+
        size_class = np.minimum(np.ceil(np.log10(np.maximum(counts, 1) + 0.5)).astype(np.int64), len(BUBBLE_SIZES) - 1)
        cell = BUBBLE_SIZES[-1] * dpr
        self._frags.fill(mx, my, size_class * cell, cell)
        self._frags.draw(p, len(uniq), self._bubbles)
        for x, y, n in zip(mx, my, counts):
            if n >= 5:
                label = self._label_pixmap(int(n), dpr)
                p.drawPixmap(QPointF(x - label.width() / (2 * dpr), y - label.height() / (2 * dpr)), label)
        self.last_drawn = len(uniq)

    def _label_pixmap(self, n: int, dpr: float) -> QPixmap:
        """The count text as a cached pixmap: drawing text is the slow part of clustering."""
        pm = self._labels.get(n)
        if pm is None:
            font = QFont()
            font.setBold(True)
            font.setPointSizeF(8.5)
            text = str(n)
            from PySide6.QtGui import QFontMetrics
            w = QFontMetrics(font).horizontalAdvance(text) + 2
            pm = QPixmap(int(w * dpr), int(14 * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.transparent)
            q = QPainter(pm)
            q.setFont(font)
            q.setPen(QColor("#ffffff"))
            q.drawText(QRectF(0, 0, w, 14), Qt.AlignCenter, text)
            q.end()
            if len(self._labels) > 4000:
                self._labels.clear()
            self._labels[n] = pm
        return pm

    def _paint_cones_budgeted(self, p: QPainter, vis, sx, sy, mpp: float, vp: Viewport) -> None:
        """FOV cones, filled, while their total area stays within a few screens."""
        r = self.range_m[vis] / mpp
        diag = float(np.hypot(vp.width, vp.height))
        area = np.minimum(r, diag) ** 2 * np.pi * np.minimum(self.fov[vis], 360.0) / 360.0
        screens = float(area.sum()) / (vp.width * vp.height)
        if screens > 3.0:
            # cones covering the view several times over are an unreadable blur and cost
            # ~1 ms each at this size: icons only (the selected camera's cone is an overlay)
            return
        p.setRenderHint(QPainter.Antialiasing, False)
        for code, kind in enumerate(CAMERA_KINDS):
            sel = np.flatnonzero((self.kind[vis] == code) & (r >= 4.0))
            if not len(sel):
                continue
            c = QColor(KIND_COLORS[kind])
            c.setAlpha(40)
            p.setBrush(c)
            p.setPen(Qt.NoPen)
            for j in sel:
                i = vis[j]
                rr = float(r[j])
                rect = QRectF(float(sx[j]) - rr, float(sy[j]) - rr, 2 * rr, 2 * rr)
                fov = float(self.fov[i])
                if fov >= 359.9:
                    p.drawEllipse(rect)
                else:
                    # Qt angles: 0 = east, counter-clockwise, 1/16 degree; headings: 0 = north, clockwise
                    start = 90.0 - float(self.heading[i]) - fov / 2.0
                    p.drawPie(rect, int(start * 16), int(fov * 16))
        p.setRenderHint(QPainter.Antialiasing, True)

    # -- queries ----------------------------------------------------------------------------
    def hit_test(self, x: float, y: float, vp: Viewport) -> Hit | None:
        i = self.index.nearest(x, y, (ICON * 0.75) / vp.scale)
        if i is None:
            return None
        vis_n = len(self._visible(vp))
        if self.clustered(vp, vis_n):
            return Hit(self.id, "cluster", "", tr("Cameras here: zoom in to pick one"), x, y, {}, priority=5)
        cam = self.table.records[int(self.rows[i])]
        title = f"{cam.name} · {tr(cam.kind)}"
        props = dict(cam.props)
        code = int(self.state[i])
        if code:
            title += f" · {tr(STATE_ROWS[code])}"
            fault = self.health.fault(cam.id) if self.health is not None else None
            if fault is not None:  # first in the details: what is wrong, since when
                from desktop.core.localtime import format_local
                head = {"state": tr(STATE_ROWS[code]), "out of service since": format_local(fault.since)}
                if fault.reason:
                    head["reason"] = fault.reason
                props = {**head, **props}
        return Hit(self.id, "camera", cam.id, title, cam.x, cam.y, props, priority=6)
