"""Where an alarm lies in the district's grid: its cell and sub-district (Qt-free).

One locator serves the journal's summaries (each new alarm is counted in its cell), the
drill-down (the alarms behind a cell are those the same locator puts there) and the bundled
history, so a cell's count on the map and the list behind it always agree.
"""
from __future__ import annotations

import numpy as np
import shapely

__all__ = ["GridLocator"]


class GridLocator:
    """Grid cells of a district (``district.grid``) in map coordinates, found by WGS84 point."""

    def __init__(self, district, projection):
        self.projection = projection
        self.ids = [str(c.id) for c in district.grid]
        self.subdistrict = {str(c.id): str(c.props.get("subdistrict", "")) for c in district.grid}
        self.geoms = {str(c.id): c.map_geom for c in district.grid}
        self._arr = np.array([c.map_geom for c in district.grid], dtype=object)
        self._tree = shapely.STRtree(self._arr) if len(self._arr) else None

    def cell_of(self, lon_wgs: float, lat_wgs: float) -> str:
        """The cell containing the point ('' outside the grid: at sea, across the border)."""
        if self._tree is None:
            return ""
        x, y = self.projection.forward(lon_wgs, lat_wgs, "WGS84")
        hit = self._tree.query(shapely.Point(float(x), float(y)), predicate="intersects")
        return self.ids[int(min(hit))] if len(hit) else ""

    def cells_of(self, lon_wgs: np.ndarray, lat_wgs: np.ndarray) -> list[str]:
        """:meth:`cell_of` for many points at once."""
        if self._tree is None or not len(lon_wgs):
            return [""] * len(lon_wgs)
        x, y = self.projection.forward(np.asarray(lon_wgs, float), np.asarray(lat_wgs, float), "WGS84")
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        pi, ci = self._tree.query(pts, predicate="intersects")
        out = [""] * len(pts)
        # the lowest cell index wins where two cells share an edge (as cell_of does)
        for p, c in sorted(zip(pi.tolist(), ci.tolist()), reverse=True):
            out[p] = self.ids[c]
        return out

    def subdistrict_of(self, lon_wgs: float, lat_wgs: float) -> str:
        return self.subdistrict.get(self.cell_of(lon_wgs, lat_wgs), "")

    def cells_in(self, subdistricts) -> list[str]:
        """The cells of these sub-districts."""
        keep = set(subdistricts)
        return [c for c in self.ids if self.subdistrict[c] in keep]

    def bbox_wgs(self, cell: str) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) WGS84 of a cell, a little enlarged (the datum
        shift between the map plane and WGS84 is done per corner)."""
        minx, miny, maxx, maxy = self.geoms[cell].bounds
        lon, lat = self.projection.inverse(np.array([minx, maxx, minx, maxx]), np.array([miny, miny, maxy, maxy]),
                                           "WGS84")
        pad = 1e-4
        return (float(np.min(lon)) - pad, float(np.min(lat)) - pad, float(np.max(lon)) + pad, float(np.max(lat)) + pad)
