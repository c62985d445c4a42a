"""The patrol panel plugin (Qt): units on the map and in a list, post visits, dispatch, replay.

Talks only to the SDK. Live positions come from the ``alarms`` stream (the service's patrol
events, coalesced per unit and frame); unit states (stale, offline, busy, segment), visits
and the dispatch ranking from the ``patrol`` service, read off the GUI thread (live they
are answered by the feed process). A replay loads tracks from the patrol journal in the
background and then runs on a frame timer.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSlider, QStyle, QTableView,
                               QTabWidget, QVBoxLayout, QWidget)

from desktop.sdk import AlarmState, EventKind, IllegalTransition, Plugin, tr

from .core import SPEEDS, UnitFilter, VisitFilter, clock, state_label, unit_rows, visit_rows, visit_summary
from .map_layers import CoverageLayer, ReplayLayer, RouteLayer, UnitLayer, kind_label

HERE = Path(__file__).resolve().parent
STATE_COLORS = {"on_time": "#66bb6a", "early": "#4fc3f7", "late": "#ffa726", "missed": "#ef5350",
                "open": "#fff176", "upcoming": "#9e9e9e"}


class RowsModel(QAbstractTableModel):
    """Rows of text for a table view, replaced whole (cheap: the view asks only for what it shows,
    so 500 units refreshed each second cost the visible rows, not 3,500 widget items)."""

    def __init__(self, columns: list[str], colors: dict[int, dict] | None = None):
        super().__init__()
        self.columns = columns
        self.colors = colors or {}
        self.rows: list[tuple] = []

    def set_rows(self, rows: list[tuple]) -> None:
        if len(rows) == len(self.rows):
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt)
        return len(self.columns)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.DisplayRole:
            return str(value)
        if role == Qt.ForegroundRole and index.column() in self.colors:
            color = self.colors[index.column()].get(value)
            return QColor(color) if color else None
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 (Qt)
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.columns[section]
        return None


def _table(columns: list[str], colors: dict[int, dict] | None = None) -> QTableView:
    view = QTableView()
    view.setModel(RowsModel(columns, colors))
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.Interactive)  # not ResizeToContents: that measures every row
    header.setStretchLastSection(True)
    header.setDefaultSectionSize(96)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    return view


def _fill(view: QTableView, rows: list[tuple]) -> None:
    view.model().set_rows(rows)


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


class PatrolPlugin(Plugin):
    """Units on the map and in a list, post visits, dispatch ranking, replay."""

    REFRESH_MS = 1000  # unit states (stale after 60 s) and the list follow at this pace
    VISITS_S = 5.0  # the visit table is re-read this often
    FRAME_MS = 40  # replay frames
    STEP_S = 10.0  # one step of the replay, in replayed seconds

    def register(self) -> None:
        self.host.load_translations(HERE / "i18n")
        self.patrol = self.host.service("patrol")
        self.alarms = self.host.service("alarms")
        if self.patrol is None:
            raise RuntimeError("no patrol service in this host")
        self.projection = self.host.service("projection")
        self.clock = self.host.service("clock")
        self.duty = self.host.service("duty")
        st = self.host.settings()
        self.visit_hours = st["visit_hours"]
        self.rank_k = st["rank_units"]
        self.coverage_min = st["coverage_minutes"]
        self._last_coverage = -1e9
        self.statuses: dict = {}
        self.visits: list = []
        self.ranking: list = []
        self.alarm_id = ""
        self.replay = None  # the ReplayModel while a replay is loaded
        self.replay_stops: list = []
        self._last_frame = time.monotonic()
        self._busy_reads: set[str] = set()
        self._listed: set[str] = set()  # units in the replay picker  # background reads in flight (one of each at a time)
        self._last_visits = -1e9
        self.panel = PatrolPanel(self)
        self.host.add_panel("patrol", tr("Patrol"), self.panel, area="right")
        self.layer = UnitLayer(self.projection)
        self.route = RouteLayer(self.projection)
        self.replay_layer = ReplayLayer(self.projection)
        self.coverage_layer = CoverageLayer(self.projection)
        self.coverage_layer.visible = False
        for layer in (self.coverage_layer, self.route, self.layer, self.replay_layer):
            self.host.add_map_layer(layer)
        self.host.add_feature_action("dispatch_here", tr("Rank patrol units for this alarm"),
                                     lambda hit: self.rank_for(hit.id), kinds=["alarm"])
        self.host.add_feature_action("replay_unit", tr("Replay this unit's last hour"),
                                     lambda hit: self.replay_unit(hit.id), kinds=["patrol_unit"])
        self.host.add_action("next_missed", tr("Show the latest missed post visit"), self.show_missed, "Ctrl+M")
        self.host.on_map_selected(self._map_selected)
        self.host.stream("alarms", self.on_events)
        self.host.timer(self.REFRESH_MS, self.refresh)
        self._replay_timer = self.host.timer(self.FRAME_MS, self.replay_frame)
        self.refresh()

    def unregister(self) -> None:
        self.replay = None

    def now(self) -> float:
        return self.clock.time() if self.clock is not None else time.time()

    @property
    def operator(self) -> str:
        return self.duty.name if self.duty is not None else "operator"

    # --- live ------------------------------------------------------------------------------
    def on_events(self, events: list) -> None:
        fixes = [e.patrol for e in events if e.kind == EventKind.PATROL and e.patrol is not None]
        if fixes:
            self.layer.update_positions(fixes)
        if self.alarm_id and any(e.alarm is not None and e.alarm.id == self.alarm_id
                                 and e.kind == EventKind.STATE_CHANGED for e in events):
            self.rank_for(self.alarm_id)  # dispatched or closed elsewhere: the offer follows

    def _read(self, name: str, fn, done) -> None:
        """One background read of each kind at a time (a slow feed process never piles them up)."""
        if name in self._busy_reads:
            return
        self._busy_reads.add(name)

        def finish(result):
            self._busy_reads.discard(name)
            done(result)

        def failed(exc):
            self._busy_reads.discard(name)
            self.panel.units_summary.setText(tr("Patrol service: {err}", err=exc))
        self.host.run_in_background(fn, finish, failed, what=name)

    def refresh(self) -> None:
        self._read("unit states", self.patrol.positions, self._got_states)
        if self.coverage_layer.visible and time.monotonic() - self._last_coverage > self.VISITS_S:
            self._last_coverage = time.monotonic()
            self._read("segment coverage", lambda: self.patrol.coverage(self.coverage_min), self._got_coverage)
        if time.monotonic() - self._last_visits > self.VISITS_S:
            self._last_visits = time.monotonic()
            now = self.now()
            self._read("post visits", lambda: self.patrol.visits(now - self.visit_hours * 3600, now + 3600),
                       self._got_visits)

    def show_coverage(self, on: bool) -> None:
        self.coverage_layer.set_visible(on)
        if on:
            self._last_coverage = -1e9
            self.refresh()
        else:
            self.panel.coverage_summary.setText("")

    def _got_coverage(self, coverage) -> None:
        self.coverage_layer.set_coverage(coverage)
        if coverage:
            mean = sum(c.fraction for c in coverage) / len(coverage)
            weakest = min(coverage, key=lambda c: c.fraction)
            self.panel.coverage_summary.setText(tr(
                "Segments driven in the last {m} min: {pct:.0f} % on average; least: {name} {low:.0f} %",
                m=self.coverage_min, pct=100 * mean, name=weakest.name or weakest.route, low=100 * weakest.fraction))

    def _got_states(self, statuses) -> None:
        self.statuses = {s.unit: s for s in statuses}
        statuses = self.statuses
        self.layer.set_states({u: (s.link, s.busy) for u, s in statuses.items()})
        self.refresh_units()
        new = sorted(set(statuses) - self._listed)
        if new:
            self._listed.update(new)
            self.panel.replay_units.addItems(new)

    def refresh_units(self) -> None:
        p = self.panel
        flt = UnitFilter(kind=p.kind_filter.currentData(), link=p.link_filter.currentData(),
                         busy=True if p.busy_only.isChecked() else None)
        rows = unit_rows(self.statuses, flt)
        rows = [(u, kind_label(k), *rest) for u, k, *rest in rows]
        _fill(p.units, rows)
        links = [s.link for s in self.statuses.values()]
        p.units_summary.setText(tr("{n} units: {live} live, {stale} stale, {off} offline, {busy} busy",
                                   n=len(links), live=links.count("live"), stale=links.count("stale"),
                                   off=links.count("offline"),
                                   busy=sum(1 for s in self.statuses.values() if s.busy)))

    def _got_visits(self, visits: list) -> None:
        self.visits = visits
        self.refresh_visits_view()

    def refresh_visits_view(self) -> None:
        p = self.panel
        flt = VisitFilter(state=p.visit_state.currentData(), text=p.visit_text.text())
        self._visit_rows = [v for v in sorted(self.visits, key=lambda v: -v.scheduled) if flt.keep(v)]
        rows = visit_rows(self.visits, flt)
        _fill(p.visits, [(*r[:5], state_label(r[5])) for r in rows])
        s = visit_summary(self.visits)
        p.visit_summary.setText(tr("{on} on time · {early} early · {late} late · {missed} missed",
                                   on=s["on_time"], early=s["early"], late=s["late"], missed=s["missed"]))

    def focus_unit(self, unit: str) -> None:
        st = self.statuses.get(unit)
        if st is None:
            return
        self.layer.selected = unit
        x, y = self.projection.forward(st.lon, st.lat, "WGS84")
        self.host.center_map(float(x), float(y))
        self.layer.changed()

    def focus_visit(self, row: int) -> None:
        rows = getattr(self, "_visit_rows", [])
        if 0 <= row < len(rows):
            v = rows[row]
            post = self._post_xy(v.post)
            if post is not None:
                self.host.center_map(*post)

    def _post_xy(self, post_id: str):
        district = self.host.service("district")
        for f in getattr(district, "patrol_posts", []):
            if f.id == post_id:
                c = f.map_geom.centroid
                return float(c.x), float(c.y)
        return None

    def show_missed(self) -> None:
        missed = [v for v in self.visits if v.state == "missed"]
        if not missed:
            self.host.show_notice(tr("No missed post visit in the last {h} hours", h=self.visit_hours), "info")
            return
        self.panel.setCurrentIndex(1)
        self.panel.visit_state.setCurrentIndex(self.panel.visit_state.findData("missed"))
        latest = max(missed, key=lambda v: v.scheduled)
        xy = self._post_xy(latest.post)
        if xy is not None:
            self.host.center_map(*xy)

    # --- dispatch --------------------------------------------------------------------------
    def _map_selected(self, hit) -> None:
        if hit is not None and hit.kind == "alarm":
            self.rank_for(hit.id)
        elif hit is not None and hit.kind == "patrol_unit":
            self.layer.selected = hit.id
            self.layer.changed()

    def rank_for(self, alarm_id: str) -> None:
        a = self.alarms.get(alarm_id) if self.alarms is not None else None
        if a is None:
            return
        self.alarm_id = alarm_id
        self.panel.alarm_label.setText(tr("Alarm {id}: {type}, {state} · {what}", id=a.id, type=a.type_label,
                                          state=a.state_label, what=a.text or a.source))
        self._read("dispatch ranking", lambda: self.patrol.rank(a.lon_wgs, a.lat_wgs, self.rank_k),
                   lambda ranking, aid=alarm_id: self._got_ranking(aid, ranking))

    def _got_ranking(self, alarm_id: str, ranking) -> None:
        if alarm_id != self.alarm_id:
            return
        ranking = list(ranking.options)
        p = self.panel
        chosen = p.ranking.currentItem().data(Qt.UserRole) if p.ranking.currentItem() is not None else None
        self.ranking = ranking
        p.ranking.blockSignals(True)
        p.ranking.clear()
        for opt in ranking:
            how = tr("by route") if opt.method == "route" else tr("straight line")
            item = QListWidgetItem(tr("{unit} ({kind}) ETA {eta} · {d:.0f} m {how}", unit=opt.unit,
                                      kind=kind_label(opt.kind), eta=_duration(opt.eta_s),
                                      d=opt.distance_m, how=how))
            item.setData(Qt.UserRole, opt.unit)
            p.ranking.addItem(item)
        p.ranking.blockSignals(False)
        rows = [i for i in range(p.ranking.count()) if p.ranking.item(i).data(Qt.UserRole) == chosen]
        p.ranking.setCurrentRow(rows[0] if rows else (0 if ranking else -1))
        if not ranking:
            p.explain.setText(tr("No free patrol unit can be offered"))
            self.route.set_path([])

    def show_route(self, row: int) -> None:
        if not 0 <= row < len(self.ranking):
            return
        opt = self.ranking[row]
        self.panel.explain.setText(explain(opt))
        self.route.set_path([tuple(pt) for pt in opt.path])

    def dispatch_selected(self) -> None:
        item = self.panel.ranking.currentItem()
        if not self.alarm_id or item is None:
            self.host.show_notice(tr("Select an alarm and a unit first"), "warning")
            return
        unit = item.data(Qt.UserRole)
        try:
            fut = self.alarms.transition(self.alarm_id, AlarmState.DISPATCHED, self.operator,
                                         tr("Dispatched from the patrol panel"), unit=unit)
        except IllegalTransition as exc:
            self.host.show_notice(str(exc), "warning")
            return
        alarm_id = self.alarm_id

        def done(f):
            try:
                f.result(10)
            except Exception as exc:  # noqa: BLE001 - told to the operator
                return exc
            return None
        self.host.run_in_background(lambda: done(fut), lambda err: self.host.show_notice(
            tr("Unit {unit} sent to alarm {id}", unit=unit, id=alarm_id) if err is None else
            tr("Alarm {id}: the dispatch was not made: {err}", id=alarm_id, err=err),
            "info" if err is None else "warning"), what="dispatch")

    # --- replay ----------------------------------------------------------------------------
    def replay_unit(self, unit: str) -> None:
        p = self.panel
        p.setCurrentIndex(3)
        p.replay_units.clearSelection()
        for i in range(p.replay_units.count()):
            if p.replay_units.item(i).text() == unit:
                p.replay_units.item(i).setSelected(True)
        p.span.setCurrentIndex(0)
        self.load_replay(follow=unit)

    def load_replay(self, follow: str = "") -> None:
        p = self.panel
        units = [i.text() for i in p.replay_units.selectedItems()] or None
        t1 = self.now()
        t0 = t1 - p.span.currentData() * 3600
        p.replay_status.setText(tr("Loading tracks…"))
        p.load_btn.setEnabled(False)
        started = time.perf_counter()

        def load():
            model = self.patrol.replay(units, t0, t1)
            stops = sorted((s for u in model.units for s in model.stops(u)), key=lambda s: s.arrival)
            return model, stops

        def done(result):
            model, stops = result
            p.load_btn.setEnabled(True)
            self._start_replay(model, stops, time.perf_counter() - started, follow)

        def failed(exc):
            p.load_btn.setEnabled(True)
            p.replay_status.setText(tr("The replay could not be loaded: {err}", err=exc))
            self.host.show_notice(tr("The replay could not be loaded: {err}", err=exc), "error")
        self.host.run_in_background(load, done, failed, what="replay load")

    def _start_replay(self, model, stops: list, load_s: float, follow: str) -> None:
        p = self.panel
        if not len(model):
            p.replay_status.setText(tr("Nothing was recorded for these units in this span"))
            return
        model.set_speed(float(p.speed.currentData()))
        self.replay = model
        self.replay_stops = stops
        self._last_frame = time.monotonic()
        self.replay_layer.kinds = dict(zip(model.units, model.kinds))
        p.follow.blockSignals(True)
        p.follow.clear()
        p.follow.addItem(tr("Follow no unit"), "")
        for u in model.units:
            p.follow.addItem(u, u)
        p.follow.setCurrentIndex(max(0, p.follow.findData(follow)))
        p.follow.blockSignals(False)
        model.follow(follow or None)
        _fill(p.stops, [(s.unit, clock(s.arrival), clock(s.departure), _duration(s.departure - s.arrival))
                        for s in stops])
        p.replay_status.setText(tr("{units} units, {n} fixes loaded in {s:.1f} s", units=len(model),
                                   n=model.fixes, s=load_s))
        p.set_replay_enabled(True)
        self.layer.set_visible(False)  # the live units would mix with the past
        first = min(tr_.t0 for tr_ in model.tracks.values())
        if first > model.t:
            model.seek(first)  # nothing to see before the first recorded fix
        model.play()
        p.show_playing(True)
        self.replay_frame(force=True)

    def close_replay(self) -> None:
        self.replay = None
        self.replay_layer.clear()
        self.layer.set_visible(True)
        p = self.panel
        p.set_replay_enabled(False)
        p.replay_time.setText("—")
        p.show_playing(False)
        p.replay_status.setText(tr("Pick units (none: all) and a span, then Load replay"))

    def toggle_play(self) -> None:
        if self.replay is None:
            return
        self.replay.toggle()
        self._last_frame = time.monotonic()
        self.panel.show_playing(self.replay.playing)

    def set_speed(self, speed) -> None:
        if self.replay is not None and speed:
            self.replay.set_speed(float(speed))

    def set_follow(self, unit: str) -> None:
        if self.replay is not None:
            self.replay.follow(unit or None)
            self.replay_frame(force=True)

    def step(self, n: int) -> None:
        if self.replay is not None:
            self.replay.step(n * self.STEP_S)
            self.panel.show_playing(False)
            self.replay_frame(force=True)

    def seek_fraction(self, f: float) -> None:
        if self.replay is not None:
            self.replay.seek_fraction(f)
            self.replay_frame(force=True)

    def seek_stop(self, row: int) -> None:
        if self.replay is not None and 0 <= row < len(self.replay_stops):
            s = self.replay_stops[row]
            self.replay.seek(s.arrival)
            self.replay_frame(force=True)

    def replay_frame(self, force: bool = False) -> None:
        model = self.replay
        if model is None:
            return
        now = time.monotonic()
        dt, self._last_frame = now - self._last_frame, now
        if not model.playing and not force:
            return
        fr = model.advance(dt) if model.playing else model.frame()
        t = fr.t
        trails = {}
        for u in model.units:
            tr_ = model.trail(u, TRAIL_S, t)
            step = max(1, len(tr_) // TRAIL_POINTS)
            trails[u] = (tr_[::step, 0], tr_[::step, 1])
        shown = [(s.unit, s.lon, s.lat, f"{s.unit} {clock(s.arrival, seconds=False)}–"
                                        f"{clock(s.departure, seconds=False)}")
                 for s in self.replay_stops if s.arrival <= t]
        self.replay_layer.show_frame(fr.units, fr.lon, fr.lat, fr.heading_deg, fr.visible, trails, shown)
        p = self.panel
        p.replay_time.setText(clock(t))
        if not p.slider.isSliderDown():
            p.slider.setValue(int(model.fraction * 10000))
        if not model.playing:
            p.show_playing(False)
        if fr.followed in fr.units:
            i = fr.units.index(fr.followed)
            if fr.visible[i]:
                x, y = self.projection.forward(float(fr.lon[i]), float(fr.lat[i]), "WGS84")
                self.host.ensure_visible(float(x), float(y), inner=0.5)


TRAIL_S = 600.0  # the replay draws each unit's last ten minutes behind it
TRAIL_POINTS = 120  # …thinned to at most this many points (a frame must stay under 33 ms)


def explain(opt) -> str:
    """Why a unit is offered: how its time was estimated, in the operator's words."""
    if opt.method == "route":
        return tr("{unit}: {path:.0f} m along the patrol routes ({access:.0f} m to the network, {egress:.0f} m "
                  "from it to the alarm) at {speed:.0f} km/h ≈ {eta}; {d:.0f} m in a straight line",
                  unit=opt.unit, path=opt.path_m, access=opt.access_m, egress=opt.egress_m, speed=opt.speed_kmh,
                  eta=_duration(opt.eta_s), d=opt.distance_m)
    return tr("{unit}: {d:.0f} m in a straight line at {speed:.0f} km/h ≈ {eta} (no route network near)",
              unit=opt.unit, d=opt.distance_m, speed=opt.speed_kmh, eta=_duration(opt.eta_s))


def _duration(s: float | None) -> str:
    if s is None or s != s:
        return "—"
    s = int(round(s))
    if s < 60:
        return tr("{s} s", s=s)
    if s < 3600:
        return tr("{m} min {s} s", m=s // 60, s=s % 60)
    return tr("{h} h {m} min", h=s // 3600, m=(s % 3600) // 60)
