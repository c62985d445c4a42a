"""The district model: boundary, grid, cameras, zones, patrol, risk — plain data, Qt-free.

Geometries are kept twice: in the dataset's own CRS (``geom``, what the file said) and in
map coordinates (``map_geom``, Web Mercator metres of the map datum) so views never
reproject while painting. Cameras live in one columnar :class:`CameraTable` (numpy arrays),
because the map paints and hit-tests tens of thousands of them per frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CAMERA_KINDS = ("hd", "checkpoint", "coastal", "ptz", "radar")


@dataclass(frozen=True)
class DistrictInfo:
    """What ``district.toml`` says about a dataset."""

    name: str
    adcode: str
    crs: str
    name_en: str = ""
    parent: str = ""
    source: str = ""
    path: Path | None = None
    extra: dict = field(default_factory=dict)
    #: the IANA zone the district's times are read in (``timezone``; see desktop.core.localtime)
    timezone: str = "Asia/Shanghai"


@dataclass
class Feature:
    """A generic named geometry from a layer file, with its properties."""

    id: str
    geom: Any  # shapely geometry in the dataset CRS
    map_geom: Any  # the same in map coordinates
    props: dict

    @property
    def name(self) -> str:
        return str(self.props.get("name", self.id))


@dataclass
class Camera:
    """One camera as a record; the table below is what hot paths use."""

    id: str
    name: str
    kind: str
    lon: float  # dataset CRS
    lat: float
    x: float  # map coordinates
    y: float
    main_url: str = ""
    sub_url: str = ""
    heading_deg: float = 0.0
    fov_deg: float = 360.0
    range_m: float = 100.0
    props: dict = field(default_factory=dict)


class CameraTable:
    """All cameras as parallel numpy columns (pyqtgraph-style), plus id → row lookup.

    ``x``/``y`` are map coordinates, ``lon_wgs``/``lat_wgs`` WGS84 (for linkage and
    distances), ``kind`` an index into :data:`CAMERA_KINDS`.
    """

    def __init__(self, cameras: list[Camera], lon_wgs: np.ndarray, lat_wgs: np.ndarray):
        self.records = cameras
        n = len(cameras)
        self.ids = np.array([c.id for c in cameras], dtype=object)
        self.x = np.fromiter((c.x for c in cameras), float, n)
        self.y = np.fromiter((c.y for c in cameras), float, n)
        self.lon_wgs = np.asarray(lon_wgs, float).reshape(n)
        self.lat_wgs = np.asarray(lat_wgs, float).reshape(n)
        self.kind = np.fromiter((CAMERA_KINDS.index(c.kind) for c in cameras), np.int8, n)
        self.heading = np.fromiter((c.heading_deg for c in cameras), float, n)
        self.fov = np.fromiter((c.fov_deg for c in cameras), float, n)
        self.range_m = np.fromiter((c.range_m for c in cameras), float, n)
        self._row = {c.id: i for i, c in enumerate(cameras)}

    def __len__(self) -> int:
        return len(self.records)

    def row(self, camera_id: str) -> int | None:
        return self._row.get(camera_id)

    def get(self, camera_id: str) -> Camera | None:
        i = self._row.get(camera_id)
        return None if i is None else self.records[i]

    def count_by_kind(self) -> dict[str, int]:
        counts = np.bincount(self.kind, minlength=len(CAMERA_KINDS))
        return {k: int(counts[i]) for i, k in enumerate(CAMERA_KINDS)}


@dataclass
class District:
    """A loaded district dataset: everything the map and the panels read."""

    info: DistrictInfo
    boundary: Feature
    context: list[Feature]
    cameras: CameraTable
    grid: list[Feature]
    zones: list[Feature]
    patrol_routes: list[Feature]
    patrol_posts: list[Feature]
    control_areas: list[Feature]
    risks: list[Feature]
    warnings: list[str] = field(default_factory=list)
    # The posts' visiting schedule (patrol_schedule.toml), a
    # desktop.core.patrol.schedule.PatrolSchedule; None when the dataset has none.
    patrol_schedule: Any = None

    def map_bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the district in map coordinates."""
        return tuple(self.boundary.map_geom.bounds)

    def subdistricts(self) -> list[str]:
        return sorted({str(c.props.get("subdistrict", "")) for c in self.grid} - {""})

    def communities(self) -> list[str]:
        return sorted({str(c.props.get("community", "")) for c in self.grid} - {""})
