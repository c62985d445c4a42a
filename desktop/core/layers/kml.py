"""KML placemarks, read with the standard library's expat parser, hardened against hostile files.

A KML file is XML from anywhere (a colleague's laptop, a web export), so the parser is set up
as defusedxml does it, with nothing but the standard library:

* no entity declarations (internal or external), so no "billion laughs" expansion and no
  file or URL pulled in through an entity — the document is refused, naming the line;
* no external DTD (a ``DOCTYPE`` naming one is refused, and none is ever fetched), no
  parameter entities, no reference to an entity nobody defined;
* elements nested deeper than :data:`MAX_DEPTH` and files larger than the caller's limit are
  refused, so a crafted file cannot exhaust the stack or memory.

Geometry: ``Point``, ``LineString``, ``LinearRing``, ``Polygon`` (outer and inner
boundaries) and ``MultiGeometry`` of those; coordinates are ``lon,lat[,alt]`` in WGS84, as
the KML standard fixes. A placemark that cannot be read (no geometry, a coordinate that is
not a number, a ring of two points) is returned as an error naming it; the others are read.
Styles: the placemark's own ``Style`` or its ``styleUrl`` (a document ``Style``, or the
normal pair of a ``StyleMap``) give its line and fill colours.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.parsers import expat

import shapely
from shapely.geometry import LinearRing, LineString, Point, Polygon

from ._i18n import tr

__all__ = ["KmlError", "KmlPlacemark", "read_kml", "read_kml_document", "MAX_DEPTH", "kml_color"]

MAX_DEPTH = 64
_MAX_TEXT = 2000


class KmlError(ValueError):
    """A KML document that cannot be read at all (not XML, entities, too deep)."""


@dataclass
class KmlPlacemark:
    """One placemark: its geometry (WGS84, or None with ``error`` saying why), name and data."""

    index: int
    id: str
    name: str
    geom: object | None
    props: dict = field(default_factory=dict)
    stroke: str = ""  # "#rrggbb" or ""
    fill: str = ""
    fill_alpha: float | None = None
    error: str = ""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1] if "}" in name else name.split(":")[-1]


def _parse(data: bytes) -> ET.Element:
    parser = expat.ParserCreate(namespace_separator="}")
    builder = ET.TreeBuilder()
    depth = [0]

    def where() -> str:
        return tr("line {line}", line=parser.CurrentLineNumber)

    def start(name, attrs):
        depth[0] += 1
        if depth[0] > MAX_DEPTH:
            raise KmlError(tr("elements nested deeper than {n} ({where})", n=MAX_DEPTH, where=where()))
        builder.start(_local(name), {_local(k): v for k, v in attrs.items()})

    def end(name):
        depth[0] -= 1
        builder.end(_local(name))

    def refuse_entity(*_args):
        raise KmlError(tr("entity declarations are not accepted in a KML file ({where})", where=where()))

    def refuse_external(*_args):
        raise KmlError(tr("external entities are not accepted in a KML file ({where})", where=where()))

    def doctype(_name, system_id, public_id, _internal):
        if system_id or public_id:  # never fetched; refused so nothing depends on it silently
            raise KmlError(tr("an external DTD is not accepted in a KML file ({where})", where=where()))

    def skipped(name, _is_param):
        raise KmlError(tr("undefined entity &{name}; ({where})", name=name, where=where()))

    parser.StartDoctypeDeclHandler = doctype
    parser.SkippedEntityHandler = skipped
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise KmlError(tr("not well-formed XML: {err}", err=expat.errors.messages.get(exc.code, str(exc))
                          + f" (line {exc.lineno}, column {exc.offset})")) from None
    except RecursionError:
        raise KmlError(tr("elements nested deeper than {n} ({where})", n=MAX_DEPTH, where="?")) from None
    root = builder.close()
    if _local(root.tag).lower() != "kml":
        raise KmlError(tr("the root element is <{tag}>, not <kml>", tag=root.tag))
    return root


def kml_color(text: str | None) -> tuple[str, float] | None:
    """KML ``aabbggrr`` → ("#rrggbb", alpha 0..1), or None."""
    t = (text or "").strip().lstrip("#")
    if len(t) != 8:
        return None
    try:
        int(t, 16)
    except ValueError:
        return None
    return f"#{t[6:8]}{t[4:6]}{t[2:4]}".lower(), int(t[0:2], 16) / 255.0


def _child(el, tag):
    for c in el:
        if c.tag == tag:
            return c
    return None


def _text(el, tag) -> str:
    c = _child(el, tag)
    return (c.text or "").strip() if c is not None and c.text else ""


def _coords(el) -> list[tuple[float, float]]:
    c = _child(el, "coordinates")
    if c is None or not (c.text or "").strip():
        raise ValueError(tr("<{tag}> without coordinates", tag=el.tag))
    out = []
    for n, tup in enumerate(c.text.split(), 1):
        parts = tup.split(",")
        if len(parts) < 2:
            raise ValueError(tr("coordinate {n} {value!r} is not lon,lat", n=n, value=tup[:40]))
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(tr("coordinate {n} {value!r} is not lon,lat", n=n, value=tup[:40])) from None
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
            raise ValueError(tr("coordinate {n} ({lon}, {lat}) is outside WGS84", n=n, lon=lon, lat=lat))
        out.append((lon, lat))
    return out


def _ring(el) -> list[tuple[float, float]]:
    ring = _child(el, "LinearRing")
    if ring is None:
        raise ValueError(tr("polygon boundary without a LinearRing"))
    pts = _coords(ring)
    if len(pts) < 3:
        raise ValueError(tr("a ring needs at least 3 points, got {n}", n=len(pts)))
    return pts


def _geometry(el):
    tag = el.tag
    if tag == "Point":
        pts = _coords(el)
        return Point(pts[0])
    if tag == "LineString":
        pts = _coords(el)
        if len(pts) < 2:
            raise ValueError(tr("a line needs at least 2 points, got {n}", n=len(pts)))
        return LineString(pts)
    if tag == "LinearRing":
        pts = _coords(el)
        if len(pts) < 3:
            raise ValueError(tr("a ring needs at least 3 points, got {n}", n=len(pts)))
        return LinearRing(pts)
    if tag == "Polygon":
        outer = _child(el, "outerBoundaryIs")
        if outer is None:
            raise ValueError(tr("polygon without outerBoundaryIs"))
        holes = [_ring(b) for b in el if b.tag == "innerBoundaryIs"]
        poly = Polygon(_ring(outer), holes)
        return poly if poly.is_valid else shapely.make_valid(poly)
    if tag == "MultiGeometry":
        parts = []
        for c in el:
            if c.tag in _GEOMETRY_TAGS:
                g = _geometry(c)
                parts.extend(getattr(g, "geoms", [g]))  # nested collections flattened
        if not parts:
            raise ValueError(tr("empty MultiGeometry"))
        kinds = {p.geom_type for p in parts}
        if kinds == {"Point"}:
            return shapely.MultiPoint(parts)
        if kinds <= {"LineString", "LinearRing"}:
            return shapely.MultiLineString([LineString(p.coords) for p in parts])
        if kinds == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts)
    raise ValueError(tr("unsupported geometry <{tag}>", tag=tag))


_GEOMETRY_TAGS = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry")
_UNSUPPORTED = ("Track", "MultiTrack", "Model")


def _style_of(el) -> dict:
    out: dict = {}
    line = _child(el, "LineStyle")
    if line is not None:
        c = kml_color(_text(line, "color"))
        if c:
            out["stroke"] = c[0]
    poly = _child(el, "PolyStyle")
    if poly is not None:
        c = kml_color(_text(poly, "color"))
        if c:
            out["fill"], out["fill_alpha"] = c
        if _text(poly, "fill") == "0":
            out["fill_alpha"] = 0.0
    icon = _child(el, "IconStyle")
    if icon is not None and "stroke" not in out:
        c = kml_color(_text(icon, "color"))
        if c:
            out["stroke"] = c[0]
    return out


def read_kml(data: bytes) -> list[KmlPlacemark]:
    """Every placemark of a KML document, in document order (raises :class:`KmlError`)."""
    return read_kml_document(data)[1]


def read_kml_document(data: bytes) -> tuple[str, list[KmlPlacemark]]:
    """The document's name (what the user called the layer, or '') and its placemarks."""
    root = _parse(data)
    doc = _child(root, "Document")
    if doc is None:
        doc = _child(root, "Folder")
    doc_name = _text(doc, "name")[:120] if doc is not None else ""
    styles: dict[str, dict] = {}
    maps: dict[str, str] = {}
    for el in root.iter():
        if el.tag == "Style" and el.get("id"):
            styles[el.get("id")] = _style_of(el)
        elif el.tag == "StyleMap" and el.get("id"):
            for pair in el:
                if pair.tag == "Pair" and _text(pair, "key") == "normal":
                    maps[el.get("id")] = _text(pair, "styleUrl").lstrip("#")

    def resolve(url: str) -> dict:
        key = url.strip().lstrip("#")
        key = maps.get(key, key)
        return styles.get(key, {})

    out: list[KmlPlacemark] = []
    folder_names: list[str] = []

    def walk(el):
        pushed = False
        if el.tag in ("Folder", "Document") and _text(el, "name"):
            folder_names.append(_text(el, "name"))
            pushed = True
        for c in el:
            if c.tag == "Placemark":
                out.append(_placemark(c, len(out), resolve, "/".join(folder_names)))
            elif c.tag in ("Folder", "Document"):
                walk(c)
        if pushed:
            folder_names.pop()

    walk(root)
    return doc_name, out


