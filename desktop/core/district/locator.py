"""Which sub-district a point lies in: the district's grid cells with their sub-districts.

Qt-free. The alarm panel filters by sub-district, and alarms arrive with positions only. A
:class:`SubdistrictLocator` answers for one point or for a whole batch of an alarm flood at once
(one projection, one tree query). It pickles to a small state (the projection, the cells as WKB,
their sub-districts). So the session can hand it to the alarm feed process, which places the
alarms before it sends them on. The work is then done there, on its own interpreter lock, and
not on the GUI process's mirror thread, where a flood's worth of it competed with the GUI thread
(measured: a fifth to a quarter of the GUI process's CPU at 1,000 alarms a second, with a core
taken by another busy program on the slower PC emulated).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from desktop.core.geo.crs import MapProjection
from desktop.core.geo.spatial import PolygonIndex

__all__ = ["SubdistrictLocator"]


class SubdistrictLocator:
    """The sub-district of WGS84 points, from grid cells in map coordinates (``geoms``, in
    ``projection``'s plane) and each cell's sub-district (``names``; "" for none). A point in
    several cells gets the first; a point in none gets ""."""

    def __init__(self, projection: MapProjection, geoms: Sequence, names: Sequence[str]):
        if len(geoms) != len(names):
            raise ValueError(f"{len(geoms)} cells but {len(names)} sub-district names")
        self.projection = projection
        self._geoms = list(geoms)
        self._names = [str(n) for n in names]
        self._index = PolygonIndex(self._geoms)

    @classmethod
    def from_district(cls, district, projection: MapProjection) -> "SubdistrictLocator":
        """The locator of ``district``'s grid, whose ``map_geom`` are in ``projection``'s plane."""
        return cls(projection, [c.map_geom for c in district.grid],
                   [c.props.get("subdistrict", "") for c in district.grid])

    def __len__(self) -> int:
        return len(self._names)

    def locate(self, lon_wgs: float, lat_wgs: float) -> str:
        """The sub-district of one WGS84 point, or ''."""
        x, y = self.projection.forward(lon_wgs, lat_wgs, "WGS84")
        found = self._index.containing(x, y)
        return self._names[found[0]] if found else ""

    def locate_many(self, lon_wgs, lat_wgs) -> list[str]:
        """:meth:`locate` for arrays of points at once (a batch of alarms)."""
        lon = np.asarray(lon_wgs, float)
        lat = np.asarray(lat_wgs, float)
        if not len(lon):
            return []
        x, y = self.projection.forward(lon, lat, "WGS84")
        names = self._names
        return [names[c] if c >= 0 else "" for c in self._index.first_containing(x, y).tolist()]

    # pickled for the feed process: the tree is rebuilt there, the cells travel as WKB
    def __getstate__(self) -> dict:
        import shapely
        return {"projection": self.projection, "wkb": list(shapely.to_wkb(self._geoms)) if self._geoms else [],
                "names": self._names}

    def __setstate__(self, state: dict) -> None:
        import shapely
        geoms = list(shapely.from_wkb(state["wkb"])) if state["wkb"] else []
        self.__init__(state["projection"], geoms, state["names"])
