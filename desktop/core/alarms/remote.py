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
import os
import selectors
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from . import workflow
from .model import Alarm, AlarmEvent, AlarmState
from .service import AlarmReads

log = logging.getLogger(__name__)

# Events leave the child as soon as the journal has them, but at most once per _MIN_GAP_S,
# so a flood goes out in batches (one pickle and one wake-up of the GUI process per batch,
# not per alarm) while a lone alarm is not held back waiting for a fixed tick.
_MIN_GAP_S = 0.008
_IDLE_S = 0.25  # with nothing happening, the feed's status is looked at this often


def _child_main(conn, journal: str, broker_url: str, workstation: str, flood_window_s: float) -> None:
    """Runs in the child: service + feed, events out, commands in."""
    from desktop.core.alarms.service import AlarmService
    from desktop.core.feeds.bus import EventBus
    from desktop.core.feeds.mqtt import MqttFeed

    send_lock = threading.Lock()

    def send(msg) -> None:
        with send_lock:
            conn.send(msg)

    # the service's worker says "the outbox is no longer empty" through a self-pipe, so one
    # select() waits for both that and the GUI's commands
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)

    def wake() -> None:
        try:
            os.write(wake_w, b"\0")
        except BlockingIOError:  # the pipe is full of wake-ups already
            pass

    bus = EventBus("child")
    svc = AlarmService(journal, bus=bus, workstation=workstation, flood_window_s=flood_window_s,
                       notify=wake).start()
    feed = MqttFeed.from_url(broker_url, bus, workstation=workstation).start() if broker_url else None
    send(("restored", svc.alarms(), svc.counters()))
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ, "command")
    sel.register(wake_r, selectors.EVENT_READ, "events")

    def handle(cmd) -> bool:
        """Carry out one command from the GUI; False on "stop"."""
        kind = cmd[0]
        if kind == "stop":
            return False
        if kind == "transition":
            _, req, alarm_id, target, operator, note, unit = cmd
            try:
                fut = svc.transition(alarm_id, target, operator, note, unit=unit)
            except Exception as exc:  # noqa: BLE001 - the caller gets it as the future's error
                send(("reply", req, False, f"{type(exc).__name__}: {exc}"))
            else:
                def done(f, req=req):
                    try:
                        send(("reply", req, True, f.result()))
                    except Exception as exc:  # noqa: BLE001 (sent as text: not every error pickles)
                        send(("reply", req, False, f"{type(exc).__name__}: {exc}"))
                fut.add_done_callback(done)
        elif kind == "audit":
            _, operator, action, target, detail = cmd
            svc.audit(operator, action, target, **detail)
        elif kind == "flush":
            svc.flush()
            send(("reply", cmd[1], True, None))
        return True

    running = True
    last_status = None
    last_send = 0.0
    while running:
        try:
            ready = {key.data for key, _ in sel.select(_IDLE_S)}
            if "events" in ready:
                while True:
                    try:
                        if not os.read(wake_r, 4096):
                            break
                    except BlockingIOError:
                        break
            commands = False
            while running and conn.poll(0):
                commands = True
                running = handle(conn.recv())
        except (EOFError, OSError):
            break
        if "events" in ready and not commands:
            gap = _MIN_GAP_S - (time.monotonic() - last_send)
            if gap > 0:
                time.sleep(gap)  # let the rest of a burst join this batch
        events = svc.drain()
        status = feed.status if feed is not None else "none"
        if events or commands or status != last_status:
            last_status = status
            try:
                send(("events", events, svc.counters(), svc.unit_positions(), status))
            except (EOFError, OSError):
                break
            last_send = time.monotonic()
    sel.close()
    if feed is not None:
        feed.stop()
    svc.stop()
    try:
        send(("stopped",))
    except (OSError, EOFError):
        pass
    os.close(wake_r)
    os.close(wake_w)


class RemoteAlarmService(AlarmReads):
    """An :class:`~desktop.core.alarms.service.AlarmService` plus MQTT feed in a child process."""

    def __init__(self, journal: Path | str, *, broker_url: str, workstation: str, clock=None,
                 locate: Callable[[float, float], str] | None = None, flood_window_s: float = 60.0):
        self.journal_path = str(journal)
        self.broker_url = broker_url
        self.workstation = workstation
        self.clock = clock
        self.locate = locate
        self.flood_window_s = flood_window_s
        self._alarms: dict[str, Alarm] = {}
        self._out: list[AlarmEvent] = []
        self._lock = threading.Lock()
        self._counters: dict[str, Any] = {}
        self._units: dict[str, tuple] = {}
        self.feed_status = "connecting"
        self._futures: dict[int, concurrent.futures.Future] = {}
        self._ids = itertools.count(1)
        self._proc = None
        self._conn = None
        self._reader: threading.Thread | None = None
        self._restored = threading.Event()
        self._send_lock = threading.Lock()

    # --- life cycle ----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "RemoteAlarmService":
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no Qt, no threads copied
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child_main, name="pingan-feed",
                                 args=(child, self.journal_path, self.broker_url, self.workstation,
                                       self.flood_window_s), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        self._reader = threading.Thread(target=self._read, name="alarm-mirror", daemon=True)
        self._reader.start()
        if not self._restored.wait(timeout):
            raise RuntimeError("the alarm feed process did not start")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None:
            return
        try:
            self._send(("stop",))
        except (OSError, EOFError):
            pass
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.kill()
        self._proc = None

    def _send(self, msg) -> None:
        with self._send_lock:
            self._conn.send(msg)

    def _read(self) -> None:
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                break
            kind = msg[0]
            if kind == "restored":
                with self._lock:
                    for a in msg[1]:
                        self._alarms[a.id] = self._located(a)
                    self._counters = msg[2]
                self._restored.set()
            elif kind == "events":
                _, events, counters, units, status = msg
                events = [replace(e, alarm=self._located(e.alarm)) if e.alarm is not None else e for e in events]
                with self._lock:
                    for e in events:
                        if e.alarm is not None:
                            self._alarms[e.alarm.id] = e.alarm
                    self._out.extend(events)
                    self._counters, self._units, self.feed_status = counters, units, status
            elif kind == "reply":
                fut = self._futures.pop(msg[1], None)
                if fut is not None:
                    if msg[2]:
                        fut.set_result(msg[3])
                    else:
                        fut.set_exception(RuntimeError(msg[3]))
            elif kind == "stopped":
                break

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
        req = next(self._ids)
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._futures[req] = fut
        self._send(("transition", req, alarm_id, str(workflow.as_state(target)), operator, note, unit))
        return fut

    def audit(self, operator: str, action: str, target: str = "", **detail: Any) -> None:
        self._send(("audit", operator, action, target, detail))

    def flush(self, timeout: float = 10.0) -> bool:
        req = next(self._ids)
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._futures[req] = fut
        self._send(("flush", req))
        try:
            fut.result(timeout)
            return True
        except concurrent.futures.TimeoutError:
            return False

    def allowed_transitions(self, alarm_id: str) -> tuple[AlarmState, ...]:
        a = self.get(alarm_id)
        return workflow.allowed(a.state) if a is not None else ()

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
