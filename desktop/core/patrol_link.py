"""The patrol service on an event bus, and its mirror across the feed process (Qt-free).

:class:`PatrolFeed` runs a :class:`~desktop.core.patrol.service.PatrolService` where the feeds
arrive — in the GUI process for the offline demo and training, in the feed process with
``--broker`` — so positions are journaled by whoever receives them:

* ``pingan/patrol/<unit>/position`` messages are validated and ingested in batches;
* ``pingan/alarm/<id>/state`` messages (local workflow changes are published there too)
  drive dispatch: ``dispatched`` with a unit marks it busy for that alarm (its arrival within
  50 m is detected and journaled), ``resolved`` / ``false_alarm`` release the alarm's units;
* a tick each second judges post visits; a missed one is published as a ``patrol_missed``
  alarm on ``pingan/alarm`` (the alarm service takes it like any other), and what a tick
  found is published on :data:`EVENTS_TOPIC` for plugins (``host.stream("bus", …,
  topic_filter="pingan/patrol/events")``).

:class:`RemotePatrol` is the GUI-side face of a PatrolFeed in the feed process: reads are
asked of it over the pipe (:meth:`~desktop.core.alarms.remote.RemoteAlarmService.call`),
except tracks, which are read straight from the patrol journal file (a day of fixes is
faster off SQLite than through a pickle).
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from desktop.core.feeds.schema import PayloadError, parse_patrol, topic_kind

log = logging.getLogger("pingan.patrol")

__all__ = ["PatrolFeed", "RemotePatrol", "EVENTS_TOPIC", "make_feed_process_patrol"]

EVENTS_TOPIC = "pingan/patrol/events"
_CLOSED = ("resolved", "false_alarm")


class PatrolFeed:
    """A PatrolService fed from ``bus``; ``alarms`` (the alarm service) locates dispatched alarms."""

    def __init__(self, service: Any, bus: Any, alarms: Any = None, tick_s: float = 1.0, ingest_s: float = 0.2,
                 threaded: bool = True):
        self.service = service
        self.threaded = threaded  # False: no worker thread, whoever drives the clock calls work()
        self.bus = bus
        self.alarms = alarms
        self.tick_s = tick_s
        self.ingest_s = ingest_s
        self._pending: list = []
        self._states: list[dict] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._subs: list = []
        self._thread: threading.Thread | None = None
        self.counters = {"positions": 0, "rejected": 0, "dispatched": 0, "released": 0, "missed_alarms": 0}
        service.on_alarm = self._raise_alarm
        if alarms is not None and hasattr(alarms, "record_arrival"):
            service.on_arrival = lambda r: alarms.record_arrival(r.alarm_id, r.unit, r.dispatched, r.arrived)

    # --- life cycle ------------------------------------------------------------------------
    def start(self) -> "PatrolFeed":
        self._subs = [self.bus.subscribe("pingan/patrol/+/position", self._on_position),
                      self.bus.subscribe("pingan/alarm/+/state", self._on_state)]
        if self.threaded:
            self._thread = threading.Thread(target=self._run, name="patrol-feed", daemon=True)
            self._thread.start()
        return self

    def work(self, tick: bool = True) -> None:
        """Take what came in (and, with ``tick``, judge the post visits) now: what the worker
        does every ``ingest_s``/``tick_s``, for a threadless feed driven step by step."""
        self._work()
        if tick:
            self._tick()

    def stop(self) -> None:
        for s in self._subs:
            s.unsubscribe()
        self._subs.clear()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._work()  # what came in last is journaled too
        self.service.close()

    # --- inbound (any thread) ----------------------------------------------------------------
    def _on_position(self, topic: str, payload: dict) -> None:
        kind = topic_kind(topic)
        try:
            pos = parse_patrol(topic, payload, kind[1] if kind else "", convert=False)
        except PayloadError:
            self.counters["rejected"] += 1  # the alarm service counts and shows rejections
            return
        with self._lock:
            self._pending.append(pos)

    def _on_state(self, topic: str, payload: dict) -> None:
        if isinstance(payload, dict) and payload.get("state") in ("dispatched", *_CLOSED):
            with self._lock:
                self._states.append(payload)

    # --- the worker --------------------------------------------------------------------------
    def _run(self) -> None:
        last_tick = 0.0
        import time
        while not self._stop.wait(self.ingest_s):
            try:
                self._work()
                now = time.monotonic()
                if now - last_tick >= self.tick_s:
                    last_tick = now
                    self._tick()
            except Exception:  # noqa: BLE001 - the worker must outlive one bad batch
                log.exception("patrol feed: a batch failed")

    def _work(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            states, self._states = self._states, []
        if batch:
            self.counters["positions"] += self.service.ingest(batch)
        for st in states:
            self._apply_state(st)

    def _apply_state(self, st: dict) -> None:
        alarm_id = str(st.get("id", ""))
        if st.get("state") in _CLOSED:
            if self.service.release_alarm(alarm_id):
                self.counters["released"] += 1
            return
        unit = str(st.get("unit", "") or "")
        if not unit or self.service.busy().get(unit) == alarm_id:
            return  # no unit named, or the echo of a dispatch already made
        a = self.alarms.get(alarm_id) if self.alarms is not None else None
        if a is None:
            log.warning("patrol: unit %s dispatched to alarm %s, which is not known here", unit, alarm_id)
            return
        self.service.dispatch(unit, alarm_id, a.lon_wgs, a.lat_wgs)
        self.counters["dispatched"] += 1

    def _tick(self) -> None:
        report = self.service.tick()
        if report.visits or report.stale or report.offline:
            self.bus.publish(EVENTS_TOPIC, {
                "time": report.now, "stale": list(report.stale), "offline": list(report.offline),
                "visits": [{"post": v.post, "name": v.post_name, "scheduled": v.scheduled, "state": v.state,
                            "unit": v.unit} for v in report.visits]})

    def _raise_alarm(self, payload: dict) -> None:
        self.counters["missed_alarms"] += 1
        self.bus.publish("pingan/alarm", payload)


def make_feed_process_patrol(*, bus, alarms, workstation: str, journal: str, district: str,
                             retention_days: float | None = None):
    """Factory run in the feed process (see ``RemoteAlarmService(extras=…)``): loads the dataset
    there and starts a PatrolFeed on the child's bus."""
    from desktop.core.district.loader import load_district
    from desktop.core.patrol.service import RETENTION_DAYS, PatrolService
    d = load_district(Path(district))
    return PatrolFeed(PatrolService(journal, d, retention_days=retention_days or RETENTION_DAYS), bus, alarms).start()


