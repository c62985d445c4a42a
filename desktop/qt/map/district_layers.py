"""Map layers for the district model: basemap, grid, zones, patrol, risk sources.

Each layer builds its QPainterPaths once from the model and paints them through the view
transform; none holds business logic. Cameras have their own module (they are the hot path).
"""
from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen

from desktop.core.district.model import District, Feature
from desktop.core.geo.spatial import PointIndex, PolygonIndex
from desktop.core.geo.viewport import Viewport
from desktop.core.i18n import tr
from desktop.qt.theme import MAP

from .layer import Hit, MapLayer
from .paths import geometry_path, simplified, view_transform


def _pen(color: str, width: float = 1.0, style=Qt.SolidLine, alpha: int | None = None) -> QPen:
    """A cosmetic pen; ``alpha`` is pre-blended over the district fill into an opaque colour,
    because Qt strokes translucent pens through a path fill (10-20x slower on long outlines)."""
    c = QColor(color)
    if alpha is not None:
        bg = QColor(MAP.district)
        f = alpha / 255.0
        c = QColor(int(bg.red() + (c.red() - bg.red()) * f), int(bg.green() + (c.green() - bg.green()) * f),
                   int(bg.blue() + (c.blue() - bg.blue()) * f))
    pen = QPen(c, width, style)
    pen.setCosmetic(True)  # widths in pixels whatever the zoom
    return pen


def _stroke(p: QPainter, path: QPainterPath, pen: QPen) -> None:
    """Stroke ``path``; lines wider than one pixel go without antialiasing (Qt's antialiased
    wide strokes cost ~20x, and at 2-3 px the stair-steps do not show)."""
    wide = pen.widthF() > 1.0
    if wide:
        p.setRenderHint(QPainter.Antialiasing, False)
    p.setPen(pen)
    p.setBrush(Qt.NoBrush)
    p.drawPath(path)
    if wide:
        p.setRenderHint(QPainter.Antialiasing, True)


def _brush(color: str, alpha: int) -> QBrush:
    c = QColor(color)
    c.setAlpha(alpha)
    return QBrush(c)


_HALO = [(dx, dy) for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2) if 0 < dx * dx + dy * dy <= 5]


def _draw_label(p: QPainter, sx: float, sy: float, text: str, color: str, halo: str = "#0b1219") -> QRectF:
    """Text centred on (sx, sy) over a 2 px dark halo, readable over any fill or icon; returns its box.

    The halo is the text drawn at small offsets: glyphs come from Qt's cache, while stroking
    the text's outline as a path costs ten times more per label."""
    fm = p.fontMetrics()
    w = fm.horizontalAdvance(text)
    x, y = sx - w / 2.0, sy + fm.ascent() / 2.0 - 1
    p.setPen(QColor(halo))
    for ddx, ddy in _HALO:
        p.drawText(QPointF(x + ddx, y + ddy), text)
    p.setPen(QColor(color))
    p.drawText(QPointF(x, y), text)
    return QRectF(x - 2, sy - fm.height() / 2.0 - 2, w + 4, fm.height() + 4)


class _PathLayer(MapLayer):
    """A layer that paints prebuilt paths, built relative to ``origin`` (see paths.py)."""

    def __init__(self, origin: tuple[float, float]):
        super().__init__()
        self.origin = origin


class BasemapLayer(_PathLayer):
    """Land, neighbouring districts and the district itself over the sea (the offline vector basemap)."""

    id = "basemap"
    title = "Basemap"
    z = 0

    def __init__(self, district: District, origin):
        super().__init__(origin)
        self.district = district
        ctx = [f.map_geom for f in district.context]
        # levels of detail: (tolerance in map units, path); the finest has tolerance 0
        self.land_lods = [(0.0, geometry_path(ctx, origin))]
        for tol in (3.0, 12.0, 50.0, 200.0):
            self.land_lods.append((tol, geometry_path(simplified(ctx, tol), origin)))
        self.body = geometry_path([district.boundary.map_geom], origin)
        self.labels = []
        for f in district.context:
            if f.props.get("role") == "parent":
                continue
            pt = f.map_geom.representative_point()
            self.labels.append((pt.x, pt.y, str(f.props.get("name", ""))))
        pt = district.boundary.map_geom.representative_point()
        self.district_label = (pt.x, pt.y, district.info.name)

    def paint(self, p: QPainter, vp: Viewport) -> None:
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        p.setPen(_pen(MAP.land_edge, 1.0))
        p.setBrush(QColor(MAP.land))
        # the coarsest outline whose error stays under half a pixel
        half_px = 0.5 / vp.scale
        path = next(path for tol, path in reversed(self.land_lods) if tol <= half_px)
        p.drawPath(path)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(MAP.district))
        p.drawPath(self.body)
        p.restore()  # the neighbours' names: LabelLayer


