"""The patrol plugin's map layers: live units (heading, call sign, fading trail, stale greyed),
the replay, and the route of a proposed dispatch.

Units are drawn like the camera icons: positions in numpy arrays, one sprite atlas (one arrow
per kind and state), one ``drawPixmapFragments`` call with each unit's heading as the
fragment's rotation — so 500 units cost about as much as one.
"""
from __future__ import annotations

import collections
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from pyqtgraph import arrayToQPath

from desktop.sdk import Hit, MapLayer, MarkerAtlas, tr

KIND_COLORS = {"car": "#29b6f6", "ebike": "#81c784", "foot": "#fff176", "boat": "#4dd0e1"}
KINDS = ("car", "ebike", "foot", "boat")
STATES = ("live", "busy", "stale", "offline")  # sprite rows: colour of kind / red ring / grey / dark grey
SPRITE = 26  # logical pixels per sprite cell
HEADINGS = 24  # pre-rotated arrow steps (15° each)
LABELS_MAX = 120  # call signs are drawn when at most this many units are on screen
TRAIL_S = 120.0  # the fading trail shows the last two minutes
STOP_LABELS = 12  # replay stop labels drawn at most


def kind_label(kind: str) -> str:
    return tr({"car": "car", "ebike": "e-bike", "foot": "foot patrol", "boat": "boat"}.get(kind, kind))


def _atlas(dpr: float) -> QPixmap:
    """Arrows pre-rotated into :data:`HEADINGS` steps: one row per state, one column per (kind,
    heading step); heading 0 points north. Drawing a rotated fragment costs Qt ten times a plain
    one (500 units: 10 ms a frame against 0.7 ms), so the rotation is done once, here."""
    s = int(SPRITE * dpr)
    pm = QPixmap(s * len(KINDS) * HEADINGS, s * len(STATES))
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    r = s * 0.36
    arrow = QPolygonF([QPointF(0, -r), QPointF(r * 0.78, r * 0.8), QPointF(0, r * 0.38), QPointF(-r * 0.78, r * 0.8)])
    for row, state in enumerate(STATES):
        for k, kind in enumerate(KINDS):
            c = QColor(KIND_COLORS[kind])
            if state == "stale":
                c = QColor("#8a949e")
            elif state == "offline":
                c = QColor("#4a525a")
            for h in range(HEADINGS):
                col = k * HEADINGS + h
                p.save()
                p.translate(col * s + s / 2, row * s + s / 2)
                if state == "busy":
                    p.setPen(QPen(QColor("#ff5252"), max(2.0, s / 9)))
                    p.setBrush(Qt.NoBrush)
                    p.drawEllipse(QPointF(0, 0), s * 0.46, s * 0.46)
                p.rotate(h * 360.0 / HEADINGS)
                p.setPen(QPen(QColor("#0b1219"), max(1.0, s / 18)))
                p.setBrush(c)
                p.drawPolygon(arrow)
                p.restore()
    p.end()
    pm.setDevicePixelRatio(dpr)
    return pm


def _columns(kind_index: np.ndarray, heading_deg: np.ndarray) -> np.ndarray:
    """Atlas column of each (kind, heading): the nearest of the pre-rotated steps."""
    step = np.round(np.nan_to_num(np.asarray(heading_deg, float)) % 360.0 / (360.0 / HEADINGS)).astype(int) % HEADINGS
    return np.asarray(kind_index, int) * HEADINGS + step


