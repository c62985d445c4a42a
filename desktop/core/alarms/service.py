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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from desktop.core.clock import Clock, RealClock, iso
from desktop.core.feeds.bus import REJECTED_TOPIC, EventBus, Receipt
from desktop.core.feeds.schema import (AlarmMessage, CameraStatus, PatrolPosition, PayloadError,
                                       StateMessage, decode, fill_positions, parse_alarm,
                                       parse_camera_status, parse_patrol, parse_state, topic_kind)
from desktop.core.i18n import tr

from . import workflow
from .flood import FloodControl
from .journal import Journal
from .model import Alarm, AlarmEvent, AlarmState, AuditEntry, EventKind, Rejection, Transition
from .outbox import Outbox
from .query import JournalReader
from .workflow import IllegalTransition

log = logging.getLogger(__name__)

__all__ = ["AlarmService", "UnknownAlarm", "SUBSCRIBED_TOPICS", "state_topic"]

SUBSCRIBED_TOPICS = ("pingan/alarm", "pingan/alarm/+/state", "pingan/patrol/+/position",
                     "pingan/camera/+/status", REJECTED_TOPIC)

# Remote state changes for alarms this workstation has not received yet (topics are not
# ordered against each other across publishers); applied when the alarm arrives.
_MAX_PENDING_REMOTE = 10_000


def select_alarms(items: Iterable[Alarm], *, types=None, states=None, subdistricts=None, priorities=None,
                  open_only: bool = False, newest_first: bool = True, limit: int | None = None) -> list[Alarm]:
    """Filter and sort alarms as :meth:`AlarmService.alarms` does (shared with the feed-process mirror)."""
    types = set(types) if types is not None else None
    states = {workflow.as_state(s) for s in states} if states is not None else None
    subdistricts = set(subdistricts) if subdistricts is not None else None
    priorities = set(priorities) if priorities is not None else None
    out = [a for a in items
           if (types is None or a.type in types)
           and (states is None or a.state in states)
           and (subdistricts is None or a.subdistrict in subdistricts)
           and (priorities is None or a.priority in priorities)
           and (not open_only or a.is_open)]
    out.sort(key=lambda a: a.sort_key(newest_first))
    return out[:limit] if limit is not None else out


def state_topic(alarm_id: str) -> str:
    return f"pingan/alarm/{alarm_id}/state"


def alarm_message_payload(a: Alarm) -> dict:
    """The ``pingan/alarm`` payload an alarm was made from (first message), for retained states."""
    out = {"id": a.id, "type": a.type, "priority": a.priority, "time": a.time, "lon": a.lon, "lat": a.lat,
           "crs": a.crs, "source": a.source}
    if a.camera_ids:
        out["camera_ids"] = list(a.camera_ids)
    if a.text:
        out["text"] = a.text
    return out


class UnknownAlarm(LookupError):
    """No alarm with this id is known to the service."""

    def __init__(self, alarm_id: str):
        self.alarm_id = alarm_id
        super().__init__(tr("Unknown alarm {id}", id=alarm_id))


# --- work items ---------------------------------------------------------------------------

@dataclass
class _Msg:
    topic: str
    payload: Any
    receipt: Receipt | None
    received: float
    parsed: Any = None


@dataclass
class _Move:
    alarm_id: str
    target: AlarmState
    operator: str
    note: str
    unit: str
    future: concurrent.futures.Future


@dataclass
class _Audit:
    entry: AuditEntry


@dataclass
class _Arrival:
    alarm_id: str
    unit: str
    dispatched: float
    arrived: float


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)
    forget: bool = False  # also forget closed alarms past the retention (see forget_closed)


_STOP = object()


class _Batch:
    """What one batch changes, kept aside until its transaction commits."""

    def __init__(self):
        self.staged: dict[str, Alarm] = {}
        self.occurrences: list[tuple] = []
        self.transitions: list[Transition] = []
        self.audits: list[AuditEntry] = []
        self.events: list[AlarmEvent] = []
        self.receipts: list[Receipt] = []
        self.results: list[tuple[concurrent.futures.Future, Any]] = []
        self.publish: list[Transition] = []
        self.patrol: dict[str, PatrolPosition] = {}
        self.cameras: dict[str, CameraStatus] = {}
        self.camera_log: list[CameraStatus] = []  # every report, in order (the journal keeps the changes)
        self.arrivals: list[_Arrival] = []
        self.flushes: list[_Flush] = []

    @property
    def has_writes(self) -> bool:
        return bool(self.staged or self.occurrences or self.transitions or self.audits or self.camera_log
                    or self.arrivals)


