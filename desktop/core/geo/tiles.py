"""Offline raster basemaps: XYZ tile math and tile sources (MBTiles files, {z}/{x}/{y} folders). Qt-free.

Tiles are in Web Mercator, like the map plane; whether they line up depends on the datum
the tiles were drawn in (AMap-style tiles are GCJ-02, OSM-style WGS84): set the map datum
(``[map] datum``) to match.
"""
from __future__ import annotations

import math
import sqlite3
import threading
from pathlib import Path

HALF_WORLD = math.pi * 6378137.0


class TileSourceError(ValueError):
    """A tile source that cannot be opened; the message names the path."""


def tile_span(z: int) -> float:
    """Map units covered by one tile side at zoom ``z``."""
    return 2.0 * HALF_WORLD / (1 << z)


def tiles_in_view(minx: float, miny: float, maxx: float, maxy: float, z: int) -> list[tuple[int, int]]:
    """(x, y) indices of the XYZ tiles at ``z`` overlapping the map rectangle."""
    span = tile_span(z)
    n = 1 << z
    x0 = max(0, int(math.floor((minx + HALF_WORLD) / span)))
    x1 = min(n - 1, int(math.floor((maxx + HALF_WORLD) / span)))
    y0 = max(0, int(math.floor((HALF_WORLD - maxy) / span)))
    y1 = min(n - 1, int(math.floor((HALF_WORLD - miny) / span)))
    return [(x, y) for y in range(y0, y1 + 1) for x in range(x0, x1 + 1)]


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of a tile in map units."""
    span = tile_span(z)
    minx = -HALF_WORLD + x * span
    maxy = HALF_WORLD - y * span
    return minx, maxy - span, minx + span, maxy


class TileSource:
    """Bytes of tiles by (z, x, y), from an MBTiles file or an XYZ folder; None when absent."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.minzoom, self.maxzoom = 0, 22
        self._local = threading.local()
        if self.path.is_file():
            self.kind = "mbtiles"
            try:
                con = self._con()
                meta = dict(con.execute("SELECT name, value FROM metadata").fetchall())
                row = con.execute("SELECT MIN(zoom_level), MAX(zoom_level) FROM tiles").fetchone()
            except sqlite3.DatabaseError as exc:
                raise TileSourceError(f"{self.path}: not an MBTiles file ({exc})") from None
            if row and row[0] is not None:
                self.minzoom, self.maxzoom = int(row[0]), int(row[1])
            self.format = meta.get("format", "png")
        elif self.path.is_dir():
            self.kind = "xyz"
            zooms = sorted(int(p.name) for p in self.path.iterdir() if p.is_dir() and p.name.isdigit())
            if not zooms:
                raise TileSourceError(f"{self.path}: no zoom folders ({{z}}/{{x}}/{{y}}.png) found")
            self.minzoom, self.maxzoom = zooms[0], zooms[-1]
            self.format = "png"
        else:
            raise TileSourceError(f"{self.path}: no such MBTiles file or tile folder")

    def _con(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
        return con

    def get(self, z: int, x: int, y: int) -> bytes | None:
        if self.kind == "mbtiles":
            row = self._con().execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y)).fetchone()  # MBTiles rows count from the south (TMS)
            return bytes(row[0]) if row else None
        for ext in ("png", "jpg", "jpeg", "webp"):
            p = self.path / str(z) / str(x) / f"{y}.{ext}"
            if p.exists():
                return p.read_bytes()
        return None
