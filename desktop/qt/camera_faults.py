"""Camera faults where the operator looks: map icons, a "Faulty cameras" dock, the online rate.

:func:`watch_cameras` wires a :class:`~desktop.core.camera_health.CameraHealth` into a main
window: the camera layers take their icons' states from it, the video wall's tiles report
what their decoders find (a camera the wall cannot reach goes offline on the map too), the
status bar shows the share of cameras online against the field's 98 % target, and a dock
lists the cameras out of service with since when (the district's local time) and why. The
states are polled once a second: the feed mirrors the platform's reports in a dict, and one
version check per second costs nothing when nothing changed.
"""
from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDockWidget, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView,
                               QVBoxLayout, QWidget)

from desktop.core.camera_health import ONLINE_TARGET, CameraFault, CameraHealth
from desktop.core.geo.crs import mercator_scale
from desktop.core.i18n import tr
from desktop.core.localtime import format_duration, format_local
from desktop.qt.map.camera_layer import CameraLayer
from desktop.qt.theme import TEXT_DIM

__all__ = ["FaultyCamerasModel", "FaultyCamerasPanel", "CameraWatcher", "watch_cameras", "rate_text"]

OK_COLOUR, WARN_COLOUR, BAD_COLOUR = "#81c784", "#ffca28", "#ff6e6e"
STATE_COLOURS = {"offline": "#b0bac4", "fault": "#ff6e6e"}


def rate_text(health: CameraHealth) -> tuple[str, str, str]:
    """(status-bar text, colour, tooltip) of the online rate."""
    c = health.counts()
    rate = health.online_rate()
    text = tr("Cameras online {rate:.1f} % (target {target:.0f} %)", rate=100 * rate, target=100 * ONLINE_TARGET)
    colour = OK_COLOUR if rate >= ONLINE_TARGET else WARN_COLOUR if rate >= ONLINE_TARGET - 0.03 else BAD_COLOUR
    tip = tr("{online} online, {offline} offline, {fault} faulty of {total} cameras", **c)
    return text, colour, tip


class FaultyCamerasModel(QAbstractTableModel):
    """Rows: the cameras out of service, the longest first."""

    HEADERS = ("Camera", "Name", "State", "Since", "For", "Reason", "Seen by")

    def __init__(self, names: dict[str, str], now: Callable[[], float] = time.time):
        super().__init__()
        self.rows: list[CameraFault] = []
        self.names = names
        self.now = now

    def set_rows(self, rows: list[CameraFault]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt)
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 (Qt)
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return tr(self.HEADERS[section])
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        f = self.rows[index.row()]
        col = index.column()
        if role == Qt.DisplayRole:
            now = self.now()
            return (f.camera_id, self.names.get(f.camera_id, ""), tr(f.status), format_local(f.since, now=now),
                    format_duration(now - f.since), f.reason,
                    tr("video wall") if f.source == "video" else tr("status feed"))[col]
        if role == Qt.ForegroundRole and col == 2:
            return QColor(STATE_COLOURS.get(f.status, "#ffffff"))
        if role == Qt.ToolTipRole:
            return f"{f.camera_id}: {tr(f.status)} · {f.reason}" if f.reason else None
        return None


