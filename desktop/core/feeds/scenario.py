"""Training scenarios: a folder with a timeline of feed messages, played onto the bus by the clock.

Folder layout::

    scenario.toml     name, description, duration_s, speed, start (ISO 8601), loop (optional)
    timeline.jsonl    one event a line: {"t": seconds_from_start, "topic": "...", "payload": {...}}
    expected.toml     optional: what the operator should do, for scoring —
                      [alarms."<id>"] state = "dispatched", within_s = 90

The player publishes each event on the :class:`~desktop.core.feeds.bus.EventBus` when the
clock reaches ``start + t``: with a :class:`~desktop.core.clock.SimClock` the speed factor
and pauses are honoured, so the same scenario runs at real time for a trainee or 50× in a
headless check. The alarm service cannot tell a scenario from a live broker.

By default each payload's ``time`` is re-stamped with the clock's time when it is played,
and on each loop after the first alarm ids get a ``~N`` suffix, so a looping demo keeps
producing fresh alarms rather than duplicates.
"""
from __future__ import annotations

import copy
import json
import logging
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from desktop.core.clock import Clock, SimClock, iso, parse_iso
from desktop.core.i18n import tr

from .bus import EventBus, validate_filter

log = logging.getLogger(__name__)

__all__ = ["Scenario", "TimelineEvent", "Expectation", "ScenarioError", "ScenarioPlayer",
           "Progress", "load_scenario"]


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file (and line)."""


@dataclass(frozen=True)
class TimelineEvent:
    """One message to publish ``t`` simulated seconds after the start."""

    t: float
    topic: str
    payload: dict


@dataclass(frozen=True)
class Expectation:
    """What the trainee should do with one alarm: reach ``state`` within ``within_s`` of its arrival."""

    alarm_id: str
    state: str
    within_s: float
    note: str = ""


@dataclass
class Scenario:
    """A loaded scenario folder."""

    name: str
    description: str
    duration_s: float
    speed: float
    start: datetime
    events: list[TimelineEvent]
    expected: list[Expectation] = field(default_factory=list)
    loop: bool = False
    path: Path | None = None

    def make_clock(self, paused: bool = False) -> SimClock:
        """A simulated clock at the scenario's start time and speed."""
        return SimClock(self.start, speed=self.speed, paused=paused)

    def topics(self) -> dict[str, int]:
        """Event count per kind of topic (``pingan/patrol/+/position`` …), for a summary."""
        out: dict[str, int] = {}
        for ev in self.events:
            parts = ev.topic.split("/")
            key = "/".join(p if i != 2 or len(parts) < 4 else "+" for i, p in enumerate(parts))
            out[key] = out.get(key, 0) + 1
        return out


def load_scenario(folder: Path | str) -> Scenario:
    """Read a scenario folder; raises :class:`ScenarioError` naming the file and line."""
    folder = Path(folder)
    meta_path = folder / "scenario.toml"
    if not meta_path.is_file():
        raise ScenarioError(tr("{path}: missing (a scenario needs scenario.toml and timeline.jsonl)",
                               path=meta_path))
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{meta_path}: {exc}") from None

    def num(key: str, default: float, lo: float) -> float:
        v = meta.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < lo:
            raise ScenarioError(tr("{path}: '{key}' must be a number >= {lo}", path=meta_path, key=key, lo=lo))
        return float(v)

    speed = num("speed", 1.0, 0.0)
    if speed <= 0:
        raise ScenarioError(tr("{path}: '{key}' must be a number >= {lo}", path=meta_path, key="speed", lo=0))
    start_raw = meta.get("start")
    try:
        start = (start_raw if isinstance(start_raw, datetime) else parse_iso(str(start_raw))) \
            if start_raw is not None else datetime.now().astimezone().replace(microsecond=0)
        if start.tzinfo is None:
            start = start.astimezone()
    except ValueError:
        raise ScenarioError(tr("{path}: 'start' {value!r} is not an ISO 8601 time",
                               path=meta_path, value=start_raw)) from None

    events = _read_timeline(folder / "timeline.jsonl")
    duration = num("duration_s", max((e.t for e in events), default=0.0), 0.0)
    expected = _read_expected(folder / "expected.toml")
    return Scenario(name=str(meta.get("name", folder.name)), description=str(meta.get("description", "")),
                    duration_s=max(duration, max((e.t for e in events), default=0.0)), speed=speed,
                    start=start, events=events, expected=expected, loop=bool(meta.get("loop", False)),
                    path=folder)


def _read_timeline(path: Path) -> list[TimelineEvent]:
    if not path.is_file():
        raise ScenarioError(tr("{path}: missing (a scenario needs scenario.toml and timeline.jsonl)", path=path))
    events: list[TimelineEvent] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            try:
                ev = json.loads(line)
                if not isinstance(ev, dict):
                    raise ValueError("an event must be a JSON object")
                t = ev.get("t")
                if isinstance(t, bool) or not isinstance(t, (int, float)) or t < 0:
                    raise ValueError("'t' must be a number of seconds >= 0")
                topic = ev.get("topic")
                if not isinstance(topic, str) or not topic or "+" in topic or "#" in topic:
                    raise ValueError("'topic' must be a topic name without wildcards")
                validate_filter(topic)
                payload = ev.get("payload")
                if not isinstance(payload, dict):
                    raise ValueError("'payload' must be a JSON object")
            except ValueError as exc:
                raise ScenarioError(f"{path}:{lineno}: {exc}") from None
            events.append(TimelineEvent(float(t), topic, payload))
    events.sort(key=lambda e: e.t)  # stable: same-time events keep file order
    return events


