"""Painting the video wall: every visible tile in one pass — picture, overlay, clock, outlines.

One QPainter per display frame for the whole wall, not one paint event per tile and frame.
A tile's picture was already converted to its size in the worker, so a frame costs one
``drawImage``; the overlay is the tile's cached image (:meth:`Tile.render_overlay`), blended
only where it has paint, and the clock one shared image per second (:func:`clock_image`).
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from .tile import ACCENT, EMPTY_BG, TILE_BG, Tile, clock_image

WALL_BG = QColor("#030507")


def paint_wall(p: QPainter, clip: QRect, tiles: list[Tile], selected: int | None,
               drop_target: int | None, font_scale: float) -> int:
    """Paint the ``tiles`` that are visible and meet ``clip``, the ``selected`` one framed and
    the ``drop_target`` one outlined dashed. Returns how many video pictures were painted."""
    painted = 0
    p.fillRect(clip, WALL_BG)
    for t in tiles:
        if not t.visible or not t.rect.intersects(clip):
            continue
        r = t.rect
        if t.qimage is not None:
            ir = t.image_rect()
            if ir != r:
                p.fillRect(r, TILE_BG)
            if ir.size() == t.qimage.size():
                p.drawImage(ir.topLeft(), t.qimage)
            else:
                # the worker has not caught up with a resize yet: scale this once
                p.drawImage(ir, t.qimage)
            painted += 1
        else:
            p.fillRect(r, TILE_BG if t.streams is not None else EMPTY_BG)
        ov = t.render_overlay(False, font_scale)
        if ov is not None:
            for part in t.overlay_parts:
                p.drawImage(r.topLeft() + part.topLeft(), ov, part)
            if t.clock_rect is not None and t.frame_clock:
                px, small, _pad = t.fonts(font_scale)
                cr = t.clock_rect
                ck = clock_image(t.frame_clock, small, cr.height())
                p.drawImage(r.left() + cr.right() + 1 - ck.width(), r.top() + cr.top(), ck)
        if selected == t.index:
            _outline(p, r, Qt.SolidLine)
        if drop_target == t.index:
            _outline(p, r, Qt.DashLine)
    return painted


def _outline(p: QPainter, r: QRect, style: Qt.PenStyle) -> None:
    """A 3 px accent frame just inside the tile's rectangle."""
    pen = QPen(ACCENT)
    pen.setWidth(3)
    pen.setStyle(style)
    p.setPen(pen)
    p.setBrush(Qt.NoBrush)
    p.drawRect(r.adjusted(1, 1, -2, -2))
