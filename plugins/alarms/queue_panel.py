"""The alarm panel's widgets: the filter bar (filters, search, sound controls, counters), the
queue table, and the details of the selected alarm with its history, the nearest units, the
note and the workflow buttons.

:class:`AlarmPanel` only lays the widgets out and wires them to its plugin
(:class:`~.panel.AlarmsPlugin`), which fills them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QMenu, QPushButton, QSlider, QSplitter, QTableView, QToolButton, QVBoxLayout,
                               QWidget)

from desktop.sdk import ALARM_TYPES, AlarmState, tr, type_label

from .core import Filters
from .table import AlarmTableModel

if TYPE_CHECKING:
    from .panel import AlarmsPlugin


class AlarmPanel(QWidget):
    """Queue with filters, details with history, nearest units, workflow buttons with a note."""

    def __init__(self, plugin: "AlarmsPlugin"):
        super().__init__()
        self.plugin = plugin
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        filters = QHBoxLayout()
        self.type_box = QComboBox()
        self.state_box = QComboBox()
        self.sub_box = QComboBox()
        self.open_only = QCheckBox(tr("Open only"))
        self.open_only.setChecked(True)
        self.auto_centre = QCheckBox(tr("Auto-centre"))
        self.auto_centre.setChecked(True)
        self.mute = QCheckBox(tr("Mute"))
        self.type_box.addItem(tr("All types"), None)
        for t in ALARM_TYPES:
            self.type_box.addItem(type_label(t), t)
        self.state_box.addItem(tr("All states"), None)
        for s in AlarmState:
            self.state_box.addItem(s.label, str(s))
        self.sub_box.addItem(tr("All sub-districts"), None)
        for s in plugin.subdistricts:
            self.sub_box.addItem(s, s)
        # connected once filled, and through the host's guard like every plugin callback
        refresh = plugin.host.guard(plugin.refresh_queue, "filter change")
        for box in (self.type_box, self.state_box, self.sub_box):
            box.currentIndexChanged.connect(refresh)
        self.open_only.toggled.connect(refresh)
        self.search = QLineEdit()
        self.search.setPlaceholderText(tr("Search id, source, text…"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance(self.search.placeholderText()) + 40)
        self.search.textChanged.connect(refresh)
        self.mute.toggled.connect(lambda on: setattr(plugin.sound, "enabled", not on))
        # the alarm sound's volume and a test of the sound device (a click: priority 1; the
        # menu: any priority)
        self.volume = QSlider(Qt.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(90)
        self.volume.setToolTip(tr("Alarm sound volume"))
        self.volume.valueChanged.connect(lambda v: (setattr(plugin.sound, "volume", v / 100.0),
                                                    self.volume.setToolTip(tr("Alarm sound volume: {v} %", v=v))))
        self.test_sound = QToolButton()
        self.test_sound.setText(tr("Test sound"))
        self.test_sound.setPopupMode(QToolButton.MenuButtonPopup)
        menu = QMenu(self.test_sound)
        for p in (1, 2, 3, 4):
            menu.addAction(tr("Priority {p} sound", p=p), plugin.host.guard(lambda p=p: plugin.test_sound(p),
                                                                            "test sound"))
        self.test_sound.setMenu(menu)
        self.test_sound.clicked.connect(plugin.host.guard(lambda *_: plugin.test_sound(1), "test sound"))
        self.no_device = QLabel(tr("🔇 no sound device"))  # shown while the device cannot play
        self.no_device.setStyleSheet("color: #ff5252; font-weight: bold;")
        self.no_device.setVisible(False)
        for w in (self.search, self.type_box, self.state_box, self.sub_box, self.open_only, self.auto_centre,
                  self.mute, self.volume, self.test_sound, self.no_device):
            filters.addWidget(w)
        filters.addStretch(1)
        self.overdue = QLabel("")  # urgent alarms nobody acknowledged in time
        self.overdue.setStyleSheet("color: #ff5252; font-weight: bold;")
        self.overdue.setVisible(False)
        filters.addWidget(self.overdue)
        self.counters = QLabel("")
        filters.addWidget(self.counters)
        self.rejected_btn = QPushButton(tr("Rejected…"))  # what was refused, and why
        self.rejected_btn.setVisible(False)
        self.rejected_btn.clicked.connect(plugin.host.guard(lambda *_: plugin.show_rejections(), "rejected messages"))
        filters.addWidget(self.rejected_btn)
        lay.addLayout(filters)

        split = QSplitter(Qt.Horizontal)
        self.model = AlarmTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.setSelectionMode(QTableView.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self._size_columns()
        self.table.setEditTriggers(QTableView.NoEditTriggers)
        # a click shows the alarm (the map moves only if it is off-screen); a double-click
        # takes the map to it at street level and opens its cameras
        self.table.clicked.connect(plugin.host.guard(lambda idx: plugin.show(self.model.rows[idx.row()].id),
                                                     "queue click"))
        self.table.doubleClicked.connect(plugin.host.guard(lambda idx: plugin.focus(self.model.rows[idx.row()].id),
                                                           "queue double-click"))
        split.addWidget(self.table)

        details = QWidget()
        dl = QVBoxLayout(details)
        dl.setContentsMargins(6, 0, 0, 0)
        self.title = QLabel(tr("No alarm selected"))
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 13pt;")
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.history = QListWidget()
        self.units = QListWidget()
        self.history.setMinimumHeight(48)
        # the three units offered fit without scrolling
        self.units.setMinimumHeight(3 * (self.units.fontMetrics().height() + 4) + 8)
        # a unit the map does not know (no GPS, called by radio) can still be dispatched by name
        self.unit_entry = QLineEdit()
        self.unit_entry.setPlaceholderText(tr("Other unit (call sign)"))
        self.note = QLineEdit()
        self.note.setPlaceholderText(tr("Note for the journal (optional)"))
        buttons = QHBoxLayout()
        self.btn = {}
        for state, label, key in ((AlarmState.ACKNOWLEDGED, "Acknowledge", "F2"), (AlarmState.DISPATCHED, "Dispatch", "F4"),
                                  (AlarmState.RESOLVED, "Resolve", "F6"), (AlarmState.FALSE_ALARM, "False alarm", "F8")):
            b = QPushButton(f"{tr(label)} ({key})")
            b.clicked.connect(plugin.host.guard(lambda _=False, s=state: plugin.move_selected(s), "workflow button"))
            self.btn[state] = b
            buttons.addWidget(b)
        self.cams_btn = QPushButton(tr("Open linked cameras"))
        self.cams_btn.clicked.connect(plugin.host.guard(lambda *_: plugin.open_selected_cameras(), "open cameras"))
        buttons.addWidget(self.cams_btn)
        lists = QHBoxLayout()
        for label, w, extra in ((tr("Nearest free patrol units"), self.units, self.unit_entry),
                                (tr("History"), self.history, None)):
            col = QVBoxLayout()
            col.addWidget(QLabel(label))
            col.addWidget(w, 1)
            if extra is not None:
                col.addWidget(extra)
            lists.addLayout(col, 1)
        dl.addWidget(self.title)
        dl.addWidget(self.info)
        dl.addLayout(lists, 1)
        dl.addWidget(self.note)
        dl.addLayout(buttons)
        split.addWidget(details)
        split.setSizes([640, 560])
        lay.addWidget(split, 1)

    def _size_columns(self) -> None:
        """Widths from the longest label each column can show; the text column takes the rest."""
        fm = self.table.fontMetrics()
        pad = 18
        longest = {
            0: ["P", "4"], 1: [type_label(t) for t in ALARM_TYPES], 2: [s.label for s in AlarmState],
            3: ["00:00:00"], 4: [s for s in self.plugin.subdistricts] or ["Sub-district"], 5: ["×", "999"],
            6: ["C370202-00000"],  # camera ids and device serials are about this long
        }
        head = self.table.horizontalHeader()
        for col, texts in longest.items():
            texts = list(texts) + [tr(AlarmTableModel.HEADERS[col])]
            width = max(fm.horizontalAdvance(t) for t in texts) + pad
            head.resizeSection(col, min(width, 360))
        head.setSectionResizeMode(7, QHeaderView.Stretch)

    def filters(self) -> Filters:
        return Filters(type=self.type_box.currentData(), state=self.state_box.currentData(),
                       subdistrict=self.sub_box.currentData(), open_only=self.open_only.isChecked(),
                       text=self.search.text())
