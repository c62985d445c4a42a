"""The patrol service: one object that ties the patrol core together, Qt-free and thread-safe.

Feed it fixes (:meth:`PatrolService.ingest`, batch-friendly) and call :meth:`~PatrolService.tick`
every second or so (tours are judged there: a missed visit's alarm goes out within a tick of
its window closing, plus the grace for late fixes); read what the panel needs from any
thread. Everything a read method returns is plain data — frozen dataclasses, tuples, numpy
arrays — so it can cross a process pipe unchanged.

::

    svc = PatrolService(journal_path, district, clock=clock, on_alarm=publish)
    svc.ingest(positions)           # PatrolPosition records (pingan/patrol/<unit>/position)
    svc.tick()                      # tours, missed visits, stale/offline
    svc.positions()                 # latest fix of every unit, with its state
    svc.rank(lon, lat, k=5)         # who would be there first, and why
    svc.dispatch(unit, alarm_id, lon, lat); svc.release(unit)

Geometry: fixes are used in WGS84 (``lon_wgs``/``lat_wgs`` of the position records, filled
here if the feed left them empty).
"""
from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from desktop.core.feeds.schema import PatrolPosition, fill_positions
from desktop.core.geo.crs import haversine_m, to_wgs84, wgs84_to_gcj02

from .coverage import MAX_LEG_KMH, MAX_LEG_S, ROUTE_KINDS, CoverageTracker, SegmentCoverage
from .dispatch import ARRIVAL_M, DispatchBook, Land, Ranking, rank_units
from .geometry import LocalFrame
from .journal import DispatchRecord, PositionJournal, VisitRecord
from .network import RouteNetwork, routes_from_district
from .replay import ReplayModel
from .stops import Stop, Trip, trips_and_stops
from .tours import PostPoint, TourWatcher
from .track import Track
from .units import OFFLINE_S, STALE_S, UnitStatus, kind_code, link_state, profile

log = logging.getLogger(__name__)

RETENTION_DAYS = 30.0  # patrol fixes are kept this long by default (``[patrol] retention_days``)
PRUNE_EVERY_S = 6 * 3600.0

__all__ = ["PatrolService", "TickReport", "RETENTION_DAYS"]

SEGMENT_M = 60.0  # a unit this close to a route is "on" it (the unit list's segment column)
_LEVEL_OF = {k: level for level, kinds in ROUTE_KINDS.items() for k in kinds}  # the level a kind patrols


@dataclass(frozen=True)
class TickReport:
    """What one :meth:`PatrolService.tick` found: alarms raised (``pingan/alarm`` payloads),
    visits judged, and units that went stale or offline since the previous tick."""

    now: float
    alarms: tuple[dict, ...] = ()
    visits: tuple[VisitRecord, ...] = ()
    stale: tuple[str, ...] = ()
    offline: tuple[str, ...] = ()


@dataclass
class _Latest:
    kind: str
    t: float
    lon: float
    lat: float
    x: float
    y: float
    speed: float
    heading: float
    prev_t: float = -math.inf
    prev_x: float = math.nan
    prev_y: float = math.nan
    link: str = "live"


def _clock_fn(clock) -> Callable[[], float]:
    if clock is None:
        return time.time
    if hasattr(clock, "time") and callable(clock.time):
        return clock.time
    if callable(clock):
        return clock
    raise TypeError(f"clock must be a Clock or a callable returning epoch seconds, got {clock!r}")


