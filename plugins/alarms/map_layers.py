"""The alarm plugin's map layer: open alarms, flashing while new (patrol units are the patrol plugin's)."""
from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from desktop.sdk import AlarmState, Hit, MapLayer, priority_style
from desktop.sdk import MarkerAtlas as FragmentArray

DOT = 18
COVER_PX = 4.0  # dots (18 px) sharing a cell this big with a later, as urgent or more, dot: only that one drawn
COVER_ABOVE = 1500  # below this many visible dots every one is drawn
RING_CELL = 58  # a ring sprite's cell: the widest ring (radius 26, 3 px pen) with a margin
RING_STEPS = 16  # stages of the pulse in the ring atlas


def topmost_per_cell(sx: np.ndarray, sy: np.ndarray, cell_px: float) -> np.ndarray:
    """Indices (ascending, so the drawing order stays) of the last marker in each
    ``cell_px`` screen cell: the one drawn on top. The others lie under it, shifted by less
    than a cell, so leaving them out changes at most a sliver at a dot's rim, while a flood
    of 10,000 open alarms at district zoom blends a fraction of the sprites."""
    cx = np.floor(sx / cell_px).astype(np.int64)
    cy = np.floor(sy / cell_px).astype(np.int64)
    key = (cx - cx.min()) * (int(cy.max() - cy.min()) + 1) + (cy - cy.min())
    # np.unique keeps the first of equal keys: look from the end for the last one drawn
    _, first_from_end = np.unique(key[::-1], return_index=True)
    return np.sort(len(key) - 1 - first_from_end)


