"""Camera coverage per grid cell: how much of each cell lies in at least one camera's view.

Each camera sees a sector: from its position, ``range_m`` far, ``fov_deg`` wide around its
``heading_deg`` (0 = north, clockwise; 360° is a full circle — a dome or a radar). The share
of a cell's area inside the union of the sectors that reach it is its coverage; what is left
is its blind spot, the first place a center's next cameras should go.

Geometry is done in map coordinates (Web Mercator metres of the map datum, where cells and
cameras already are): a ground distance d is d / cos φ map metres there, and a map area A
is A · cos² φ square metres of ground, with φ the district's latitude (the error of one φ
across a district 20 km tall is under 0.1 %).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import shapely

__all__ = ["CellCoverage", "sector_polygons", "camera_coverage"]

ARC_POINTS = 16  # points on each sector's arc (a 60° sector: one every 4°)


@dataclass(frozen=True)
class CellCoverage:
    """One grid cell: its area (km², ground), the share covered by a camera view (0…1), the
    cameras standing in it and per km², and the uncovered part (map coordinates)."""

    cell: str
    subdistrict: str
    area_km2: float
    covered_share: float
    cameras: int
    cameras_per_km2: float
    uncovered: Any  # shapely geometry, map coordinates

    @property
    def blind_km2(self) -> float:
        return self.area_km2 * (1.0 - self.covered_share)


def sector_polygons(x: np.ndarray, y: np.ndarray, heading_deg: np.ndarray, fov_deg: np.ndarray,
                    range_map: np.ndarray) -> np.ndarray:
    """One shapely polygon per camera: its field of view (x, y, range in map units)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    fov = np.clip(np.nan_to_num(np.asarray(fov_deg, float), nan=360.0), 1.0, 360.0)
    head = np.nan_to_num(np.asarray(heading_deg, float))
    r = np.maximum(np.nan_to_num(np.asarray(range_map, float)), 0.0)
    full = fov >= 359.9
    k = np.linspace(-0.5, 0.5, ARC_POINTS)
    ang = np.radians(head[:, None] + fov[:, None] * k[None, :])  # compass angles
    ax = x[:, None] + r[:, None] * np.sin(ang)
    ay = y[:, None] + r[:, None] * np.cos(ang)
    # Apex first for a sector; a full circle has no apex (its first arc point repeats instead).
    px = np.concatenate([np.where(full, ax[:, -1], x)[:, None], ax], axis=1)
    py = np.concatenate([np.where(full, ay[:, -1], y)[:, None], ay], axis=1)
    ring = np.stack([px, py], axis=2)
    polys = shapely.polygons(ring)
    if full.any():  # a circle with ARC_POINTS points is coarse: make it round
        polys[full] = shapely.buffer(shapely.points(x[full], y[full]), r[full], quad_segs=8)
    bad = r <= 0
    if bad.any():
        polys[bad] = shapely.Polygon()
    return polys


def camera_coverage(cells: Sequence[tuple[str, str, Any]], cam_x: np.ndarray, cam_y: np.ndarray,
                    heading_deg: np.ndarray, fov_deg: np.ndarray, range_m: np.ndarray,
                    lat_deg: float, progress=None) -> list[CellCoverage]:
    """Coverage of each ``(cell id, sub-district, polygon in map coordinates)``.

    ``lat_deg`` is the district's latitude (for the ground scale); ``progress(done, total)``
    is called now and then (this takes a second or two for a few thousand cameras)."""
    k = math.cos(math.radians(lat_deg))
    if not 0 < k <= 1:
        raise ValueError(f"latitude {lat_deg} is not on the map")
    sectors = sector_polygons(cam_x, cam_y, heading_deg, fov_deg, np.asarray(range_m, float) / k)
    tree = shapely.STRtree(sectors)
    pts = shapely.points(np.asarray(cam_x, float), np.asarray(cam_y, float))
    pt_tree = shapely.STRtree(pts)
    counted = np.zeros(len(pts), bool)  # a camera on the line between two cells counts in the first only
    out = []
    total = len(cells)
    for i, (cid, sub, poly) in enumerate(cells):
        area_map = float(poly.area)
        area_km2 = area_map * k * k / 1e6
        near = tree.query(poly, predicate="intersects")
        if len(near):
            seen = shapely.intersection(shapely.union_all(sectors[near]), poly)
            covered = min(1.0, float(seen.area) / area_map) if area_map > 0 else 0.0
            uncovered = shapely.difference(poly, seen)
        else:
            covered, uncovered = 0.0, poly
        mine = pt_tree.query(poly, predicate="covers")
        mine = mine[~counted[mine]]
        counted[mine] = True
        n_cam = len(mine)
        out.append(CellCoverage(cid, sub, area_km2, covered, n_cam, n_cam / area_km2 if area_km2 > 0 else 0.0,
                                uncovered))
        if progress is not None and (i % 50 == 0 or i == total - 1):
            progress(i + 1, total)
    return out
