"""The surface the video wall paints on and takes input from: mouse, keys, context menu, drops.

:class:`WallView` is the one child widget under the wall's toolbar. It holds no state of the
wall: it turns Qt's events into calls on its :class:`~desktop.qt.video.wall.VideoWall` (a
press selects the tile under the cursor, a drag from a tile or a drop onto one goes to the
wall's drag-and-drop handling in :mod:`desktop.qt.video.dragdrop`, painting to
:mod:`desktop.qt.video.paint`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from desktop.core.i18n import tr

from .dragdrop import CAMERA_MIME

if TYPE_CHECKING:
    from .wall import VideoWall


class WallView(QWidget):
    """The painting and input surface of the wall; what the wall does is in :class:`VideoWall`."""

    def __init__(self, wall: "VideoWall"):
        super().__init__(wall)
        self.wall = wall
        self._press: tuple[QPoint, int] | None = None  # where a left press on a camera began, and its tile
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumSize(160, 90)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(960, 540)

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            self.wall._paint(p, e.rect())
        finally:
            p.end()

    def resizeEvent(self, e) -> None:  # noqa: N802
        self.wall._relayout()

    # -- mouse and keys ---------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        wall = self.wall
        idx = wall.tile_at(e.position().toPoint())
        if idx is None:
            return
        wall.select(idx)
        self.setFocus()
        if e.button() == Qt.LeftButton and wall.tiles[idx].streams is not None:
            self._press = (e.position().toPoint(), idx)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        if self._press is None or not (e.buttons() & Qt.LeftButton):
            return
        start, idx = self._press
        if (e.position().toPoint() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        self.wall._start_drag(idx)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._press = None

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        idx = self.wall.tile_at(e.position().toPoint())
        if idx is not None and e.button() == Qt.LeftButton:
            self.wall.toggle_enlarge(idx)

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        wall = self.wall
        if e.key() == Qt.Key_Escape and wall.enlarged is not None:
            wall.toggle_enlarge(wall.enlarged)
        elif e.key() in (Qt.Key_Delete, Qt.Key_Backspace) and wall.selected is not None:
            wall.close_tile(wall.selected)
        elif e.key() in (Qt.Key_Return, Qt.Key_Enter) and wall.selected is not None:
            wall.toggle_enlarge(wall.selected)

    def contextMenuEvent(self, e) -> None:  # noqa: N802
        wall = self.wall
        idx = wall.tile_at(e.pos())
        if idx is None:
            return
        wall.select(idx)
        t = wall.tiles[idx]
        menu = QMenu(wall)
        if t.streams is not None:
            menu.addAction(tr("Enlarge / restore"), lambda: wall.toggle_enlarge(idx))

            def snap():
                path = wall.snapshot(idx)
                if path is not None:
                    wall.notice.emit(tr("Snapshot saved: {path}", path=str(path)), "info")
            menu.addAction(tr("Snapshot"), snap)
            menu.addSeparator()
            menu.addAction(tr("Close"), lambda: wall.close_tile(idx))
        menu.addAction(tr("Clear"), wall.close_all)
        menu.exec(e.globalPos())

    # -- drops ------------------------------------------------------------------------------
    def _drag_over(self, e) -> None:
        """A drag entering or moving: cameras are welcome, the tile under the cursor outlined."""
        if e.mimeData().hasFormat(CAMERA_MIME):
            e.acceptProposedAction()
            self.wall._set_drop_target(self.wall.tile_at(e.position().toPoint()))
        else:
            e.ignore()

    def dragEnterEvent(self, e) -> None:  # noqa: N802
        self._drag_over(e)

    def dragMoveEvent(self, e) -> None:  # noqa: N802
        self._drag_over(e)

    def dragLeaveEvent(self, e) -> None:  # noqa: N802
        self.wall._set_drop_target(None)

    def dropEvent(self, e) -> None:  # noqa: N802
        self.wall._set_drop_target(None)
        if not e.mimeData().hasFormat(CAMERA_MIME):
            e.ignore()
            return
        if self.wall.handle_drop(bytes(e.mimeData().data(CAMERA_MIME)), e.position().toPoint()):
            e.acceptProposedAction()
        else:
            e.ignore()
