"""The alarm service: ingest, validate, fold, journal — on its own thread — then hand to the UI.

Data flow (threads; the whole program's are in docs/field.md, *Threads*)::

    feed thread (paho / scenario)          worker thread (this service)            GUI thread
    bus.publish ──► submit() ──► queue ──► batch: decode, validate, convert CRS,  ──► drain()
                                            fold floods, apply workflow,             once per frame
                                            ONE journal transaction, then outbox

An alarm reaches the outbox — and :meth:`AlarmService.alarms` — only after the
transaction holding it has committed, so whatever an operator has seen survives a crash.
Messages that came with a bus :class:`~desktop.core.feeds.bus.Receipt` (the MQTT adapter's
QoS 1 acknowledgement) are released only after that commit too: until then the broker
keeps its copy and redelivers after a crash; duplicates are recognised by message id.

Workflow changes made here (:meth:`AlarmService.transition`) are checked at once (an
illegal move raises :class:`~desktop.core.alarms.workflow.IllegalTransition` in the caller),
journaled by the worker with an audit row, and published on the bus as
``pingan/alarm/<id>/state`` with this workstation's id as ``origin``; the MQTT adapter
forwards them, and the echo that comes back is recognised by that origin and ignored.

The service is cut by what each piece holds: :mod:`.topics` (the bus topics and the state
payload), :mod:`.work_items` (what the queue carries, and one batch's changes), :mod:`.reads`
(the read side shared with the feed-process mirror), :mod:`.ingest` (the steps applied to
each message) and :mod:`.worker` (the batch loop and its housekeeping), the last two as
mixins on :class:`AlarmService`. Every name is still importable from here.
"""
from __future__ import annotations

import concurrent.futures
import logging
import queue
import sqlite3
import socket
import threading
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any, Callable

from desktop.core.clock import Clock, RealClock, iso
from desktop.core.feeds.bus import EventBus, Receipt
from desktop.core.feeds.schema import CameraStatus, PatrolPosition, StateMessage
from desktop.core.i18n import tr

# .ingest, .reads, .topics, .work_items and .worker are the pieces of the service; what they
# hold is re-exported here (``from .service import ...`` keeps working).
from . import workflow
from .flood import FloodControl
from .ingest import _MAX_PENDING_REMOTE, _Ingest  # noqa: F401
from .journal import Journal
from .model import Alarm, AlarmEvent, AlarmState, AuditEntry, EventKind, Rejection, Transition
from .outbox import Outbox
from .query import JournalReader
from .reads import AlarmReads, UnknownAlarm, select_alarms  # noqa: F401
from .topics import SUBSCRIBED_TOPICS, alarm_message_payload, state_topic  # noqa: F401
from .work_items import _STOP, _Arrival, _Audit, _Batch, _Flush, _Move, _Msg  # noqa: F401
from .worker import _Worker
from .workflow import IllegalTransition  # noqa: F401

log = logging.getLogger(__name__)

__all__ = ["AlarmService", "UnknownAlarm", "SUBSCRIBED_TOPICS", "state_topic"]


