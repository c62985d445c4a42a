"""The alarm panel plugin (Qt): queue, details and workflow, alarms and patrol units on the map.

Talks only to the host facade. The alarm service does the work off the GUI thread; this
plugin drains its events once per frame on a host timer, so a flood of a thousand alarms
a second costs one table refresh, one map update and at most one sound per frame.
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QMenu, QPushButton, QSlider, QSplitter, QTableView, QToolButton,
                               QVBoxLayout, QWidget)

from desktop.sdk import (ALARM_TYPES, AlarmState, CameraArrays, IllegalTransition, PolygonIndex, format_local,
                         mercator_scale, priority_style, tr, type_label)

from .core import AlarmBook, AlarmSettings, Escalation, Filters, Linkage, summarize
from .map_layers import AlarmLayer
from .sound import SoundPlayer
from .table import AlarmTableModel, clock_text

HERE = Path(__file__).resolve().parent


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


class AlarmsPlugin:
    """Registers the alarm queue panel, the alarm and patrol-unit map layers, and the workflow actions."""

    PUMP_MS = 20  # how often the service's events are drained (the map shows them on the next frame)
    TABLE_INTERVAL_S = 0.25
    UNITS_INTERVAL_S = 2.0  # the nearest-unit offer follows moving units this often
    STREET_MPP = 2.0  # ground metres per pixel, at most, when the operator focuses an alarm
    ESCALATION_INTERVAL_S = 1.0  # how often overdue alarms are counted (a pass over the urgent ones)

    def __init__(self, host):
        self.host = host
        self.service = None
        self.selected_id = ""
        self.sound = SoundPlayer()
        self.subdistricts: list[str] = []
        self._dirty = True
        self._changed: list = []  # alarm snapshots changed since the last refresh
        self.last_shown: list[str] = []  # ids that appeared on the map in the last refresh
        self.queue_limit = 1000  # rows in the queue table; the map shows every open alarm
        self._last_table = -1e9
        self._details_key = None
        self._units_stale = False
        self._ranking = False  # a ranking asked of the patrol service is on its way
        self._last_units = -1e9
        self._requests: list = []  # (future, alarm id) of workflow changes not yet confirmed
        self.escalation = Escalation()
        self._last_escalation = -1e9
        self.clock = None
        self._land = None  # PolygonIndex of land (the district and its neighbours), for boats vs. cars
        self._duty = None
        self._operator = "operator"
        # camera groups opened automatically (newest last; the last 50: one per alarm otherwise)
        self.linked: deque[list[str]] = deque(maxlen=50)
        self.sound_checked = False  # the sound device was tried once (at start, in the background)

    # --- life cycle ----------------------------------------------------------------------
    def register(self) -> None:
        self.host.load_translations(HERE / "i18n")
        self.service = self.host.service("alarms")
        if self.service is None:
            raise RuntimeError("no alarm service in this host")
        self.book = AlarmBook(self.service.alarms())  # what the journal restored
        district = self.host.service("district")
        projection = self.host.service("projection")
        self._duty = self.host.service("duty")  # the operator on duty, handed over at a change of shift
        self._operator = self.host.service("operator") or "operator"  # a host without hand-over
        self.clock = self.host.service("clock")  # the service clock (simulated in training)
        self.subdistricts = district.subdistricts() if district else []
        self.settings, errors = AlarmSettings.from_dict(self.host.settings())
        for err in errors:
            self.host.show_notice(tr("Configuration: {err} (the default is used)", err=err), "error")
        st = self.settings
        self.sound = SoundPlayer(st.sound_device, volume=st.volume / 100.0)
        self.escalation = Escalation(ack_target_s=st.ack_target_s, repeat_s=st.repeat_s,
                                     priorities=st.escalate_priorities)
        self.linkage = (Linkage(CameraArrays.from_table(district.cameras), max_cameras=st.max_cameras,
                                min_interval_s=st.auto_open_interval_s, auto_priorities=st.auto_open_priorities)
                        if district else None)
        if district is not None:
            self._land = PolygonIndex([district.boundary.map_geom, *(c.map_geom for c in district.context)])
        self.panel = AlarmPanel(self)
        self.panel.mute.setChecked(not st.sound)
        self.panel.volume.setValue(st.volume)
        self.panel.auto_centre.setChecked(st.auto_centre)
        self.host.add_panel("queue", tr("Alarms"), self.panel, area="bottom")
        self.layer = AlarmLayer(projection)
        self.host.add_map_layer(self.layer)
        self.host.add_action("acknowledge", tr("Acknowledge alarm"), lambda: self.move_selected(AlarmState.ACKNOWLEDGED), "F2")
        self.host.add_action("next", tr("Next alarm"), self.select_next, "F3")
        self.host.add_action("dispatch", tr("Dispatch nearest unit"), lambda: self.move_selected(AlarmState.DISPATCHED), "F4")
        self.host.add_action("resolve", tr("Resolve alarm"), lambda: self.move_selected(AlarmState.RESOLVED), "F6")
        self.host.add_action("false_alarm", tr("Mark false alarm"), lambda: self.move_selected(AlarmState.FALSE_ALARM), "F8")
        self.host.on_map_selected(self._map_selected)
        # The alarm service's events, once per frame as one batch (shared with other plugins).
        self.host.stream("alarms", self.on_events)
        self.host.timer(self.PUMP_MS, self.pump)
        self.layer.set_alarms(self.book.open_alarms())
        self.refresh_queue()
        # does the sound device open? (off the GUI thread: a sound server may take a moment)
        self.host.run_in_background(self.sound.probe, self._sound_probed, what="sound device check")

    def unregister(self) -> None:
        self.sound.enabled = False
        self.sound.stop()

    # --- sound ---------------------------------------------------------------------------
    def _sound_probed(self, problem: str) -> None:
        self.sound_checked = True
        if problem and not self.sound.device_error:
            self.sound.device_error = problem
            self._sound_problems([problem])

    def _sound_problems(self, problems: list[str]) -> None:
        for msg in problems:
            self.host.show_notice(tr("Alarm sounds cannot be heard: {msg}", msg=msg), "error")
        err = self.sound.device_error
        self.panel.no_device.setVisible(bool(err))
        self.panel.no_device.setToolTip(err)

    def test_sound(self, priority: int = 1) -> None:
        """The test button: ring a priority's sound now, even when muted, and say where it went."""
        style = priority_style(priority)
        if self.sound.play(style.sound_path, min_gap_s=0.0, test=True):
            self.host.show_notice(tr("Test: {label} sound at {v} % on {device}", label=style.label,
                                     v=round(self.sound.volume * 100), device=self.sound.output.device), "info")

    @property
    def operator(self) -> str:
        """Who is on duty now: workflow changes and the audit are made in this name."""
        return self._duty.name if self._duty is not None else self._operator

    # --- the per-frame pump --------------------------------------------------------------
    def on_events(self, events: list) -> None:
        """One frame's alarm events (from the host's ``alarms`` stream)."""
        if events:
            changed = self.book.apply(events)
            if changed:
                self._changed.extend(changed)
                self._dirty = True
            batch = summarize(events)
            if batch.patrol:
                self._units_stale = True  # units moved: the offer (drawn by the patrol plugin) follows
            for cam in batch.cameras:
                if cam.status != "online":
                    self.host.show_notice(tr("Camera {id} {status}: {reason}", id=cam.camera_id,
                                             status=tr(cam.status), reason=cam.reason), "warning")
            for msg in batch.journal_errors:
                self.host.show_notice(tr("Alarm journal error: {msg}", msg=msg), "error")
            if batch.changed:
                self._dirty = True
            urgent = batch.most_urgent_new()
            if urgent is not None:
                self._on_new(urgent)
            if batch.rejected is not None:
                self._dirty = True
        self.pump()

    def pump(self) -> None:
        """Periodic work: the queue refresh, refused requests, escalation, the unit offer, sound faults."""
        problems = self.sound.poll()
        if problems or self.panel.no_device.isHidden() == bool(self.sound.device_error):
            self._sound_problems(problems)
        if self._dirty:
            self.refresh_queue(force=False)
        if self._requests:
            self._check_requests()
        now = time.monotonic()
        if now - self._last_escalation > self.ESCALATION_INTERVAL_S:
            self._escalate(now)
        if self._units_stale and now - self._last_units > self.UNITS_INTERVAL_S:
            self._show_units()  # units move: the offer (and its ETAs) follows them

    def _escalate(self, now_mono: float) -> None:
        """Say how many urgent alarms wait too long for an acknowledgement, and ring again for them."""
        self._last_escalation = now_mono
        now = self.clock.time() if self.clock is not None else time.time()
        late = self.escalation.overdue(self.book, now)
        label = self.panel.overdue
        if late:
            oldest = max(now - (a.received or a.epoch) for a in late)
            label.setText(tr("⚠ {n} urgent unacknowledged, oldest {m}:{s:02d}", n=len(late),
                             m=int(oldest // 60), s=int(oldest % 60)))
        label.setVisible(bool(late))
        ring = self.escalation.ring_due(late, now)  # on the service clock: a training clock paces it too
        if ring is not None:
            self.sound.play(ring.style.sound_path, min_gap_s=0.0)

    def _on_new(self, alarm) -> None:
        self.sound.play(alarm.style.sound_path)
        now = self.clock.time() if self.clock is not None else time.time()  # simulated in training
        if self.linkage is not None and self.linkage.should_auto_open(alarm, now):
            ids = self.linkage.cameras_for(alarm)
            if ids:
                self.linked.append(ids)
                self.service.audit(self.operator, "alarm_linkage", alarm.id, cameras=list(ids))
                self.host.open_cameras(ids)
            if not self.selected_id:
                self.select(alarm.id)
            if self.panel.auto_centre.isChecked() and alarm.priority <= 2:
                x, y = self.layer.projection.forward(alarm.lon_wgs, alarm.lat_wgs, "WGS84")
                self.host.ensure_visible(x, y)  # the map moves only when the alarm is off-screen

    def refresh_queue(self, *_args, force: bool = True) -> None:
        """Show what changed: the map at once (work in proportion to the change), the table
        and its counters (costly per cell and per layout) at most 4 times a second."""
        now = time.monotonic()
        changed, self._changed = self._changed, []
        self.last_shown = self.layer.update_alarms(changed) if changed else []
        if force or now - self._last_table > self.TABLE_INTERVAL_S:
            self._last_table = now
            self._dirty = False
            self.panel.model.set_rows(self.book.rows(self.panel.filters(), limit=self.queue_limit))
            self._restore_selection()
            self._show_counters()
        else:
            self._dirty = True  # the table still owes this change
        sel = self.book.get(self.selected_id) if self.selected_id else None
        key = (self.selected_id, sel.updated if sel else None, sel.count if sel else None)
        if key != self._details_key:  # details (and the nearest-unit search) only when they change
            self._show_details()

    def _show_counters(self) -> None:
        c = self.service.counters()
        self.panel.counters.setText(tr("open {open} · received {received} · rejected {rejected}",
                                       open=int(self.layer._live.sum()), received=c.get("received", 0),
                                       rejected=c.get("rejected", 0)))
        self.panel.counters.setToolTip("\n".join(f"{k}: {v}" for k, v in sorted(c.get("rejected_by_reason", {}).items())))
        if c.get("rejected") and not self.panel.counters.styleSheet():  # a style change re-polishes: once
            self.panel.counters.setStyleSheet("color: #ffca28;")
            self.panel.rejected_btn.setVisible(True)

    # --- selection and details -----------------------------------------------------------
    def select(self, alarm_id: str) -> None:
        self.selected_id = alarm_id
        self.layer.selected_id = alarm_id
        self.layer.changed()
        self._restore_selection()
        self._show_details()

    def _map_xy(self, alarm) -> tuple[float, float]:
        xy = self.layer.xy.get(alarm.id)
        return xy if xy is not None else self.layer.projection.forward(alarm.lon_wgs, alarm.lat_wgs, "WGS84")

    def show(self, alarm_id: str) -> None:
        """Select an alarm and make sure its point is on screen."""
        self.select(alarm_id)
        a = self.book.get(alarm_id)
        if a is not None:
            self.host.ensure_visible(*self._map_xy(a))

    def focus(self, alarm_id: str) -> None:
        """Select an alarm, centre the map on it at street level at least, open its cameras."""
        self.select(alarm_id)
        a = self.book.get(alarm_id)
        if a is None:
            return
        x, y = self._map_xy(a)
        self.host.center_map(x, y, min_scale=mercator_scale(a.lat_wgs) / self.STREET_MPP)
        self.open_selected_cameras()

    def _restore_selection(self) -> None:
        for row, a in enumerate(self.panel.model.rows):
            if a.id == self.selected_id:
                self.panel.table.selectRow(row)
                return

    def select_next(self) -> None:
        """Select the most urgent new alarm (or the next open one after the current)."""
        rows = self.book.open_alarms()
        new = [a for a in rows if a.state == AlarmState.NEW and a.id != self.selected_id]
        pick = new[0] if new else next((a for a in rows if a.id != self.selected_id), None)
        if pick is not None:
            self.select(pick.id)
            self.host.center_map(*self._map_xy(pick))

    def _map_selected(self, hit) -> None:
        if hit is not None and getattr(hit, "kind", "") == "alarm":
            self.select(hit.id)

    def _show_details(self) -> None:
        p = self.panel
        a = self.book.get(self.selected_id) if self.selected_id else None
        # the same alarm, changed (a repeat folded in, a state change): the unit the operator
        # chose stays chosen, so F4 never dispatches another one than the one picked
        same_alarm = self._details_key is not None and self._details_key[0] == self.selected_id
        self._details_key = (self.selected_id, a.updated if a else None, a.count if a else None)
        if a is None:
            p.title.setText(tr("No alarm selected"))
            p.info.setText("")
            p.history.clear()
            p.units.clear()
            for b in p.btn.values():
                b.setEnabled(False)
            p.cams_btn.setEnabled(False)
            return
        p.title.setText(f"[{a.style.label}] {a.type_label} · {a.state_label}")
        p.title.setStyleSheet(f"font-weight: bold; font-size: 13pt; color: {a.style.colour};")
        lines = [a.text, tr("Source: {s}", s=a.source), tr("Time: {t}", t=format_local(a.epoch, date=True)),
                 tr("Position: {lon:.6f}, {lat:.6f} ({crs})", lon=a.lon, lat=a.lat, crs=a.crs)]
        if a.subdistrict:
            lines.append(tr("Sub-district: {s}", s=a.subdistrict))
        if a.count > 1:
            lines.append(tr("Repeated {n} times, last at {t}", n=a.count, t=format_local(a.last_epoch or a.epoch)))
        if a.assigned_unit:
            lines.append(tr("Assigned to {u}", u=a.assigned_unit))
        p.info.setText("\n".join(l for l in lines if l))
        p.history.clear()
        for t in a.history:
            p.history.addItem(f"{clock_text(t.epoch)}  {t.from_state.label} → {t.to_state.label}  {t.operator}"
                              + (f"  {t.unit}" if t.unit else "") + (f"  «{t.note}»" if t.note else ""))
        allowed = set(self.service.allowed_transitions(a.id))
        for state, b in p.btn.items():
            b.setEnabled(state in allowed)
        p.cams_btn.setEnabled(True)
        self._show_units(keep_choice=same_alarm)

    def at_sea(self, alarm) -> bool:
        """True when the alarm's point is on no land the dataset knows (district or neighbours)."""
        if self._land is None:
            return False
        x, y = self.layer.projection.forward(alarm.lon_wgs, alarm.lat_wgs, "WGS84")
        return not self._land.containing(float(x), float(y))

    def _show_units(self, keep_choice: bool = True) -> None:
        """Offer the nearest free units for the selected alarm, keeping the operator's choice if it is still offered."""
        p = self.panel
        self._units_stale = False
        self._last_units = time.monotonic()
        a = self.book.get(self.selected_id) if self.selected_id else None
        current = p.units.currentItem()
        chosen = current.data(Qt.UserRole) if (keep_choice and current is not None) else None
        if a is None or not a.is_open:
            p.units.clear()
            return
        if not keep_choice:
            # another alarm: the previous one's units must not stay offered while this one's are
            # ranked (F4 pressed in between would send the other alarm's unit)
            p.units.clear()
        patrol = self.host.service("patrol")
        if patrol is not None:
            # the patrol service ranks by travel time along the route network; asked off the GUI
            # thread (live, the feed process answers), shown when it comes if still relevant
            alarm_id = a.id
            if not self._ranking:
                self._ranking = True
                self.host.run_in_background(lambda: patrol.rank(a.lon_wgs, a.lat_wgs, 3),
                                            lambda ranking: self._offer(alarm_id, ranking.options, chosen),
                                            lambda exc: self._offer(alarm_id, [], chosen, str(exc)),
                                            what="unit ranking")
            return
        self._offer(a.id, Linkage.units_for(a, self.service.unit_positions(max_age_s=600), at_sea=self.at_sea(a)),
                    chosen)

    def _offer(self, alarm_id: str, options, chosen, error: str = "") -> None:
        self._ranking = False
        p = self.panel
        if alarm_id != self.selected_id:
            self._show_units(keep_choice=False)  # the selection moved on meanwhile: rank for it now
            return
        p.units.clear()
        if error:
            p.units.addItem(QListWidgetItem(tr("No ranking: {err}", err=error)))
            return
        for opt in options:
            kind = tr({"car": "car", "ebike": "e-bike"}.get(opt.kind, opt.kind))
            item = QListWidgetItem(tr("{unit} ({kind}) {d:.0f} m, ETA {eta:.0f} s", unit=opt.unit, kind=kind,
                                      d=opt.distance_m, eta=opt.eta_s))
            item.setData(Qt.UserRole, opt.unit)
            p.units.addItem(item)
            if opt.unit == chosen:
                p.units.setCurrentItem(item)
        if p.units.count() and p.units.currentItem() is None:
            p.units.setCurrentRow(0)

    # --- workflow ------------------------------------------------------------------------
    def move_selected(self, state: AlarmState) -> None:
        if not self.selected_id:
            self.host.show_notice(tr("Select an alarm first"), "warning")
            return
        unit = ""
        if state == AlarmState.DISPATCHED:
            typed = self.panel.unit_entry.text().strip()
            item = self.panel.units.currentItem()
            if typed:
                unit = typed
            elif item is not None and item.data(Qt.UserRole):
                unit = item.data(Qt.UserRole)
            else:
                self.host.show_notice(tr("No free patrol unit known near this alarm: type the unit's call sign"),
                                      "warning")
                return
        note = self.panel.note.text().strip()
        current = self.service.get(self.selected_id)
        try:
            if state == AlarmState.DISPATCHED and current is not None and current.state == AlarmState.NEW:
                # dispatching a new alarm acknowledges it on the way: one key, both moves journaled
                self._ack_then_dispatch(self.selected_id, note, unit)
            else:
                fut = self.service.transition(self.selected_id, state, self.operator, note, unit=unit)
                self._requests.append((fut, self.selected_id))
        except IllegalTransition as exc:
            self.host.show_notice(str(exc), "warning")
            return
        self.panel.note.clear()
        if state == AlarmState.DISPATCHED:
            self.panel.unit_entry.clear()
        self._dirty = True

    def _ack_then_dispatch(self, alarm_id: str, note: str, unit: str) -> None:
        operator = self.operator
        ack = self.service.transition(alarm_id, AlarmState.ACKNOWLEDGED, operator, tr("Acknowledged on dispatch"))

        def dispatch(_transition) -> None:
            try:
                self._requests.append((self.service.transition(alarm_id, AlarmState.DISPATCHED, operator, note,
                                                               unit=unit), alarm_id))
            except IllegalTransition as exc:
                self.host.show_notice(str(exc), "warning")
            self._dirty = True

        self.host.run_in_background(lambda: ack.result(15), dispatch,
                                    lambda exc: self.host.show_notice(
                                        tr("Alarm {id}: the change was not made: {err}", id=alarm_id, err=exc),
                                        "warning"), what="acknowledge before dispatch")

    def _check_requests(self) -> None:
        """A workflow change the service refused later (another workstation was first, the feed
        process restarted) is told to the operator, not dropped silently."""
        waiting = []
        for fut, alarm_id in self._requests:
            if not fut.done():
                waiting.append((fut, alarm_id))
                continue
            exc = fut.exception()
            if exc is not None:
                self.host.show_notice(tr("Alarm {id}: the change was not made: {err}", id=alarm_id, err=exc),
                                      "warning")
                self._dirty = True
        self._requests = waiting

    def show_rejections(self):
        """The latest rejected feed messages in a dialog (returned, for tests)."""
        from .rejections import RejectionsDialog
        dialog = RejectionsDialog(self.service, self.panel)
        dialog.show()
        return dialog

    def open_selected_cameras(self) -> None:
        a = self.service.get(self.selected_id) if self.selected_id else None
        if a is None or self.linkage is None:
            return
        ids = self.linkage.cameras_for(a)
        if not ids:
            self.host.show_notice(tr("No camera covers this alarm's position"), "warning")
            return
        self.host.open_cameras(ids)
