"""Byte-stable text of the dataset files: GeoJSON features with sorted keys and coordinates of
at most 6 decimals, one feature per line; TOML strings; files replaced atomically."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from shapely.geometry import Polygon


def _num(v: float) -> str:
    """A coordinate with at most 6 decimals, shortest form ("120.3", not "120.300000")."""
    s = f"{float(v):.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _coords(arr) -> str:
    """A coordinate array as a GeoJSON position list (x, y only)."""
    return "[" + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in np.asarray(arr)[:, :2]) + "]"


def _ring_list(poly: Polygon) -> str:
    """A polygon's rings (exterior first) as GeoJSON coordinates."""
    return "[" + ",".join(_coords(r.coords) for r in [poly.exterior, *poly.interiors]) + "]"


def _geometry(g) -> str:
    """A geometry's GeoJSON object, keys in sorted order."""
    t = g.geom_type
    if t == "Point":
        body = f"[{_num(g.x)},{_num(g.y)}]"
    elif t == "LineString":
        body = _coords(g.coords)
    elif t == "MultiLineString":
        body = "[" + ",".join(_coords(p.coords) for p in g.geoms) + "]"
    elif t == "Polygon":
        body = _ring_list(g)
    elif t == "MultiPolygon":
        body = "[" + ",".join(_ring_list(p) for p in g.geoms) + "]"
    else:
        raise ValueError(f"cannot write {t}")
    return f'{{"coordinates":{body},"type":"{t}"}}'


def _props(p: dict) -> str:
    """Feature properties as compact JSON, keys sorted, CJK kept as is."""
    return json.dumps(p, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _feature(g, props: dict) -> str:
    """One GeoJSON feature of a geometry."""
    return f'{{"geometry":{_geometry(g)},"properties":{_props(props)},"type":"Feature"}}'


def _point_feature(lon: float, lat: float, props: dict) -> str:
    """One GeoJSON point feature, straight from lon/lat (no geometry object needed)."""
    return (f'{{"geometry":{{"coordinates":[{_num(lon)},{_num(lat)}],"type":"Point"}},'
            f'"properties":{_props(props)},"type":"Feature"}}')


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _write(path: Path, features: list[str]) -> None:
    """A FeatureCollection with one feature per line (diff-friendly, still compact)."""
    body = ",\n".join(features)
    _atomic_write(path, '{"type":"FeatureCollection","features":[\n' + body + ("\n" if body else "") + "]}\n")


def _toml_str(s: str) -> str:
    """A TOML basic string of ``s``."""
    return json.dumps(str(s), ensure_ascii=False)  # a JSON string is a valid TOML basic string here
