"""Radar targets at sea on the map: a boat arrow along its course, its speed, a short track; and
the watched waters they raise an alarm in.

Drawn like the camera icons and the patrol units: positions in numpy arrays, one sprite atlas
with the arrow pre-rotated into :data:`HEADINGS` steps per state (a rotated pixmap fragment
costs Qt ten times a plain one), one ``drawPixmapFragments`` call for all targets. States:
at sea (cyan), in the watched waters (red, ringed), lost (grey: the radar has not reported it
for 30 s). Labels (id and speed) and tracks are drawn when at most :data:`LABELS_MAX` targets
are on screen.

The layer keeps its own :class:`~desktop.core.radar.tracks.TrackBoard`, fed with the radar
reports the feed forwards (:meth:`RadarLayer.on_messages`): the validation, the alarms and
the rejection counts are the radar feed's, where the reports arrive.
"""
from __future__ import annotations

import collections
import time

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPixmap, QPolygonF, QTransform

from pyqtgraph.functions import arrayToQPolygonF

from desktop.core.feeds.schema import PayloadError
from desktop.core.geo.viewport import Viewport
from desktop.core.localtime import format_local
from desktop.core.radar._i18n import tr
from desktop.core.radar.feed import parse_report
from desktop.core.radar.tracks import TRACK_POINTS, TrackBoard
from desktop.core.radar.waters import WatchedWaters

from .camera_layer import FragmentArray
from .layer import Hit, MapLayer
from .paths import geometry_path, view_transform

STATES = ("sea", "watched", "lost")
STATE_COLORS = {"sea": "#4dd0e1", "watched": "#ff5252", "lost": "#78848e"}
WATERS_COLOR = "#ffab40"
SPRITE = 28
HEADINGS = 24
LABELS_MAX = 80


def _atlas(dpr: float) -> QPixmap:
    """Boat arrows: one row per state, one column per heading step; heading 0 points north."""
    s = int(SPRITE * dpr)
    pm = QPixmap(s * HEADINGS, s * len(STATES))
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    r = s * 0.34
    # a hull: pointed bow, square stern — reads as a vessel, unlike the patrol units' arrow
    hull = QPolygonF([QPointF(0, -r), QPointF(r * 0.5, -r * 0.2), QPointF(r * 0.45, r * 0.85),
                      QPointF(-r * 0.45, r * 0.85), QPointF(-r * 0.5, -r * 0.2)])
    for row, state in enumerate(STATES):
        for h in range(HEADINGS):
            p.save()
            p.translate(h * s + s / 2, row * s + s / 2)
            if state == "watched":
                p.setPen(QPen(QColor(STATE_COLORS["watched"]), max(2.0, s / 10)))
                p.setBrush(Qt.NoBrush)
                p.drawEllipse(QPointF(0, 0), s * 0.47, s * 0.47)
            p.rotate(h * 360.0 / HEADINGS)
            p.setPen(QPen(QColor("#0b1219"), max(1.0, s / 16)))
            p.setBrush(QColor(STATE_COLORS[state]))
            p.drawPolygon(hull)
            p.restore()
    p.end()
    pm.setDevicePixelRatio(dpr)
    return pm


class WatersLayer(MapLayer):
    """The watched waters at sea (where a radar target raises an alarm): amber, dashed."""

    id = "watched_waters"
    title = "Watched waters"
    z = 22

    def __init__(self, waters: WatchedWaters, projection, origin):
        super().__init__()
        self.waters = waters
        self.origin = origin
        union = waters.union()
        self.path = QPainterPath()
        if union is not None:
            import shapely

            def conv(c):
                x, y = projection.forward(c[:, 0], c[:, 1], "WGS84")
                return np.column_stack([np.asarray(x, float), np.asarray(y, float)])
            self.path = geometry_path([shapely.transform(union, conv)], origin)

    def paint(self, p: QPainter, vp: Viewport) -> None:
        if self.path.isEmpty():
            return
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        # hatched, not tinted: amber over the dark sea reads as grey land; a hatch reads as a zone
        c = QColor(WATERS_COLOR)
        c.setAlpha(90)
        brush = QBrush(c, Qt.BDiagPattern)
        brush.setTransform(QTransform.fromScale(1.0 / vp.scale, -1.0 / vp.scale))  # hatch in pixels
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(Qt.NoPen)
        p.setBrush(brush)
        p.drawPath(self.path)
        p.setRenderHint(QPainter.Antialiasing, True)
        pen = QPen(QColor(WATERS_COLOR), 1.2, Qt.DashLine)
        pen.setCosmetic(True)
        p.setPen(pen)
        p.setBrush(Qt.NoBrush)
        p.drawPath(self.path)
        p.restore()


