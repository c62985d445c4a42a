"""Coordinate reference systems used in China, and the map's own projection.

Three systems meet in this field (docs/field.md, *Coordinate systems*): WGS84 from GPS devices, GCJ-02 (the
obfuscated datum of Chinese web maps; not in PROJ, so it is computed here) and CGCS2000
(EPSG:4490, with 3-degree Gauss-Krüger zones). Every dataset and message declares its
system; :class:`MapProjection` turns any of them into the one plane the map draws in.

All functions accept scalars or numpy arrays and return the same shape.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Krasovsky 1940 ellipsoid parameters used by the GCJ-02 algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
# Web Mercator sphere radius (EPSG:3857).
_MERC_R = 6378137.0

WGS84 = "WGS84"
GCJ02 = "GCJ02"
CGCS2000 = "EPSG:4490"
WEB_MERCATOR = "EPSG:3857"

_ALIASES = {
    "WGS84": WGS84, "WGS-84": WGS84, "EPSG:4326": WGS84, "4326": WGS84, "GPS": WGS84,
    "GCJ02": GCJ02, "GCJ-02": GCJ02, "GCJ": GCJ02, "MARS": GCJ02,
    "EPSG:4490": CGCS2000, "CGCS2000": CGCS2000, "4490": CGCS2000,
    "EPSG:3857": WEB_MERCATOR, "3857": WEB_MERCATOR, "WEBMERCATOR": WEB_MERCATOR,
}

# CGCS2000 3-degree Gauss-Krüger zones: EPSG:4513..4533 are zones 25..45 with the zone
# number prefixed to the easting; EPSG:4534..4554 are CM 75E..135E without the prefix.
_GK3_PREFIXED = range(4513, 4534)
_GK3_PLAIN = range(4534, 4555)


class CRSError(ValueError):
    """An unknown or unsupported coordinate reference system name."""


def normalize_crs(name: str) -> str:
    """Return the canonical name of a CRS (``WGS84``, ``GCJ02``, ``EPSG:4490``, ``EPSG:nnnn``).

    Raises :class:`CRSError` naming the value when it is not one we can convert.
    """
    if not isinstance(name, str) or not name.strip():
        raise CRSError(f"CRS must be a non-empty string, got {name!r}")
    key = name.strip().upper().replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    m = re.fullmatch(r"EPSG:(\d{4,5})", key)
    if m:
        code = int(m.group(1))
        if code in _GK3_PREFIXED or code in _GK3_PLAIN:
            return f"EPSG:{code}"
        _pyproj_crs(f"EPSG:{code}")  # raises CRSError when PROJ does not know it
        return f"EPSG:{code}"
    raise CRSError(f"unknown CRS {name!r}: use WGS84, GCJ02, EPSG:4490 or an EPSG code")


def is_geographic(crs: str) -> bool:
    """True when coordinates in ``crs`` are longitude/latitude degrees."""
    crs = normalize_crs(crs)
    if crs in (WGS84, GCJ02, CGCS2000):
        return True
    return bool(_pyproj_crs(crs).is_geographic)


def gk3_zone_crs(lon: float, prefixed: bool = False) -> str:
    """The CGCS2000 3-degree Gauss-Krüger CRS whose zone contains ``lon`` (e.g. 120.3 → EPSG:4549)."""
    zone = int(math.floor(lon / 3.0 + 0.5))
    if not 25 <= zone <= 45:
        raise CRSError(f"longitude {lon} is outside China's 3-degree GK zones 25..45")
    return f"EPSG:{(4513 if prefixed else 4534) + zone - 25}"


# --- GCJ-02 -----------------------------------------------------------------------------

def _out_of_china(lon, lat):
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _gcj_delta(lon, lat):
    """Offset (dlon, dlat) in degrees that GCJ-02 adds to a WGS84 position."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad) * np.pi)
    outside = _out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _gcj_delta_scalar(lon: float, lat: float) -> tuple[float, float]:
    """:func:`_gcj_delta` for one point with ``math``: numpy's per-call overhead on scalars
    is ~20x the arithmetic, and feeds convert every message one by one."""
    if lon < 72.004 or lon > 137.8347 or lat < 0.8293 or lat > 55.8271:
        return 0.0, 0.0
    pi = math.pi
    x = lon - 105.0
    y = lat - 35.0
    s6x, s2x = math.sin(6.0 * x * pi), math.sin(2.0 * x * pi)
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * s6x + 20.0 * s2x) * 2.0 / 3.0
            + (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * s6x + 20.0 * s2x) * 2.0 / 3.0
            + (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * math.cos(rad) * pi)
    return dlon, dlat