class AlarmReads:
    """The read side shared by :class:`AlarmService` and its feed-process mirror
    (:class:`~desktop.core.alarms.remote.RemoteAlarmService`): both keep ``_alarms`` under ``_lock``."""

    _alarms: dict
    _lock: Any

    def alarms(self, *, types: Iterable[str] | None = None,
               states: Iterable[AlarmState | str] | None = None,
               subdistricts: Iterable[str] | None = None,
               priorities: Iterable[int] | None = None, open_only: bool = False,
               newest_first: bool = True, limit: int | None = None) -> list[Alarm]:
        """Alarms sorted by priority (1 first) then time; each filter is a set of allowed values."""
        with self._lock:
            items = list(self._alarms.values())
        return select_alarms(items, types=types, states=states, subdistricts=subdistricts, priorities=priorities,
                             open_only=open_only, newest_first=newest_first, limit=limit)

    def get(self, alarm_id: str) -> Alarm | None:
        with self._lock:
            return self._alarms.get(alarm_id)

    def types(self) -> list[str]:
        """Alarm types present (for a filter list)."""
        with self._lock:
            return sorted({a.type for a in self._alarms.values()})

    def subdistricts(self) -> list[str]:
        with self._lock:
            return sorted({a.subdistrict for a in self._alarms.values()} - {""})

    _reader_db: Any = None

    def query(self, t0: float, t1: float, *, types: Iterable[str] | None = None,
              subdistricts: Iterable[str] | None = None, states: Iterable[AlarmState | str] | None = None,
              with_history: bool = False, limit: int = 100_000) -> list[Alarm]:
        """Alarms whose event time lies in [t0, t1), oldest first, read from the journal — the
        whole record, not only what is kept in memory (see :class:`~.query.JournalReader`)."""
        return self._reader_db.between(t0, t1, types=types, subdistricts=subdistricts, states=states,
                                       with_history=with_history, limit=limit)


