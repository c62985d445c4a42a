"""Video wall layouts (which tiles, where) and named layouts saved as JSON. Qt-free.

A layout is a grid of ``cols`` × ``rows`` cells and a list of tiles, each covering a rectangle
of cells, in reading order. Square grids 1, 4, 9, 16, 25, 36 and the spans operators use to
give one camera prominence: ``1+5`` (a 2×2 tile and 5 around it in 3×3), ``1+7`` (3×3 in 4×4
with 7 around) and ``1+12`` (a 2×2 tile in the middle of 4×4 and 12 around it).

A layout *state* (what a wall shows) is ``{"layout": name, "tiles": [camera_id or None, ...]}``;
:class:`LayoutStore` keeps named states in one JSON file (saved layouts of a workstation, and
what a workstation pushes to the wall display).
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """A grid and its tiles: ``cells[i] = (col, row, colspan, rowspan)``."""

    name: str
    cols: int
    rows: int
    cells: tuple

    @property
    def count(self) -> int:
        return len(self.cells)

    def rects(self, width: int, height: int, gap: int = 2) -> list[tuple[int, int, int, int]]:
        """Pixel rectangles ``(x, y, w, h)`` of the tiles in a ``width`` × ``height`` area, with
        ``gap`` pixels between tiles; edges are distributed so the grid fills the area exactly."""
        xs = [round(i * (width + gap) / self.cols) for i in range(self.cols + 1)]
        ys = [round(j * (height + gap) / self.rows) for j in range(self.rows + 1)]
        out = []
        for c, r, cs, rs in self.cells:
            x0, y0 = xs[c], ys[r]
            x1, y1 = xs[c + cs] - gap, ys[r + rs] - gap
            out.append((x0, y0, max(1, x1 - x0), max(1, y1 - y0)))
        return out


def _grid(n: int) -> Layout:
    return Layout(str(n * n), n, n, tuple((c, r, 1, 1) for r in range(n) for c in range(n)))


def _span(name: str, n: int, big: tuple) -> Layout:
    bc, br, bs = big
    cells = [(bc, br, bs, bs)]
    for r in range(n):
        for c in range(n):
            if not (bc <= c < bc + bs and br <= r < br + bs):
                cells.append((c, r, 1, 1))
    return Layout(name, n, n, tuple(cells))


LAYOUTS: dict[str, Layout] = {
    # 64 and 100: past what the cores decode in full, the overload scheduler puts the
    # smallest tiles on key frames only (the video benchmark's keyframes_only_wall)
    **{str(n * n): _grid(n) for n in (1, 2, 3, 4, 5, 6, 8, 10)},
    "1+5": _span("1+5", 3, (0, 0, 2)),
    "1+7": _span("1+7", 4, (0, 0, 3)),
    "1+12": _span("1+12", 4, (1, 1, 2)),
}
LAYOUT_NAMES = ("1", "4", "9", "16", "25", "36", "64", "100", "1+5", "1+7", "1+12")
MAX_TILES = max(l.count for l in LAYOUTS.values())


def get_layout(name: str) -> Layout:
    """The layout called ``name``; ``KeyError`` names the known ones."""
    try:
        return LAYOUTS[str(name)]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(LAYOUT_NAMES)}") from None


#: opening cameras grows the wall this far by itself; 64 and 100 tiles are the operator's choice
AUTO_GROW_MAX = 36
_GROWN = tuple(n for n in LAYOUTS if n.isdigit() and LAYOUTS[n].count <= AUTO_GROW_MAX)  # the square grids


def layout_for_count(n: int) -> str:
    """The smallest square layout with at least ``n`` tiles, at most :data:`AUTO_GROW_MAX`."""
    for name in _GROWN:
        if LAYOUTS[name].count >= n:
            return name
    return _GROWN[-1]


def validate_state(state: dict) -> dict:
    """A clean layout state (unknown layout → ValueError; tiles padded/trimmed to its count)."""
    if not isinstance(state, dict):
        raise ValueError("a layout state is a JSON object")
    name = str(state.get("layout", ""))
    if name not in LAYOUTS:
        raise ValueError(f"unknown layout {name!r}")
    tiles = state.get("tiles") or []
    if not isinstance(tiles, list):
        raise ValueError("tiles must be a list")
    n = LAYOUTS[name].count
    tiles = [(str(t) if t not in (None, "") else None) for t in tiles[:n]]
    tiles += [None] * (n - len(tiles))
    return {"layout": name, "tiles": tiles}


class LayoutStore:
    """Named layout states in one JSON file, written atomically (temp file + rename)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            # a damaged file must not take the wall down; keep it aside for inspection
            try:
                self.path.replace(self.path.with_suffix(".damaged.json"))
            except OSError:
                pass
            return {}

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._read().get("layouts", {}))

    def load(self, name: str) -> dict | None:
        with self._lock:
            state = self._read().get("layouts", {}).get(name)
        try:
            return validate_state(state) if state is not None else None
        except ValueError:
            return None

    def save(self, name: str, state: dict) -> None:
        state = validate_state(state)
        with self._lock:
            data = self._read()
            data.setdefault("layouts", {})[name] = state
            self._write(data)

    def delete(self, name: str) -> bool:
        with self._lock:
            data = self._read()
            found = data.get("layouts", {}).pop(name, None) is not None
            if found:
                self._write(data)
            return found

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
