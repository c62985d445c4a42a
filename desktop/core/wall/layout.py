"""The wall layout document: regions on a grid spanning the wall's screens (Qt-free).

A layout is plain JSON so it can be published, kept on disk and written by hand::

    {"schema": "pingan.wall.layout", "version": 1, "wall": "main", "revision": 7,
     "name": "Morning watch", "sent_by": "ws-01/zhang", "sent_at": 1764700000.0,
     "grid": {"cols": 4, "rows": 2},
     "regions": [
       {"id": "map", "kind": "map", "col": 0, "row": 0, "colspan": 2, "rowspan": 2,
        "view": {"lon": 120.38, "lat": 36.06, "crs": "WGS84", "metres_per_px": 6.0},
        "layers": ["grid", "cameras_hd"]},
       {"id": "video", "kind": "video", "col": 2, "row": 0, "colspan": 2, "rowspan": 2,
        "video": {"layout": "4", "tiles": ["CAM-1", null, "CAM-3", null],
                  "tour": {"cameras": ["CAM-7", "CAM-8"], "interval_s": 10, "tile": 1}}},
       {"id": "ticker", "kind": "ticker", "col": 0, "row": 2, "colspan": 3, "rowspan": 1,
        "ticker": {"max_items": 6, "priorities": [1, 2, 3]}},
       {"id": "clock", "kind": "clock", "col": 3, "row": 2, "colspan": 1, "rowspan": 1}]}

``revision`` orders layouts: a wall applies a layout only when its revision is greater than the
one it shows (a late, re-ordered or replayed older message changes nothing). Workstations take
``max(known revisions) + 1``; :func:`next_revision` also never goes below the time in
milliseconds, so two workstations that never saw each other's layouts still order by time.

Regions must lie inside the grid and must not overlap. A document that breaks a rule raises
:class:`LayoutError` naming the field (``regions[2].colspan``) and what is wrong; nothing of it
is applied.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

from desktop.core.video.layouts import LAYOUTS, validate_state

SCHEMA = "pingan.wall.layout"
VERSION = 1
KINDS = ("map", "video", "ticker", "clock")
MAX_GRID = 24  # cells per side: finer grids are not needed on any wall we know
MAX_REGIONS = 32
MAX_DOC_BYTES = 256 * 1024

__all__ = ["SCHEMA", "VERSION", "KINDS", "LayoutError", "MapView", "Region", "WallLayout",
           "parse_layout", "next_revision", "default_layout"]


class LayoutError(ValueError):
    """A wall layout document that cannot be used; ``field`` names the offending part."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}" if field_name else message)
        self.field = field_name


@dataclass(frozen=True)
class MapView:
    """Where a map region looks: a centre (lon/lat in ``crs``) and a ground resolution."""

    lon: float
    lat: float
    crs: str = "WGS84"
    metres_per_px: float = 8.0

    def to_json(self) -> dict:
        return {"lon": self.lon, "lat": self.lat, "crs": self.crs, "metres_per_px": self.metres_per_px}


@dataclass(frozen=True)
class Region:
    """One rectangle of the grid and what it shows (``kind`` is map, video, ticker or clock)."""

    id: str
    kind: str
    col: int
    row: int
    colspan: int = 1
    rowspan: int = 1
    view: MapView | None = None  # map: None = the district's home view
    layers: tuple | None = None  # map: layer ids shown; None = the district's defaults
    video: dict | None = None  # video: {"layout", "tiles", "tour"?}
    ticker: dict | None = None  # ticker: {"max_items", "priorities"}
    label: str = ""  # an optional caption for the region (e.g. "Alarm 3301")

    def cells(self) -> set:
        return {(c, r) for c in range(self.col, self.col + self.colspan)
                for r in range(self.row, self.row + self.rowspan)}

    def to_json(self) -> dict:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "col": self.col, "row": self.row,
                               "colspan": self.colspan, "rowspan": self.rowspan}
        if self.label:
            out["label"] = self.label
        if self.kind == "map":
            if self.view is not None:
                out["view"] = self.view.to_json()
            if self.layers is not None:
                out["layers"] = list(self.layers)
        elif self.kind == "video":
            out["video"] = dict(self.video or {"layout": "1", "tiles": [None]})
        elif self.kind == "ticker":
            out["ticker"] = dict(self.ticker or {})
        return out

    def cameras(self) -> list[str]:
        """The cameras this region shows (tiles, then the tour's), without repeats."""
        if self.kind != "video" or not self.video:
            return []
        seen: dict[str, None] = {}
        for cid in list(self.video.get("tiles") or []) + list((self.video.get("tour") or {}).get("cameras", [])):
            if cid:
                seen.setdefault(cid, None)
        return list(seen)


