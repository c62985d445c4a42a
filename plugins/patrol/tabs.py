"""The patrol panel's widgets: four tabs (units, post visits, dispatch, replay), wired to the
plugin's methods (:class:`~.panel.PatrolPlugin`) through the host's guard."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPushButton, QSlider, QStyle, QTabWidget, QVBoxLayout, QWidget)

from desktop.sdk import tr

from .core import SPEEDS, state_label
from .map_layers import kind_label
from .table import _table

if TYPE_CHECKING:
    from .panel import PatrolPlugin

STATE_COLORS = {"on_time": "#66bb6a", "early": "#4fc3f7", "late": "#ffa726", "missed": "#ef5350",
                "open": "#fff176", "upcoming": "#9e9e9e"}


class PatrolPanel(QTabWidget):
    """Four tabs: units, post visits, dispatch, replay."""

    def __init__(self, plugin: "PatrolPlugin"):
        super().__init__()
        g = plugin.host.guard
        # --- units
        units = QWidget()
        lay = QVBoxLayout(units)
        row = QHBoxLayout()
        self.kind_filter = QComboBox()
        self.kind_filter.addItem(tr("All kinds"), None)
        for k in ("car", "ebike", "foot", "boat"):
            self.kind_filter.addItem(kind_label(k), k)
        self.link_filter = QComboBox()
        self.link_filter.addItem(tr("Any state"), None)
        for s in ("live", "stale", "offline"):
            self.link_filter.addItem(state_label(s), s)
        self.busy_only = QCheckBox(tr("Busy only"))
        self.coverage = QCheckBox(tr("Segment coverage"))
        self.coverage.setToolTip(tr("Show on the map which parts of each patrol segment were driven "
                                    "in the last {m} minutes", m=plugin.coverage_min))
        self.coverage.toggled.connect(g(lambda on: plugin.show_coverage(on), "coverage"))
        self.coverage_summary = QLabel("")
        for w in (self.kind_filter, self.link_filter):
            w.currentIndexChanged.connect(g(lambda *_: plugin.refresh_units(), "unit filter"))
        self.busy_only.toggled.connect(g(lambda *_: plugin.refresh_units(), "unit filter"))
        self.units_summary = QLabel("")
        for w in (self.kind_filter, self.link_filter, self.busy_only, self.coverage):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.units_summary)
        lay.addLayout(row)
        lay.addWidget(self.coverage_summary)
        self.units = _table([tr("Unit"), tr("Kind"), tr("State"), tr("km/h"), tr("Last fix"), tr("Segment"),
                             tr("Alarm")])
        self.units.clicked.connect(g(lambda idx: plugin.focus_unit(self.units.model().rows[idx.row()][0]),
                                     "unit click"))
        lay.addWidget(self.units)
        self.addTab(units, tr("Units"))
        # --- visits
        visits = QWidget()
        lay = QVBoxLayout(visits)
        row = QHBoxLayout()
        self.visit_state = QComboBox()
        self.visit_state.addItem(tr("All visits"), None)
        for s in ("on_time", "early", "late", "missed", "open", "upcoming"):
            self.visit_state.addItem(state_label(s), s)
        self.visit_text = QLineEdit()
        self.visit_text.setPlaceholderText(tr("Post…"))
        self.visit_state.currentIndexChanged.connect(g(lambda *_: plugin.refresh_visits_view(), "visit filter"))
        self.visit_text.textChanged.connect(g(lambda *_: plugin.refresh_visits_view(), "visit filter"))
        self.visit_summary = QLabel("")
        row.addWidget(self.visit_state)
        row.addWidget(self.visit_text, 1)
        row.addWidget(self.visit_summary)
        lay.addLayout(row)
        self.visits = _table([tr("Post"), tr("Scheduled"), tr("Window"), tr("Checked in"), tr("Unit"), tr("State")],
                             colors={5: {state_label(k): c for k, c in STATE_COLORS.items()}})
        self.visits.setColumnWidth(0, 220)  # post names are long ("四川路·江苏路 岗亭 (P370202-09)")
        self.visits.doubleClicked.connect(g(lambda idx: plugin.focus_visit(idx.row()), "visit click"))
        lay.addWidget(self.visits)
        self.addTab(visits, tr("Post visits"))
        # --- dispatch
        disp = QWidget()
        lay = QVBoxLayout(disp)
        self.alarm_label = QLabel(tr("Select an alarm on the map or in the alarm queue"))
        self.alarm_label.setWordWrap(True)
        lay.addWidget(self.alarm_label)
        self.ranking = QListWidget()
        self.ranking.currentRowChanged.connect(g(lambda r: plugin.show_route(r), "ranking choice"))
        lay.addWidget(self.ranking, 1)
        self.explain = QLabel("")
        self.explain.setWordWrap(True)
        lay.addWidget(self.explain)
        self.dispatch_btn = QPushButton(tr("Dispatch selected unit"))
        self.dispatch_btn.clicked.connect(g(lambda *_: plugin.dispatch_selected(), "dispatch"))
        lay.addWidget(self.dispatch_btn)
        self.addTab(disp, tr("Dispatch"))
        # --- replay
        rep = QWidget()
        lay = QVBoxLayout(rep)
        row = QHBoxLayout()
        self.replay_units = QListWidget()
        self.replay_units.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.replay_units.setMaximumHeight(110)
        row.addWidget(self.replay_units, 1)
        col = QVBoxLayout()
        self.span = QComboBox()
        for label, hours in ((tr("Last hour"), 1), (tr("Last 4 hours"), 4), (tr("Last 24 hours"), 24)):
            self.span.addItem(label, hours)
        self.load_btn = QPushButton(tr("Load replay"))
        self.load_btn.clicked.connect(g(lambda *_: plugin.load_replay(), "load replay"))
        self.close_btn = QPushButton(tr("Close replay"))
        self.close_btn.clicked.connect(g(lambda *_: plugin.close_replay(), "close replay"))
        for w in (self.span, self.load_btn, self.close_btn):
            col.addWidget(w)
        row.addLayout(col)
        lay.addLayout(row)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, 10000)
        self.slider.sliderMoved.connect(g(lambda v: plugin.seek_fraction(v / 10000.0), "replay seek"))
        lay.addWidget(self.slider)
        row = QHBoxLayout()
        style = self.style()
        self.icon_play = style.standardIcon(QStyle.SP_MediaPlay)
        self.icon_pause = style.standardIcon(QStyle.SP_MediaPause)
        self.back_btn = QPushButton(style.standardIcon(QStyle.SP_MediaSeekBackward), "")
        self.play_btn = QPushButton(self.icon_play, "")
        self.fwd_btn = QPushButton(style.standardIcon(QStyle.SP_MediaSeekForward), "")
        self.back_btn.setToolTip(tr("Step back"))
        self.fwd_btn.setToolTip(tr("Step forward"))
        self.play_btn.setToolTip(tr("Play / pause"))
        self.back_btn.clicked.connect(g(lambda *_: plugin.step(-1), "replay step"))
        self.fwd_btn.clicked.connect(g(lambda *_: plugin.step(1), "replay step"))
        self.play_btn.clicked.connect(g(lambda *_: plugin.toggle_play(), "replay play"))
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s}×", s)
        self.speed.setCurrentIndex(SPEEDS.index(60))
        self.speed.currentIndexChanged.connect(g(lambda *_: plugin.set_speed(self.speed.currentData()), "speed"))
        self.follow = QComboBox()
        self.follow.addItem(tr("Follow no unit"), "")
        self.follow.currentIndexChanged.connect(g(lambda *_: plugin.set_follow(self.follow.currentData()), "follow"))
        self.replay_time = QLabel("—")
        self.replay_time.setStyleSheet("font-weight: bold; font-size: 15px;")
        for w in (self.back_btn, self.play_btn, self.fwd_btn, self.speed, self.follow):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.replay_time)
        lay.addLayout(row)
        self.stops = _table([tr("Unit"), tr("Arrived"), tr("Left"), tr("Stayed")])
        self.stops.doubleClicked.connect(g(lambda idx: plugin.seek_stop(idx.row()), "stop click"))
        lay.addWidget(self.stops, 1)
        self.replay_status = QLabel(tr("Pick units (none: all) and a span, then Load replay"))
        lay.addWidget(self.replay_status)
        self.addTab(rep, tr("Replay"))
        self.set_replay_enabled(False)

    def show_playing(self, playing: bool) -> None:
        self.play_btn.setIcon(self.icon_pause if playing else self.icon_play)

    def set_replay_enabled(self, on: bool) -> None:
        for w in (self.slider, self.back_btn, self.play_btn, self.fwd_btn, self.close_btn):
            w.setEnabled(on)