class BoundaryLayer(_PathLayer):
    """The district's outline, drawn above the other layers so its edge always reads."""

    id = "boundary"
    title = "District boundary"
    z = 60

    def __init__(self, district: District, origin):
        super().__init__(origin)
        self.body = geometry_path([district.boundary.map_geom], origin)
        self.name = district.info.name
        pt = district.boundary.map_geom.representative_point()
        self.label_at = (pt.x, pt.y)

    def paint(self, p: QPainter, vp: Viewport) -> None:
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        _stroke(p, self.body, _pen(MAP.district_edge, 2.5))
        p.restore()


class GridLayer(_PathLayer):
    """Grid cells (网格) with sub-district outlines and names; hover names the cell and its community."""

    id = "grid"
    title = "Grid cells"
    z = 10

    def __init__(self, district: District, origin):
        super().__init__(origin)
        self.cells = district.grid
        self.cell_path = geometry_path([c.map_geom for c in self.cells], origin)
        self.index = PolygonIndex([c.map_geom for c in self.cells])
        by_sub: dict[str, list] = {}
        by_com: dict[str, list] = {}
        for c in self.cells:
            by_sub.setdefault(str(c.props.get("subdistrict", "")), []).append(c.map_geom)
            by_com.setdefault(str(c.props.get("community", "")), []).append(c.map_geom)
        self.sub_shapes = {k: shapely.union_all(v) for k, v in by_sub.items() if k}
        self.sub_path = geometry_path([shapely.boundary(g) for g in self.sub_shapes.values()], origin)
        self.sub_labels = [(g.representative_point().x, g.representative_point().y, k)
                           for k, g in self.sub_shapes.items()]
        self.com_labels = []
        for k, v in by_com.items():
            if k:
                pt = shapely.union_all(v).representative_point()
                self.com_labels.append((pt.x, pt.y, k))

    def paint(self, p: QPainter, vp: Viewport) -> None:
        mpp = vp.ground_metres_per_pixel()
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        p.setBrush(Qt.NoBrush)
        if mpp < 25.0:  # cells blur into a hatch when they are under ~10 px
            p.setPen(_pen(MAP.grid_edge, 1.0, alpha=150))
            p.drawPath(self.cell_path)
        _stroke(p, self.sub_path, _pen(MAP.label_dim, 2.0, alpha=200))  # solid: dashes cost 10-50x
        p.restore()  # the sub-district and community names: LabelLayer

    def hit_test(self, x, y, vp):
        found = self.index.containing(x, y)
        if not found:
            return None
        c = self.cells[found[0]]
        title = tr("Grid {id} · {community} · {subdistrict}", id=c.id,
                   community=c.props.get("community", ""), subdistrict=c.props.get("subdistrict", ""))
        return Hit(self.id, "grid", c.id, title, x, y, dict(c.props), priority=0)


ZONE_COLORS = {
    "snatch_pickpocket": MAP.zone_snatch_pickpocket,
    "street_theft": MAP.zone_street_theft,
    "burglary": MAP.zone_burglary,
}


