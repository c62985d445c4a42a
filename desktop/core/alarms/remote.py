"""The alarm service and its MQTT feed in a child process, mirrored in the GUI process.

Why: paho's network loop, payload validation and the journal are pure Python. In the GUI
process they compete with the GUI thread for one GIL, and under a flood of a thousand
alarms a second the GUI waits for the interpreter on every return from Qt. In a child
process they have their own interpreter; the GUI process only receives batches of alarm
snapshots over a pipe (as soon as the journal has them, batched ~8 ms apart) and applies them.

:class:`RemoteAlarmService` offers the reading and workflow API the alarm panel uses
(``alarms``, ``get``, ``drain``, ``transition``, ``counters``, ``unit_positions`` …). The
journal is written in the child before anything is sent, so "written before shown" holds.
The child exits when the GUI process goes away (its pipe closes).
"""
from __future__ import annotations

import concurrent.futures
import itertools
import logging
import multiprocessing
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from . import workflow
from .model import Alarm, AlarmEvent, AlarmState, EventKind
from .query import JournalReader
from .feed_child import CALLABLE, _child_main, clear_forgotten_states  # noqa: F401 (importable from here)
from .placing import fill_subdistricts
from .service import AlarmReads, UnknownAlarm

log = logging.getLogger(__name__)

def _add_counters(base: dict, now: dict) -> dict:
    """Totals across feed processes: the dead children's counts plus the live one's."""
    if not base:
        return dict(now)
    out = dict(now)
    for k, v in base.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = out.get(k, 0) + v
        elif isinstance(v, dict):
            merged = dict(v)
            for kk, vv in (now.get(k) or {}).items():
                merged[kk] = merged.get(kk, 0) + vv
            out[k] = merged
    return out


