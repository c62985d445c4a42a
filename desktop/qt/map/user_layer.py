"""An imported layer (GeoJSON or KML) on the map: polygons filled and outlined, lines, points —
in the layer's own colour unless a feature brings its own; click a feature for its properties.

Paths are built once per colour group (map coordinates relative to an origin, as the district
layers do), so a layer of thousands of features is a handful of ``drawPath`` calls; points are
one ``drawPoints`` per colour.
"""
from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QPolygonF

from desktop.core.geo.viewport import Viewport
from desktop.core.layers.user_layer import ImportedLayer

from .layer import Hit, MapLayer
from .paths import geometry_path, view_transform


LABELS_MAX = 150  # names drawn when at most this many labelled features are on screen


def _parts(geom):
    return list(getattr(geom, "geoms", [geom]))


def swatch(stroke: str, fill: str, size: int = 14) -> QIcon:
    """A small square in the layer's colours, for its Layers-dock entry."""
    pm = QPixmap(size, size)
    pm.fill(Qt.transparent)
    p = QPainter(pm)
    c = QColor(fill)
    c.setAlpha(110)
    p.setBrush(c)
    p.setPen(QPen(QColor(stroke), 2.0))
    p.drawRect(1, 1, size - 3, size - 3)
    p.end()
    return QIcon(pm)


class UserMapLayer(MapLayer):
    """One imported file as a map layer (static: painted into the canvas's cache)."""

    z = 65  # the operator's own overlay: above the icons and the boundary, below place names and alarms
    removable = True  # the Layers dock offers to remove it

    def __init__(self, data: ImportedLayer, layer_id: str):
        super().__init__()
        self.data = data
        self.id = layer_id
        self.title = data.name
        self.swatch = (data.style.stroke, data.style.fill)
        st = data.style
        feats = data.features
        b = data.bounds()
        self.origin = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0) if b else (0.0, 0.0)
        polys: dict[tuple, list] = {}
        lines: dict[str, list] = {}
        points: dict[str, list] = {}
        for f in feats:
            stroke = f.stroke or st.stroke
            for g in _parts(f.map_geom):
                t = g.geom_type
                if t == "Polygon":
                    alpha = st.fill_alpha if f.fill_alpha is None else f.fill_alpha
                    polys.setdefault((stroke, f.fill or (f.stroke or st.fill), alpha), []).append(g)
                elif t in ("LineString", "LinearRing"):
                    lines.setdefault(stroke, []).append(g)
                elif t == "Point":
                    points.setdefault(stroke, []).append((g.x, g.y))
        self._polys = [(key, geometry_path(gs, self.origin)) for key, gs in polys.items()]
        self._lines = [(c, geometry_path(gs, self.origin)) for c, gs in lines.items()]
        self._points = [(c, np.array(xy, float).reshape(-1, 2)) for c, xy in points.items()]
        self._geoms = [f.map_geom for f in feats]
        named = [(str(f.props.get("name") or f.props.get("title")), f.map_geom.representative_point())
                 for f in feats if f.props.get("name") or f.props.get("title")]
        self._labels = (np.array([[pt.x, pt.y] for _, pt in named], float).reshape(-1, 2), [n for n, _ in named])
        self._tree = shapely.STRtree(self._geoms) if feats else None

    def paint(self, p: QPainter, vp: Viewport) -> None:
        # As the district layers do: fills and wide strokes without antialiasing, opaque pens —
        # Qt's antialiased wide strokes and translucent pens cost 10-20x on many features.
        st = self.data.style
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        p.setRenderHint(QPainter.Antialiasing, False)
        for (stroke, fill, alpha), path in self._polys:
            c = QColor(fill)
            c.setAlphaF(max(0.0, min(1.0, alpha)))
            p.setPen(Qt.NoPen)
            p.setBrush(c)
            p.drawPath(path)
            pen = QPen(QColor(stroke), st.width)
            pen.setCosmetic(True)  # widths in pixels, whatever the zoom
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            p.drawPath(path)
        p.setBrush(Qt.NoBrush)
        for stroke, path in self._lines:
            pen = QPen(QColor("#0b1219"), st.width + 2.0, Qt.SolidLine, Qt.FlatCap, Qt.BevelJoin)
            pen.setCosmetic(True)  # a dark casing keeps a line legible over any colour below it
            p.setPen(pen)
            p.drawPath(path)
            pen = QPen(QColor(stroke), st.width, Qt.SolidLine, Qt.FlatCap, Qt.BevelJoin)  # round ones cost 2x
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawPath(path)
        p.restore()
        for stroke, xy in self._points:
            sx, sy = vp.to_screen(xy[:, 0], xy[:, 1])
            pts = QPolygonF([QPointF(float(x), float(y)) for x, y in zip(np.atleast_1d(sx), np.atleast_1d(sy))])
            p.setPen(QPen(QColor("#0b1219"), st.point_size + 3, Qt.SolidLine, Qt.RoundCap))
            p.drawPoints(pts)
            p.setPen(QPen(QColor(stroke), st.point_size, Qt.SolidLine, Qt.RoundCap))
            p.drawPoints(pts)

        self._paint_labels(p, vp)

    def _paint_labels(self, p: QPainter, vp: Viewport) -> None:
        """Feature names, when few enough are on screen to be read (a halo keeps them legible)."""
        xy, names = self._labels
        if not len(names):
            return
        sx, sy = vp.to_screen(xy[:, 0], xy[:, 1])
        sx, sy = np.atleast_1d(np.asarray(sx, float)), np.atleast_1d(np.asarray(sy, float))
        on = np.flatnonzero((sx > 0) & (sx < vp.width) & (sy > 0) & (sy < vp.height))
        if not len(on) or len(on) > LABELS_MAX:
            return
        for i in on:
            pos = QPointF(float(sx[i]) + 8, float(sy[i]) - 6)
            p.setPen(QPen(QColor(0, 0, 0, 210)))
            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                p.drawText(pos + QPointF(dx, dy), names[i])
            p.setPen(QColor("#f5f5f5"))
            p.drawText(pos, names[i])

    def hit_test(self, x: float, y: float, vp: Viewport) -> Hit | None:
        if self._tree is None:
            return None
        tol = 8.0 / vp.scale
        pt = shapely.Point(x, y)
        idx = self._tree.query(shapely.box(x - tol, y - tol, x + tol, y + tol))
        if not len(idx):
            return None
        dist = shapely.distance(np.array([self._geoms[i] for i in idx], dtype=object), pt)
        best = int(np.argmin(dist))
        if dist[best] > tol:
            return None
        f = self.data.features[int(idx[best])]
        props = {k: v for k, v in f.props.items() if isinstance(v, (str, int, float)) and not str(k).startswith("_")}
        props["layer"] = self.data.name
        # points and lines win over the polygon they lie in
        prio = 4 if "Polygon" not in f.geom.geom_type else 2
        return Hit(self.id, "user_feature", f"{self.id}:{f.id}", f"{f.name} — {self.data.name}", x, y, props,
                   priority=prio)
