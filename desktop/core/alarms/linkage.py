"""Linkage: which cameras can see an alarm point, and which patrol units are nearest.

Both are pure numpy functions, fast enough to run on every new alarm: 25,000 cameras are
ranked in well under a millisecond, because a bounding-box test on the raw columns
(two comparisons per camera) leaves only the few cameras near the point for the exact
distance and bearing maths.

Coordinates: any one geographic datum, as long as the cameras and the query point use the
same one (WGS84 is what the alarm service gives; GCJ-02 works as well, its offset being
nearly constant over a district).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from desktop.core.geo.crs import haversine_m

__all__ = ["CameraArrays", "cameras_covering", "nearest_units", "UnitOption", "SPEED_KMH"]

_R = 6371008.8  # mean Earth radius, metres (same as haversine_m)
_M_PER_DEG = math.pi * _R / 180.0

# Typical urban speeds for the ETA estimate (straight-line distance / speed).
SPEED_KMH: dict[str, float] = {"car": 30.0, "ebike": 18.0, "foot": 5.0, "boat": 25.0}

# How the coverage score weighs nearness against being in the middle of the view.
_W_NEAR = 0.6
_W_CENTRE = 0.4


@dataclass
class CameraArrays:
    """Cameras as parallel numpy columns: the table :func:`cameras_covering` reads.

    Build once per dataset (:meth:`from_columns`, :meth:`from_table`) and reuse: the
    columns are converted to float arrays here, not on every query.
    """

    ids: np.ndarray  # object array of str
    lon: np.ndarray
    lat: np.ndarray
    heading_deg: np.ndarray  # 0 = north, clockwise
    fov_deg: np.ndarray  # 360 = omnidirectional
    range_m: np.ndarray

    def __post_init__(self):
        self.ids = np.asarray(self.ids, dtype=object)
        n = len(self.ids)
        for name in ("lon", "lat", "heading_deg", "fov_deg", "range_m"):
            col = np.asarray(getattr(self, name), dtype=float).reshape(-1)
            if len(col) != n:
                raise ValueError(f"camera column {name!r} has {len(col)} values for {n} ids")
            setattr(self, name, col)
        self.max_range_m = float(self.range_m.max()) if n else 0.0

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_columns(cls, ids: Sequence[str], lon, lat, heading_deg, fov_deg, range_m) -> "CameraArrays":
        return cls(np.asarray(ids, dtype=object), lon, lat, heading_deg, fov_deg, range_m)

    @classmethod
    def from_table(cls, table: Any) -> "CameraArrays":
        """From a mapping or an object with those columns — including the district model's
        :class:`~desktop.core.district.model.CameraTable` (``lon_wgs``/``lat_wgs``/``heading``/``fov``)."""
        if isinstance(table, CameraArrays):
            return table

        def col(*names):
            for n in names:
                if isinstance(table, Mapping) and n in table:
                    return table[n]
                if not isinstance(table, Mapping) and hasattr(table, n):
                    return getattr(table, n)
            raise KeyError(f"camera table has none of the columns {names}")

        return cls(col("ids", "id"), col("lon", "lon_wgs"), col("lat", "lat_wgs"),
                   col("heading_deg", "heading"), col("fov_deg", "fov"), col("range_m", "range"))


def _angle_diff(a, b):
    """Signed smallest difference a - b in degrees, in (-180, 180]."""
    return (np.asarray(a) - b + 180.0) % 360.0 - 180.0


def cameras_covering(lon: float, lat: float, cams: Any, limit: int | None = None) -> list[tuple[str, float]]:
    """Cameras that see (lon, lat), as ``[(camera_id, score)]``, best first.

    A camera covers the point when its distance is at most ``range_m`` and the bearing from
    the camera to the point lies within ``heading_deg ± fov_deg/2`` (a 360° camera sees all
    around). ``score`` in [0, 1] = 0.6 × nearness (1 at the camera, 0 at its range) + 0.4 ×
    centring (1 on the axis, 0 at the edge of the view; omnidirectional cameras count as
    centred as they are near). ``cams`` is a :class:`CameraArrays` or anything
    :meth:`CameraArrays.from_table` accepts.
    """
    t = CameraArrays.from_table(cams)
    if not len(t):
        return []
    # 1. Bounding box around the point, as wide as the longest camera range (plus a margin).
    reach = t.max_range_m * 1.01 + 1.0
    dlat_max = reach / _M_PER_DEG
    dlon_max = dlat_max / max(math.cos(math.radians(lat)), 1e-6)
    near = np.flatnonzero((np.abs(t.lat - lat) <= dlat_max) & (np.abs(t.lon - lon) <= dlon_max))
    if not len(near):
        return []
    # 2. Exact distance and bearing camera → point for the few left.
    c_lon, c_lat = t.lon[near], t.lat[near]
    dist = np.asarray(haversine_m(c_lon, c_lat, lon, lat), dtype=float).reshape(-1)
    rng = t.range_m[near]
    p1, p2 = np.radians(c_lat), math.radians(lat)
    dl = np.radians(lon - c_lon)
    bearing = np.degrees(np.arctan2(np.sin(dl) * math.cos(p2),
                                    np.cos(p1) * math.sin(p2) - np.sin(p1) * math.cos(p2) * np.cos(dl))) % 360.0
    fov = t.fov_deg[near]
    half = fov / 2.0
    off = np.abs(_angle_diff(bearing, t.heading_deg[near]))
    omni = fov >= 360.0
    at_camera = dist < 0.5  # the bearing of a point on the camera itself is meaningless
    ok = (dist <= rng) & (rng > 0) & (omni | at_camera | (off <= half))
    if not ok.any():
        return []
    nearness = 1.0 - dist[ok] / rng[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        centring = np.where(omni[ok] | at_camera[ok], nearness,
                            1.0 - off[ok] / np.maximum(half[ok], 1e-9))
    score = _W_NEAR * nearness + _W_CENTRE * np.clip(centring, 0.0, 1.0)
    ids = t.ids[near][ok]
    order = np.lexsort((ids.astype(str), -score))  # best first; ties by id, for stable output
    if limit is not None:
        order = order[:limit]
    return [(str(ids[i]), float(round(score[i], 6))) for i in order]


@dataclass(frozen=True)
class UnitOption:
    """A patrol unit offered for an alarm: how far (straight line) and how soon (estimate)."""

    unit: str
    kind: str
    distance_m: float
    eta_s: float
    lon: float
    lat: float
    time: Any
    busy: bool


def nearest_units(lon: float, lat: float, positions: Mapping[str, Sequence], free_only: bool = True,
                  k: int = 3, kinds: Sequence[str] | None = None,
                  speed_kmh: Mapping[str, float] | None = None) -> list[UnitOption]:
    """The ``k`` patrol units that would reach (lon, lat) first.

    ``positions``: unit → (lon, lat, kind, time, busy), in the query's datum (the alarm
    service's :meth:`~desktop.core.alarms.service.AlarmService.unit_positions` gives WGS84).
    ETA = straight-line distance / the kind's speed (:data:`SPEED_KMH`; unknown kinds walk),
    so a car 2 km away beats a foot patrol 500 m away. Sorted by ETA, then distance.
    """
    speeds = dict(SPEED_KMH)
    if speed_kmh:
        speeds.update(speed_kmh)
    units, lons, lats, rows = [], [], [], []
    for unit, pos in positions.items():
        u_lon, u_lat, kind, when, busy = pos[0], pos[1], pos[2], pos[3], bool(pos[4])
        if free_only and busy:
            continue
        if kinds is not None and kind not in kinds:
            continue
        units.append(unit)
        lons.append(u_lon)
        lats.append(u_lat)
        rows.append((kind, when, busy))
    if not units or k <= 0:
        return []
    dist = np.asarray(haversine_m(np.asarray(lons, float), np.asarray(lats, float), lon, lat),
                      dtype=float).reshape(-1)
    speed_ms = np.array([speeds.get(r[0], speeds["foot"]) / 3.6 for r in rows])
    eta = dist / speed_ms
    order = np.lexsort((dist, eta))[:k]
    return [UnitOption(unit=str(units[i]), kind=rows[i][0], distance_m=float(dist[i]),
                       eta_s=float(eta[i]), lon=float(lons[i]), lat=float(lats[i]),
                       time=rows[i][1], busy=rows[i][2]) for i in order]
