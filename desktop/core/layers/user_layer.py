"""Import a GeoJSON or KML file as the user's own map layer (Qt-free).

``import_layer(path, projection)`` reads the file into an :class:`ImportedLayer`: features
with their geometry in map coordinates, their properties, and colours — the layer's own (a
palette colour per imported layer, so two imports never look alike) unless a feature carries
its own (GeoJSON ``stroke``/``fill``/``marker-color`` properties, KML ``Style``/``styleUrl``).

Coordinate systems:

* GeoJSON: the ``crs`` member when the file has one (``{"type": "name", "properties":
  {"name": "urn:ogc:def:crs:EPSG::4549"}}``, ``EPSG:4490``, ``CRS84``, also the project's own
  names such as ``GCJ02``) — any CRS the project converts: WGS84, GCJ-02, CGCS2000 and its
  3° Gauss-Krüger zones, any EPSG code PROJ knows; without one, WGS84 (RFC 7946; CGCS2000
  agrees with it to centimetres).
* KML: always WGS84 (the KML standard fixes it).

Errors: a file that cannot be read at all (missing, too large, not JSON or XML, an unknown
``crs``, entities in a KML, no feature left) raises :class:`LayerImportError` naming the file;
a feature that cannot be read is skipped and named in ``warnings`` (file, feature number and
id or name, reason) — the rest of the file is imported. Nothing already on the map changes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import shapely
from shapely.geometry import shape

from desktop.core.geo.crs import GCJ02, WGS84, CRSError, MapProjection, is_geographic, normalize_crs, to_wgs84

from ._i18n import tr
from .kml import KmlError, read_kml_document

__all__ = ["ImportedLayer", "UserFeature", "LayerStyle", "LayerImportError", "import_layer", "PALETTE",
           "MAX_BYTES", "MAX_FEATURES", "crs_of_member"]

MAX_BYTES = 100 * 1024 * 1024  # a layer file bigger than this is refused (it is read into memory)
MAX_FEATURES = 200_000
# colours for imported layers, distinct from the built-in layers' and legible on the dark map
PALETTE = ("#ff80ab", "#b388ff", "#84ffff", "#ccff90", "#ffd180", "#ea80fc", "#a7ffeb", "#ff9e80")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".kml": "kml"}


class LayerImportError(ValueError):
    """A layer file that cannot be imported; the message names the file (and the part at fault)."""

    def __init__(self, path: Path | str, message: str):
        self.path = Path(path)
        super().__init__(f"{self.path.name}: {message}")


@dataclass(frozen=True)
class LayerStyle:
    """How an imported layer is drawn: line/point colour, fill colour and opacity, widths."""

    stroke: str
    fill: str
    fill_alpha: float = 0.25
    width: float = 2.0
    point_size: float = 9.0


@dataclass
class UserFeature:
    """One imported feature: geometry in the file's CRS and in map coordinates, properties, colours."""

    index: int
    id: str
    name: str
    geom: Any
    map_geom: Any
    props: dict
    stroke: str = ""  # "" = the layer's
    fill: str = ""
    fill_alpha: float | None = None


@dataclass
class ImportedLayer:
    """A file read as a layer: its features (in file order), the CRS it declared, what was skipped."""

    name: str
    path: Path
    format: str  # geojson | kml
    crs: str
    style: LayerStyle
    features: list[UserFeature] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Features per kind: point, line, polygon."""
        out = {"point": 0, "line": 0, "polygon": 0}
        for f in self.features:
            t = f.geom.geom_type
            out["point" if "Point" in t else "polygon" if "Polygon" in t else "line"] += 1
        return out

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) in map coordinates, or None."""
        if not self.features:
            return None
        b = shapely.bounds(np.array([f.map_geom for f in self.features], dtype=object))
        return float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())


