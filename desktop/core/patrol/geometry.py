"""Plane geometry for the patrol core: a local metric frame and point-to-polyline maths.

Everything in the patrol core that measures (stops, check-ins, coverage, snapping to the
route network) works in a **local frame**: metres east and north of a reference point, by
an equirectangular projection. Over a district (≈ 10 km) its scale error is below 0.1 %,
far under GPS noise, and it is two multiplications per point — cheap enough for millions of
fixes, unlike a per-point geodesic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LocalFrame", "project_to_segments", "polyline_chainage"]

_R = 6371008.8  # mean Earth radius, metres (as desktop.core.geo.crs.haversine_m)


@dataclass(frozen=True)
class LocalFrame:
    """Metres east (``x``) and north (``y``) of (``lon0``, ``lat0``), WGS84 degrees in and out."""

    lon0: float
    lat0: float

    @property
    def kx(self) -> float:
        return math.radians(1.0) * _R * math.cos(math.radians(self.lat0))

    @property
    def ky(self) -> float:
        return math.radians(1.0) * _R

    def fwd(self, lon, lat):
        """(x, y) metres of WGS84 (lon, lat); scalars or arrays."""
        return ((np.asarray(lon, float) - self.lon0) * self.kx,
                (np.asarray(lat, float) - self.lat0) * self.ky)

    def inv(self, x, y):
        """WGS84 (lon, lat) of local (x, y) metres."""
        return (np.asarray(x, float) / self.kx + self.lon0,
                np.asarray(y, float) / self.ky + self.lat0)

    @classmethod
    def around(cls, lon, lat) -> "LocalFrame":
        """A frame centred on the middle of the given coordinates (or 0, 0 for none)."""
        lon = np.asarray(lon, float).reshape(-1)
        lat = np.asarray(lat, float).reshape(-1)
        if not len(lon):
            return cls(0.0, 0.0)
        return cls(float((lon.min() + lon.max()) / 2), float((lat.min() + lat.max()) / 2))


def project_to_segments(px, py, ax, ay, bx, by):
    """Distances and projections of points onto segments, every point against every segment.

    Points (``px``, ``py``: shape (n,)) and segments A→B (shape (m,)). Returns
    ``(dist, frac)``, both (n, m): the distance from each point to each segment and where
    its foot lies along the segment (0 at A, 1 at B).
    """
    px = np.asarray(px, float)[:, None]
    py = np.asarray(py, float)[:, None]
    ax, ay = np.asarray(ax, float)[None, :], np.asarray(ay, float)[None, :]
    dx, dy = np.asarray(bx, float)[None, :] - ax, np.asarray(by, float)[None, :] - ay
    den = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(den > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(den > 0, den, 1.0), 0.0)
    f = np.clip(f, 0.0, 1.0)
    qx, qy = ax + f * dx, ay + f * dy
    return np.hypot(px - qx, py - qy), f


def polyline_chainage(x, y) -> np.ndarray:
    """Cumulative length (metres) at each vertex of a polyline, starting at 0."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) < 2:
        return np.zeros(len(x))
    return np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
