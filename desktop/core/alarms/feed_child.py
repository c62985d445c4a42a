"""The alarm feed process's own side: its main loop (service, MQTT feed and the services run
beside them, events out to the GUI process, commands in), Qt-free.

:class:`~desktop.core.alarms.remote.RemoteAlarmService` starts a process on
:func:`_child_main` and mirrors what it sends; see that module for why the feeds run apart.
"""
from __future__ import annotations

import importlib
import logging
import os
import selectors
import threading
import time
from typing import Any

from .model import EventKind
from .placing import fill_subdistricts
from .service import state_topic

log = logging.getLogger(__name__)

# Events leave the child as soon as the journal has them, but at most once per _MIN_GAP_S,
# so a flood goes out in batches (one pickle and one wake-up of the GUI process per batch,
# not per alarm) while a lone alarm is not held back waiting for a fixed tick.
_MIN_GAP_S = 0.008
_IDLE_S = 0.25  # with nothing happening, the feed's status is looked at this often
_HEARTBEAT_S = 1.0  # the child says "alive" at least this often, so the GUI can tell a hung one
_FORWARD_MAX = 200_000  # forwarded bus messages held for a GUI that does not read them

# What the GUI may call on the feed process's services (read methods and dispatch commands);
# anything else is refused, so a plugin cannot reach into the child's internals.
CALLABLE: dict[str, tuple[str, ...]] = {
    "alarms": ("alarms", "get", "history", "camera_status", "patrol_positions", "counters"),
    "patrol": ("positions", "visits", "rank", "dispatch", "release", "release_alarm", "busy", "coverage",
               "at_sea", "dispatches", "arrivals", "flush", "track", "tracks", "trips_and_stops"),
}


def _child_main(conn, journal: str, broker_url: str, workstation: str, flood_window_s: float,
                extras: dict | None = None, locator=None) -> None:
    """Runs in the child: service + feed, events out, commands in.

    ``extras``: name -> "module:factory" of further services to run here beside the alarm
    service (the patrol service); each factory is called as ``factory(bus=..., alarms=...,
    workstation=..., **kwargs)`` and answers the GUI's ``call`` requests (read methods only:
    see :data:`CALLABLE`). ``locator``: a
    :class:`~desktop.core.district.locator.SubdistrictLocator`; with it the alarms are placed in
    their sub-districts here, a batch at a time, before they are sent."""
    from desktop.core import runtime
    from desktop.core.alarms.service import AlarmService
    runtime.tune_gc(young=5_000, middle=20, old=1000)  # short passes: see tune_gc
    runtime.tune_switching()
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
    extra_services: dict[str, Any] = {}
    try:
        svc = AlarmService(journal, bus=bus, workstation=workstation, flood_window_s=flood_window_s,
                           notify=wake).start()
        for name, (target, kwargs) in (extras or {}).items():
            module, _, attr = target.partition(":")
            factory = getattr(importlib.import_module(module), attr)
            extra_services[name] = factory(bus=bus, alarms=svc, workstation=workstation, **kwargs)
        feed = MqttFeed.from_url(broker_url, bus, workstation=workstation).start() if broker_url else None
    except Exception as exc:  # noqa: BLE001 - told to the GUI, which says it to the operator
        log.exception("the alarm feed process could not start")
        send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    send(("restored", svc.alarms(), svc.counters(), svc.camera_status()))
    runtime.freeze_heap()  # the restored alarms, the district of the services: out of the GC's way

    # Bus messages the GUI's plugins subscribed to (``forward`` commands set the filters):
    # collected here and sent with the next batch of events.
    forwarded: list[tuple[str, dict]] = []
    forward_lock = threading.Lock()
    forward_subs: dict[str, Any] = {}

    def keep(topic: str, payload: dict) -> None:
        with forward_lock:
            was_empty = not forwarded
            forwarded.append((topic, payload))
            if len(forwarded) > _FORWARD_MAX:  # the GUI is gone or hung: bounded, counted
                del forwarded[:len(forwarded) - _FORWARD_MAX]
        if was_empty:
            wake()

    def set_forward(filters) -> None:
        for f in set(forward_subs) - set(filters):
            forward_subs.pop(f).unsubscribe()
        for f in set(filters) - set(forward_subs):
            forward_subs[f] = bus.subscribe(f, keep)
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
        elif kind == "rejections":
            send(("reply", cmd[1], True, svc.recent_rejections(cmd[2])))
        elif kind == "forward":
            set_forward(cmd[1])
        elif kind == "call":
            _, req, name, method, args, kwargs = cmd
            target = svc if name == "alarms" else extra_services.get(name)
            target = getattr(target, "service", target)  # a feed wrapping a service: ask the service
            try:
                if target is None:
                    raise LookupError(f"no service {name!r} in the feed process")
                if method not in CALLABLE.get(name, ()):
                    raise PermissionError(f"{name}.{method} cannot be called across the feed process")
                send(("reply", req, True, getattr(target, method)(*args, **kwargs)))
            except Exception as exc:  # noqa: BLE001 - sent as text: not every error pickles
                send(("reply", req, False, f"{type(exc).__name__}: {exc}"))
        elif kind == "audit_log":
            _, req, limit, operator = cmd
            svc.flush()  # what was asked before this is in the answer
            try:
                send(("reply", req, True, svc.audit_log(limit, operator)))
            except Exception as exc:  # noqa: BLE001 - e.g. the journal file is unreadable
                send(("reply", req, False, f"{type(exc).__name__}: {exc}"))
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
        if locator is not None:
            events = fill_subdistricts(events, locator.locate_many)
        if feed is not None:
            clear_forgotten_states(feed, events)
        with forward_lock:
            messages = forwarded[:]
            forwarded.clear()
        status = feed.status if feed is not None else "none"
        if (events or messages or commands or status != last_status
                or time.monotonic() - last_send > _HEARTBEAT_S):
            last_status = status
            try:
                send(("events", events, svc.counters(), svc.unit_positions(), status, messages))
            except (EOFError, OSError):
                break
            last_send = time.monotonic()
    sel.close()
    if feed is not None:
        feed.stop()
    for extra in extra_services.values():
        try:
            extra.stop()
        except Exception:  # noqa: BLE001 - the alarm service must still stop cleanly
            log.exception("a feed-process service failed to stop")
    svc.stop()
    try:
        send(("stopped",))
    except (OSError, EOFError):
        pass
    os.close(wake_r)
    os.close(wake_w)


def clear_forgotten_states(feed, events) -> int:
    """Ask the broker to drop the retained states of the alarms the service forgot (closed
    longer ago than the retention): a late workstation does not need them, and kept, they
    grew with every alarm the center ever had. Every workstation does it; it is idempotent."""
    topics = [state_topic(e.alarm.id) for e in events if e.kind == EventKind.FORGOTTEN and e.alarm is not None]
    if not topics:
        return 0
    try:
        return feed.clear_retained(topics)
    except Exception:  # noqa: BLE001 - a broker hiccup must not stop the events
        log.exception("could not clear the retained states of %d forgotten alarms", len(topics))
        return 0