def crs_of_member(member: Any) -> str:
    """The CRS a GeoJSON ``crs`` member names (raises ValueError saying what is wrong)."""
    if isinstance(member, str):
        name = member
    elif isinstance(member, dict):
        props = member.get("properties")
        if not isinstance(props, dict):
            raise ValueError(tr("'crs' has no 'properties' object"))
        if member.get("type") == "EPSG" and "code" in props:  # the 2008 draft's form
            name = f"EPSG:{props['code']}"
        elif "name" in props and isinstance(props["name"], str):
            name = props["name"]
        else:
            raise ValueError(tr("'crs' must name its system in properties.name"))
    else:
        raise ValueError(tr("'crs' must be an object or a name"))
    text = name.strip()
    upper = text.upper()
    if upper.endswith("CRS84") or upper.endswith("CRS:84"):
        return WGS84
    m = re.fullmatch(r"URN:OGC:DEF:CRS:EPSG:[0-9.]*:(\d+)", upper) or \
        re.fullmatch(r"HTTPS?://WWW\.OPENGIS\.NET/DEF/CRS/EPSG/[0-9.]+/(\d+)", upper)
    if m:
        text = f"EPSG:{m.group(1)}"
    try:
        return normalize_crs(text)
    except CRSError as exc:
        raise ValueError(tr("unknown coordinate system {name!r} ({err})", name=name, err=exc)) from None


def _color(value: Any) -> str:
    return value.lower() if isinstance(value, str) and _COLOR.match(value.strip()) else ""


def _to_map(geom, crs: str, projection: MapProjection):
    def conv(xy):
        x, y = projection.forward(xy[:, 0], xy[:, 1], crs)
        out = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
        if not np.all(np.isfinite(out)):
            raise ValueError(tr("a coordinate cannot be converted from {crs}", crs=crs))
        return out
    return shapely.transform(geom, conv)


def _check_coords(geom, crs: str) -> None:
    coords = shapely.get_coordinates(geom)
    if not len(coords):
        raise ValueError(tr("empty geometry"))
    if not np.all(np.isfinite(coords)):
        raise ValueError(tr("non-finite coordinate"))
    if is_geographic(crs):
        if np.any(np.abs(coords[:, 0]) > 180) or np.any(np.abs(coords[:, 1]) > 90):
            raise ValueError(tr("coordinate out of range for {crs}", crs=crs))
    else:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if not (np.all(np.isfinite(lon)) and np.all(np.abs(lon) <= 180) and np.all(np.abs(lat) <= 90)):
            raise ValueError(tr("coordinate out of range for {crs}", crs=crs))


def _where(path: Path, index: int, ident: str) -> str:
    label = tr("feature {n}", n=index + 1) + (f" ({ident})" if ident and ident != str(index) else "")
    return f"{path.name}, {label}"


def _read_geojson(path: Path, text: str, projection: MapProjection, warn: Callable[[str], None]):
    try:
        doc = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not JSON")))
    except (ValueError, RecursionError) as exc:
        raise LayerImportError(path, tr("not valid GeoJSON: {err}", err=exc)) from None
    if not isinstance(doc, dict):
        raise LayerImportError(path, tr("top level must be a GeoJSON object"))
    crs = WGS84
    if doc.get("crs") is not None:
        try:
            crs = crs_of_member(doc["crs"])
        except ValueError as exc:
            raise LayerImportError(path, tr("'crs': {err}", err=exc)) from None
    if doc.get("type") == "FeatureCollection":
        raw = doc.get("features")
        if not isinstance(raw, list):
            raise LayerImportError(path, tr("'features' must be a list"))
    elif doc.get("type") == "Feature":
        raw = [doc]
    elif isinstance(doc.get("type"), str) and ("coordinates" in doc or "geometries" in doc):
        raw = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise LayerImportError(path, tr("expected a FeatureCollection, a Feature or a geometry"))
    if len(raw) > MAX_FEATURES:
        raise LayerImportError(path, tr("{n} features; at most {max} can be imported", n=len(raw), max=MAX_FEATURES))
    feats: list[UserFeature] = []
    for index, item in enumerate(raw):
        ident = str(index)
        try:
            if not isinstance(item, dict):
                raise ValueError(tr("a feature must be an object"))
            props = item.get("properties") or {}
            if not isinstance(props, dict):
                raise ValueError(tr("'properties' must be an object"))
            raw_id = item.get("id", props.get("id", props.get("name", "")))
            ident = str(raw_id)[:128] if raw_id not in (None, "") else str(index)
            if not isinstance(item.get("geometry"), dict):
                raise ValueError(tr("no geometry"))
            geom = shape(item["geometry"])
            if geom.is_empty:
                raise ValueError(tr("empty geometry"))
            _check_coords(geom, crs)
            if "Polygon" in geom.geom_type and not geom.is_valid:
                geom = shapely.make_valid(geom)
            name = str(props.get("name", props.get("title", ident)))[:256]
            alpha = props.get("fill-opacity")
            feats.append(UserFeature(index, ident, name, geom, _to_map(geom, crs, projection), props,
                                     stroke=_color(props.get("stroke")) or _color(props.get("marker-color")),
                                     fill=_color(props.get("fill")),
                                     fill_alpha=float(alpha) if isinstance(alpha, (int, float)) and not
                                     isinstance(alpha, bool) and 0 <= alpha <= 1 else None))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
            warn(f"{_where(path, index, ident)}: {exc or type(exc).__name__}")
    title = doc.get("name") if isinstance(doc.get("name"), str) else ""  # as QGIS and ogr2ogr write it
    return crs, feats, title.strip()[:120]