@dataclass(frozen=True)
class WallLayout:
    """A parsed, valid layout document (see the module docstring)."""

    wall: str
    revision: int
    cols: int
    rows: int
    regions: tuple
    name: str = ""
    sent_by: str = ""
    sent_at: float = 0.0
    extra: dict = field(default_factory=dict, compare=False)  # fields of a newer minor schema, kept

    def to_json(self) -> dict:
        out = {"schema": SCHEMA, "version": VERSION, "wall": self.wall, "revision": self.revision,
               "name": self.name, "sent_by": self.sent_by, "sent_at": self.sent_at,
               "grid": {"cols": self.cols, "rows": self.rows},
               "regions": [r.to_json() for r in self.regions]}
        for k, v in self.extra.items():
            out.setdefault(k, v)  # top-level fields of a later minor version survive a save
        return out

    def dumps(self) -> bytes:
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def with_revision(self, revision: int, **changes) -> "WallLayout":
        return replace(self, revision=int(revision), **changes)

    def region(self, region_id: str) -> Region | None:
        for r in self.regions:
            if r.id == region_id:
                return r
        return None

    def cameras(self) -> list[str]:
        out: dict[str, None] = {}
        for r in self.regions:
            for cid in r.cameras():
                out.setdefault(cid, None)
        return list(out)


def next_revision(known: int = 0, now: float | None = None) -> int:
    """A revision newer than ``known`` and not older than the clock (milliseconds)."""
    ms = int((time.time() if now is None else now) * 1000)
    return max(int(known) + 1, ms)


# --- parsing ---------------------------------------------------------------------------------