class AlarmLayer(MapLayer):
    """Open alarms on the map, coloured by priority; new (unacknowledged) ones pulse.

    Dots come from numpy columns through one ``drawPixmapFragments`` call, so thousands of
    open alarms during a flood cost a few milliseconds; only the most urgent new ones get
    the (per-item) pulsing ring.
    """

    id = "alarms"
    title = "Alarms"
    static = False
    z = 80
    MAX_RINGS = 40

    def __init__(self, projection):
        super().__init__()
        self.projection = projection
        self.alarms = []
        self.xy: dict[str, tuple[float, float]] = {}
        self.selected_id = ""
        self._t0 = time.monotonic()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._prio = np.zeros(0, np.int64)
        self._new = np.zeros(0, bool)
        self._live = np.zeros(0, bool)
        self._slot: dict[str, int] = {}
        self._frags = FragmentArray()
        self._ring_frags = FragmentArray()
        self._atlas = None
        self._rings = None
        self.last_drawn = 0  # dots drawn by the last paint

    def set_alarms(self, alarms) -> None:
        """Replace everything shown (start-up, or after a filter change)."""
        self.alarms = []
        self._slot = {}
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._prio = np.zeros(0, np.int64)
        self._new = np.zeros(0, bool)
        self._live = np.zeros(0, bool)
        self._prune_xy()
        self.update_alarms(alarms)

    def update_alarms(self, changed) -> list[str]:
        """Apply changed alarm snapshots: work in proportion to the change, not to all alarms.

        Returns the ids that became visible. Closed alarms leave the map.
        """
        fresh = [a for a in changed if a.is_open and a.id not in self._slot]
        if fresh:
            xs, ys = self.projection.forward(np.array([a.lon_wgs for a in fresh]),
                                             np.array([a.lat_wgs for a in fresh]), "WGS84")
            n0 = len(self.alarms)
            for k, a in enumerate(fresh):
                self._slot[a.id] = n0 + k
                self.xy[a.id] = (float(np.atleast_1d(xs)[k]), float(np.atleast_1d(ys)[k]))
            self.alarms.extend(fresh)
            self._x = np.concatenate([self._x, np.atleast_1d(xs).astype(float)])
            self._y = np.concatenate([self._y, np.atleast_1d(ys).astype(float)])
            self._prio = np.concatenate([self._prio, np.array([min(4, max(1, a.priority)) for a in fresh], np.int64)])
            self._new = np.concatenate([self._new, np.array([a.state == AlarmState.NEW for a in fresh], bool)])
            self._live = np.concatenate([self._live, np.ones(len(fresh), bool)])
        for a in changed:
            i = self._slot.get(a.id)
            if i is None:
                continue
            self.alarms[i] = a
            self._prio[i] = min(4, max(1, a.priority))
            self._new[i] = a.state == AlarmState.NEW
            self._live[i] = a.is_open
        if len(self._live) > 256 and self._live.sum() < len(self._live) // 2:
            self._compact()
        self.changed()
        return [a.id for a in fresh]

    def _compact(self) -> None:
        keep = np.flatnonzero(self._live)
        self.alarms = [self.alarms[i] for i in keep]
        self._x, self._y = self._x[keep], self._y[keep]
        self._prio, self._new, self._live = self._prio[keep], self._new[keep], self._live[keep]
        self._slot = {a.id: k for k, a in enumerate(self.alarms)}
        self._prune_xy()

    def _prune_xy(self) -> None:
        """Positions only of the alarms on the map (and the selected one): one entry per alarm
        ever seen would grow for as long as the program runs."""
        self.xy = {k: v for k, v in self.xy.items() if k in self._slot or k == self.selected_id}

    def open_ids(self) -> list[str]:
        return [a.id for a, live in zip(self.alarms, self._live) if live]

    def animating(self) -> bool:
        return bool((self._new & self._live).any())

    def _dot_atlas(self):
        from PySide6.QtGui import QPixmap
        if self._atlas is None:
            pm = QPixmap(DOT * 4, DOT)
            pm.fill(Qt.transparent)
            q = QPainter(pm)
            q.setRenderHint(QPainter.Antialiasing)
            q.setPen(QPen(QColor("#0b1219"), 2.0))
            for i in range(4):
                q.setBrush(QColor(priority_style(i + 1).colour))
                r = DOT / 2 - 1 - i  # urgent alarms are bigger
                q.drawEllipse(QPointF(i * DOT + DOT / 2, DOT / 2), r, r)
            q.end()
            self._atlas = pm
        return self._atlas

    def _ring_atlas(self):
        """One row of ring sprites: for each priority, RING_STEPS stages of the pulse (grow and fade)."""
        from PySide6.QtGui import QPixmap
        if self._rings is None:
            pm = QPixmap(RING_CELL * 4 * RING_STEPS, RING_CELL)
            pm.fill(Qt.transparent)
            q = QPainter(pm)
            q.setRenderHint(QPainter.Antialiasing)
            q.setBrush(Qt.NoBrush)
            for prio in range(4):
                for k in range(RING_STEPS):
                    pulse = k / (RING_STEPS - 1)
                    c = QColor(priority_style(prio + 1).colour)
                    c.setAlpha(int(60 + 160 * (1 - pulse)))
                    q.setPen(QPen(c, 3.0))
                    rr = 12 + 14 * pulse
                    q.drawEllipse(QPointF((prio * RING_STEPS + k + 0.5) * RING_CELL, RING_CELL / 2), rr, rr)
            q.end()
            self._rings = pm
        return self._rings

    def paint(self, p: QPainter, vp) -> None:
        if not len(self._x):
            return
        minx, miny, maxx, maxy = vp.bounds(margin_px=40)
        vis = np.flatnonzero(self._live & (self._x >= minx) & (self._x <= maxx) & (self._y >= miny) & (self._y <= maxy))
        if not len(vis):
            return
        vis = vis[np.argsort(-self._prio[vis], kind="stable")]  # urgent drawn last, on top
        sx, sy = vp.to_screen(self._x[vis], self._y[vis])
        if len(vis) > COVER_ABOVE:
            keep = topmost_per_cell(sx, sy, COVER_PX)
            vis, sx, sy = vis[keep], sx[keep], sy[keep]
        self.last_drawn = len(vis)
        self._frags.fill(sx, sy, (self._prio[vis] - 1) * DOT, DOT)
        self._frags.draw(p, len(vis), self._dot_atlas())
        # pulsing rings for the most urgent new alarms only (vis is sorted least urgent first),
        # stamped from a sprite atlas: forty antialiased translucent strokes a frame cost ~5 ms
        rings = np.flatnonzero(self._new[vis])[::-1][: self.MAX_RINGS]
        if len(rings):
            phase = (time.monotonic() - self._t0) * 2.0 * math.pi / 1.2  # 1.2 s pulse
            step = min(RING_STEPS - 1, int(round((0.5 + 0.5 * math.sin(phase)) * (RING_STEPS - 1))))
            cells = (self._prio[vis[rings]] - 1) * RING_STEPS + step
            self._ring_frags.fill(sx[rings], sy[rings], cells * RING_CELL, RING_CELL)
            self._ring_frags.draw(p, len(rings), self._ring_atlas())
        if len(vis) <= 300:
            p.setPen(QColor("#ffffff"))
            for j, i in enumerate(vis):
                a = self.alarms[i]
                if a.count > 1:
                    p.drawText(QPointF(float(sx[j]) + 9, float(sy[j]) - 8), f"×{a.count}")
        if self.selected_id in self.xy:
            x, y = vp.to_screen(*self.xy[self.selected_id])
            p.setPen(QPen(QColor("#ffffff"), 2.5))
            p.drawEllipse(QPointF(float(x), float(y)), 14, 14)

    def hit_test(self, x, y, vp):
        if not len(self._x):
            return None
        d2 = np.where(self._live, (self._x - x) ** 2 + (self._y - y) ** 2, np.inf)
        i = int(np.argmin(d2))
        if d2[i] > (14.0 / vp.scale) ** 2:
            return None
        best = self.alarms[i]
        title = f"{best.style.label} · {best.type_label} · {best.state_label} · {best.text or best.source}"
        return Hit(self.id, "alarm", best.id, title, *self.xy[best.id], {"id": best.id}, priority=10)