class ZoneLayer(_PathLayer):
    """Crime-prevention zones, coloured by case type."""

    id = "zones"
    title = "Prevention zones"
    z = 20

    def __init__(self, district: District, origin):
        super().__init__(origin)
        self.zones = district.zones
        self.paths = {}
        for case, color in ZONE_COLORS.items():
            feats = [z.map_geom for z in self.zones if z.props.get("case_type") == case]
            self.paths[case] = geometry_path(feats, origin)
        other = [z.map_geom for z in self.zones if z.props.get("case_type") not in ZONE_COLORS]
        self.paths["other"] = geometry_path(other, origin)
        self.index = PolygonIndex([z.map_geom for z in self.zones])

    def paint(self, p: QPainter, vp: Viewport) -> None:
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        for case, path in self.paths.items():
            color = ZONE_COLORS.get(case, MAP.label_dim)
            # translucent fill without antialiasing (the outline hides the edge), then the outline
            p.setRenderHint(QPainter.Antialiasing, False)
            p.setPen(Qt.NoPen)
            p.setBrush(_brush(color, 40))
            p.drawPath(path)
            p.setRenderHint(QPainter.Antialiasing, True)
            _stroke(p, path, _pen(color, 1.0, alpha=220))
        p.restore()

    def hit_test(self, x, y, vp):
        found = self.index.containing(x, y)
        if not found:
            return None
        z = self.zones[found[0]]
        title = tr("Zone {name} ({case}, {area})", name=z.name, case=tr(str(z.props.get("case_type", ""))),
                   area=tr(str(z.props.get("area_kind", ""))))
        return Hit(self.id, "zone", z.id, title, x, y, dict(z.props), priority=1)


class PatrolLayer(_PathLayer):
    """Patrol routes (car level 1, e-bike level 2), fixed posts and key control areas."""

    id = "patrol"
    title = "Patrol routes and posts"
    z = 30

    def __init__(self, district: District, origin):
        super().__init__(origin)
        self.routes = district.patrol_routes
        self.posts = district.patrol_posts
        self.areas = district.control_areas
        self.car = geometry_path([r.map_geom for r in self.routes if int(r.props.get("level", 2)) == 1], origin)
        self.ebike = geometry_path([r.map_geom for r in self.routes if int(r.props.get("level", 2)) != 1], origin)
        self.area_path = geometry_path([a.map_geom for a in self.areas], origin)
        self.post_xy = np.array([[f.map_geom.x, f.map_geom.y] for f in self.posts]).reshape(-1, 2)
        self.post_index = PointIndex(self.post_xy[:, 0], self.post_xy[:, 1])
        self.area_index = PolygonIndex([a.map_geom for a in self.areas])
        self.route_index = shapely.STRtree([r.map_geom for r in self.routes]) if self.routes else None

    def paint(self, p: QPainter, vp: Viewport) -> None:
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        p.setRenderHint(QPainter.Antialiasing, False)
        p.setPen(Qt.NoPen)
        p.setBrush(_brush(MAP.control_area, 30))
        p.drawPath(self.area_path)
        p.setRenderHint(QPainter.Antialiasing, True)
        _stroke(p, self.area_path, _pen(MAP.control_area, 2.0))
        _stroke(p, self.car, _pen(MAP.route_car, 3.0, alpha=210))
        _stroke(p, self.ebike, _pen(MAP.route_ebike, 1.0, alpha=220))
        p.restore()
        if len(self.post_xy):
            sx, sy = vp.to_screen(self.post_xy[:, 0], self.post_xy[:, 1])
            p.setPen(QPen(QColor("#0b1219"), 1.5))
            p.setBrush(QColor(MAP.post))
            for x, y in zip(sx, sy):
                if -8 <= x <= vp.width + 8 and -8 <= y <= vp.height + 8:
                    p.drawRect(QRectF(x - 5, y - 5, 10, 10))

    def hit_test(self, x, y, vp):
        i = self.post_index.nearest(x, y, 8.0 / vp.scale)
        if i is not None:
            f = self.posts[i]
            return Hit(self.id, "post", f.id, tr("Patrol post {name}", name=f.name), x, y, dict(f.props), 3)
        if self.route_index is not None:
            tol = 5.0 / vp.scale
            cand = self.route_index.query(shapely.Point(x, y).buffer(tol))
            for j in cand:
                r = self.routes[int(j)]
                if r.map_geom.distance(shapely.Point(x, y)) <= tol:
                    kind = tr("car") if int(r.props.get("level", 2)) == 1 else tr("e-bike")
                    return Hit(self.id, "route", r.id, tr("Patrol route {name} ({kind})", name=r.name, kind=kind),
                               x, y, dict(r.props), 2)
        found = self.area_index.containing(x, y)
        if found:
            a = self.areas[found[0]]
            return Hit(self.id, "control_area", a.id, tr("Key control area {name}", name=a.name), x, y, dict(a.props), 1)
        return None