class RadarLayer(MapLayer):
    """Every radar target at its latest fix, with its course, speed and the last minutes of track."""

    id = "radar_targets"
    title = "Radar targets"
    static = False
    z = 76

    def __init__(self, projection, waters: WatchedWaters | None = None, board: TrackBoard | None = None):
        super().__init__()
        self.projection = projection
        self.waters = waters
        self.board = board or TrackBoard()
        self._frags = FragmentArray()
        self._atlas: QPixmap | None = None
        self._atlas_dpr = 0.0
        self._version = -1
        self.keys: list[str] = []
        self._x = self._y = self._heading = self._state = np.zeros(0)
        self._speed = np.zeros(0)
        # key -> deque of (epoch, map x, map y): each fix projected once, when it arrives (a rebuild
        # that projected every track again cost 100+ ms a frame for 1,000 targets)
        self._map: dict[str, collections.deque] = {}
        self.ignored = 0  # reports this view could not read (the feed counts and lists them)
        self.painted_at = 0.0

    # --- data ------------------------------------------------------------------------------
    def on_messages(self, items) -> None:
        """Bus messages ``(topic, payload)`` of ``pingan/radar/+/targets`` (one call per frame)."""
        reports = []
        for topic, payload in items:
            try:
                reports.append(parse_report(topic, payload))
            except PayloadError:
                self.ignored += 1
        moved = self.board.ingest(reports) if reports else []
        if not moved:
            return
        x, y = self.projection.forward(np.fromiter((t.lon_wgs for t in moved), float, len(moved)),
                                       np.fromiter((t.lat_wgs for t in moved), float, len(moved)), "WGS84")
        keep = self.board.track_s
        for t, mx, my in zip(moved, np.atleast_1d(x), np.atleast_1d(y)):
            trail = self._map.get(t.key)
            if trail is None:
                trail = self._map[t.key] = collections.deque(maxlen=TRACK_POINTS)
            if trail and trail[-1][0] == t.epoch:
                trail[-1] = (t.epoch, float(mx), float(my))
            else:
                trail.append((t.epoch, float(mx), float(my)))
            while trail and trail[0][0] < t.epoch - keep:
                trail.popleft()
        self.changed()

    def expire(self, now: float | None = None) -> None:
        """Grey out targets not reported for a while, forget old ones (a timer calls this)."""
        lost, gone = self.board.expire(time.time() if now is None else now)
        for key in gone:
            self._map.pop(key, None)
        if lost or gone:
            self.changed()

    def _columns(self) -> None:
        targets = self.board.targets()
        n = len(targets)
        self.keys = [t.key for t in targets]
        lon = np.fromiter((t.lon_wgs for t in targets), float, n)
        lat = np.fromiter((t.lat_wgs for t in targets), float, n)
        last = [self._map[k][-1] for k in self.keys]
        self._x = np.fromiter((p[1] for p in last), float, n)
        self._y = np.fromiter((p[2] for p in last), float, n)
        self._heading = np.fromiter((t.heading_deg for t in targets), float, n)
        self._speed = np.fromiter((t.speed_kn for t in targets), float, n)
        lost = np.fromiter((t.lost for t in targets), bool, n)
        inside = self.waters.inside_many(lon, lat) if self.waters is not None and n else np.zeros(n, bool)
        self._state = np.where(lost, STATES.index("lost"), np.where(inside, STATES.index("watched"),
                                                                     STATES.index("sea")))
        self._targets = targets
        self._version = self.board.version

    # --- painting --------------------------------------------------------------------------
    def paint(self, p: QPainter, vp: Viewport) -> None:
        self.painted_at = time.monotonic()
        if self._version != self.board.version:
            self._columns()
        if not self.keys:
            return
        dpr = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        if self._atlas is None or self._atlas_dpr != dpr:
            self._atlas, self._atlas_dpr = _atlas(dpr), dpr
        sx, sy = vp.to_screen(self._x, self._y)
        sx, sy = np.asarray(sx, float), np.asarray(sy, float)
        on = (sx > -40) & (sx < vp.width + 40) & (sy > -40) & (sy < vp.height + 40)
        idx = np.flatnonzero(on)
        if not len(idx):
            return
        few = len(idx) <= LABELS_MAX
        if few:
            self._paint_tracks(p, vp, idx)
        s = SPRITE
        step = np.round(np.nan_to_num(self._heading[idx]) % 360.0 / (360.0 / HEADINGS)).astype(int) % HEADINGS
        a = self._frags.fill(sx[idx], sy[idx], step * s, s)
        a[:len(idx), 3] = self._state[idx] * s
        self._frags.draw(p, len(idx), self._atlas)
        if few:
            font = QFont(p.font())
            font.setBold(True)
            p.setFont(font)
            for i in idx:
                t = self._targets[i]
                text = tr("{id} · {speed:.1f} kn", id=t.id, speed=t.speed_kn)
                colour = QColor(STATE_COLORS[STATES[int(self._state[i])]])
                pos = QPointF(float(sx[i]) + 17, float(sy[i]) - 6)  # above right: clear of an alarm marker
                p.setPen(QPen(QColor(0, 0, 0, 200), 3.0))
                p.drawText(pos + QPointF(1, 1), text)  # a shadow keeps it legible over the sea tint
                p.setPen(colour if t.lost else QColor("#ffffff"))
                p.drawText(pos, text)

    def _paint_tracks(self, p: QPainter, vp: Viewport, idx) -> None:
        # Hairlines (width 0) shifted by a pixel make the 2 px line and the 2×2 px dots: Qt's
        # stroker for any wider pen, an antialiased round dot per fix or a translucent line made
        # 50 tracks of 150 fixes cost 50-100 ms a frame; hairlines cost a few.
        sea = QColor("#0b1a2a")
        p.setBrush(Qt.NoBrush)
        p.setRenderHint(QPainter.Antialiasing, False)
        for i in idx:
            trail = self._map.get(self.keys[i])
            if trail is None or len(trail) < 2:
                continue
            xy = np.array(trail, float)
            tx, ty = vp.to_screen(xy[:, 1], xy[:, 2])
            poly = arrayToQPolygonF(np.asarray(tx, float), np.asarray(ty, float))  # no QPointF per fix
            c = QColor(STATE_COLORS[STATES[int(self._state[i])]])
            # the line dimmed by blending with the sea (not by alpha), the fixes in full colour:
            # a dot per sweep, so the spacing reads as speed, as on a radar screen
            p.setPen(QPen(QColor((c.red() + sea.red()) // 2, (c.green() + sea.green()) // 2,
                                 (c.blue() + sea.blue()) // 2), 0))
            for dx, dy in ((0, 0), (1, 0), (0, 1)):
                p.translate(dx, dy)
                p.drawPolyline(poly)
                p.translate(-dx, -dy)
            p.setPen(QPen(c, 0))
            for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
                p.translate(dx, dy)
                p.drawPoints(poly)
                p.translate(-dx, -dy)
        p.setRenderHint(QPainter.Antialiasing, True)

    def hit_test(self, x: float, y: float, vp: Viewport) -> Hit | None:
        if self._version != self.board.version:
            self._columns()
        if not self.keys:
            return None
        tol = 14.0 / vp.scale
        d2 = (self._x - x) ** 2 + (self._y - y) ** 2
        i = int(np.argmin(d2))
        if d2[i] > tol * tol:
            return None
        t = self._targets[i]
        state = STATES[int(self._state[i])]
        where = {"sea": tr("at sea"), "watched": tr("in the watched waters"), "lost": tr("lost")}[state]
        title = tr("Radar target {id} ({radar}): {speed:.1f} kn, heading {heading:03.0f}°, {where}",
                   id=t.id, radar=t.radar, speed=t.speed_kn, heading=t.heading_deg, where=where)
        props = {"target": t.id, "radar": t.radar, "speed_kn": round(t.speed_kn, 1),
                 "heading_deg": round(t.heading_deg, 1),
                 "position": f"{t.lon_wgs:.6f}, {t.lat_wgs:.6f} (WGS84)",
                 "last report": format_local(t.epoch), "state": where}
        return Hit(self.id, "radar_target", t.key, title, float(self._x[i]), float(self._y[i]), props, priority=9)


def attach_radar(window, district, hub, clock=None) -> tuple[WatersLayer, RadarLayer]:
    """Put the watched waters and the radar targets on ``window``'s map, fed from ``hub`` (the
    plugins' stream hub: radar reports off the in-process bus, or forwarded by the feed process),
    with a timer that greys out targets the radars stopped reporting."""
    from PySide6.QtCore import QTimer

    from desktop.core.feeds.schema import RADAR_FILTER
    waters = WatchedWaters.from_district(district)
    minx, miny, maxx, maxy = district.map_bounds()
    waters_layer = WatersLayer(waters, window.projection, ((minx + maxx) / 2.0, (miny + maxy) / 2.0))
    layer = RadarLayer(window.projection, waters)
    waters_layer.title, layer.title = tr("Watched waters"), tr("Radar targets")  # the radar catalog is in
    window.add_map_layer(waters_layer)
    window.add_map_layer(layer)
    layer.subscription = hub.subscribe("bus", layer.on_messages, topic_filter=RADAR_FILTER)
    now = clock.time if clock is not None else time.time
    timer = QTimer(window)
    timer.setInterval(1000)
    timer.timeout.connect(lambda: layer.expire(now()))
    timer.start()
    layer.timer = timer
    window.radar_layer, window.waters_layer = layer, waters_layer
    return waters_layer, layer
