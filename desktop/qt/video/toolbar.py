"""The video wall's toolbar: layout choice, saved layouts, the tour button and Clear.

Only on the operator's wall (``VideoWall(show_toolbar=False)`` on the unattended wall
display). It keeps no state of its own: it calls the wall, and the wall tells it what to show
(:meth:`WallToolbar.show_layout`, :meth:`WallToolbar.show_touring`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu, QToolButton, QWidget

from desktop.core.i18n import tr
from desktop.core.video.layouts import LAYOUT_NAMES

if TYPE_CHECKING:
    from .wall import VideoWall


class WallToolbar(QWidget):
    """The bar above the wall's tiles (see the module docstring)."""

    def __init__(self, wall: "VideoWall"):
        super().__init__(wall)
        self.wall = wall
        self.setObjectName("videoWallToolbar")
        # a QWidget subclass paints its style sheet's background only when asked to
        self.setAttribute(Qt.WA_StyledBackground, True)
        self.setStyleSheet("#videoWallToolbar { background: #0d1217; border-bottom: 1px solid #2a3541; }"
                           "QLabel { color: #8a9bab; }")
        h = QHBoxLayout(self)
        h.setContentsMargins(6, 3, 6, 3)
        h.setSpacing(6)
        h.addWidget(QLabel(tr("Layout")))
        self.layout_box = QComboBox(self)
        for name in LAYOUT_NAMES:
            self.layout_box.addItem(name, name)
        self.layout_box.currentIndexChanged.connect(lambda _i: wall.set_layout(self.layout_box.currentData()))
        h.addWidget(self.layout_box)
        self.saved_btn = QToolButton(self)
        self.saved_btn.setText(tr("Saved layouts…"))
        self.saved_btn.setPopupMode(QToolButton.InstantPopup)
        self.saved_menu = QMenu(self.saved_btn)
        self.saved_menu.aboutToShow.connect(self._fill_saved_menu)
        self.saved_btn.setMenu(self.saved_menu)
        h.addWidget(self.saved_btn)
        self.tour_btn = QToolButton(self)
        self.tour_btn.setText(tr("Tour"))
        self.tour_btn.setCheckable(True)
        self.tour_btn.clicked.connect(self._tour_clicked)
        h.addWidget(self.tour_btn)
        h.addStretch(1)
        close_btn = QToolButton(self)
        close_btn.setText(tr("Clear"))
        close_btn.clicked.connect(wall.close_all)
        h.addWidget(close_btn)

    def show_layout(self, name: str) -> None:
        """Show layout ``name`` as chosen, without choosing it again."""
        i = self.layout_box.findData(name)
        if i >= 0 and i != self.layout_box.currentIndex():
            self.layout_box.blockSignals(True)
            self.layout_box.setCurrentIndex(i)
            self.layout_box.blockSignals(False)

    def show_touring(self, running: bool) -> None:
        """The tour button pressed while a tour runs."""
        self.tour_btn.setChecked(running)

    def _fill_saved_menu(self) -> None:
        wall = self.wall
        m = self.saved_menu
        m.clear()
        save = QAction(tr("Save layout"), m)
        save.triggered.connect(self._ask_save)
        m.addAction(save)
        names = wall.saved_layouts()
        if names:
            m.addSeparator()
            for n in names:
                m.addAction(n, lambda n=n: wall.restore_layout(n))
            m.addSeparator()
            dm = m.addMenu(tr("Delete layout"))
            for n in names:
                dm.addAction(n, lambda n=n: wall.delete_saved_layout(n))

    def _ask_save(self) -> None:
        name, ok = QInputDialog.getText(self.wall, tr("Save layout"), tr("Name"))
        if ok and name.strip():
            self.wall.save_layout_as(name.strip())

    def _tour_clicked(self) -> None:
        """Stop a running tour, or enlarge each open camera in turn."""
        wall = self.wall
        if wall.touring:
            wall.stop_tour()
            return
        if not any(t.streams is not None for t in wall.tiles[:wall.tile_count]):
            wall.notice.emit(tr("Open some cameras first: the tour cycles them"), "info")
            self.show_touring(wall.touring)
            return
        wall.start_enlarge_tour()
