"""Video wall layouts as grid cells (no Qt): equal grids and the big-tile spans operators use."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """A tile's place on an ``n``×``n`` grid: column, row, and how many columns/rows it spans."""

    col: int
    row: int
    cols: int = 1
    rows: int = 1


def _grid(n: int) -> tuple[int, list[Cell]]:
    return n, [Cell(c, r) for r in range(n) for c in range(n)]


def _big_plus(n: int, big: int, at: tuple[int, int] = (0, 0)) -> tuple[int, list[Cell]]:
    """One ``big``×``big`` tile at ``at`` and singles filling the rest of an n×n grid."""
    bc, br = at
    cells = [Cell(bc, br, big, big)]
    for r in range(n):
        for c in range(n):
            if not (bc <= c < bc + big and br <= r < br + big):
                cells.append(Cell(c, r))
    return n, cells


LAYOUTS: dict[str, tuple[int, list[Cell]]] = {
    "1": _grid(1), "4": _grid(2), "9": _grid(3), "16": _grid(4), "25": _grid(5), "36": _grid(6),
    "1+5": _big_plus(3, 2),
    "1+7": _big_plus(4, 3),
    "1+12": _big_plus(4, 2, (1, 1)),
}


def layout_cells(name: str) -> tuple[int, list[Cell]]:
    """(grid size, cells) of a layout; raises KeyError naming the layout when unknown."""
    if name not in LAYOUTS:
        raise KeyError(f"unknown wall layout {name!r}; known: {', '.join(LAYOUTS)}")
    return LAYOUTS[name]