class RemotePatrol:
    """The patrol service of the feed process, as seen from the GUI process (same methods)."""

    def __init__(self, remote: Any, journal_path: Path | str):
        self.remote = remote
        self.journal_path = Path(journal_path)
        self._journal = None
        self._jlock = threading.Lock()

    def _call(self, method: str, *args, **kwargs):
        return self.remote.call("patrol", method, *args, **kwargs)

    def positions(self, now=None):
        return self._call("positions", now)

    def visits(self, t0, t1, post=None, state=None, now=None):
        return self._call("visits", t0, t1, post, state, now)

    def rank(self, lon, lat, k=5, *, at_sea=None, now=None):
        return self._call("rank", lon, lat, k, at_sea=at_sea, now=now)

    def dispatch(self, unit, alarm_id, lon, lat, now=None, kind=None):
        return self._call("dispatch", unit, alarm_id, lon, lat, now, kind)

    def release(self, unit, now=None):
        return self._call("release", unit, now)

    def release_alarm(self, alarm_id, now=None):
        return self._call("release_alarm", alarm_id, now)

    def busy(self):
        return self._call("busy")

    def coverage(self, minutes=30.0, now=None):
        return self._call("coverage", minutes, now)

    def at_sea(self, lon, lat):
        return self._call("at_sea", lon, lat)

    def dispatches(self, t0, t1, open_only=False):
        return self._call("dispatches", t0, t1, open_only)

    def arrivals(self, t0, t1):
        return self._call("arrivals", t0, t1)

    def flush(self):
        return self._call("flush")

    # tracks: straight from the file, read-only
    def _reader(self):
        with self._jlock:
            if self._journal is None:
                from desktop.core.patrol.journal import PositionJournal
                self._call("flush")  # what the feed process holds in its buffer is in the file
                self._journal = PositionJournal(self.journal_path, readonly=True)
            return self._journal

    def tracks(self, units, t0, t1):
        try:
            self._call("flush")
        except RuntimeError:
            pass  # restarting: what is on disk is what there is
        return self._reader().tracks(None if units is None else list(units), t0, t1)

    def track(self, unit, t0, t1):
        return self.tracks([unit], t0, t1).get(unit) or self._reader().track(unit, t0, t1)

    def trips_and_stops(self, unit, t0, t1):
        from desktop.core.patrol.stops import trips_and_stops
        trips, stops = trips_and_stops(self.track(unit, t0, t1))
        return tuple(trips), tuple(stops)

    def replay(self, units, t0, t1):
        from desktop.core.patrol.replay import ReplayModel
        try:
            self._call("flush")
        except RuntimeError:
            pass
        # straight from the file into the model's columns (no per-unit copies on the way)
        return ReplayModel.from_journal(self._reader(), None if units is None else list(units), t0, t1)

    def close(self) -> None:
        with self._jlock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None