def _int(d: dict, key: str, where: str, lo: int, hi: int, default: int | None = None) -> int:
    v = d.get(key, default)
    if v is None:
        raise LayoutError(f"{where}{key}", "is required")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
        raise LayoutError(f"{where}{key}", f"must be a whole number, got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        raise LayoutError(f"{where}{key}", f"{v} is outside {lo}..{hi}")
    return v


def _num(d: dict, key: str, where: str, lo: float, hi: float, default: float | None = None) -> float:
    v = d.get(key, default)
    if v is None:
        raise LayoutError(f"{where}{key}", "is required")
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise LayoutError(f"{where}{key}", f"must be a number, got {v!r}")
    if not lo <= v <= hi:
        raise LayoutError(f"{where}{key}", f"{v} is outside {lo}..{hi}")
    return float(v)


def _str(d: dict, key: str, where: str, default: str | None = None, max_len: int = 128) -> str:
    v = d.get(key, default)
    if v is None:
        raise LayoutError(f"{where}{key}", "is required")
    if not isinstance(v, str):
        raise LayoutError(f"{where}{key}", f"must be a string, got {type(v).__name__}")
    if len(v) > max_len:
        raise LayoutError(f"{where}{key}", f"longer than {max_len} characters")
    return v


def _video(d: Any, where: str) -> dict:
    if not isinstance(d, dict):
        raise LayoutError(where, "must be an object {layout, tiles}")
    try:
        state = validate_state({"layout": d.get("layout", "1"), "tiles": d.get("tiles", [])})
    except ValueError as exc:
        raise LayoutError(where, str(exc)) from None
    for i, t in enumerate(d.get("tiles") or []):
        if t is not None and not isinstance(t, str):
            raise LayoutError(f"{where}.tiles[{i}]", f"a camera id is a string or null, got {t!r}")
    tour = d.get("tour")
    if tour is not None:
        if not isinstance(tour, dict):
            raise LayoutError(f"{where}.tour", "must be an object {cameras, interval_s, tile?}")
        cams = tour.get("cameras")
        if not isinstance(cams, list) or not cams or not all(isinstance(c, str) and c for c in cams):
            raise LayoutError(f"{where}.tour.cameras", "must be a non-empty list of camera ids")
        interval = _num(tour, "interval_s", f"{where}.tour.", 2.0, 3600.0, 10.0)
        tile = tour.get("tile")
        if tile is not None:
            tile = _int(tour, "tile", f"{where}.tour.", 0, LAYOUTS[state["layout"]].count - 1)
        state["tour"] = {"cameras": list(cams), "interval_s": interval, "tile": tile}
    return state


def _region(d: Any, i: int, cols: int, rows: int) -> Region:
    where = f"regions[{i}]."
    if not isinstance(d, dict):
        raise LayoutError(f"regions[{i}]", "must be an object")
    kind = _str(d, "kind", where)
    if kind not in KINDS:
        raise LayoutError(f"{where}kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    rid = _str(d, "id", where, default=f"{kind}{i}", max_len=64)
    col = _int(d, "col", where, 0, cols - 1)
    row = _int(d, "row", where, 0, rows - 1)
    colspan = _int(d, "colspan", where, 1, cols - col, 1)
    rowspan = _int(d, "rowspan", where, 1, rows - row, 1)
    label = _str(d, "label", where, default="", max_len=80)
    view = layers = video = ticker = None
    if kind == "map":
        v = d.get("view")
        if v is not None:
            if not isinstance(v, dict):
                raise LayoutError(f"{where}view", "must be an object {lon, lat, crs, metres_per_px}")
            crs = _str(v, "crs", f"{where}view.", default="WGS84", max_len=16).upper()
            if crs not in ("WGS84", "GCJ02"):
                raise LayoutError(f"{where}view.crs", f"{crs!r} is not WGS84 or GCJ02")
            view = MapView(_num(v, "lon", f"{where}view.", -180, 180), _num(v, "lat", f"{where}view.", -85, 85),
                           crs, _num(v, "metres_per_px", f"{where}view.", 0.05, 20000.0, 8.0))
        lv = d.get("layers")
        if lv is not None:
            if not isinstance(lv, list) or not all(isinstance(x, str) for x in lv):
                raise LayoutError(f"{where}layers", "must be a list of layer ids")
            layers = tuple(lv)
    elif kind == "video":
        video = _video(d.get("video", {"layout": "1", "tiles": []}), f"{where}video")
    elif kind == "ticker":
        t = d.get("ticker", {})
        if not isinstance(t, dict):
            raise LayoutError(f"{where}ticker", "must be an object {max_items, priorities}")
        pr = t.get("priorities", [1, 2, 3, 4])
        if not isinstance(pr, list) or not all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 4 for p in pr):
            raise LayoutError(f"{where}ticker.priorities", "must be a list of priorities 1..4")
        ticker = {"max_items": _int(t, "max_items", f"{where}ticker.", 1, 50, 6), "priorities": sorted(set(pr))}
    return Region(rid, kind, col, row, colspan, rowspan, view, layers, video, ticker, label)


def parse_layout(data: bytes | str | dict, wall: str | None = None) -> WallLayout:
    """Validate a layout document (JSON bytes/text or a dict). ``wall``, when given, must match."""
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_DOC_BYTES:
            raise LayoutError("", f"document is {len(data)} bytes, more than {MAX_DOC_BYTES}")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LayoutError("", f"not UTF-8: {exc}") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise LayoutError("", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LayoutError("", "a wall layout is a JSON object")
    if data.get("schema") != SCHEMA:
        raise LayoutError("schema", f"expected {SCHEMA!r}, got {data.get('schema')!r}")
    version = _int(data, "version", "", 1, 10_000)
    if version > VERSION:
        # a newer major schema: we cannot know what its regions mean
        raise LayoutError("version", f"{version} is newer than this program understands ({VERSION})")
    wall_id = _str(data, "wall", "", max_len=64)
    if not wall_id:
        raise LayoutError("wall", "must not be empty")
    if wall is not None and wall_id != wall:
        raise LayoutError("wall", f"{wall_id!r} is not this wall ({wall!r})")
    revision = _int(data, "revision", "", 1, 2 ** 62)
    grid = data.get("grid")
    if not isinstance(grid, dict):
        raise LayoutError("grid", "must be an object {cols, rows}")
    cols = _int(grid, "cols", "grid.", 1, MAX_GRID)
    rows = _int(grid, "rows", "grid.", 1, MAX_GRID)
    regions_raw = data.get("regions")
    if not isinstance(regions_raw, list) or not regions_raw:
        raise LayoutError("regions", "must be a non-empty list")
    if len(regions_raw) > MAX_REGIONS:
        raise LayoutError("regions", f"{len(regions_raw)} regions, at most {MAX_REGIONS}")
    regions = []
    taken: dict = {}
    ids: set = set()
    for i, rd in enumerate(regions_raw):
        r = _region(rd, i, cols, rows)
        if r.id in ids:
            raise LayoutError(f"regions[{i}].id", f"{r.id!r} is used twice")
        ids.add(r.id)
        for cell in r.cells():
            if cell in taken:
                raise LayoutError(f"regions[{i}]", f"overlaps regions[{taken[cell]}] at cell {cell}")
            taken[cell] = i
        regions.append(r)
    sent_at = data.get("sent_at", 0.0)
    if isinstance(sent_at, bool) or not isinstance(sent_at, (int, float)) or not math.isfinite(sent_at):
        raise LayoutError("sent_at", "must be epoch seconds")
    known = {"schema", "version", "wall", "revision", "name", "sent_by", "sent_at", "grid", "regions"}
    return WallLayout(wall=wall_id, revision=revision, cols=cols, rows=rows, regions=tuple(regions),
                      name=_str(data, "name", "", default="", max_len=120),
                      sent_by=_str(data, "sent_by", "", default="", max_len=120), sent_at=float(sent_at),
                      extra={k: v for k, v in data.items() if k not in known})


def default_layout(wall: str) -> WallLayout:
    """What a wall shows before anything was ever sent to it: the map, an empty 4-tile video
    region, the alarm ticker and the clock (revision 0, so any sent layout is newer)."""
    regions = (Region("map", "map", 0, 0, 2, 3),
               Region("video", "video", 2, 0, 2, 3, video={"layout": "4", "tiles": [None] * 4}),
               Region("ticker", "ticker", 0, 3, 3, 1, ticker={"max_items": 6, "priorities": [1, 2, 3, 4]}),
               Region("clock", "clock", 3, 3, 1, 1))
    return WallLayout(wall=wall, revision=0, cols=4, rows=4, regions=regions, name="default")