class AlarmService(AlarmReads):
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

    # --- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        running = True
        while running:
            try:
                batch = [self._queue.get(timeout=self.FORGET_EVERY_S)]
            except queue.Empty:  # quiet hours: still forget what is past its retention
                try:
                    self._forget_closed()
                except Exception:  # noqa: BLE001 - never let the worker die
                    log.exception("alarm service: forgetting closed alarms failed")
                continue
            first = time.monotonic()
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if first - self._last_batch_end < self.COALESCE_S and len(batch) < self.batch_max:
                # Under a flood (the last batch ended moments ago) gather for a few ms more:
                # each batch costs a commit with its fsync, the summaries' flush and a forward
                # to the GUI, and at 1,000 alarms/s batches of five were 200 of each a second.
                # A lone alarm in a quiet hour is not held back.
                # Sleep out the window, then take what came: waiting in get() would wake
                # this thread (and hand it the interpreter lock) for every message, a dozen
                # times a batch, and that is CPU a loaded machine does not have.
                if batch[-1] is not _STOP:
                    wait = first + self.COALESCE_S - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    while len(batch) < self.batch_max:
                        try:
                            batch.append(self._queue.get_nowait())
                        except queue.Empty:
                            break
            if any(item is _STOP for item in batch):
                running = False
                batch = [item for item in batch if item is not _STOP]
            try:
                self._process(batch)
                self._last_batch_end = time.monotonic()
            except Exception:  # never let the worker die: the next batch must still go through
                log.exception("alarm service: batch failed")
                with self._lock:
                    self._counters["batch_errors"] += 1
                for item in batch:
                    if isinstance(item, _Msg) and item.receipt is not None:
                        item.receipt.release()
                    elif isinstance(item, _Flush):
                        item.done.set()
                    elif isinstance(item, _Move) and not item.future.done():
                        item.future.set_exception(RuntimeError("alarm service batch failed"))

    def _process(self, items: list) -> None:
        b = _Batch()
        counts: Counter = Counter()

        # Pass 1: decode and validate every message; collect positions to convert at once.
        to_convert: list[_Msg] = []
        for item in items:
            if not isinstance(item, _Msg):
                continue
            counts["received"] += 1
            if item.receipt is not None:
                b.receipts.append(item.receipt)
            try:
                item.parsed = self._parse(item.topic, item.payload)
            except PayloadError as err:
                item.parsed = err
                continue
            if isinstance(item.parsed, (AlarmMessage, PatrolPosition)):
                to_convert.append(item)
        if to_convert:
            for item, msg in zip(to_convert, fill_positions([i.parsed for i in to_convert])):
                item.parsed = msg

        # Pass 2: apply in arrival order (a transition queued after an alarm must see it).
        for item in items:
            if isinstance(item, _Msg):
                p = item.parsed
                if isinstance(p, PayloadError):
                    self._reject(b, p, counts)
                elif isinstance(p, AlarmMessage):
                    self._ingest_alarm(b, p, item.received, counts)
                elif isinstance(p, StateMessage):
                    self._ingest_state(b, p, counts)
                elif isinstance(p, PatrolPosition):
                    counts["patrol"] += 1
                    b.patrol[p.unit] = p
                    b.events.append(AlarmEvent(EventKind.PATROL, patrol=p))
                elif isinstance(p, CameraStatus):
                    counts["camera_status"] += 1
                    b.cameras[p.camera_id] = p
                    b.camera_log.append(p)
                    b.events.append(AlarmEvent(EventKind.CAMERA_STATUS, camera=p))
                elif isinstance(p, Rejection):
                    self._reject(b, p, counts)
            elif isinstance(item, _Move):
                self._local_move(b, item, counts)
            elif isinstance(item, _Audit):
                b.audits.append(item.entry)
            elif isinstance(item, _Arrival):
                b.arrivals.append(item)
            elif isinstance(item, _Flush):
                b.flushes.append(item)

        # One transaction for the whole batch.
        if b.has_writes:
            try:
                with self.journal.batch() as tx:
                    for alarm in b.staged.values():
                        tx.upsert_alarm(alarm)
                    for occ in b.occurrences:
                        tx.add_occurrence(*occ)
                    for t in b.transitions:
                        tx.add_transition(t)
                    for e in b.audits:
                        tx.add_audit(e)
                    for c in b.camera_log:
                        tx.add_camera_status(c.camera_id, c.status, c.epoch, c.reason)
                    for a in b.arrivals:
                        tx.add_arrival(a.alarm_id, a.unit, a.dispatched, a.arrived)
            except Exception as exc:
                # Operators must still see their alarms: show them, and say loudly that the
                # journal failed (a disk problem is the usual cause).
                log.exception("alarm journal write failed (%d alarms in the batch)", len(b.staged))
                counts["journal_errors"] += 1
                b.events.append(AlarmEvent(EventKind.JOURNAL_ERROR,
                                           message=tr("The alarm journal could not be written: {err}", err=exc)))
            counts["batches"] += 1

        # Commit to the views, then tell everyone.
        with self._lock:
            self._alarms.update(b.staged)
            for a in b.staged.values():
                self._index_busy(a)
            self._patrol.update(b.patrol)
            self._cameras.update(b.cameras)
            self._counters.update(counts)
        self._outbox.put_many(b.events)
        for receipt in b.receipts:
            receipt.release()
        for fut, result in b.results:
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result)
        if self.bus is not None:
            for t in b.publish:
                try:
                    payload = t.to_payload()
                    a = b.staged.get(t.alarm_id) or self._alarms.get(t.alarm_id)
                    if a is not None:
                        payload["alarm"] = alarm_message_payload(a)
                    self.bus.publish(state_topic(t.alarm_id), payload, sender=self)
                except Exception:
                    log.exception("could not publish the state change of alarm %s", t.alarm_id)
        if any(f.forget for f in b.flushes) or time.monotonic() - self._last_forget > self.FORGET_EVERY_S:
            try:
                self._forget_closed()
            except Exception:  # noqa: BLE001 - this batch is journaled already; forget next time
                log.exception("alarm service: forgetting closed alarms failed")
        for f in b.flushes:
            f.done.set()
        self._maybe_prune(counts)

    # --- steps ---------------------------------------------------------------------------

    def _parse(self, topic: str, payload: Any):
        if topic == REJECTED_TOPIC:
            # A feed could not decode a payload; it tells us so the counters are in one place.
            p = payload if isinstance(payload, dict) else {}
            return Rejection(topic=str(p.get("topic", "?")), reason=str(p.get("reason", "invalid_json")),
                             field=str(p.get("field", "")), message=str(p.get("error", "")),
                             epoch=self.clock.time())
        kind = topic_kind(topic)
        if kind is None:
            raise PayloadError(topic, "unknown_topic", "", tr("no schema for this topic"))
        data = decode(topic, payload)
        name, key = kind
        if name == "alarm":
            return parse_alarm(topic, data, convert=False)
        if name == "alarm_state":
            return parse_state(topic, data, key)
        if name == "patrol":
            return parse_patrol(topic, data, key, convert=False)
        return parse_camera_status(topic, data, key)

    def _reject(self, b: _Batch, err: PayloadError | Rejection, counts: Counter) -> None:
        if isinstance(err, PayloadError):
            rej = Rejection(topic=err.topic, reason=err.reason, field=err.field, message=str(err),
                            epoch=self.clock.time())
        else:
            rej = err
        with self._lock:
            self._rejected[rej.reason] += 1
            n = self._rejected[rej.reason]
            totals = dict(self._rejected)
            self._recent_rejections.append(rej)
        if n <= 20 or n % 1000 == 0:  # a stream of garbage must not flood the log too
            log.warning("rejected payload on %s [%s]: %s%s", rej.topic, rej.reason, rej.message,
                        f" ({n} so far)" if n > 20 else "")
        b.events.append(AlarmEvent(EventKind.REJECTED, rejection=rej, counters=totals))

    def _lookup(self, b: _Batch, alarm_id: str) -> Alarm | None:
        a = b.staged.get(alarm_id)
        return a if a is not None else self._alarms.get(alarm_id)

    def _stage(self, b: _Batch, alarm: Alarm, kind: EventKind, transition: Transition | None = None) -> None:
        b.staged[alarm.id] = alarm
        b.events.append(AlarmEvent(kind, alarm=alarm, transition=transition))

    def _ingest_alarm(self, b: _Batch, m: AlarmMessage, received: float, counts: Counter) -> None:
        if m.id in self._seen or self._lookup(b, m.id) is not None:
            # QoS 1 means "at least once": a redelivery after a reconnect is normal.
            counts["duplicates"] += 1
            return
        self._seen.add(m.id)
        self._max_event_epoch = max(self._max_event_epoch, m.epoch)
        target_id = self.flood.match(m.source, m.type, m.epoch)
        target = self._lookup(b, target_id) if target_id else None
        if target is not None and target.is_open:
            cams = target.camera_ids + tuple(c for c in m.camera_ids if c not in target.camera_ids)
            newer = m.epoch >= target.last_epoch
            folded = replace(
                target, count=target.count + 1,
                last_time=m.time if newer else target.last_time,
                last_epoch=m.epoch if newer else target.last_epoch,
                last_received=received, updated=received,
                priority=min(target.priority, m.priority),  # a more urgent repeat raises it
                camera_ids=cams, text=m.text or target.text)
            kind = EventKind.UPDATED if folded.priority != target.priority else EventKind.FOLDED
            self.flood.record(m.source, m.type, target.id, m.epoch)
            self._stage(b, folded, kind)
            b.occurrences.append((m.id, target.id, m.time, received, m.payload))
            counts["folded"] += 1
            return
        subdistrict = ""
        if self.locate is not None:
            try:
                subdistrict = self.locate(m.lon_wgs, m.lat_wgs) or ""
            except Exception:
                log.exception("locate() failed for alarm %s", m.id)
        alarm = Alarm(id=m.id, type=m.type, priority=m.priority, time=m.time, epoch=m.epoch,
                      lon=m.lon, lat=m.lat, crs=m.crs, lon_wgs=m.lon_wgs, lat_wgs=m.lat_wgs,
                      lon_gcj=m.lon_gcj, lat_gcj=m.lat_gcj, source=m.source,
                      camera_ids=m.camera_ids, text=m.text, state=AlarmState.NEW,
                      received=received, count=1, last_time=m.time, last_epoch=m.epoch,
                      last_received=received, subdistrict=str(subdistrict), updated=received)
        self.flood.record(m.source, m.type, alarm.id, m.epoch)
        self._stage(b, alarm, EventKind.NEW)
        b.occurrences.append((m.id, alarm.id, m.time, received, m.payload))
        counts["new"] += 1
        for s in self._pending_remote.pop(alarm.id, ()):
            self._ingest_state(b, s, counts)

    def _ingest_state(self, b: _Batch, s: StateMessage, counts: Counter) -> None:
        if s.origin == self.workstation:
            counts["echoes"] += 1  # our own change, back from the broker
            return
        alarm = self._lookup(b, s.alarm_id)
        if alarm is None and s.alarm is not None:
            # a retained state from before we started: the alarm comes with it
            self._ingest_alarm(b, fill_positions([s.alarm])[0], self.clock.time(), counts)
            counts["alarms_from_states"] += 1
            alarm = self._lookup(b, s.alarm_id)
        if alarm is None:
            if sum(len(v) for v in self._pending_remote.values()) < _MAX_PENDING_REMOTE:
                self._pending_remote.setdefault(s.alarm_id, []).append(s)
            counts["state_pending"] += 1
            return
        if alarm.state == s.state:
            counts["state_duplicates"] += 1  # two operators did the same, or a redelivery
            return
        try:
            updated, t = workflow.apply(alarm, s.state, s.operator, s.epoch, s.time, s.note,
                                        origin=s.origin, unit=s.unit, skip=True)
        except (IllegalTransition, ValueError) as exc:
            # Stale or conflicting (e.g. resolved here, acknowledged there): the furthest state wins.
            counts["state_conflicts"] += 1
            log.info("ignored state change from %s: %s", s.origin, exc)
            return
        self._stage(b, updated, EventKind.STATE_CHANGED, t)
        b.transitions.append(t)
        if updated.state.terminal:
            self.flood.forget(updated.id)
        counts["state_applied"] += 1

    def _local_move(self, b: _Batch, mv: _Move, counts: Counter) -> None:
        alarm = self._lookup(b, mv.alarm_id)
        if alarm is None:
            b.results.append((mv.future, UnknownAlarm(mv.alarm_id)))
            return
        now = self.clock.time()
        try:
            updated, t = workflow.apply(alarm, mv.target, mv.operator, now, iso(now), mv.note,
                                        origin=self.workstation, unit=mv.unit)
        except (IllegalTransition, ValueError) as exc:
            b.results.append((mv.future, exc))
            return
        self._stage(b, updated, EventKind.STATE_CHANGED, t)
        b.transitions.append(t)
        b.audits.append(AuditEntry(epoch=now, time=t.time, operator=t.operator,
                                   workstation=self.workstation, action="transition",
                                   target=t.alarm_id,
                                   detail={"from": str(t.from_state), "to": str(t.to_state),
                                           "note": t.note, "unit": t.unit}))
        b.publish.append(t)
        b.results.append((mv.future, t))
        if updated.state.terminal:
            self.flood.forget(updated.id)
        counts["transitions"] += 1

    def forget_closed(self, timeout: float = 10.0) -> bool:
        """Forget now (not at the next hourly pass) the closed alarms past the retention."""
        if self._thread is None:
            raise RuntimeError("AlarmService is not started")
        f = _Flush(forget=True)
        self._queue.put(f)
        return f.done.wait(timeout)

    def _forget_closed(self) -> None:
        """Drop from memory the alarms closed longer ago than the retention, as a restart would.

        They stay in the journal; a workstation that runs for weeks holds what one started
        today holds. The UI is told with a ``forgotten`` event per alarm."""
        self._last_forget = time.monotonic()
        if self.closed_retention_s is None:
            return
        cutoff = self.clock.time() - self.closed_retention_s
        with self._lock:
            old = [a for a in self._alarms.values() if a.state.terminal and (a.updated or a.epoch) < cutoff]
            for a in old:
                del self._alarms[a.id]
                self._index_busy(a, gone=True)
            self._counters["forgotten"] += len(old)
        if not old:
            return
        try:
            self._seen.difference_update(self.journal.occurrence_ids([a.id for a in old]))
        except Exception:  # noqa: BLE001 - keeping a few ids too many is harmless
            log.exception("could not read the message ids of forgotten alarms")
        self._outbox.put_many([AlarmEvent(EventKind.FORGOTTEN, alarm=a) for a in old])
        log.info("forgot %d alarms closed before the retention", len(old))

    def _maybe_prune(self, counts: Counter) -> None:
        # Flood groups of long-quiet sources can no longer match: keep the table small.
        self._since_prune += counts.get("received", 0)
        if self._since_prune >= 5000:
            self._since_prune = 0
            self.flood.prune(self._max_event_epoch - 2 * self.flood.window_s - 3600)