class PatrolService:
    """Units, journal, tours, coverage and dispatch of one district.

    ``journal``: a path (the service opens and closes it) or an open
    :class:`~.journal.PositionJournal`. ``district``: the loaded dataset (routes, posts,
    schedule, land); without it there is no network, no tours and no sea. ``schedule``
    overrides ``district.patrol_schedule``. ``clock``: a :class:`~desktop.core.clock.Clock`
    or a callable giving epoch seconds. ``on_alarm(payload)`` is called (outside the
    service's lock) for each alarm a tick raises.
    """

    def __init__(self, journal: PositionJournal | Path | str, district: Any = None, *, schedule: Any = None,
                 clock: Any = None, on_alarm: Callable[[dict], None] | None = None,
                 stale_s: float = STALE_S, offline_s: float = OFFLINE_S, arrival_m: float = ARRIVAL_M,
                 autoflush_s: float = 1.0, retention_days: float = RETENTION_DAYS):
        self._now = _clock_fn(clock)
        if not retention_days > 0:
            raise ValueError(f"retention_days must be above 0, got {retention_days!r}")
        # Fixes older than this are deleted at the first tick and every PRUNE_EVERY_S after:
        # 500 units at 1 Hz write ~0.7 GB a day, and a workstation runs for months.
        self.retention_s = float(retention_days) * 86400.0
        self._next_prune = 0.0
        self.pruned = 0  # fixes deleted so far
        self._lock = threading.RLock()
        self._own_journal = not isinstance(journal, PositionJournal)
        self.journal = PositionJournal(journal, autoflush_s=autoflush_s) if self._own_journal else journal
        self.district = district
        self.stale_s = stale_s
        self.offline_s = offline_s
        self.on_alarm = on_alarm
        # on_arrival(DispatchRecord): a dispatched unit arrived (the feed journals it with the
        # alarm, for the statistics' dispatch-to-arrival figures). Called on the ingest thread.
        self.on_arrival: Callable[[Any], None] | None = None
        self.frame = self._make_frame(district)
        self.routes = routes_from_district(district, self.frame) if district is not None else []
        self.network = RouteNetwork(self.routes, self.frame) if self.routes else None
        self.coverage_tracker = CoverageTracker(self.routes)
        self.land = Land(district)
        self.schedule = schedule if schedule is not None else getattr(district, "patrol_schedule", None)
        self.posts = self._posts(district)
        self.tours = TourWatcher(self.schedule, self.posts) if self.schedule is not None else None
        self.book = DispatchBook(self.journal, arrival_m)
        self._latest: dict[str, _Latest] = {}
        self._post_names = {p.post: p.name for p in self.posts}
        self._closed = False
        self._restore_latest()

    # --- set-up ------------------------------------------------------------------------

    @staticmethod
    def _make_frame(district) -> LocalFrame:
        if district is None:
            # No routes, posts or network to measure against: the frame is then never used
            # for anything that is shown (straight-line ranking uses great-circle distances).
            return LocalFrame(120.0, 36.0)
        minx, miny, maxx, maxy = district.boundary.geom.bounds
        lon, lat = to_wgs84(np.array([minx, maxx]), np.array([miny, maxy]), district.info.crs)
        return LocalFrame.around(lon, lat)

    def _posts(self, district) -> list[PostPoint]:
        if district is None or not district.patrol_posts:
            return []
        crs = district.info.crs
        xs = np.array([p.geom.x for p in district.patrol_posts], float)
        ys = np.array([p.geom.y for p in district.patrol_posts], float)
        lon, lat = to_wgs84(xs, ys, crs)
        lon, lat = np.asarray(lon, float).reshape(-1), np.asarray(lat, float).reshape(-1)
        x, y = self.frame.fwd(lon, lat)
        return [PostPoint(p.id, p.name, float(lon[i]), float(lat[i]), float(x[i]), float(y[i]))
                for i, p in enumerate(district.patrol_posts)]

    def _restore_latest(self) -> None:
        """The last fix of every unit seen in the last ``offline_s`` (a restart shows them at once)."""
        now = self._now()
        try:
            tracks = self.journal.tracks(None, now - self.offline_s, now + 60.0)
        except Exception:  # a journal problem must not stop the service; it is logged
            log.exception("patrol: could not read the latest positions back from the journal")
            return
        for unit, tr in tracks.items():
            x, y = self.frame.fwd(tr.lon[-1], tr.lat[-1])
            self._latest[unit] = _Latest(tr.kind, tr.t1, float(tr.lon[-1]), float(tr.lat[-1]), float(x), float(y),
                                         float(tr.speed_kmh[-1]), float(tr.heading_deg[-1]))

    def close(self) -> None:
        """Flush and close the journal (if the service opened it)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._own_journal:
            self.journal.close()
        else:
            self.journal.flush()

    def __enter__(self) -> "PatrolService":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- feeding -----------------------------------------------------------------------

    def ingest(self, positions: PatrolPosition | Iterable[PatrolPosition]) -> int:
        """Take fixes (one record or a batch); returns how many were taken.

        Each is journaled (batched), moves its unit, counts for coverage and check-ins, and
        may be the arrival of a dispatched unit. Fixes older than a unit's latest are
        journaled (the track gets them) but do not move it.
        """
        batch = [positions] if isinstance(positions, PatrolPosition) else list(positions)
        if not batch:
            return 0
        if any(math.isnan(p.lon_wgs) or math.isnan(p.lat_wgs) for p in batch):
            batch = fill_positions(batch)  # parsed without conversion: one numpy pass here
        batch.sort(key=lambda p: p.epoch)
        self.journal.append((p.unit, p.kind, p.epoch, p.lon_wgs, p.lat_wgs, p.speed_kmh, p.heading_deg)
                            for p in batch)
        n = len(batch)
        lon = np.fromiter((p.lon_wgs for p in batch), float, n)
        lat = np.fromiter((p.lat_wgs for p in batch), float, n)
        t = np.fromiter((p.epoch for p in batch), float, n)
        x, y = self.frame.fwd(lon, lat)
        units = [p.unit for p in batch]
        kinds = [p.kind for p in batch]
        legs: list[tuple] = []
        with self._lock:
            for i, p in enumerate(batch):
                cur = self._latest.get(p.unit)
                if cur is not None and p.epoch <= cur.t:
                    continue
                if cur is None:
                    self._latest[p.unit] = _Latest(p.kind, p.epoch, p.lon_wgs, p.lat_wgs, float(x[i]), float(y[i]),
                                                   p.speed_kmh, p.heading_deg)
                    if self.coverage_tracker.eligible(p.kind):
                        legs.append((kind_code(p.kind), x[i], y[i], x[i], y[i], p.epoch))
                else:
                    dt = p.epoch - cur.t
                    if self.coverage_tracker.eligible(p.kind):
                        step = math.hypot(x[i] - cur.x, y[i] - cur.y)
                        if dt <= MAX_LEG_S and step / dt * 3.6 <= MAX_LEG_KMH:
                            legs.append((kind_code(p.kind), cur.x, cur.y, x[i], y[i], p.epoch))
                        else:
                            legs.append((kind_code(p.kind), x[i], y[i], x[i], y[i], p.epoch))
                    cur.prev_t, cur.prev_x, cur.prev_y = cur.t, cur.x, cur.y
                    cur.kind, cur.t, cur.lon, cur.lat = p.kind, p.epoch, p.lon_wgs, p.lat_wgs
                    cur.x, cur.y, cur.speed, cur.heading = float(x[i]), float(y[i]), p.speed_kmh, p.heading_deg
                    cur.link = "live"
                if self.book.busy(p.unit):
                    arrived = self.book.observe(p.unit, p.epoch, p.lon_wgs, p.lat_wgs)
                    if arrived is not None and self.on_arrival is not None:
                        try:
                            self.on_arrival(arrived)
                        except Exception:  # noqa: BLE001 - the fix is journaled; only the figure is lost
                            log.exception("on_arrival failed for %s", arrived.unit)
            if legs:
                a = np.array(legs, float)
                self.coverage_tracker.add_legs(a[:, 0].astype(np.int64), a[:, 1], a[:, 2], a[:, 3], a[:, 4], a[:, 5])
            if self.tours is not None:
                self.tours.observe(units, kinds, t, np.asarray(x), np.asarray(y))
        return n

    def watch(self, start: float, until: float | None = None, offset_s: float = 0.0) -> None:
        """Judge tours from ``start`` (until ``until``), the schedule shifted by ``offset_s``
        (see :meth:`~.tours.TourWatcher.watch`). Without a call, watching starts at the first tick."""
        with self._lock:
            if self.tours is not None:
                self.tours.watch(start, until, offset_s)

    def tick(self, now: float | None = None) -> TickReport:
        """Judge tours, raise missed-visit alarms (to ``on_alarm``), note stale/offline units."""
        now = self._now() if now is None else float(now)
        stale, offline = [], []
        visits: list[VisitRecord] = []
        alarms: list[dict] = []
        with self._lock:
            for unit, cur in self._latest.items():
                state = link_state(now - cur.t, self.stale_s, self.offline_s)
                if state != cur.link:
                    if state == "stale":
                        stale.append(unit)
                    elif state == "offline":
                        offline.append(unit)
                    cur.link = state
            if self.tours is not None:
                visits, alarms = self.tours.update(now)
                visits = [replace(v, post_name=self._post_names.get(v.post, "")) for v in visits]
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_EVERY_S
            try:
                self.pruned += self.journal.prune(now - self.retention_s)
            except Exception:  # the next prune tries again; the fixes stay meanwhile
                log.exception("patrol: old fixes could not be deleted from the journal")
        if visits:
            try:
                self.journal.put_visits(visits)
            except Exception:  # the judgement stands in memory; the journal error is logged
                log.exception("patrol: judged visits could not be journaled")
        if self.on_alarm is not None:
            for a in alarms:
                try:
                    self.on_alarm(a)
                except Exception:
                    log.exception("patrol: the alarm callback failed for %s", a.get("id"))
        return TickReport(now, tuple(alarms), tuple(visits), tuple(sorted(stale)), tuple(sorted(offline)))

    def flush(self) -> int:
        """Commit the buffered fixes now (the journal's thread does it every second anyway)."""
        return self.journal.flush()

    # --- reading -----------------------------------------------------------------------

    def positions(self, now: float | None = None) -> tuple[UnitStatus, ...]:
        """The latest fix of every unit with its state (link, motion, busy, segment), by unit."""
        now = self._now() if now is None else float(now)
        with self._lock:
            items = sorted(self._latest.items())
            busy = {u: self.book.alarm_of(u) for u, _ in items if self.book.busy(u)}
        if not items:
            return ()
        lon = np.array([c.lon for _, c in items], float)
        lat = np.array([c.lat for _, c in items], float)
        glon, glat = wgs84_to_gcj02(lon, lat)
        glon, glat = np.asarray(glon, float).reshape(-1), np.asarray(glat, float).reshape(-1)
        seg = [""] * len(items)
        if self.network is not None:
            d, e, _ = self.network.snap([c.x for _, c in items], [c.y for _, c in items])
            for i, (_, c) in enumerate(items):
                if e[i] < 0 or d[i] > SEGMENT_M:
                    continue
                rs = self.network.edge_routes[int(e[i])]
                # On a street two routes share: the route of the unit's own level.
                own = [r for r in rs if self.routes[r].level == _LEVEL_OF.get(c.kind)]
                if own or rs:
                    seg[i] = self.routes[(own or list(rs))[0]].id
        out = []
        for i, (unit, c) in enumerate(items):
            prof = profile(c.kind)
            moving = c.speed >= prof.moving_kmh
            if not moving and 0 < c.t - c.prev_t <= self.stale_s:
                derived = math.hypot(c.x - c.prev_x, c.y - c.prev_y) / (c.t - c.prev_t) * 3.6
                moving = derived >= prof.moving_kmh
            age = now - c.t
            out.append(UnitStatus(unit=unit, kind=c.kind, epoch=c.t, lon=c.lon, lat=c.lat,
                                  lon_gcj=float(glon[i]), lat_gcj=float(glat[i]), speed_kmh=c.speed,
                                  heading_deg=c.heading, age_s=age, link=link_state(age, self.stale_s, self.offline_s),
                                  motion="moving" if moving else "stopped", busy=unit in busy,
                                  alarm_id=busy.get(unit, ""), segment=seg[i]))
        return tuple(out)

    def track(self, unit: str, t0: float, t1: float) -> Track:
        """``unit``'s fixes in ``[t0, t1]`` from the journal (buffered fixes included)."""
        self.journal.flush()
        return self.journal.track(unit, t0, t1)

    def tracks(self, units: Iterable[str] | None, t0: float, t1: float) -> dict[str, Track]:
        """Tracks of ``units`` (None: all) in ``[t0, t1]``, unit → :class:`~.track.Track`."""
        self.journal.flush()
        return self.journal.tracks(None if units is None else list(units), t0, t1)

    def trips_and_stops(self, unit: str, t0: float, t1: float) -> tuple[tuple[Trip, ...], tuple[Stop, ...]]:
        """``unit``'s trips and stops in ``[t0, t1]`` (thresholds of its kind)."""
        trips, stops = trips_and_stops(self.track(unit, t0, t1))
        return tuple(trips), tuple(stops)

    def replay(self, units: Iterable[str] | None, t0: float, t1: float) -> ReplayModel:
        """A :class:`~.replay.ReplayModel` of ``units`` (None: all) over ``[t0, t1]``."""
        return ReplayModel(self.tracks(units, t0, t1), t0, t1)

    def visits(self, t0: float, t1: float, post: str | None = None, state: str | None = None,
               now: float | None = None) -> tuple[VisitRecord, ...]:
        """Scheduled visits in ``[t0, t1]`` (by scheduled time): judged ones from the journal
        and, unless a final ``state`` is asked, the open and upcoming ones."""
        now = self._now() if now is None else float(now)
        judged = self.journal.visits(t0, t1, post, state)
        out = [replace(v, post_name=self._post_names.get(v.post, "")) for v in judged]
        if self.tours is not None:
            seen = {(v.post, v.scheduled) for v in out}
            with self._lock:
                pending = self.tours.open_visits(now)
            for v in pending:
                if (v.post, v.scheduled) in seen or not (t0 <= v.scheduled <= t1):
                    continue
                if post is not None and v.post != post:
                    continue
                if state is not None and v.state != state:
                    continue
                out.append(v)
        out.sort(key=lambda v: (v.scheduled, v.post))
        return tuple(out)

    def coverage(self, minutes: float = 30.0, now: float | None = None) -> tuple[SegmentCoverage, ...]:
        """Every route's coverage over the last ``minutes``."""
        now = self._now() if now is None else float(now)
        with self._lock:
            return tuple(self.coverage_tracker.coverage(now, minutes))

    def at_sea(self, lon: float, lat: float) -> bool:
        """True when (lon, lat) WGS84 is on no land the dataset knows."""
        return not self.land.contains(lon, lat)

    def rank(self, lon: float, lat: float, k: int = 5, *, at_sea: bool | None = None,
             now: float | None = None) -> Ranking:
        """Free, not offline units ranked by travel time to (lon, lat) WGS84; boats at sea,
        land units on land (``at_sea`` decides it when given)."""
        now = self._now() if now is None else float(now)
        sea = self.at_sea(lon, lat) if at_sea is None else bool(at_sea)
        with self._lock:
            cands = [(u, c.kind, c.lon, c.lat, c.t) for u, c in self._latest.items()
                     if not self.book.busy(u) and now - c.t <= self.offline_s]
            return rank_units(lon, lat, cands, self.network, self.frame, sea, k)

    def dispatch(self, unit: str, alarm_id: str, lon: float, lat: float, now: float | None = None,
                 kind: str | None = None) -> DispatchRecord:
        """Send ``unit`` to ``alarm_id`` at (lon, lat) WGS84: it is busy until released, and its
        arrival (first fix within the arrival radius) is journaled. A unit with no known
        position can be dispatched too (``kind`` then says what it is, default foot)."""
        now = self._now() if now is None else float(now)
        with self._lock:
            cur = self._latest.get(unit)
            k = cur.kind if cur is not None else (kind or "foot")
            from_lon = cur.lon if cur is not None else math.nan
            from_lat = cur.lat if cur is not None else math.nan
            eta = math.nan
            if cur is not None:
                r = rank_units(lon, lat, [(unit, k, cur.lon, cur.lat, cur.t)], self.network, self.frame,
                               k == "boat", 1)
                eta = r.options[0].eta_s if r.options else math.nan
            rec = self.book.dispatch(unit, k, alarm_id, lon, lat, now, from_lon, from_lat, eta)
            # Already there when sent: that is the arrival.
            if cur is not None and float(haversine_m(cur.lon, cur.lat, lon, lat)) <= self.book.arrival_m:
                rec = self.book.observe(unit, now, cur.lon, cur.lat) or rec
            return rec

    def release(self, unit: str, now: float | None = None) -> DispatchRecord | None:
        """Free ``unit`` (its alarm resolved); returns the closed dispatch or None."""
        now = self._now() if now is None else float(now)
        with self._lock:
            return self.book.release(unit, now)

    def release_alarm(self, alarm_id: str, now: float | None = None) -> tuple[DispatchRecord, ...]:
        """Free every unit sent to ``alarm_id``."""
        now = self._now() if now is None else float(now)
        with self._lock:
            return tuple(self.book.release_alarm(alarm_id, now))

    def busy(self) -> dict[str, str]:
        """Units dispatched now → the alarm each was sent to."""
        with self._lock:
            return {u: d.alarm_id for u, d in self.book.open.items()}

    def dispatches(self, t0: float, t1: float, open_only: bool = False) -> tuple[DispatchRecord, ...]:
        """Dispatches made in ``[t0, t1]`` (arrived or not), for response-time statistics."""
        return tuple(self.journal.dispatches(t0, t1, open_only=open_only))

    def arrivals(self, t0: float, t1: float) -> tuple[DispatchRecord, ...]:
        """Dispatches whose unit arrived in ``[t0, t1]`` (``response_s`` = arrival − dispatch)."""
        return tuple(self.journal.dispatches(t0, t1, by="arrived"))
