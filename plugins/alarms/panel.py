"""The alarm panel plugin (Qt): queue, details and workflow, alarms and patrol units on the map.

Talks only to the host facade. The alarm service does the work off the GUI thread; this
plugin drains its events once per frame on a host timer, so a flood of a thousand alarms
a second costs one table refresh, one map update and at most one sound per frame.

The plugin is cut by what each piece holds: :mod:`.queue_panel` (the panel's widgets),
:mod:`.selection` (selection, details, the nearest-unit offer) and :mod:`.workflow_actions`
(workflow changes, refused requests, rejections, cameras), the last two as mixins on
:class:`AlarmsPlugin`; this module keeps registration, sound, the per-frame pump,
escalation and the queue refresh.
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path

from desktop.sdk import AlarmState, CameraArrays, PolygonIndex, priority_style, tr

# The names this module held before its cut stay importable from it (``from .panel import ...``).
from .core import AlarmBook, AlarmSettings, Escalation, Filters, Linkage, summarize  # noqa: F401
from .map_layers import AlarmLayer
from .queue_panel import AlarmPanel
from .selection import _Selection
from .sound import SoundPlayer
from .table import AlarmTableModel, clock_text  # noqa: F401
from .workflow_actions import _WorkflowActions

HERE = Path(__file__).resolve().parent


class AlarmsPlugin(_Selection, _WorkflowActions):
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
        # the operator's last volume and mute win over the configured defaults
        volume = self.host.recall("volume", st.volume)
        muted = self.host.recall("muted", not st.sound)
        self.panel.mute.setChecked(bool(muted))
        ok = isinstance(volume, (int, float)) and not isinstance(volume, bool)
        self.panel.volume.setValue(int(volume) if ok else st.volume)
        self.sound.volume = self.panel.volume.value() / 100.0  # also when the slider did not move
        self.sound.enabled = not self.panel.mute.isChecked()
        self.panel.mute.toggled.connect(lambda on: self.host.remember("muted", bool(on)))
        # saved when the slider is let go (a drag sends every step; each would be a file write)
        vol = self.panel.volume
        vol.sliderReleased.connect(lambda: self.host.remember("volume", int(vol.value())))
        vol.valueChanged.connect(lambda v: None if vol.isSliderDown() else self.host.remember("volume", int(v)))
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