def _placemark(el, index: int, resolve, folder: str) -> KmlPlacemark:
    name = _text(el, "name")[:_MAX_TEXT]
    pid = el.get("id") or name or str(index)
    props: dict = {"name": name} if name else {}
    desc = _text(el, "description")
    if desc:
        props["description"] = desc[:_MAX_TEXT]
    if folder:
        props["folder"] = folder
    ext = _child(el, "ExtendedData")
    if ext is not None:
        for d in ext.iter():
            if d.tag == "Data" and d.get("name"):
                props[d.get("name")[:64]] = _text(d, "value")[:_MAX_TEXT]
            elif d.tag == "SimpleData" and d.get("name"):
                props[d.get("name")[:64]] = (d.text or "").strip()[:_MAX_TEXT]
    style = dict(resolve(_text(el, "styleUrl"))) if _text(el, "styleUrl") else {}
    inline = _child(el, "Style")
    if inline is not None:
        style.update(_style_of(inline))
    pm = KmlPlacemark(index, pid, name, None, props, stroke=style.get("stroke", ""), fill=style.get("fill", ""),
                      fill_alpha=style.get("fill_alpha"))
    geoms = [c for c in el if c.tag in _GEOMETRY_TAGS]
    try:
        if not geoms:
            odd = [c.tag for c in el if c.tag in _UNSUPPORTED]
            raise ValueError(tr("unsupported geometry <{tag}>", tag=odd[0]) if odd else tr("no geometry"))
        pm.geom = _geometry(geoms[0])
    except (ValueError, shapely.errors.GEOSException) as exc:
        pm.error = str(exc) or type(exc).__name__
    return pm
