"""Load a district dataset folder (README, *District dataset format*) into a :class:`District`.

The boundary is required; every other layer is optional. A malformed layer file or
feature never takes the rest down: it is skipped and reported in ``District.warnings``
with the file and the feature named (``strict=True`` raises instead, for checks and tests).
"""
from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import shapely
from shapely.geometry import shape

from desktop.core.geo.crs import CRSError, MapProjection, normalize_crs, to_wgs84
from desktop.core.i18n import tr
from desktop.core.localtime import DEFAULT_ZONE, ZoneError, zone

from .model import CAMERA_KINDS, Camera, CameraTable, District, DistrictInfo, Feature

LAYER_FILES = {
    "context": "context.geojson",
    "cameras": "cameras.geojson",
    "grid": "grid.geojson",
    "zones": "zones.geojson",
    "patrol": "patrol.geojson",
    "risk": "risk.geojson",
}


class DatasetError(ValueError):
    """A dataset file that cannot be used; the message names the file and the feature."""

    def __init__(self, path: Path | str, message: str, feature: int | str | None = None):
        self.path = Path(path)
        self.feature = feature
        where = f"{self.path.name}" + (f", feature {feature}" if feature is not None else "")
        super().__init__(f"{where}: {message}")


def load_district(folder: Path | str, projection: MapProjection | None = None,
                  strict: bool = False,
                  progress: Callable[[str, float], None] | None = None) -> District:
    """Read ``folder`` and return the district in ``projection``'s map coordinates."""
    folder = Path(folder)
    projection = projection or MapProjection()
    if not folder.is_dir():
        raise DatasetError(folder, tr("not a dataset folder (expected district.toml and district.geojson)"))
    info = _read_info(folder)
    warnings: list[str] = []

    def report(err: DatasetError) -> None:
        if strict:
            raise err
        warnings.append(str(err))

    def step(stage: str, frac: float) -> None:
        if progress:
            progress(stage, frac)

    step("boundary", 0.0)
    boundary_feats = list(_read_features(folder / "district.geojson", info.crs, projection,
                                         report, required=True))
    polys = [f for f in boundary_feats if f.geom.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        raise DatasetError(folder / "district.geojson", tr("no Polygon or MultiPolygon boundary"))
    boundary = polys[0]
    if len(polys) > 1:  # several parts in several features: one boundary
        boundary = Feature(boundary.id, shapely.union_all([p.geom for p in polys]),
                           shapely.union_all([p.map_geom for p in polys]), boundary.props)

    layers: dict[str, list[Feature]] = {}
    names = list(LAYER_FILES)
    for i, layer in enumerate(names):
        step(layer, (i + 1) / (len(names) + 1))
        path = folder / LAYER_FILES[layer]
        layers[layer] = list(_read_features(path, info.crs, projection, report)) if path.exists() else []

    cameras = _camera_table(layers["cameras"], folder / LAYER_FILES["cameras"], info.crs, report)
    patrol = layers["patrol"]
    district = District(
        info=info,
        boundary=boundary,
        context=layers["context"],
        cameras=cameras,
        grid=_only(layers["grid"], ("Polygon", "MultiPolygon"), folder / "grid.geojson", report),
        zones=_only(layers["zones"], ("Polygon", "MultiPolygon"), folder / "zones.geojson", report),
        patrol_routes=[f for f in patrol if f.geom.geom_type in ("LineString", "MultiLineString")],
        patrol_posts=[f for f in patrol if f.geom.geom_type == "Point"],
        control_areas=[f for f in patrol if f.geom.geom_type in ("Polygon", "MultiPolygon")],
        risks=_only(layers["risk"], ("Point",), folder / "risk.geojson", report),
        warnings=warnings,
    )
    district.patrol_schedule = _read_schedule(folder, district.patrol_posts, report)
    step("done", 1.0)
    return district


def _read_schedule(folder: Path, posts: list[Feature], report: Callable[[DatasetError], None]):
    """The posts' schedule (``patrol_schedule.toml``), or None without one. A bad post entry
    is reported and left out; a file that cannot be used at all is reported and ignored."""
    # Imported here: the schedule format lives with the patrol core, which imports this module.
    from desktop.core.patrol.schedule import SCHEDULE_FILE, ScheduleError, load_schedule

    path = folder / SCHEDULE_FILE
    if not path.exists():
        return None
    try:
        return load_schedule(path, [p.id for p in posts], report)
    except ScheduleError as err:
        report(err)
        return None


def _read_info(folder: Path) -> DistrictInfo:
    path = folder / "district.toml"
    if not path.exists():
        raise DatasetError(path, tr("missing: a dataset needs district.toml (name, adcode, crs)"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(path, tr("not valid TOML: {err}", err=exc)) from None
    for key in ("name", "crs"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise DatasetError(path, tr("'{key}' is required and must be a string", key=key))
    try:
        crs = normalize_crs(data["crs"])
    except CRSError as exc:
        raise DatasetError(path, str(exc)) from None
    tz_name = data.get("timezone", DEFAULT_ZONE)
    try:
        if not isinstance(tz_name, str):
            raise ZoneError(tr("must be a time zone name such as \"Asia/Shanghai\""))
        zone(tz_name)
    except ZoneError as exc:
        raise DatasetError(path, tr("'timezone': {err}", err=exc)) from None
    known = {"name", "adcode", "crs", "name_en", "parent", "source", "timezone"}
    return DistrictInfo(name=data["name"], adcode=str(data.get("adcode", "")), crs=crs,
                        name_en=str(data.get("name_en", "")), parent=str(data.get("parent", "")),
                        source=str(data.get("source", "")), path=folder,
                        extra={k: v for k, v in data.items() if k not in known},
                        timezone=tz_name.strip())


def _read_features(path: Path, crs: str, projection: MapProjection,
                   report: Callable[[DatasetError], None], required: bool = False) -> Iterator[Feature]:
    """Yield valid features of a GeoJSON file; report each bad one and go on."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise DatasetError(path, tr("missing (the district boundary is required)")) from None
        return
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        err = DatasetError(path, tr("not valid GeoJSON: {err}", err=exc))
        if required:
            raise err from None
        report(err)
        return
    if not isinstance(doc, dict):
        report(DatasetError(path, tr("top level must be a GeoJSON object")))
        return
    if doc.get("type") == "FeatureCollection":
        raw = doc.get("features")
        if not isinstance(raw, list):
            report(DatasetError(path, tr("'features' must be a list")))
            return
    elif doc.get("type") == "Feature":
        raw = [doc]
    elif "coordinates" in doc:  # a bare geometry, as cnmaps ships them
        raw = [{"type": "Feature", "geometry": doc, "properties": doc.get("properties", {})}]
    else:
        report(DatasetError(path, tr("expected a FeatureCollection, a Feature or a geometry")))
        return
    parsed: list[tuple[str, object, dict]] = []  # (id, geometry, properties) of the valid features
    geographic = _is_geographic(crs)
    for index, item in enumerate(raw):
        ident = index
        try:
            if not isinstance(item, dict) or not isinstance(item.get("geometry"), dict):
                raise ValueError(tr("no geometry"))
            props = item.get("properties") or {}
            if not isinstance(props, dict):
                raise ValueError(tr("'properties' must be an object"))
            ident = props.get("id", index)
            geom = shape(item["geometry"])
            if geom.is_empty:
                raise ValueError(tr("empty geometry"))
            coords = shapely.get_coordinates(geom)
            if not np.all(np.isfinite(coords)):
                raise ValueError(tr("non-finite coordinate"))
            if geographic and (np.any(np.abs(coords[:, 0]) > 180) or np.any(np.abs(coords[:, 1]) > 90)):
                raise ValueError(tr("coordinate out of range for {crs}", crs=crs))
            parsed.append((str(props.get("id", f"{path.stem}-{index}")), geom, props))
        except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException) as exc:
            report(DatasetError(path, str(exc) or type(exc).__name__, feature=ident))
    if not parsed:
        return
    # Into the map plane all at once: one projection call for every coordinate of the file
    # (per feature it was most of the district's load time: 4,500 calls into PROJ).
    def forward(xy):
        return np.column_stack(projection.forward(xy[:, 0], xy[:, 1], crs))
    try:
        mapped = shapely.transform(np.array([g for _i, g, _p in parsed], dtype=object), forward)
    except (ValueError, TypeError, shapely.errors.GEOSException):
        mapped = None  # one bad feature spoils the batch: go feature by feature to name it
    for k, (fid, geom, props) in enumerate(parsed):
        try:
            map_geom = mapped[k] if mapped is not None else shapely.transform(geom, forward)
            yield Feature(id=fid, geom=geom, map_geom=map_geom, props=props)
        except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
            report(DatasetError(path, str(exc) or type(exc).__name__, feature=fid))


def _is_geographic(crs: str) -> bool:
    return crs in ("WGS84", "GCJ02", "EPSG:4490")


def _only(features: list[Feature], types: tuple[str, ...], path: Path,
          report: Callable[[DatasetError], None]) -> list[Feature]:
    out = []
    for f in features:
        if f.geom.geom_type in types:
            out.append(f)
        else:
            report(DatasetError(path, tr("expected {types}, got {got}", types="/".join(types),
                                         got=f.geom.geom_type), feature=f.id))
    return out


def _num(props: dict, key: str, default: float, lo: float, hi: float) -> float:
    value = props.get(key, default)
    if value is None or value == "":
        return default
    value = float(value)  # ValueError/TypeError name the feature upstream
    if not (lo <= value <= hi) or math.isnan(value):
        raise ValueError(tr("'{key}' = {value} is outside {lo}..{hi}", key=key, value=value, lo=lo, hi=hi))
    return value


def _camera_table(features: list[Feature], path: Path, crs: str,
                  report: Callable[[DatasetError], None]) -> CameraTable:
    cams: list[Camera] = []
    seen: set[str] = set()
    for f in features:
        try:
            if f.geom.geom_type != "Point":
                raise ValueError(tr("camera must be a Point, got {got}", got=f.geom.geom_type))
            p = f.props
            if "id" not in p or not str(p["id"]):
                raise ValueError(tr("camera without 'id'"))
            kind = str(p.get("kind", "hd"))
            if kind not in CAMERA_KINDS:
                raise ValueError(tr("unknown camera kind {kind!r} (expected one of {kinds})",
                                    kind=kind, kinds=", ".join(CAMERA_KINDS)))
            if f.id in seen:
                raise ValueError(tr("duplicate camera id {id}", id=f.id))
            cams.append(Camera(
                id=f.id, name=str(p.get("name", f.id)), kind=kind,
                lon=f.geom.x, lat=f.geom.y, x=f.map_geom.x, y=f.map_geom.y,
                main_url=str(p.get("main_url") or ""), sub_url=str(p.get("sub_url") or ""),
                heading_deg=_num(p, "heading_deg", 0.0, -360.0, 720.0) % 360.0,
                fov_deg=_num(p, "fov_deg", 360.0, 0.0, 360.0),
                range_m=_num(p, "range_m", 100.0, 0.0, 100_000.0),
                props=p))
            seen.add(f.id)
        except (ValueError, TypeError) as exc:
            report(DatasetError(path, str(exc), feature=f.id))
    lon = np.array([c.lon for c in cams], float)
    lat = np.array([c.lat for c in cams], float)
    lon_w, lat_w = to_wgs84(lon, lat, crs) if len(cams) else (lon, lat)
    return CameraTable(cams, np.asarray(lon_w), np.asarray(lat_w))
