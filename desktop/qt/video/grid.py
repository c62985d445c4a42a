"""The video wall's grid: the layout in use, where each tile sits in the view, the enlarged
tile, and which tile is under a point.

Layouts (1, 4, 9, 16, 25, 36 and the spans 1+5, 1+7, 1+12) and their rectangles come from
:mod:`desktop.core.video.layouts`; this mixin lays them over the view's size, tells the
players the size they convert to once a resize settles, and keeps what is not shown paused.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from desktop.core.video.layouts import get_layout

from .tile import Tile

GAP = 2  # pixels between tiles


class WallGrid:
    """Layout, placement and enlarging of the :class:`~desktop.qt.video.wall.VideoWall`'s tiles
    (a mixin on the wall: it uses the wall's tiles, model, view and players)."""

    _laid_out: bool

    def set_layout(self, name: str) -> None:
        """Switch to layout ``name`` (1, 4, 9, 16, 25, 36, 1+5, 1+7, 1+12). Tiles beyond the
        new count close their players (no thread, connection or frame is kept for a tile
        nobody sees) but keep their cameras: those start again with a larger layout."""
        lay = get_layout(name)
        if lay.name == self.layout_name and self._laid_out:
            return
        self._laid_out = True
        self.model.set_layout(lay.name)
        if self.enlarged is not None and self.enlarged >= lay.count:
            self.enlarged = None
        if self.selected is not None and self.selected >= lay.count:
            self.selected = None
        for t in self.tiles[lay.count:]:
            self._release_player(t)
        self._relayout()
        if self.toolbar is not None:
            self.toolbar.show_layout(lay.name)
        self.layout_changed.emit(lay.name)

    @property
    def layout_name(self) -> str:
        """The layout in use ("4", "1+5", …)."""
        return self.model.layout_name

    @property
    def tile_count(self) -> int:
        """How many tiles the layout in use has."""
        return self.model.tile_count

    def toggle_enlarge(self, index: int) -> None:
        """Double-click: show tile ``index`` over the whole wall on its main stream; again to
        return. The other tiles pause meanwhile."""
        if not 0 <= index < self.tile_count:
            return
        if self.enlarged == index:
            self.enlarged = None
            t = self.tiles[index]
            if t.player is not None:
                t.player.set_force_main(False)
        else:
            if self.tiles[index].streams is None:
                return
            self.enlarged = index
            self.tiles[index].player.set_force_main(True)
            self.select(index)
        self._relayout()

    def tile_at(self, pos: QPoint) -> int | None:
        """The index of the visible tile under ``pos`` (view coordinates)."""
        for t in self._visible_tiles():
            if t.rect.contains(pos):
                return t.index
        return None

    def tile_rect(self, index: int) -> QRect:
        """A tile's rectangle in view coordinates (empty when not visible)."""
        t = self.tiles[index]
        return QRect(t.rect) if t.visible else QRect()

    def _visible_tiles(self) -> list[Tile]:
        return [t for t in self.tiles if t.visible]

    def _relayout(self) -> None:
        """Place tiles for the layout and the view's size; pause what is not shown."""
        if not self.layout_name:
            return
        w, h = max(1, self.view.width()), max(1, self.view.height())
        lay = get_layout(self.layout_name)
        for t in self.tiles:
            t.visible = False
            t.overlay_key = None
        if self.enlarged is not None:
            t = self.tiles[self.enlarged]
            t.rect = QRect(0, 0, w, h)
            t.visible = True
        else:
            for t, (x, y, tw, th) in zip(self.tiles, lay.rects(w, h, GAP)):
                t.rect = QRect(x, y, tw, th)
                t.visible = True
        self._apply_run_state()
        self._resize_timer.start()
        self.view.update()

    def _player_size(self, t: Tile) -> tuple[int, int]:
        """The size, in device pixels, the tile's player converts its pictures to."""
        r = t.rect
        dpr = self.view.devicePixelRatioF() or 1.0
        return max(16, int(r.width() * dpr)), max(16, int(r.height() * dpr))

    def _apply_sizes(self) -> None:
        """After a resize settles: tell players their size (conversion, and main/sub choice)."""
        for t in self.tiles:
            if t.player is not None and t.visible:
                t.player.resize(*self._player_size(t))
