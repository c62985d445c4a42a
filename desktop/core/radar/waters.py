"""The watched waters: the zones at sea where a radar target raises an alarm (Qt-free).

Two sources, in this order:

* zones the dataset draws at sea: features of ``zones.geojson`` whose ``area_kind`` is one of
  :data:`SEA_AREA_KINDS` (``sea``, ``waters``, ``harbour``, ``anchorage``, ``beach``) — each is
  its own watched zone, so a target crossing from one into the next raises a second alarm;
* otherwise the coverage of the coastal monitoring points: the field of view of every
  ``coastal`` camera and ``ptz`` lookout (its heading ± half its field of view, out to its
  range, at most :data:`MAX_REACH_M`), minus the land. Together they are one watched zone —
  the near-shore band the district watches — so a target running along the shore through
  several cameras' views is one entry, not one alarm per camera; the camera whose view it
  entered names the place.

Geometry is WGS84 lon/lat (what the radar service works in); sectors are built in a local
metric frame and converted back, land is the district and its neighbours (the dataset's
``context``), converted from the dataset's CRS.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

from desktop.core.geo.crs import WGS84, to_wgs84

__all__ = ["WatchedZone", "WatchedWaters", "SEA_AREA_KINDS", "COVERAGE_KINDS", "MAX_REACH_M",
           "COVERAGE_GROUP"]

SEA_AREA_KINDS = ("sea", "waters", "harbour", "anchorage", "beach")
COVERAGE_KINDS = ("coastal", "ptz")  # cameras whose views make the default watched waters
MAX_REACH_M = 1000.0  # the coastal points' coverage reaches this far out to sea
COVERAGE_GROUP = "coastal-coverage"  # the one group the derived sectors share
_R = 6371008.8
_MADE: dict = {}  # (id(district), reach) -> (weak reference to the district, its waters)
_ARC_STEP_DEG = 6.0  # sector arcs drawn with a vertex every 6°


@dataclass(frozen=True)
class WatchedZone:
    """One watched zone at sea. ``group``: zones of one group count as one area for entries
    (the coverage sectors share :data:`COVERAGE_GROUP`; a drawn zone is its own group)."""

    id: str
    name: str
    geom: Any  # shapely Polygon/MultiPolygon, WGS84 lon/lat
    group: str
    source: str  # "zone" (drawn in the dataset) or "coverage" (a coastal point's view)


def _geom_to_wgs84(geom, crs: str):
    if crs == WGS84:
        return geom

    def conv(coords):
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([np.asarray(lon, float), np.asarray(lat, float)])
    return shapely.transform(geom, conv)


def sector(lon: float, lat: float, heading_deg: float, fov_deg: float, range_m: float) -> Polygon:
    """A camera's field of view as a WGS84 polygon (a disc for 360°)."""
    kx = math.radians(1.0) * _R * math.cos(math.radians(lat))
    ky = math.radians(1.0) * _R
    if fov_deg >= 360.0:
        angles = np.arange(0.0, 360.0, _ARC_STEP_DEG)
        pts = [(lon + range_m * math.sin(math.radians(a)) / kx, lat + range_m * math.cos(math.radians(a)) / ky)
               for a in angles]
        return Polygon(pts)
    half = max(fov_deg, 1.0) / 2.0
    steps = max(2, int(math.ceil(2 * half / _ARC_STEP_DEG)))
    angles = np.linspace(heading_deg - half, heading_deg + half, steps + 1)
    pts = [(lon, lat)] + [(lon + range_m * math.sin(math.radians(a)) / kx,
                           lat + range_m * math.cos(math.radians(a)) / ky) for a in angles]
    return Polygon(pts)