def _read_expected(path: Path) -> list[Expectation]:
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    out = []
    for alarm_id, spec in (data.get("alarms") or {}).items():
        if not isinstance(spec, dict) or not isinstance(spec.get("state"), str):
            raise ScenarioError(f"{path}: alarms.{alarm_id}: needs state = \"...\" and within_s = N")
        within = spec.get("within_s", 0)
        if isinstance(within, bool) or not isinstance(within, (int, float)) or within < 0:
            raise ScenarioError(f"{path}: alarms.{alarm_id}: within_s must be a number >= 0")
        out.append(Expectation(str(alarm_id), spec["state"], float(within), str(spec.get("note", ""))))
    return out


@dataclass(frozen=True)
class Progress:
    """Where a player is. ``state``: idle, running, paused, finished or stopped."""

    elapsed_s: float
    duration_s: float
    sent: int
    total: int
    loop: int
    state: str

    @property
    def fraction(self) -> float:
        return 0.0 if self.duration_s <= 0 else max(0.0, min(1.0, self.elapsed_s / self.duration_s))


class ScenarioPlayer:
    """Plays a :class:`Scenario` onto a bus from its own thread, timed by ``clock``.

    ``clock`` defaults to :meth:`Scenario.make_clock`; pass a shared
    :class:`~desktop.core.clock.SimClock` so that the alarm service stamps with the same
    time. ``on_progress(Progress)`` is called from the player's thread after each event.
    """

    def __init__(self, scenario: Scenario, bus: EventBus, clock: Clock | None = None, *,
                 loop: bool | None = None, restamp: bool = True,
                 on_progress: Callable[[Progress], None] | None = None,
                 on_loop: Callable[[float], None] | None = None):
        self.scenario = scenario
        self.bus = bus
        self.clock = clock or scenario.make_clock()
        self.loop = scenario.loop if loop is None else loop
        self.restamp = restamp
        self.on_progress = on_progress
        # told the clock time each pass of the timeline starts at (the patrol tours align to it)
        self.on_loop = on_loop
        self._stop = threading.Event()
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0: float | None = None
        self._sent = 0
        self._loop_n = 0
        self._state = "idle"

    def start(self) -> "ScenarioPlayer":
        if self._thread is None:
            self._state = "running"
            self._thread = threading.Thread(target=self._run, name="scenario-player", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._state not in ("finished",):
            self._state = "stopped"

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the player has ended (finished or stopped; never by itself when looping)."""
        return self.finished.wait(timeout)

    def pause(self) -> None:
        """Pause the simulated time (the player and everything else on this clock)."""
        if hasattr(self.clock, "pause"):
            self.clock.pause()

    def resume(self) -> None:
        if hasattr(self.clock, "resume"):
            self.clock.resume()

    def caught_up(self) -> bool:
        """True when every event due at the clock's time has been published (or the player has
        ended): a stepped clock waits for this before it moves on."""
        if self.finished.is_set():
            return True
        t0 = self._t0
        if t0 is None:
            return self._thread is None
        if not hasattr(self, "_times"):
            self._times = [e.t for e in self.scenario.events]
        import bisect
        return self._sent >= bisect.bisect_right(self._times, self.clock.time() - t0)

    def progress(self) -> Progress:
        sc = self.scenario
        elapsed = 0.0 if self._t0 is None else max(0.0, self.clock.time() - self._t0)
        state = self._state
        if state == "running" and getattr(self.clock, "paused", False):
            state = "paused"
        return Progress(elapsed_s=min(elapsed, sc.duration_s) if not self.loop else elapsed,
                        duration_s=sc.duration_s, sent=self._sent, total=len(sc.events),
                        loop=self._loop_n, state=state)

    def _report(self) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(self.progress())
            except Exception:
                log.exception("scenario progress callback failed")

    def _prepare(self, ev: TimelineEvent, t0: float) -> tuple[str, dict]:
        payload = copy.deepcopy(ev.payload)
        topic = ev.topic
        if self.restamp and ("time" in payload or topic.startswith("pingan/")):
            payload["time"] = iso(t0 + ev.t, getattr(self.clock, "tz", None))
        if self._loop_n > 0:
            suffix = f"~{self._loop_n}"
            if topic == "pingan/alarm" and isinstance(payload.get("id"), str):
                payload["id"] += suffix
            parts = topic.split("/")
            if len(parts) == 4 and parts[:2] == ["pingan", "alarm"] and parts[3] == "state":
                topic = f"pingan/alarm/{parts[2]}{suffix}/state"
                if isinstance(payload.get("id"), str):
                    payload["id"] += suffix
        return topic, payload

    def _run(self) -> None:
        sc = self.scenario
        try:
            while not self._stop.is_set():
                self._t0 = t0 = self.clock.time()
                self._sent = 0
                if self.on_loop is not None:
                    try:
                        self.on_loop(t0)
                    except Exception:
                        log.exception("scenario loop callback failed")
                for ev in sc.events:
                    if not self.clock.sleep_until(t0 + ev.t, self._stop):
                        return
                    topic, payload = self._prepare(ev, t0)
                    try:
                        self.bus.publish(topic, payload, sender=self)
                    except (ValueError, TypeError):
                        log.exception("scenario event at t=%s on %s could not be published", ev.t, ev.topic)
                    self._sent += 1
                    self._report()
                if not self.loop:
                    break
                if not self.clock.sleep_until(t0 + max(sc.duration_s, 1.0), self._stop):
                    return
                self._loop_n += 1
            if not self._stop.is_set():
                self.clock.sleep_until(self._t0 + sc.duration_s, self._stop)
                self._state = "finished"
        finally:
            if self._state == "running":
                self._state = "stopped" if self._stop.is_set() else "finished"
            self.finished.set()
            self._report()
