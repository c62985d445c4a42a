"""Shapely geometry → QPainterPath, and the transform that paints such paths in a viewport.

Paths are built once, relative to an ``origin`` near the data: map coordinates are ~1e7
metres, and subtracting the origin keeps single-precision stages of the raster engine exact.
"""
from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath, QPolygonF, QTransform

from desktop.core.geo.viewport import Viewport


def _ring(coords: np.ndarray, ox: float, oy: float) -> QPolygonF:
    return QPolygonF([QPointF(float(x - ox), float(y - oy)) for x, y in coords[:, :2]])


def geometry_path(geoms, origin: tuple[float, float]) -> QPainterPath:
    """One path holding every polygon/line in ``geoms`` (an iterable of shapely geometries)."""
    ox, oy = origin
    path = QPainterPath()
    path.setFillRule(Qt.OddEvenFill)
    for geom in geoms:
        for part in getattr(geom, "geoms", [geom]):
            kind = part.geom_type
            if kind == "Polygon":
                path.addPolygon(_ring(np.asarray(part.exterior.coords), ox, oy))
                path.closeSubpath()
                for hole in part.interiors:
                    path.addPolygon(_ring(np.asarray(hole.coords), ox, oy))
                    path.closeSubpath()
            elif kind in ("LineString", "LinearRing"):
                coords = np.asarray(part.coords)
                path.moveTo(float(coords[0, 0] - ox), float(coords[0, 1] - oy))
                for x, y in coords[1:, :2]:
                    path.lineTo(float(x - ox), float(y - oy))
    return path


def simplified(geoms, tolerance: float):
    """Geometries simplified for a coarse zoom (topology-preserving)."""
    return [shapely.simplify(g, tolerance, preserve_topology=True) for g in geoms]


def view_transform(vp: Viewport, origin: tuple[float, float]) -> QTransform:
    """Painter transform from origin-relative map coordinates to screen pixels (y flipped)."""
    s = vp.scale
    dx = (origin[0] - vp.cx) * s + vp.width / 2.0
    dy = (vp.cy - origin[1]) * s + vp.height / 2.0
    return QTransform(s, 0.0, 0.0, -s, dx, dy)
