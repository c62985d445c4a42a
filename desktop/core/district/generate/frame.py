"""The local metric plane every build works in: the CGCS2000 3-degree Gauss-Krüger zone that
holds the district, with GCJ-02 lon/lat taken as its geographic input (the package docstring
says why the GCJ offset does not matter here)."""
from __future__ import annotations

import numpy as np
import shapely

from desktop.core.geo.crs import CGCS2000, gk3_zone_crs, transform


class _Frame:
    """Forward/inverse projection between GCJ-02 lon/lat and the local GK zone (metres)."""

    def __init__(self, lon0: float):
        self.crs = gk3_zone_crs(lon0)

    def fwd_xy(self, lon, lat):
        """GCJ-02 lon/lat arrays → zone x/y metres."""
        x, y = transform(np.asarray(lon, float), np.asarray(lat, float), CGCS2000, self.crs)
        return np.asarray(x, float), np.asarray(y, float)

    def inv_xy(self, x, y):
        """Zone x/y metres → GCJ-02 lon/lat arrays."""
        lon, lat = transform(np.asarray(x, float), np.asarray(y, float), self.crs, CGCS2000)
        return np.asarray(lon, float), np.asarray(lat, float)

    def fwd(self, geom):
        """A lon/lat geometry in zone metres."""
        return shapely.transform(geom, lambda c: np.column_stack(self.fwd_xy(c[:, 0], c[:, 1])))

    def inv(self, geom):
        """A metric geometry back in lon/lat."""
        return shapely.transform(geom, lambda c: np.column_stack(self.inv_xy(c[:, 0], c[:, 1])))