class RiskLayer(MapLayer):
    """Graded risk sources (1 = major … 4 = low) as coloured triangles."""

    id = "risk"
    title = "Risk sources"
    z = 40

    def __init__(self, district: District):
        super().__init__()
        self.risks: list[Feature] = district.risks
        self.xy = np.array([[f.map_geom.x, f.map_geom.y] for f in self.risks]).reshape(-1, 2)
        self.grade = np.array([int(f.props.get("grade", 4)) for f in self.risks], int)
        self.index = PointIndex(self.xy[:, 0], self.xy[:, 1])

    def paint(self, p: QPainter, vp: Viewport) -> None:
        if not len(self.xy):
            return
        sx, sy = vp.to_screen(self.xy[:, 0], self.xy[:, 1])
        p.setPen(QPen(QColor("#0b1219"), 1.0))
        # draw lower grades first so major risks sit on top
        for i in np.argsort(-self.grade):
            x, y = float(sx[i]), float(sy[i])
            if not (-10 <= x <= vp.width + 10 and -10 <= y <= vp.height + 10):
                continue
            g = min(max(int(self.grade[i]), 1), 4)
            r = 9 - g  # major risks are bigger
            tri = QPainterPath()
            tri.moveTo(x, y - r)
            tri.lineTo(x + r, y + r * 0.8)
            tri.lineTo(x - r, y + r * 0.8)
            tri.closeSubpath()
            p.setBrush(QColor(MAP.risk[g - 1]))
            p.drawPath(tri)

    def hit_test(self, x, y, vp):
        i = self.index.nearest(x, y, 9.0 / vp.scale)
        if i is None:
            return None
        f = self.risks[i]
        title = tr("Risk source {name} · grade {grade} · {category}", name=f.name,
                   grade=f.props.get("grade", "?"), category=tr(str(f.props.get("category", ""))))
        return Hit(self.id, "risk", f.id, title, x, y, dict(f.props), priority=4)


class LabelLayer(MapLayer):
    """Place names above every icon, none on top of another: the most important are placed
    first (sub-districts, then communities when zoomed in, then neighbouring districts) and a
    name that would overlap one already placed is left out at this zoom.

    The names come from the grid and basemap layers and follow their visibility.
    """

    id = "labels"
    title = "Labels"
    z = 70
    PAD_PX = 4.0  # free space kept around each name

    def __init__(self, basemap: BasemapLayer | None, grid: GridLayer | None):
        super().__init__()
        self.basemap = basemap
        self.grid = grid
        self.placed: list[tuple[str, QRectF]] = []  # what the last paint drew (for tests)

    def _candidates(self, vp: Viewport):
        """(text, x, y, colour, size factor, bold) in placement order."""
        mpp = vp.ground_metres_per_pixel()
        if self.grid is not None and self.grid.visible:
            for x, y, name in self.grid.sub_labels:
                yield name, x, y, MAP.label, 1.25, True
            if mpp < 3.0:
                for x, y, name in self.grid.com_labels:
                    yield name, x, y, MAP.label_dim, 1.0, False
        if self.basemap is not None and self.basemap.visible:
            for x, y, name in self.basemap.labels:
                yield name, x, y, MAP.label_dim, 1.1, False

    def paint(self, p: QPainter, vp: Viewport) -> None:
        base = QFont(p.font())
        fonts: dict[tuple, QFont] = {}
        placed: list[tuple[str, QRectF]] = []
        for name, x, y, colour, size, bold in self._candidates(vp):
            if not name:
                continue
            sx, sy = (float(v) for v in vp.to_screen(x, y))
            if not (-100 < sx < vp.width + 100 and -20 < sy < vp.height + 20):
                continue
            key = (size, bold)
            font = fonts.get(key)
            if font is None:
                font = fonts[key] = QFont(base)
                font.setPointSizeF(base.pointSizeF() * size)
                font.setBold(bold)
            p.setFont(font)
            fm = p.fontMetrics()
            w, h = fm.horizontalAdvance(name), fm.height()
            pad = self.PAD_PX + 3.0
            box = QRectF(sx - w / 2.0 - pad, sy - h / 2.0 - pad, w + 2 * pad, h + 2 * pad)
            if any(box.intersects(other) for _, other in placed):
                continue
            _draw_label(p, sx, sy, name, colour)
            placed.append((name, box))
        p.setFont(base)
        self.placed = placed
