"""Where each region of a wall layout lands on the wall's screens, with bezel compensation (Qt-free).

The screens are given as rectangles of the desktop (``x, y, width, height`` in pixels, as the
windowing system places them). A wall of 3 × 2 monitors has frames between the panels: with
``bezel_px = (bx, by)`` the layout grid is laid over a *virtual* wall in which every step from
one screen column to the next adds ``bx`` pixels (and each row ``by``) that nobody can see. A
map crossing a frame then continues behind it, as a view through a window frame, instead of
jumping; a grid line never has to fall on a frame to look right.

:func:`place_regions` cuts each region into one *piece* per screen it covers: the pixels of
that screen (screen-local) and the part of the region those pixels show (``src``, in the
region's own pixels). A map is drawn piece by piece with the same view, so the picture
continues across frames. Video, ticker and clock regions are not split (a video tile cut by a
frame is useless): they get one piece, on the screen holding most of the region, clipped to it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .layout import WallLayout

__all__ = ["ScreenRect", "Piece", "virtual_screens", "place_regions", "SPLITTABLE"]

SPLITTABLE = ("map",)


@dataclass(frozen=True)
class ScreenRect:
    """One screen of the wall: its name and its rectangle on the desktop."""

    name: str
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Piece:
    """The part of ``region_id`` shown on screen ``screen``.

    ``rect`` is in the screen's pixels (x, y, w, h); ``src`` is the same area in the region's
    own coordinates (its top-left at 0, 0; the region is ``region_size`` pixels big)."""

    region_id: str
    screen: int
    rect: tuple
    src: tuple
    region_size: tuple


def virtual_screens(screens: list[ScreenRect], bezel_px: tuple = (0, 0)) -> list[tuple[int, int, int, int]]:
    """Each screen's rectangle on the virtual wall (bezels inserted between columns and rows)."""
    if not screens:
        return []
    bx, by = int(bezel_px[0]), int(bezel_px[1])
    lefts = sorted({s.x for s in screens})
    tops = sorted({s.y for s in screens})
    x0, y0 = lefts[0], tops[0]
    return [(s.x - x0 + bx * lefts.index(s.x), s.y - y0 + by * tops.index(s.y), s.width, s.height)
            for s in screens]


def _edges(total: int, n: int) -> list[int]:
    return [round(i * total / n) for i in range(n + 1)]


def _intersect(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def place_regions(layout: WallLayout, screens: list[ScreenRect], bezel_px: tuple = (0, 0),
                  gap_px: int = 4) -> list[Piece]:
    """The pieces of every region of ``layout`` on ``screens`` (see the module docstring)."""
    vs = virtual_screens(screens, bezel_px)
    if not vs:
        return []
    width = max(x + w for x, _y, w, _h in vs)
    height = max(y + h for _x, y, _w, h in vs)
    xs, ys = _edges(width, layout.cols), _edges(height, layout.rows)
    half = gap_px // 2
    out: list[Piece] = []
    for reg in layout.regions:
        rx0, ry0 = xs[reg.col] + half, ys[reg.row] + half
        rx1, ry1 = xs[reg.col + reg.colspan] - half, ys[reg.row + reg.rowspan] - half
        rrect = (rx0, ry0, max(1, rx1 - rx0), max(1, ry1 - ry0))
        parts = []
        for i, sv in enumerate(vs):
            cut = _intersect(rrect, sv)
            if cut is not None:
                parts.append((i, sv, cut))
        if not parts:
            continue
        if reg.kind not in SPLITTABLE:
            parts = [max(parts, key=lambda p: p[2][2] * p[2][3])]
            i, sv, cut = parts[0]
            # the whole piece becomes the region: nothing of it is cut off by a frame
            out.append(Piece(reg.id, i, (cut[0] - sv[0], cut[1] - sv[1], cut[2], cut[3]),
                             (0, 0, cut[2], cut[3]), (cut[2], cut[3])))
            continue
        for i, sv, cut in parts:
            out.append(Piece(reg.id, i, (cut[0] - sv[0], cut[1] - sv[1], cut[2], cut[3]),
                             (cut[0] - rrect[0], cut[1] - rrect[1], cut[2], cut[3]), (rrect[2], rrect[3])))
    return out