class UnitLayer(MapLayer):
    """Every patrol unit at its latest fix: an arrow along its heading, its call sign, a trail
    that fades over the last two minutes; stale units grey, offline ones dark, busy ringed red."""

    id = "units"
    title = "Patrol units"
    static = False
    z = 75

    def __init__(self, projection, trail_s: float = TRAIL_S):
        super().__init__()
        self.projection = projection
        self.trail_s = trail_s
        self.units: dict[str, dict] = {}
        self.order: list[str] = []
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._heading = np.zeros(0)
        self._cell = np.zeros(0)
        self._dirty = True
        self._frags = MarkerAtlas()
        self._atlas: QPixmap | None = None
        self._atlas_dpr = 0.0
        self.selected = ""
        self.painted_at = 0.0  # monotonic time of the last paint (for the benchmark)

    # --- data ------------------------------------------------------------------------------
    def update_positions(self, fixes) -> None:
        """New fixes (objects with unit, kind, lon_wgs, lat_wgs, heading_deg, speed_kmh, epoch)."""
        for f in fixes:
            x, y = self.projection.forward(f.lon_wgs, f.lat_wgs, "WGS84")
            u = self.units.get(f.unit)
            if u is None:
                u = self.units[f.unit] = {"trail": collections.deque(maxlen=240), "state": "live", "busy": False}
                self.order.append(f.unit)
            u.update(kind=f.kind, x=float(x), y=float(y), heading=float(f.heading_deg or 0.0),
                     speed=float(f.speed_kmh or 0.0), epoch=float(f.epoch))
            if u["state"] in ("stale", "offline"):
                u["state"] = "live"
            trail = u["trail"]
            trail.append((float(f.epoch), float(x), float(y)))
            while trail and trail[0][0] < f.epoch - self.trail_s:
                trail.popleft()
        if fixes:
            self._dirty = True
            self.changed()

    def set_states(self, states: dict[str, tuple[str, bool]]) -> None:
        """unit -> (link state live|stale|offline, busy), from the patrol service."""
        changed = False
        for unit, (link, busy) in states.items():
            u = self.units.get(unit)
            if u is not None and (u["state"], u["busy"]) != (link, busy):
                u["state"], u["busy"] = link, busy
                changed = True
        if changed:
            self._dirty = True
            self.changed()

    def remove(self, unit: str) -> None:
        if self.units.pop(unit, None) is not None:
            self.order.remove(unit)
            self._dirty = True
            self.changed()

    def _columns(self) -> None:
        n = len(self.order)
        self._x = np.fromiter((self.units[u]["x"] for u in self.order), float, n)
        self._y = np.fromiter((self.units[u]["y"] for u in self.order), float, n)
        self._heading = np.fromiter((self.units[u]["heading"] for u in self.order), float, n)
        kind = np.fromiter((KINDS.index(self.units[u]["kind"]) if self.units[u]["kind"] in KINDS else 2
                            for u in self.order), float, n)
        state = np.fromiter((STATES.index("busy") if self.units[u]["busy"] and self.units[u]["state"] == "live"
                             else STATES.index(self.units[u]["state"]) for u in self.order), float, n)
        self._cell = kind + state * len(KINDS)
        self._dirty = False

    # --- painting --------------------------------------------------------------------------
    def paint(self, p: QPainter, vp) -> None:
        import time
        self.painted_at = time.monotonic()
        if not self.order:
            return
        if self._dirty:
            self._columns()
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        if self._atlas is None or self._atlas_dpr != dpr:
            self._atlas, self._atlas_dpr = _atlas(dpr), dpr
        sx, sy = vp.to_screen(self._x, self._y)
        sx, sy = np.asarray(sx, float), np.asarray(sy, float)
        on = (sx > -30) & (sx < vp.width + 30) & (sy > -30) & (sy < vp.height + 30)
        idx = np.nonzero(on)[0]
        few = len(idx) <= LABELS_MAX
        if few:
            self._paint_trails(p, vp, idx)
        s = SPRITE
        cells = self._cell[idx]
        cols = _columns(cells % len(KINDS), self._heading[idx])
        a = self._frags.fill(sx[idx], sy[idx], cols * s, s)
        a[:len(idx), 3] = (cells // len(KINDS)) * s  # the state row
        self._frags.draw(p, len(idx), self._atlas)
        if few:
            font = QFont(p.font())
            font.setBold(True)
            p.setFont(font)
            for i in idx:
                unit = self.order[i]
                u = self.units[unit]
                p.setPen(QColor("#8a949e") if u["state"] != "live" else QColor("#ffffff"))
                p.drawText(QPointF(sx[i] + 12, sy[i] + 5), unit)
        if self.selected in self.units:
            u = self.units[self.selected]
            x, y = vp.to_screen(u["x"], u["y"])
            p.setPen(QPen(QColor("#ffd54f"), 2.5))
            p.setBrush(Qt.NoBrush)
            p.drawEllipse(QPointF(float(x), float(y)), 17, 17)

    def _paint_trails(self, p: QPainter, vp, idx) -> None:
        for i in idx:
            u = self.units[self.order[i]]
            trail = u["trail"]
            if len(trail) < 2:
                continue
            c = QColor(KIND_COLORS.get(u["kind"], "#ffffff") if u["state"] == "live" else "#8a949e")
            newest = trail[-1][0]
            pts = [(t, *vp.to_screen(x, y)) for t, x, y in trail]
            for (t0, x0, y0), (t1, x1, y1) in zip(pts, pts[1:]):
                age = (newest - t1) / self.trail_s
                c.setAlphaF(max(0.05, 0.75 * (1.0 - age)))
                p.setPen(QPen(c, 3.0, Qt.SolidLine, Qt.RoundCap))
                p.drawLine(QPointF(float(x0), float(y0)), QPointF(float(x1), float(y1)))

    def hit_test(self, x, y, vp):
        if not self.order:
            return None
        if self._dirty:
            self._columns()
        tol = 12.0 / vp.scale
        d2 = (self._x - x) ** 2 + (self._y - y) ** 2
        i = int(np.argmin(d2))
        if d2[i] > tol * tol:
            return None
        unit = self.order[i]
        u = self.units[unit]
        state = {"live": tr("live"), "stale": tr("stale"), "offline": tr("offline")}[u["state"]]
        title = tr("Patrol unit {unit} ({kind}), {speed:.0f} km/h, {state}", unit=unit, kind=kind_label(u["kind"]),
                   speed=u["speed"], state=state)
        return Hit(self.id, "patrol_unit", unit, title, u["x"], u["y"],
                   {"unit": unit, "kind": u["kind"], "busy": u["busy"], "state": u["state"]}, priority=9)


class RouteLayer(MapLayer):
    """The path a proposed unit would take to an alarm (dashed), with the alarm point."""

    id = "dispatch_route"
    title = "Dispatch route"
    static = False
    z = 74

    def __init__(self, projection):
        super().__init__()
        self.projection = projection
        self.path: list[tuple[float, float]] = []  # map coordinates

    def set_path(self, lonlat: list[tuple[float, float]]) -> None:
        self.path = [tuple(map(float, self.projection.forward(lon, lat, "WGS84"))) for lon, lat in lonlat]
        self.changed()

    def paint(self, p: QPainter, vp) -> None:
        if len(self.path) < 2:
            return
        path = QPainterPath()
        for i, (x, y) in enumerate(self.path):
            sx, sy = vp.to_screen(x, y)
            (path.moveTo if i == 0 else path.lineTo)(float(sx), float(sy))
        p.setBrush(Qt.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 160), 7.0, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        p.drawPath(path)
        p.setPen(QPen(QColor("#ffab40"), 4.0, Qt.DashLine, Qt.RoundCap, Qt.RoundJoin))
        p.drawPath(path)


class CoverageLayer(MapLayer):
    """The stretches of each patrol segment driven in the last N minutes, drawn over the routes
    (what was left undriven shows as the plain route underneath)."""

    id = "coverage"
    title = "Segment coverage"
    static = False
    z = 73

    def __init__(self, projection):
        super().__init__()
        self.projection = projection
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []  # map x, y of each driven stretch

    def set_coverage(self, coverage) -> None:
        parts = [part for seg in coverage for part in seg.parts if len(part) > 1]
        self.parts = []
        if parts:
            lon = np.concatenate([pt[:, 0] for pt in parts])
            lat = np.concatenate([pt[:, 1] for pt in parts])
            x, y = self.projection.forward(lon, lat, "WGS84")
            cuts = np.cumsum([len(pt) for pt in parts])[:-1]
            self.parts = list(zip(np.split(np.asarray(x, float), cuts), np.split(np.asarray(y, float), cuts)))
        self.changed()

    def paint(self, p: QPainter, vp) -> None:
        if not self.parts:
            return
        p.setPen(QPen(QColor(102, 187, 106, 200), 5.0, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))
        for x, y in self.parts:
            sx, sy = vp.to_screen(x, y)
            p.drawPath(arrayToQPath(np.asarray(sx, float), np.asarray(sy, float)))


class ReplayLayer(MapLayer):
    """What the replay shows at its current time: each unit's position, its track so far and
    its stops (with arrival and departure times)."""

    id = "replay"
    title = "Patrol replay"
    static = False
    z = 76

    def __init__(self, projection):
        super().__init__()
        self.projection = projection
        self.units: list[str] = []
        self.kinds: dict[str, str] = {}
        self.x = np.zeros(0)
        self.y = np.zeros(0)
        self.heading = np.zeros(0)
        self.valid = np.zeros(0, bool)
        self.tracks: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # unit -> map x, y of the track so far
        self.stops: list[tuple[str, float, float, str]] = []  # unit, map x, y, label
        self.follow = ""
        self._frags = MarkerAtlas()
        self._atlas: QPixmap | None = None
        self._stop_xy: dict = {}

    def show_frame(self, units, lon, lat, heading, valid, tracks=None, stops=None) -> None:
        """The replay at one instant. ``tracks``: unit -> (lon, lat) arrays of its trail (WGS84),
        projected here in one call for all units; ``stops``: (unit, lon, lat, label) rows shown
        (projected once and cached: stops do not move)."""
        self.units = list(units)
        x, y = self.projection.forward(np.asarray(lon, float), np.asarray(lat, float), "WGS84")
        self.x, self.y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        self.heading = np.asarray(heading, float)
        self.valid = np.asarray(valid, bool) & np.isfinite(self.x) & np.isfinite(self.y)
        if tracks is not None:
            names = [u for u, (tlon, _) in tracks.items() if len(tlon) > 1]
            self.tracks = {}
            if names:
                tlon = np.concatenate([np.asarray(tracks[u][0], float) for u in names])
                tlat = np.concatenate([np.asarray(tracks[u][1], float) for u in names])
                tx, ty = self.projection.forward(tlon, tlat, "WGS84")
                tx, ty = np.asarray(tx, float), np.asarray(ty, float)
                cuts = np.cumsum([len(tracks[u][0]) for u in names])[:-1]
                for u, px, py in zip(names, np.split(tx, cuts), np.split(ty, cuts)):
                    self.tracks[u] = (px, py)
        if stops is not None:
            shown = []
            for unit, lon_, lat_, label in stops:
                key = (unit, lon_, lat_, label)
                xy = self._stop_xy.get(key)
                if xy is None:
                    sx, sy = self.projection.forward(lon_, lat_, "WGS84")
                    xy = self._stop_xy[key] = (float(sx), float(sy))
                shown.append((unit, xy[0], xy[1], label))
            self.stops = shown
        self.changed()

    def clear(self) -> None:
        self.units, self.tracks, self.stops = [], {}, []
        self.valid = np.zeros(0, bool)
        self.changed()

    def paint(self, p: QPainter, vp) -> None:
        if not self.units:
            return
        # Trails: one path per unit built from numpy in one go (pyqtgraph's arrayToQPath), drawn
        # without antialiasing — fifty antialiased polylines alone would take a frame's budget.
        p.save()
        p.setRenderHint(QPainter.Antialiasing, False)
        for unit, (tx, ty) in self.tracks.items():
            if len(tx) < 2:
                continue
            sx, sy = vp.to_screen(tx, ty)
            c = QColor(KIND_COLORS.get(self.kinds.get(unit, ""), "#ffffff"))
            c.setAlpha(170)
            p.setPen(QPen(c, 2.0))
            p.drawPath(arrayToQPath(np.asarray(sx, float), np.asarray(sy, float)))
        p.restore()
        # Stops: a square each; the labels (arrival–departure) of the latest few only, or of the
        # followed unit's — a day's hundreds of labels would hide the map and cost the frame.
        p.setPen(QPen(QColor("#0b1219"), 1.5))
        p.setBrush(QColor("#ffb74d"))
        on_screen = []
        for unit, x, y, label in self.stops:
            sx, sy = vp.to_screen(x, y)
            if -10 <= sx <= vp.width + 10 and -10 <= sy <= vp.height + 10:
                p.drawRect(QRectF(float(sx) - 5, float(sy) - 5, 10, 10))
                on_screen.append((unit, float(sx), float(sy), label))
        labelled = [s for s in on_screen if s[0] == self.follow] if self.follow else on_screen[-STOP_LABELS:]
        p.setPen(QColor("#ffe0b2"))
        for unit, sx, sy, label in labelled[-STOP_LABELS:]:
            p.drawText(QPointF(sx + 8, sy - 6), label)
        if self._atlas is None:
            self._atlas = _atlas(1.0)
        idx = np.nonzero(self.valid)[0]
        if not len(idx):
            return
        sx, sy = vp.to_screen(self.x[idx], self.y[idx])
        cols = np.array([KINDS.index(self.kinds.get(self.units[i], "foot")) if self.kinds.get(self.units[i]) in KINDS
                         else 2 for i in idx], float)
        cols = _columns(cols, self.heading[idx])
        a = self._frags.fill(np.asarray(sx, float), np.asarray(sy, float), cols * SPRITE, SPRITE)
        a[:len(idx), 3] = 0.0
        self._frags.draw(p, len(idx), self._atlas)
        bold = QFont(p.font())
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(QColor("#ffffff"))
        for k, i in enumerate(idx):
            p.drawText(QPointF(float(sx[k]) + 12, float(sy[k]) + 5), self.units[i])

    def hit_test(self, x, y, vp):
        idx = np.nonzero(self.valid)[0]
        if not len(idx):
            return None
        tol = 12.0 / vp.scale
        d2 = (self.x[idx] - x) ** 2 + (self.y[idx] - y) ** 2
        k = int(np.argmin(d2))
        if d2[k] > tol * tol:
            return None
        i = idx[k]
        unit = self.units[i]
        return Hit(self.id, "replay_unit", unit, tr("Replay: {unit}", unit=unit), float(self.x[i]),
                   float(self.y[i]), {"unit": unit}, priority=8)


def bearing_deg(lon0, lat0, lon1, lat1) -> float:
    """Initial bearing from one point to another (0 = north, clockwise)."""
    dl = math.radians(lon1 - lon0)
    a, b = math.radians(lat0), math.radians(lat1)
    y = math.sin(dl) * math.cos(b)
    x = math.cos(a) * math.sin(b) - math.sin(a) * math.cos(b) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360.0) % 360.0