class AlarmService(_Worker, _Ingest, AlarmReads):
    """Owns the alarm store, its journal and a worker thread; the UI reads it and drains its events.

    Thread-safe: :meth:`submit`, :meth:`transition`, :meth:`audit`, :meth:`drain` and the
    read methods may be called from any thread. ``locate(lon_wgs, lat_wgs) -> subdistrict``
    (optional) tags new alarms for the panel's sub-district filter.
    """

    FORGET_EVERY_S = 3600.0  # how often closed alarms past the retention leave memory
    COALESCE_S = 0.005  # under a flood, a batch gathers for this long (see _run)
    _last_batch_end = 0.0

    def __init__(self, journal: Journal | Path | str, *, clock: Clock | None = None,
                 workstation: str = "", bus: EventBus | None = None,
                 flood_window_s: float = 60.0, locate: Callable[[float, float], str] | None = None,
                 batch_max: int = 1000, closed_retention_s: float | None = 7 * 86400,
                 notify: Callable[[], None] | None = None):
        self.clock = clock or RealClock()
        self.workstation = workstation or socket.gethostname()
        self._own_journal = not isinstance(journal, Journal)
        self.journal = Journal(journal) if self._own_journal else journal
        self.bus = bus
        self.locate = locate
        self.batch_max = max(1, int(batch_max))
        self.flood = FloodControl(flood_window_s)
        self._outbox = Outbox(notify)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.RLock()  # guards the committed views below
        self._counters: Counter = Counter()
        self._rejected: Counter = Counter()
        self._recent_rejections: deque = deque(maxlen=200)  # for whoever commissions a feed
        self._pending_remote: dict[str, list[StateMessage]] = {}
        self._patrol: dict[str, PatrolPosition] = {}
        self._cameras: dict[str, CameraStatus] = {}
        self._subs: list = []
        self._thread: threading.Thread | None = None
        self._max_event_epoch = 0.0
        self._since_prune = 0
        self.closed_retention_s = closed_retention_s
        self._last_forget = time.monotonic()

        since = None if closed_retention_s is None else self.clock.time() - closed_retention_s
        try:
            state = self.journal.load(closed_since=since)
        except sqlite3.DatabaseError as exc:  # damaged past its first pages: set it aside, go on
            self.journal.recover(exc)
            state = self.journal.load(closed_since=since)
        if self.journal.recovered is not None:
            moved, why = self.journal.recovered
            self._outbox.put_many([AlarmEvent(EventKind.JOURNAL_ERROR, message=tr(
                "The alarm journal {path} could not be read ({err}); it was moved to {moved} and a new one "
                "started", path=str(self.journal.path), err=why, moved=str(moved)))])
        self._alarms: dict[str, Alarm] = state.alarms
        # unit -> the open dispatched alarms it is assigned to, kept as alarms change: asking
        # which units are busy scanned every alarm held (10,000 in a flood), once a forward
        self._busy_units: dict[str, set[str]] = {}
        self._unit_of: dict[str, str] = {}  # alarm id -> the unit it keeps busy
        for a in self._alarms.values():
            self._index_busy(a)
        self._seen: set[str] = state.seen_ids
        self._reader_db = JournalReader(self.journal.path)
        # Rebuild flood groups, so repeats right after a restart still fold.
        for a in sorted(self._alarms.values(), key=lambda a: a.last_epoch or a.epoch):
            if a.is_open:
                self.flood.record(a.source, a.type, a.id, a.last_epoch or a.epoch)
        self._counters["restored"] = len(self._alarms)

    # --- life cycle --------------------------------------------------------------------

    def start(self) -> "AlarmService":
        """Start the worker and, when a bus was given, subscribe to the feed topics."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name="alarm-service", daemon=True)
        self._thread.start()
        if self.bus is not None:
            self.attach(self.bus)
        return self

    def attach(self, bus: EventBus) -> None:
        """Subscribe to :data:`SUBSCRIBED_TOPICS` on ``bus`` (state changes are published there too)."""
        self.bus = bus
        for topic in SUBSCRIBED_TOPICS:
            self._subs.append(bus.subscribe(topic, self._on_bus, owner=self))

    def stop(self, timeout: float = 10.0) -> None:
        """Unsubscribe, finish what is queued (journaled, receipts released), stop the worker, close the journal."""
        for sub in self._subs:
            sub.unsubscribe()
        self._subs.clear()
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None
        self._reader_db.close()
        if self._own_journal:
            self.journal.close()

    def __enter__(self) -> "AlarmService":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- input ---------------------------------------------------------------------------

    def _on_bus(self, topic: str, payload: dict, receipt: Receipt | None = None) -> None:
        self.submit(topic, payload, receipt)

    def submit(self, topic: str, payload: bytes | str | dict, receipt: Receipt | None = None) -> None:
        """Queue a feed message (raw bytes/str or a decoded dict). Cheap; never blocks."""
        if receipt is not None:
            receipt.hold()
        self._queue.put(_Msg(topic, payload, receipt, self.clock.time()))

    def transition(self, alarm_id: str, target: AlarmState | str, operator: str, note: str = "",
                   unit: str = "") -> concurrent.futures.Future:
        """Move an alarm along the workflow on behalf of ``operator``.

        Raises at once: :class:`UnknownAlarm`, :class:`IllegalTransition` (the message lists
        the allowed moves), ValueError (no operator, unknown state). Otherwise returns a
        Future that resolves to the journaled :class:`Transition` (or to an
        IllegalTransition, if another workstation moved the alarm first).
        """
        if not isinstance(operator, str) or not operator.strip():
            raise ValueError(tr("Alarm {id}: an operator name is required for a workflow change", id=alarm_id))
        with self._lock:
            alarm = self._alarms.get(alarm_id)
        if alarm is None:
            raise UnknownAlarm(alarm_id)
        target_state = workflow.check(alarm_id, alarm.state, target)
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put(_Move(alarm_id, target_state, operator.strip(), note or "", unit or "", fut))
        return fut

    def audit(self, operator: str, action: str, target: str = "", **detail: Any) -> None:
        """Record an operator action (opened a camera, exported, logged in…) in the audit table."""
        now = self.clock.time()
        self._queue.put(_Audit(AuditEntry(epoch=now, time=iso(now), operator=operator,
                                          workstation=self.workstation, action=action,
                                          target=target, detail=detail)))

    def record_arrival(self, alarm_id: str, unit: str, dispatched: float, arrived: float) -> None:
        """A patrol unit sent to ``alarm_id`` arrived: journaled for the response-time figures."""
        self._queue.put(_Arrival(str(alarm_id), str(unit), float(dispatched), float(arrived)))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued before this call is journaled and in the outbox."""
        if self._thread is None:
            raise RuntimeError("AlarmService is not started")
        f = _Flush()
        self._queue.put(f)
        return f.done.wait(timeout)

    # --- output --------------------------------------------------------------------------

    def drain(self, max_items: int | None = None) -> list[AlarmEvent]:
        """Events since the last drain, oldest first (coalesced; see :class:`~.outbox.Outbox`)."""
        return self._outbox.drain(max_items)

    def pending(self) -> int:
        """How many events wait in the outbox."""
        return len(self._outbox)

    def set_notify(self, notify: Callable[[], None] | None) -> None:
        """Called from the worker when the outbox stops being empty (e.g. to wake a Qt timer)."""
        self._outbox.notify = notify

    # --- reading -------------------------------------------------------------------------

    def history(self, alarm_id: str) -> tuple[Transition, ...]:
        """Every workflow change of an alarm, oldest first (from the journal for one no longer in memory)."""
        a = self.get(alarm_id)
        if a is None:
            found = self._reader_db.history(alarm_id)
            if not found:
                raise UnknownAlarm(alarm_id)
            return found
        return a.history

    def allowed_transitions(self, alarm_id: str) -> tuple[AlarmState, ...]:
        """The states an operator may move this alarm to now (for the panel's buttons)."""
        a = self.get(alarm_id)
        if a is None:
            raise UnknownAlarm(alarm_id)
        return workflow.allowed(a.state)

    def audit_log(self, limit: int = 200, operator: str | None = None) -> list[AuditEntry]:
        """Latest operator actions, newest first (read from the journal, after what is queued)."""
        if self._thread is not None:
            self.flush()
        return self.journal.audit_log(limit, operator)

    def counters(self) -> dict[str, Any]:
        """Totals since start: received, new, folded, duplicates, echoes, state_applied,
        state_conflicts, patrol, camera_status, batches, journal_errors, rejected (sum) and
        ``rejected_by_reason`` ({reason: n})."""
        with self._lock:
            out: dict[str, Any] = dict(self._counters)
            out["rejected"] = sum(self._rejected.values())
            out["rejected_by_reason"] = dict(self._rejected)
            out["coalesced"] = self._outbox.coalesced
        return out

    def recent_rejections(self, limit: int = 100) -> list[Rejection]:
        """The latest rejected payloads (topic, reason, field, message), newest first."""
        with self._lock:
            return list(self._recent_rejections)[::-1][:limit]

    def rejections(self) -> dict[str, int]:
        """Rejected payloads per reason (keys of :data:`desktop.core.feeds.schema.REASONS`)."""
        with self._lock:
            return dict(self._rejected)

    def patrol_positions(self) -> dict[str, PatrolPosition]:
        """The latest position of every patrol unit heard from."""
        with self._lock:
            return dict(self._patrol)

    def unit_positions(self, max_age_s: float | None = None) -> dict[str, tuple]:
        """unit → (lon_wgs, lat_wgs, kind, epoch, busy), the input of :func:`~.linkage.nearest_units`.

        A unit is busy while it is assigned to a dispatched alarm that is still open.
        """
        now = self.clock.time()
        with self._lock:
            busy = self._busy_units
            return {u: (p.lon_wgs, p.lat_wgs, p.kind, p.epoch, u in busy)
                    for u, p in self._patrol.items()
                    if max_age_s is None or now - p.epoch <= max_age_s}

    def _index_busy(self, a: Alarm, gone: bool = False) -> None:
        """Keep ``_busy_units`` up to date with ``a``'s state (under the lock)."""
        was = self._unit_of.pop(a.id, None)
        if was is not None:
            ids = self._busy_units.get(was)
            if ids is not None:
                ids.discard(a.id)
                if not ids:
                    del self._busy_units[was]
        if not gone and a.state == AlarmState.DISPATCHED and a.assigned_unit:
            self._unit_of[a.id] = a.assigned_unit
            self._busy_units.setdefault(a.assigned_unit, set()).add(a.id)

    def camera_status(self) -> dict[str, CameraStatus]:
        """The last status reported by each camera that reported one."""
        with self._lock:
            return dict(self._cameras)