def _scalars(lon, lat) -> bool:
    return np.ndim(lon) == 0 and np.ndim(lat) == 0


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (exact, by definition of the datum)."""
    if _scalars(lon, lat):
        dlon, dlat = _gcj_delta_scalar(float(lon), float(lat))
        return float(lon) + dlon, float(lat) + dlat
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_delta(lon_a, lat_a)
    return _like(lon, lon_a + dlon), _like(lat, lat_a + dlat)


def gcj02_to_wgs84(lon, lat, tolerance_deg: float = 1e-9, max_iter: int = 30):
    """GCJ-02 → WGS84 by fixed-point iteration; converges to ~1e-9° (≈0.1 mm)."""
    if _scalars(lon, lat):
        g_lon, g_lat = float(lon), float(lat)
        w_lon, w_lat = g_lon, g_lat
        for _ in range(max_iter):
            dlon, dlat = _gcj_delta_scalar(w_lon, w_lat)
            e_lon, e_lat = w_lon + dlon - g_lon, w_lat + dlat - g_lat
            w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
            if abs(e_lon) < tolerance_deg and abs(e_lat) < tolerance_deg:
                break
        return w_lon, w_lat
    g_lon, g_lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = np.asarray(f_lon) - g_lon, np.asarray(f_lat) - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        if np.all(np.abs(e_lon) < tolerance_deg) and np.all(np.abs(e_lat) < tolerance_deg):
            break
    return _like(lon, w_lon), _like(lat, w_lat)


def _like(template, arr):
    """Return a Python float when the caller passed a scalar, else the array."""
    if np.ndim(template) == 0:
        return float(arr)
    return arr


# --- Web Mercator -------------------------------------------------------------------------

def lonlat_to_mercator(lon, lat):
    """Spherical Web Mercator metres of a geographic position (any datum's lon/lat)."""
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x = _MERC_R * np.radians(lon_a)
    y = _MERC_R * np.log(np.tan(np.pi / 4.0 + np.radians(np.clip(lat_a, -85.06, 85.06)) / 2.0))
    return _like(lon, x), _like(lat, y)


def mercator_to_lonlat(x, y):
    """Inverse of :func:`lonlat_to_mercator`."""
    x_a, y_a = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    lon = np.degrees(x_a / _MERC_R)
    lat = np.degrees(2.0 * np.arctan(np.exp(y_a / _MERC_R)) - np.pi / 2.0)
    return _like(x, lon), _like(y, lat)


def mercator_scale(lat) -> float:
    """Ground metres per Web Mercator metre at latitude ``lat`` (cos φ)."""
    return float(np.cos(np.radians(lat)))


# --- Generic transforms -------------------------------------------------------------------

@lru_cache(maxsize=64)
def _pyproj_crs(name: str):
    from pyproj import CRS
    from pyproj.exceptions import CRSError as ProjCRSError
    try:
        return CRS.from_user_input(name)
    except ProjCRSError as exc:
        raise CRSError(f"unknown CRS {name!r}: {exc}") from None


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str):
    from pyproj import Transformer
    return Transformer.from_crs(src, dst, always_xy=True)


def to_wgs84(x, y, crs: str):
    """Coordinates in ``crs`` → WGS84 lon/lat."""
    crs = normalize_crs(crs)
    if crs == WGS84:
        return x, y
    if crs == GCJ02:
        return gcj02_to_wgs84(x, y)
    if crs == CGCS2000:
        # CGCS2000 and WGS84 (G1150+) agree to a few centimetres; PROJ has no better grid.
        return x, y
    if crs == WEB_MERCATOR:
        return mercator_to_lonlat(x, y)
    lon, lat = _transformer(crs, "EPSG:4490").transform(np.asarray(x, float), np.asarray(y, float))
    return _like(x, lon), _like(y, lat)


def from_wgs84(lon, lat, crs: str):
    """WGS84 lon/lat → coordinates in ``crs``."""
    crs = normalize_crs(crs)
    if crs in (WGS84, CGCS2000):
        return lon, lat
    if crs == GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if crs == WEB_MERCATOR:
        return lonlat_to_mercator(lon, lat)
    x, y = _transformer("EPSG:4490", crs).transform(np.asarray(lon, float), np.asarray(lat, float))
    return _like(lon, x), _like(lat, y)


def transform(x, y, src: str, dst: str):
    """Coordinates from ``src`` to ``dst`` (both any supported CRS)."""
    src, dst = normalize_crs(src), normalize_crs(dst)
    if src == dst:
        return x, y
    lon, lat = to_wgs84(x, y, src)
    return from_wgs84(lon, lat, dst)


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (mean Earth radius); fine for the metre-level needs here."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    d = 2.0 * 6371008.8 * np.arcsin(np.sqrt(a))
    return float(d) if np.ndim(d) == 0 else d


@dataclass(frozen=True)
class MapProjection:
    """The plane the map draws in: Web Mercator metres of positions in ``datum``.

    The datum is GCJ-02 by default, so the bundled vector data and GCJ-02 raster tiles
    (AMap-style) line up without a shift; WGS84 tiles (OSM-style) want ``datum="WGS84"``.
    Anything in another CRS is converted on the way in (:meth:`forward`).
    """

    datum: str = GCJ02

    def __post_init__(self):
        object.__setattr__(self, "datum", normalize_crs(self.datum))

    def forward(self, x, y, crs: str):
        """Coordinates in ``crs`` → map x/y (metres, y up)."""
        lon, lat = transform(x, y, crs, self.datum)
        return lonlat_to_mercator(lon, lat)

    def inverse(self, mx, my, crs: str):
        """Map x/y → coordinates in ``crs``."""
        lon, lat = mercator_to_lonlat(mx, my)
        return transform(lon, lat, self.datum, crs)

    def ground_metres_per_unit(self, my) -> float:
        """Ground metres per map unit at map y (Web Mercator stretches by 1/cos φ)."""
        _, lat = mercator_to_lonlat(0.0, my)
        return mercator_scale(lat)