class RemoteAlarmService(AlarmReads):
    """An :class:`~desktop.core.alarms.service.AlarmService` plus MQTT feed in a child process.

    Supervised: if the child dies (killed, crashed) or stops answering for ``STALL_S``, it is
    restarted with backoff, ``feed_status`` says ``"restarting"`` meanwhile and ``restarts``
    counts it. Nothing is lost: the journal holds what was committed, and the broker redelivers
    what was not acknowledged to the new child (same client id, persistent session).
    """

    STALL_S = 15.0  # no word from the child for this long: it is hung, kill and restart it
    BACKOFF_FIRST_S = 0.5
    BACKOFF_MAX_S = 30.0

    def __init__(self, journal: Path | str, *, broker_url: str, workstation: str, clock=None,
                 locate: Callable[[float, float], str] | None = None, flood_window_s: float = 60.0,
                 extras: dict | None = None, locate_many: Callable[..., list[str]] | None = None,
                 locator=None):
        self.journal_path = str(journal)
        self.extras = dict(extras or {})  # further services run in the child (see _child_main)
        self._reader_db = JournalReader(journal)
        self._cameras: dict[str, Any] = {}
        self._forward: set[str] = set()
        # told (from the mirror thread) of bus messages forwarded by the child: the stream hub
        self.on_messages: Callable[[list], None] | None = None
        self.broker_url = broker_url
        self.workstation = workstation
        self.clock = clock
        self.locate = locate
        # locate_many(lons, lats) -> subdistricts: a batch at once (this runs in the GUI process,
        # on the mirror thread: a Python round per alarm of a flood holds the GUI's interpreter lock)
        self.locate_many = locate_many
        # a picklable SubdistrictLocator: the child places the alarms itself before sending
        # them, and the mirror thread does nothing of the kind (the GIL time is the child's)
        self.locator = locator
        self.flood_window_s = flood_window_s
        self._alarms: dict[str, Alarm] = {}
        self._out: list[AlarmEvent] = []
        self._lock = threading.Lock()
        self._counters: dict[str, Any] = {}
        self._counter_base: dict[str, Any] = {}  # totals of children that have died
        self._units: dict[str, tuple] = {}
        self.feed_status = "connecting"
        self.restarts = 0
        self.last_failure = ""
        self._futures: dict[int, concurrent.futures.Future] = {}
        self._ids = itertools.count(1)
        self._proc = None
        self._conn = None
        self._reader: threading.Thread | None = None
        self._restored = threading.Event()
        self._send_lock = threading.Lock()
        self._stopping = threading.Event()
        self._life = threading.Lock()  # spawning a child and stopping exclude each other
        self._fails = 0  # restarts in a row of children that lived less than a minute
        self._start_error: str | None = None

    # --- life cycle ----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "RemoteAlarmService":
        """Start the feed process and wait for its journal. Raises RuntimeError with the child's
        own reason when it cannot start (a restart later retries instead, with backoff)."""
        self._stopping.clear()
        self._start_error = None
        self._spawn()
        deadline = time.monotonic() + timeout
        while not self._restored.wait(0.05):
            if self._start_error is not None or time.monotonic() > deadline:
                why = self._start_error or f"no answer in {timeout:.0f} s"
                self.stop()
                raise RuntimeError(f"the alarm feed process did not start: {why}")
        return self

    def _spawn(self) -> None:
        with self._life:  # never a new child once stop() has begun
            if self._stopping.is_set():
                return
            ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no Qt, no threads copied
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child_main, name="pingan-feed",
                               args=(child, self.journal_path, self.broker_url, self.workstation,
                                     self.flood_window_s, self.extras, self.locator), daemon=True)
            proc.start()
            child.close()
            with self._send_lock:
                self._conn, self._proc = parent, proc
                if self._forward:  # a restarted child forwards what the plugins still want
                    parent.send(("forward", sorted(self._forward)))
        self._reader = threading.Thread(target=self._read, args=(parent, proc), name="alarm-mirror", daemon=True)
        self._reader.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._life:
            self._stopping.set()
            proc = self._proc
        if proc is None:
            return
        try:
            self._send(("stop",))
        except (OSError, EOFError, AttributeError):
            pass
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        self._proc = None
        self._reader_db.close()

    @property
    def pid(self) -> int | None:
        """The feed process's pid (it changes when the process is restarted)."""
        proc = self._proc
        return proc.pid if proc is not None else None

    def _send(self, msg) -> None:
        with self._send_lock:
            self._conn.send(msg)

    def _read(self, conn, proc) -> None:
        started = time.monotonic()
        while True:
            try:
                if not conn.poll(self.STALL_S):
                    self.last_failure = f"no answer for {self.STALL_S:.0f} s"
                    proc.kill()  # hung: the pipe closes and the restart below follows
                    continue
                msg = conn.recv()
            except (EOFError, OSError):
                break
            kind = msg[0]
            if kind == "restored":
                self._on_restored(msg[1], msg[2], msg[3])
            elif kind == "events":
                _, events, counters, units, status, messages = msg
                if messages and self.on_messages is not None:
                    try:
                        self.on_messages(messages)
                    except Exception:  # noqa: BLE001 - the mirror thread must go on
                        log.exception("forwarded messages could not be delivered")
                events = self._located_events(events)
                with self._lock:
                    for e in events:
                        if e.kind == EventKind.FORGOTTEN and e.alarm is not None:
                            self._alarms.pop(e.alarm.id, None)
                        elif e.alarm is not None:
                            self._alarms[e.alarm.id] = e.alarm
                        elif e.kind == EventKind.CAMERA_STATUS and e.camera is not None:
                            self._cameras[e.camera.camera_id] = e.camera
                    self._out.extend(events)
                    self._counters = _add_counters(self._counter_base, counters)
                    self._units = units
                    if not self._stopping.is_set():
                        self.feed_status = status
            elif kind == "reply":
                fut = self._futures.pop(msg[1], None)
                if fut is not None:
                    if msg[2]:
                        fut.set_result(msg[3])
                    else:
                        fut.set_exception(RuntimeError(msg[3]))
            elif kind == "failed":
                self.last_failure = msg[1]
                if not self._restored.is_set():
                    self._start_error = msg[1]  # start() reports it; no restart of a first start
                    return
            elif kind == "stopped":
                return
        if self._stopping.is_set():
            return
        self._restart(proc, time.monotonic() - started)

    def _on_restored(self, alarms: list[Alarm], counters: dict, cameras: dict) -> None:
        """The child's view of the journal: at start everything; after a restart, show what the
        mirror missed (committed by the dead child but not yet sent) as events."""
        with self._lock:
            self._cameras.update(cameras)
            first = not self._restored.is_set()
            for a in alarms:
                a = self._located(a)
                old = self._alarms.get(a.id)
                self._alarms[a.id] = a
                if not first and old != a:
                    fresh = old is None and a.state == AlarmState.NEW  # rings and links like any new alarm
                    self._out.append(AlarmEvent(EventKind.NEW if fresh else EventKind.UPDATED, alarm=a))
            self._counters = _add_counters(self._counter_base, counters)
        self._restored.set()

    def _restart(self, proc, lived_s: float) -> None:
        proc.join(2)
        code = proc.exitcode
        why = self.last_failure or f"exit code {code}"
        self.last_failure = ""
        log.error("the alarm feed process stopped (%s); restarting it", why)
        with self._lock:
            self._counter_base = dict(self._counters)
            self.feed_status = "restarting"
            self.restarts += 1
        # workflow requests the dead child had not answered will never be answered
        for req in list(self._futures):
            fut = self._futures.pop(req, None)
            if fut is not None and not fut.done():
                fut.set_exception(RuntimeError(f"the alarm feed process stopped ({why}); try again"))
        self._fails = 0 if lived_s > 60.0 else self._fails + 1
        delay = min(self.BACKOFF_MAX_S, self.BACKOFF_FIRST_S * 2 ** max(0, self._fails - 1))
        if self._stopping.wait(delay):
            return
        try:
            self._spawn()
        except Exception as exc:  # noqa: BLE001 - e.g. out of processes: try again later
            log.exception("could not restart the alarm feed process")
            self.last_failure = f"restart failed: {exc}"
            threading.Thread(target=self._restart, args=(proc, 0.0), daemon=True).start()

    def _located_events(self, events: list) -> list:
        """The events with their alarms' sub-districts filled in where missing, the batch at once;
        nothing to do when the child has the locator (it placed them before sending)."""
        if self.locator is not None:
            return events
        return fill_subdistricts(events, self.locate_many, self.locate)

    def _located(self, a: Alarm) -> Alarm:
        if self.locate is not None and not a.subdistrict:
            sub = self.locate(a.lon_wgs, a.lat_wgs)
            if sub:
                return replace(a, subdistrict=sub)
        return a

    def wait_connected(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.feed_status == "connected":
                return True
            time.sleep(0.05)
        return self.feed_status == "connected"

    # --- the API the panel uses ------------------------------------------------------------
    def drain(self, max_items: int | None = None) -> list[AlarmEvent]:
        with self._lock:
            if max_items is None or max_items >= len(self._out):
                out, self._out = self._out, []
            else:
                out, self._out = self._out[:max_items], self._out[max_items:]
        return out

    def transition(self, alarm_id: str, target: AlarmState | str, operator: str, note: str = "",
                   unit: str = "") -> concurrent.futures.Future:
        if not isinstance(operator, str) or not operator.strip():
            raise ValueError(f"Alarm {alarm_id}: an operator name is required for a workflow change")
        a = self.get(alarm_id)
        if a is not None:
            workflow.check(alarm_id, a.state, target)  # the same immediate error as in-process
        return self._request("transition", alarm_id, str(workflow.as_state(target)), operator, note, unit)

    def audit(self, operator: str, action: str, target: str = "", **detail: Any) -> None:
        try:
            self._send(("audit", operator, action, target, detail))
        except (OSError, EOFError) as exc:
            log.error("audit entry lost while the feed process restarts: %s %s (%s)", action, target, exc)

    def flush(self, timeout: float = 10.0) -> bool:
        fut = self._request("flush")
        try:
            fut.result(timeout)
            return True
        except (concurrent.futures.TimeoutError, RuntimeError):
            return False

    def audit_log(self, limit: int = 200, operator: str | None = None, timeout: float = 5.0):
        """Latest operator actions, newest first, read by the feed process from the journal.

        Raises RuntimeError when the feed process does not answer (restarting, or hung)."""
        return self._ask(timeout, "audit_log", int(limit), operator)

    def recent_rejections(self, limit: int = 100, timeout: float = 5.0):
        """The latest rejected payloads, newest first (kept by the feed process)."""
        return self._ask(timeout, "rejections", int(limit))

    def _ask(self, timeout: float, kind: str, *args):
        """A question for the feed process: its answer, or RuntimeError when none comes."""
        try:
            return self._request(kind, *args).result(timeout)
        except concurrent.futures.TimeoutError:
            raise RuntimeError("the alarm feed process did not answer") from None

    def _request(self, kind: str, *args) -> concurrent.futures.Future:
        """Send a command that the child answers; while the child is down the future fails at
        once (the caller shows it), it never raises here."""
        req = next(self._ids)
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._futures[req] = fut
        try:
            self._send((kind, req, *args))
        except (OSError, EOFError, AttributeError) as exc:
            self._futures.pop(req, None)
            fut.set_exception(RuntimeError(f"the alarm feed process is restarting ({exc}); try again"))
        return fut

    def allowed_transitions(self, alarm_id: str) -> tuple[AlarmState, ...]:
        a = self.get(alarm_id)
        return workflow.allowed(a.state) if a is not None else ()

    def forward(self, topic_filters) -> None:
        """Have the child send the bus messages matching ``topic_filters`` (replaces the set);
        they reach :attr:`on_messages` with the next batch of events."""
        self._forward = set(topic_filters)
        try:
            self._send(("forward", sorted(self._forward)))
        except (OSError, EOFError, AttributeError):
            pass  # not started, or restarting: _spawn sends the filters to the new child

    def call(self, service: str, method: str, *args, timeout: float = 10.0, **kwargs):
        """Call a read method of a service in the feed process (see :data:`CALLABLE`); its result,
        or RuntimeError naming why there is none."""
        if method not in CALLABLE.get(service, ()):
            raise PermissionError(f"{service}.{method} cannot be called across the feed process")
        return self._ask(timeout, "call", service, method, args, kwargs)

    def history(self, alarm_id: str):
        """Every workflow change of an alarm, oldest first: from memory, else the journal."""
        a = self.get(alarm_id)
        if a is not None and a.history:
            return a.history
        found = self._reader_db.history(alarm_id)
        if not found and a is None:
            raise UnknownAlarm(alarm_id)
        return found

    def camera_status(self) -> dict[str, Any]:
        """The last status reported by each camera that reported one."""
        with self._lock:
            return dict(self._cameras)

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._counters)

    def unit_positions(self, max_age_s: float | None = None) -> dict[str, tuple]:
        with self._lock:
            units = dict(self._units)
        if max_age_s is None:
            return units
        now = self.clock.time() if self.clock is not None else time.time()
        return {u: p for u, p in units.items() if now - p[3] <= max_age_s}


__all__ = ["RemoteAlarmService"]
