"""The radar service on an event bus, where the feeds arrive (Qt-free).

:class:`RadarFeed` takes ``pingan/radar/<radar>/targets`` reports from the bus — in the GUI
process for the offline demo, in the feed process with ``--broker`` (see
:func:`make_feed_process_radar`) — validates them, keeps the tracks and raises a
``radar_target`` alarm on ``pingan/alarm`` when a target enters the watched waters; the
alarm service journals it like any other alarm and the panel shows it with its cameras.

A report that breaks the schema is dropped, counted here, and told to the alarm service on
:data:`~desktop.core.feeds.bus.REJECTED_TOPIC` (topic, reason, field), so it is counted and
listed with the other feeds' rejections in the alarm panel. Nothing else is lost: the other
radars' reports and the next sweep go on.

The map draws the targets from the same validated reports (forwarded by the feed process,
or straight off the in-process bus), so it needs no call across the process pipe.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from desktop.core.feeds.bus import REJECTED_TOPIC
from desktop.core.feeds.schema import ALARM_TOPIC, RADAR_FILTER, PayloadError, parse_radar, topic_kind

from .tracks import TrackBoard
from .watch import RadarCameras, SeaWatch
from .waters import WatchedWaters

log = logging.getLogger("pingan.radar")

__all__ = ["RadarFeed", "make_feed_process_radar", "parse_report"]


def parse_report(topic: str, payload: Any):
    """The :class:`~desktop.core.feeds.schema.RadarReport` of a bus message (or PayloadError)."""
    kind = topic_kind(topic)
    return parse_radar(topic, payload if isinstance(payload, dict) else {}, kind[1] if kind else "")


class RadarFeed:
    """Tracks and the sea watch of one district, fed from ``bus``.

    ``clock``: a Clock or a callable giving epoch seconds (targets silent for a while are
    marked lost on it). ``expire_s``: how often that is looked at (a thread; none if 0)."""

    def __init__(self, bus: Any, district: Any = None, *, clock: Any = None, expire_s: float = 1.0,
                 waters: WatchedWaters | None = None):
        self.bus = bus
        self.district = district
        self.waters = waters if waters is not None else WatchedWaters.from_district(district)
        names = {}
        if district is not None:
            names = {c.id: c.name for c in district.cameras.records if c.kind == "radar"}
        self.watch = SeaWatch(self.waters, RadarCameras(district), radar_names=names)
        self.board = TrackBoard()
        self._now: Callable[[], float] = (clock.time if hasattr(clock, "time") else clock) if clock else time.time
        self.expire_s = expire_s
        self.counters: Counter = Counter()
        self._lock = threading.Lock()
        self._sub = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "RadarFeed":
        self._sub = self.bus.subscribe(RADAR_FILTER, self._on_report)
        if self.expire_s > 0:
            self._thread = threading.Thread(target=self._run, name="radar-feed", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._sub is not None:
            self._sub.unsubscribe()
            self._sub = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # --- inbound (the publisher's thread: paho's, or the scenario player's) ---------------------
    def _on_report(self, topic: str, payload: dict) -> None:
        try:
            report = parse_report(topic, payload)
        except PayloadError as err:
            self.counters["rejected"] += 1
            n = self.counters["rejected"]
            if n <= 20 or n % 1000 == 0:
                log.warning("radar report rejected on %s: %s (%d so far)", topic, err, n)
            self.bus.publish(REJECTED_TOPIC, {"topic": topic, "reason": err.reason, "field": err.field,
                                              "error": str(err)})
            return
        self.ingest(report)

    def ingest(self, report) -> list:
        """Apply one valid report; returns the entries (alarms raised)."""
        with self._lock:
            self.counters["reports"] += 1
            moved = self.board.ingest(report)
            self.counters["fixes"] += len(moved)
            entries = self.watch.observe(moved)
        for e in entries:
            self.counters["alarms"] += 1
            log.info("radar target %s entered %s: alarm %s", e.target.key, e.zone_name, e.payload["id"])
            self.bus.publish(ALARM_TOPIC, e.payload)
        return entries

    # --- upkeep --------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.wait(self.expire_s):
            try:
                self.expire()
            except Exception:  # noqa: BLE001 - the feed must outlive one bad pass
                log.exception("radar feed: expiry failed")

    def expire(self, now: float | None = None) -> None:
        with self._lock:
            _lost, gone = self.board.expire(self._now() if now is None else now)
            self.watch.forget(gone)


def make_feed_process_radar(*, bus, alarms, workstation: str, district: str):
    """Factory run in the feed process (see ``RemoteAlarmService(extras=…)``): loads the dataset
    there and starts a RadarFeed on the child's bus, ahead of the MQTT feed."""
    from desktop.core.district.loader import load_district
    return RadarFeed(bus, load_district(Path(district))).start()