def _read_kml(path: Path, data: bytes, projection: MapProjection, warn: Callable[[str], None]):
    try:
        title, placemarks = read_kml_document(data)
    except KmlError as exc:
        raise LayerImportError(path, str(exc)) from None
    if len(placemarks) > MAX_FEATURES:
        raise LayerImportError(path, tr("{n} features; at most {max} can be imported", n=len(placemarks),
                                        max=MAX_FEATURES))
    feats = []
    for pm in placemarks:
        if pm.error:
            warn(f"{_where(path, pm.index, pm.id)}: {pm.error}")
            continue
        try:
            feats.append(UserFeature(pm.index, pm.id, pm.name or pm.id, pm.geom, _to_map(pm.geom, WGS84, projection),
                                     pm.props, stroke=pm.stroke, fill=pm.fill, fill_alpha=pm.fill_alpha))
        except (ValueError, shapely.errors.GEOSException) as exc:
            warn(f"{_where(path, pm.index, pm.id)}: {exc}")
    return WGS84, feats, title


def import_layer(path: Path | str, projection: MapProjection | None = None, *, number: int = 0,
                 max_bytes: int = MAX_BYTES) -> ImportedLayer:
    """Read a ``.geojson``/``.json``/``.kml`` file (see the module text). ``number``: how many
    layers were imported before (picks the palette colour)."""
    path = Path(path)
    projection = projection or MapProjection(GCJ02)
    fmt = SUFFIXES.get(path.suffix.lower())
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LayerImportError(path, tr("{mb:.0f} MB; at most {max:.0f} MB can be imported",
                                            mb=size / 1e6, max=max_bytes / 1e6))
        data = path.read_bytes()
    except FileNotFoundError:
        raise LayerImportError(path, tr("no such file")) from None
    except IsADirectoryError:
        raise LayerImportError(path, tr("a folder, not a layer file")) from None
    except OSError as exc:
        raise LayerImportError(path, tr("cannot be read: {err}", err=exc.strerror or exc)) from None
    if fmt is None:  # by content: XML or JSON
        head = data[:512].lstrip()
        fmt = "kml" if head.startswith(b"<") else "geojson" if head.startswith(b"{") else None
        if fmt is None:
            raise LayerImportError(path, tr("neither GeoJSON nor KML (expected .geojson, .json or .kml)"))
    warnings: list[str] = []
    if fmt == "kml":
        crs, feats, title = _read_kml(path, data, projection, warnings.append)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LayerImportError(path, tr("not UTF-8 (byte {pos})", pos=exc.start)) from None
        crs, feats, title = _read_geojson(path, text, projection, warnings.append)
    if not feats:
        if warnings:
            raise LayerImportError(path, tr("nothing to import: none of its {n} features can be read; the first: "
                                            "{why}", n=len(warnings), why=warnings[0].split(": ", 1)[-1]))
        raise LayerImportError(path, tr("nothing to import: the file holds no feature"))
    colour = PALETTE[number % len(PALETTE)]
    return ImportedLayer(name=title or path.stem, path=path, format=fmt, crs=crs,
                         style=LayerStyle(stroke=colour, fill=colour), features=feats, warnings=warnings)