class WatchedWaters:
    """The watched zones of a district, with point look-ups (an STRtree over them)."""

    def __init__(self, zones: Sequence[WatchedZone]):
        self.zones = [z for z in zones if z.geom is not None and not z.geom.is_empty]
        self._tree = shapely.STRtree([z.geom for z in self.zones]) if self.zones else None
        for z in self.zones:
            shapely.prepare(z.geom)
        # for an ordering among overlapping zones: the smallest (most specific) first
        self._area = np.array([z.geom.area for z in self.zones], float)

    def __len__(self) -> int:
        return len(self.zones)

    @classmethod
    def from_district(cls, district: Any, max_reach_m: float = MAX_REACH_M) -> "WatchedWaters":
        """The dataset's sea zones, else the coastal points' coverage minus the land. Made once
        per district (the radar feed, the demo boats and the map layer ask for the same waters;
        each making them cost the start-up ~100 ms); the waters never change once made."""
        if district is None:
            return cls([])
        key = (id(district), float(max_reach_m))
        hit = _MADE.get(key)
        if hit is not None and hit[0]() is district:
            return hit[1]
        waters = cls._make(district, max_reach_m)
        _MADE[key] = (weakref.ref(district, lambda _r, k=key: _MADE.pop(k, None)), waters)
        return waters

    @classmethod
    def _make(cls, district: Any, max_reach_m: float) -> "WatchedWaters":
        crs = district.info.crs
        drawn = [z for z in district.zones if str(z.props.get("area_kind", "")).lower() in SEA_AREA_KINDS]
        if drawn:
            return cls([WatchedZone(z.id, z.name, shapely.make_valid(_geom_to_wgs84(z.geom, crs)), z.id, "zone")
                        for z in drawn])
        land_parts = [district.boundary.geom] + [f.geom for f in district.context
                                                 if f.geom.geom_type in ("Polygon", "MultiPolygon")]
        land = _geom_to_wgs84(shapely.union_all(land_parts), crs) if land_parts else None
        if land is not None:
            land = shapely.make_valid(land)
            shapely.prepare(land)
        cams = district.cameras
        zones = []
        for row, cam in enumerate(cams.records):
            if cam.kind not in COVERAGE_KINDS or cam.range_m <= 0:
                continue
            geom = sector(float(cams.lon_wgs[row]), float(cams.lat_wgs[row]), cam.heading_deg, cam.fov_deg,
                          min(float(cam.range_m), max_reach_m))
            if land is not None and land.intersects(geom):
                geom = geom.difference(land)
            if geom.is_empty or geom.area <= 0:
                continue
            zones.append(WatchedZone(cam.id, cam.name, geom, COVERAGE_GROUP, "coverage"))
        return cls(zones)

    def zones_at(self, lon: float, lat: float) -> list[WatchedZone]:
        """The zones containing a WGS84 point, smallest first."""
        if self._tree is None:
            return []
        idx = self._tree.query(shapely.Point(float(lon), float(lat)), predicate="intersects")
        idx = sorted((int(i) for i in idx), key=lambda i: self._area[i])
        return [self.zones[i] for i in idx]

    def groups_at(self, lon: float, lat: float) -> dict[str, WatchedZone]:
        """group -> the zone that names it here (the smallest of the group containing the point)."""
        out: dict[str, WatchedZone] = {}
        for z in self.zones_at(lon, lat):
            out.setdefault(z.group, z)
        return out

    def groups_many(self, lon, lat) -> list[dict[str, WatchedZone]]:
        """For each WGS84 point, group -> the zone naming it there (the smallest of the group
        containing it); one vectorised tree query for all points."""
        lon = np.asarray(lon, float).reshape(-1)
        lat = np.asarray(lat, float).reshape(-1)
        out: list[dict[str, WatchedZone]] = [{} for _ in range(len(lon))]
        if self._tree is None or not len(lon):
            return out
        pi, zi = self._tree.query(shapely.points(lon, lat), predicate="intersects")
        order = np.lexsort((self._area[zi], pi))  # by point, then smallest zone first
        for k in order:
            z = self.zones[int(zi[k])]
            out[int(pi[k])].setdefault(z.group, z)
        return out

    def inside_many(self, lon, lat) -> np.ndarray:
        """A bool per WGS84 point: inside some watched zone (one vectorised pass)."""
        lon = np.asarray(lon, float).reshape(-1)
        lat = np.asarray(lat, float).reshape(-1)
        if self._tree is None or not len(lon):
            return np.zeros(len(lon), bool)
        pts = shapely.points(lon, lat)
        hit = self._tree.query(pts, predicate="intersects")
        out = np.zeros(len(lon), bool)
        out[hit[0]] = True
        return out

    def union(self):
        """All zones as one geometry (for drawing), or None."""
        return shapely.union_all([z.geom for z in self.zones]) if self.zones else None
