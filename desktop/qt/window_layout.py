"""The window's layout between runs: geometry, docks and toolbars, splitters; "Reset layout".

Qt's saveState/restoreState find docks and toolbars by object name, so every dock is named
(``dock-<id>``, by ``MainWindow.add_dock``) and the splitters this module saves too; one
without a name cannot be restored and is named in the log. The layout is kept per mode
(an operator window and a wall display on one PC do not share one) and restored once the
plugins have added their docks. A restored geometry is put back on the screens present now.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QToolBar

from desktop.core.user_settings import LAYOUT_VERSION, clamp_to_screens, layout_key

log = logging.getLogger(__name__)


class WindowLayout(QObject):
    """Saves ``window``'s layout into ``store`` when it closes and restores it; knows the
    layout it had before any restore, for "Reset layout"."""

    def __init__(self, window: QMainWindow, store, mode: str = "operator"):
        super().__init__(window)
        self.window, self.store, self.mode = window, store, mode
        splitter = getattr(window, "splitter", None)
        if isinstance(splitter, QSplitter) and not splitter.objectName():
            splitter.setObjectName("main-splitter")
        self._default_state = window.saveState(LAYOUT_VERSION)
        self._default_splitters = {s.objectName(): s.saveState() for s in self._splitters()}
        self._default_geometry = window.saveGeometry()
        window.installEventFilter(self)
        for w in window.findChildren(QDockWidget) + window.findChildren(QToolBar):
            if not w.objectName():
                log.warning("%s %r has no object name: its place is not kept between runs",
                            type(w).__name__, w.windowTitle())

    def _splitters(self) -> list[QSplitter]:
        return [s for s in self.window.findChildren(QSplitter) if s.objectName()]

    def _key(self, part: str) -> str:
        return layout_key(self.mode, part)

    # -- saving / restoring --------------------------------------------------------------------
    def save(self) -> None:
        self.store.set_value(self._key("geometry"), self.window.saveGeometry())
        self.store.set_value(self._key("state"), self.window.saveState(LAYOUT_VERSION))
        for s in self._splitters():
            self.store.set_value(self._key(f"splitter/{s.objectName()}"), s.saveState())
        self.store.set_value(self._key("version"), LAYOUT_VERSION)
        self.store.sync()

    def restore(self) -> bool:
        """Apply the saved layout; False when there is none (or it is from another version)."""
        try:
            version = int(self.store.value(self._key("version"), 0) or 0)
        except (TypeError, ValueError):
            version = 0
        if version != LAYOUT_VERSION:
            return False
        geometry = self._bytes("geometry")
        if geometry is not None and self.mode != "wall":  # a wall is full screen anyway
            self.window.restoreGeometry(geometry)
            self.clamp()
        state = self._bytes("state")
        if state is not None and not self.window.restoreState(state, LAYOUT_VERSION):
            log.warning("the saved window layout could not be applied; keeping the default")
        for s in self._splitters():
            st = self._bytes(f"splitter/{s.objectName()}")
            if st is not None:
                s.restoreState(st)
        return True

    def _bytes(self, part: str) -> QByteArray | None:
        v = self.store.value(self._key(part))
        if isinstance(v, (bytes, bytearray)):
            v = QByteArray(bytes(v))
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def clamp(self) -> None:
        """Put the window on the screens present now (moved and shrunk as needed)."""
        if self.window.isMaximized() or self.window.isFullScreen():
            return
        screens = [s.availableGeometry() for s in QGuiApplication.screens()]
        g = self.window.geometry()
        x, y, w, h = clamp_to_screens((g.x(), g.y(), g.width(), g.height()),
                                      [(r.x(), r.y(), r.width(), r.height()) for r in screens])
        if (x, y, w, h) != (g.x(), g.y(), g.width(), g.height()):
            log.info("window moved onto the screens present: %s -> %s", (g.x(), g.y(), g.width(), g.height()),
                     (x, y, w, h))
            self.window.setGeometry(QRect(x, y, w, h))

    def reset(self) -> None:
        """Back to the layout the program starts with; the saved one is forgotten."""
        self.window.restoreState(self._default_state, LAYOUT_VERSION)
        for s in self._splitters():
            st = self._default_splitters.get(s.objectName())
            if st is not None:
                s.restoreState(st)
        if not self.window.isFullScreen():
            self.window.showNormal()
            self.window.restoreGeometry(self._default_geometry)
            self.clamp()
        self.store.remove(f"layout/{self.mode}")
        self.store.sync()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt)
        if obj is self.window and event.type() == QEvent.Close:
            try:
                self.save()
            except Exception:  # noqa: BLE001 - a full disk must not keep the window open
                log.exception("the window layout could not be saved")
        return False
