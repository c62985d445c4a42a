"""The choropleth: grid cells (or sub-districts) filled by class of the panel's figure, with a
legend in the map's lower-left corner; a click on a cell drills into the alarms behind it."""
from __future__ import annotations

import shapely
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from desktop.sdk import Hit, MapLayer, geometry_path, tr, view_transform

from .core import CLASS_COLOURS, class_breaks, classify, legend_rows


class ChoroplethLayer(MapLayer):
    """Cells coloured by class (quantiles of the non-zero values; zero stays dark)."""

    id = "choropleth"
    title = "Statistics choropleth"
    static = True
    z = 12  # above the grid lines, under cameras and alarms

    def __init__(self, district):
        super().__init__()
        self.visible = False
        self.cells = {str(c.id): c for c in district.grid}
        b = district.boundary.map_geom.bounds
        self.origin = (b[0], b[1])
        self._paths = {cid: geometry_path([c.map_geom], self.origin) for cid, c in self.cells.items()}
        self._tree = shapely.STRtree([c.map_geom for c in self.cells.values()])
        self._ids = list(self.cells)
        subs: dict[str, list] = {}
        for cid, c in self.cells.items():
            subs.setdefault(str(c.props.get("subdistrict", "")), []).append(cid)
        self.sub_cells = subs
        self.values: dict[str, float] = {}  # cell id -> value (by sub-district: every cell gets its sub's)
        self.unit = "cell"
        self.per_km2 = False
        self.breaks: list[float] = []
        self.caption = ""
        self._classes: dict[str, int] = {}

    def set_values(self, values: dict[str, float], unit: str, per_km2: bool, caption: str) -> None:
        """``values`` per cell id (unit "cell") or per sub-district name (unit "subdistrict")."""
        before = (self.unit, self.per_km2, self.caption, self.breaks)
        self.unit, self.per_km2, self.caption = unit, per_km2, caption
        self.breaks = class_breaks(list(values.values()))
        if unit == "subdistrict":
            cell_values = {c: values.get(s, 0.0) for s, cells in self.sub_cells.items() for c in cells}
        else:
            cell_values = {c: values.get(c, 0.0) for c in self.cells}
        classes = {c: classify(v, self.breaks) for c, v in cell_values.items()}
        same = (cell_values == self.values and classes == self._classes
                and before == (unit, per_km2, caption, self.breaks))
        self.values = cell_values
        self._classes = classes
        if not same:  # a refresh with the same figures does not re-render the map's static layers
            self.changed()

    @property
    def has_values(self) -> bool:
        return bool(self._classes)

    def class_of(self, cell: str) -> int:
        return self._classes.get(cell, 0)

    def paint(self, p: QPainter, vp) -> None:
        if not self._classes:
            return
        p.save()
        p.setTransform(view_transform(vp, self.origin))
        p.setPen(Qt.NoPen)
        for cls in range(len(CLASS_COLOURS)):
            col = QColor(CLASS_COLOURS[cls])
            col.setAlpha(70 if cls == 0 else 175)
            p.setBrush(col)
            for cid, k in self._classes.items():
                if k == cls:
                    p.drawPath(self._paths[cid])
        p.restore()

    def hit_test(self, x: float, y: float, vp) -> Hit | None:
        if not self.visible or not self._classes:
            return None
        hit = self._tree.query(shapely.Point(x, y), predicate="intersects")
        if not len(hit):
            return None
        cid = self._ids[int(min(hit))]
        c = self.cells[cid]
        v = self.values.get(cid, 0.0)
        sub = str(c.props.get("subdistrict", ""))
        title = tr("{cell} ({sub}): {v}", cell=cid, sub=sub, v=f"{v:.1f}" if self.per_km2 else f"{v:.0f}")
        return Hit(self.id, "stat_cell", cid, title, x, y, {"cell": cid, "subdistrict": sub, "value": v},
                   priority=-1)


class ChoroplethLegend(MapLayer):
    """The choropleth's legend in the map's lower-left corner. A layer of its own, painted on
    every frame in screen space: the fills are static (rendered off the GUI thread into a cache
    wider than the screen, so a legend drawn there would sit in the hidden margin and move with
    a pan)."""

    id = "choropleth_legend"
    title = "Statistics choropleth legend"
    static = False
    z = 95  # above everything on the map

    def __init__(self, choropleth: ChoroplethLayer):
        super().__init__()
        self.visible = False
        self.source = choropleth

    def paint(self, p: QPainter, vp) -> None:
        if not self.source.visible or not self.source.has_values:
            return
        rows = legend_rows(self.source.breaks, self.source.per_km2)
        caption = self.source.caption
        f = QFont()
        f.setPointSizeF(9.5)
        p.setFont(f)
        fm = p.fontMetrics()
        lh = fm.height() + 4
        w = max([fm.horizontalAdvance(t) for _, t in rows] + [fm.horizontalAdvance(caption)]) + 40
        h = lh * (len(rows) + 1) + 10
        x0, y0 = 12, vp.height - h - 40
        p.setPen(QPen(QColor("#3d4b57")))
        p.setBrush(QColor(12, 18, 25, 225))
        p.drawRoundedRect(QRectF(x0, y0, w, h), 5, 5)
        p.setPen(QColor("#e0e6ea"))
        p.drawText(QRectF(x0 + 8, y0 + 5, w - 10, lh), Qt.AlignLeft | Qt.AlignVCenter, caption)
        for i, (colour, text) in enumerate(rows):
            y = y0 + 5 + lh * (i + 1)
            c = QColor(colour)
            c.setAlpha(70 if i == 0 else 200)
            p.setPen(Qt.NoPen)
            p.setBrush(c)
            p.drawRect(QRectF(x0 + 8, y + 3, 18, lh - 6))
            p.setPen(QColor("#cfd8dc"))
            p.drawText(QRectF(x0 + 32, y, w - 36, lh), Qt.AlignLeft | Qt.AlignVCenter, text)

    def hit_test(self, x: float, y: float, vp) -> Hit | None:
        return None