class FaultyCamerasPanel(QWidget):
    """The "Faulty cameras" dock: a summary line, the list, and buttons to show or open one."""

    def __init__(self, health: CameraHealth, names: dict[str, str], now: Callable[[], float] = time.time):
        super().__init__()
        self.health = health
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.model = FaultyCamerasModel(names, now)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.setSelectionMode(QTableView.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setEditTriggers(QTableView.NoEditTriggers)
        head = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        for col, sample in enumerate(("C370202-00000", "某某路与某某路口东北", "offline", "12-01 00:00:00",
                                      "00 h 00 min", "", "video wall")):
            if sample:
                head.resizeSection(col, fm.horizontalAdvance(max(sample, tr(sample), key=len)) + 18)
        head.setSectionResizeMode(5, QHeaderView.Stretch)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.show_btn = QPushButton(tr("Show on map"))
        self.open_btn = QPushButton(tr("Open on wall"))
        row.addWidget(self.show_btn)
        row.addWidget(self.open_btn)
        row.addStretch(1)
        lay.addLayout(row)
        self._version = -1
        self.refresh(force=True)

    def selected_camera(self) -> str:
        idx = self.table.currentIndex()
        return self.model.rows[idx.row()].camera_id if idx.isValid() and idx.row() < len(self.model.rows) else ""

    def refresh(self, force: bool = False) -> None:
        """The list when a state changed (the selection kept); the "For" column always ages."""
        if force or self.health.version != self._version:
            self._version = self.health.version
            keep = self.selected_camera()
            self.model.set_rows(self.health.faulty())
            for r, f in enumerate(self.model.rows):
                if f.camera_id == keep:
                    self.table.selectRow(r)
                    break
        elif self.model.rows:
            top, bottom = self.model.index(0, 4), self.model.index(len(self.model.rows) - 1, 4)
            self.model.dataChanged.emit(top, bottom, [Qt.DisplayRole])
        c = self.health.counts()
        text, colour, _ = rate_text(self.health)
        n = c["offline"] + c["fault"]
        self.summary.setText(tr("{n} cameras out of service ({offline} offline, {fault} faulty) · {rate}",
                                n=n, offline=c["offline"], fault=c["fault"], rate=text) if n
                             else tr("All {total} cameras online", total=c["total"]))
        style = f"color: {colour if n else TEXT_DIM}; font-weight: bold;"
        if self.summary.styleSheet() != style:  # re-polishes: only on change
            self.summary.setStyleSheet(style)


class CameraWatcher(QObject):
    """Keeps a window's camera icons, faulty list and online rate in step with ``health``."""

    POLL_MS = 1000
    STREET_MPP = 1.0  # ground metres per pixel, at most, when a faulty camera is shown on the map

    def __init__(self, window, health: CameraHealth, now: Callable[[], float] = time.time):
        super().__init__(window)
        self.window = window
        self.health = health
        self.layers = [l for l in window.layers if isinstance(l, CameraLayer)]
        for layer in self.layers:
            layer.set_health(health)
        names = {str(c.id): c.name for c in window.district.cameras.records}
        self.panel = FaultyCamerasPanel(health, names, now)
        self.panel.show_btn.clicked.connect(self.show_selected)
        self.panel.table.doubleClicked.connect(lambda *_: self.show_selected())
        self.panel.open_btn.clicked.connect(self.open_selected)
        self.dock = window.add_dock("faulty_cameras", tr("Faulty cameras"), self.panel, Qt.LeftDockWidgetArea)
        # a tab beside the details (the full height for the list; its title counts the faults,
        # and a click on the rate in the status bar brings it forward)
        details = window.findChild(QDockWidget, "dock-details")
        if details is not None:
            window.tabifyDockWidget(details, self.dock)
            details.raise_()
        self.label = QLabel("")
        self.label.setCursor(Qt.PointingHandCursor)
        self.label.mousePressEvent = lambda _e: (self.dock.show(), self.dock.raise_())
        self._place_label()
        wall = getattr(window, "wall", None)
        if wall is not None and hasattr(wall, "tile_state_changed"):
            wall.tile_state_changed.connect(self._tile_state)
        self.timer = QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.poll()

    def _place_label(self) -> None:
        """The rate sits just left of the camera count (a health figure beside the feed's state),
        whatever else the status bar holds."""
        sb = self.window.statusBar()
        count = getattr(self.window, "count_label", None)
        widgets = [w for w in sb.findChildren(QWidget) if w.parent() is sb and w.isVisibleTo(sb)]
        widgets.sort(key=lambda w: w.x())
        idx = next((i for i, w in enumerate(widgets) if w is count), -1)
        if idx >= 0:
            sb.insertPermanentWidget(idx, self.label)
        else:
            sb.addPermanentWidget(self.label)

    def _tile_state(self, index: int, camera_id: str, state: str) -> None:
        wall = self.window.wall
        detail = ""
        try:
            detail = wall.tiles[index].detail or ""
        except (AttributeError, IndexError):
            pass
        if self.health.report_video(camera_id, state, detail):
            self.poll()

    def poll(self) -> None:
        """Pull the feed's reports; when anything changed, the icons and the list follow."""
        self.health.refresh()
        for layer in self.layers:
            layer.sync_states()
        self.panel.refresh()
        down = len(self.panel.model.rows)
        title = tr("Faulty cameras ({n})", n=down) if down else tr("Faulty cameras")
        if self.dock.windowTitle() != title:
            self.dock.setWindowTitle(title)
        text, colour, tip = rate_text(self.health)
        if self.label.text() != f"◉ {text}" or self.label.toolTip() != tip:
            self.label.setText(f"◉ {text}")
            self.label.setToolTip(tip)
        style = f"color: {colour};" + (" font-weight: bold;" if colour != OK_COLOUR else "")
        if self.label.styleSheet() != style:  # a style change re-polishes the label: only on change
            self.label.setStyleSheet(style)

    def show_selected(self) -> None:
        cid = self.panel.selected_camera()
        if not cid:
            return
        for layer in self.layers:
            rows = [k for k, r in enumerate(layer.rows) if str(layer.table.records[int(r)].id) == cid]
            if rows:
                k = rows[0]
                x, y = float(layer.x[k]), float(layer.y[k])
                lat = float(layer.table.lat_wgs[int(layer.rows[k])])
                # street level (a metre a pixel at most): the camera stands out of any bubble
                self.window.canvas.center_on(x, y, min_scale=mercator_scale(lat) / self.STREET_MPP)
                self.window.canvas.select(layer.hit_test(x, y, self.window.canvas.vp))
                return

    def open_selected(self) -> None:
        cid = self.panel.selected_camera()
        if cid:
            self.window.open_camera_ids(cid)


def watch_cameras(window, health: CameraHealth, now: Callable[[], float] = time.time) -> CameraWatcher:
    """Show ``health`` in ``window`` (icons, faulty dock, online rate, wall reports); see the module."""
    watcher = CameraWatcher(window, health, now)
    window.camera_watcher = watcher
    return watcher
