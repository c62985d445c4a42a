"""Trips and stops in a track (as GPS trackers report them).

A **stop** is a stay: the unit remains within ``stop_radius_m`` of one point for at least
``stop_min_s`` (thresholds per kind, :class:`~desktop.core.patrol.units.KindProfile`). Its
arrival is the first fix of the stay, its departure the last. A **trip** is the movement
between two stops (or from the start of the track to the first stop, or after the last);
a trip shorter than ``trip_min_m`` is GPS drift or shuffling about, so the stops on either
side of it are one stop.

The search is vectorised, because a replay asks for the stops of a whole day at 1 Hz
(86,400 fixes a unit). For every fix *i* the window runs to the first fix at least
``stop_min_s`` later; the window is a stay when the bounding box of its fixes fits in a
circle of the radius (half its diagonal ≤ radius, so every fix is within the radius of the
box's centre). Range minima and maxima over all windows come from a sparse table (log₂ of
the window length levels of ``np.minimum``), and overlapping stay windows are merged into
stops. GPS jitter around a parked car does not break a stop, as a path-length rule would.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import LocalFrame
from .track import Track
from .units import KindProfile, profile

__all__ = ["Stop", "Trip", "find_stops", "find_trips", "trips_and_stops"]


@dataclass(frozen=True)
class Stop:
    """A stay of ``unit`` from ``arrival`` to ``departure`` (epoch s) around (lon, lat) WGS84.

    ``i0``/``i1``: the first and last fix of the stay in the track it was found in.
    """

    unit: str
    kind: str
    arrival: float
    departure: float
    lon: float
    lat: float
    fixes: int
    i0: int
    i1: int

    @property
    def duration_s(self) -> float:
        return self.departure - self.arrival


@dataclass(frozen=True)
class Trip:
    """Movement of ``unit`` from ``start`` to ``end``: ``distance_m`` along its fixes, its top
    and mean speed (km/h). ``i0``/``i1`` index the track's fixes."""

    unit: str
    kind: str
    start: float
    end: float
    distance_m: float
    max_speed_kmh: float
    mean_speed_kmh: float
    i0: int
    i1: int

    @property
    def duration_s(self) -> float:
        return self.end - self.start


def _sparse_minmax(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``v[lo[k]..hi[k]]`` (inclusive) for every k, by a sparse table."""
    w = hi - lo + 1
    if not len(w):
        return np.zeros(0), np.zeros(0)
    level = np.floor(np.log2(w)).astype(np.int64)
    out_min = np.empty(len(lo))
    out_max = np.empty(len(lo))
    cur_min, cur_max = v, v
    for k in range(int(level.max()) + 1):
        if k > 0:
            half = 1 << (k - 1)
            cur_min = np.minimum(cur_min[:-half], cur_min[half:])
            cur_max = np.maximum(cur_max[:-half], cur_max[half:])
        sel = np.flatnonzero(level == k)
        if len(sel):
            a = lo[sel]
            b = hi[sel] - (1 << k) + 1
            out_min[sel] = np.minimum(cur_min[a], cur_min[b])
            out_max[sel] = np.maximum(cur_max[a], cur_max[b])
    return out_min, out_max


def _stay_runs(t: np.ndarray, x: np.ndarray, y: np.ndarray, radius: float, min_s: float) -> list[tuple[int, int]]:
    """(first, last) fix indices of every maximal run of overlapping stay windows."""
    n = len(t)
    if n < 2:
        return []
    end = np.searchsorted(t, t + min_s, side="left")  # first fix at least min_s after each fix
    ok = end < n
    lo = np.flatnonzero(ok)
    if not len(lo):
        return []
    hi = end[lo]
    xmin, xmax = _sparse_minmax(x, lo, hi)
    ymin, ymax = _sparse_minmax(y, lo, hi)
    stay = (xmax - xmin) ** 2 + (ymax - ymin) ** 2 <= (2.0 * radius) ** 2
    lo, hi = lo[stay], hi[stay]
    if not len(lo):
        return []
    # Windows are sorted by start and their ends never decrease: a new run starts where a
    # window begins after everything so far has ended.
    reach = np.maximum.accumulate(hi)
    new = np.ones(len(lo), bool)
    new[1:] = lo[1:] > reach[:-1]
    starts = np.flatnonzero(new)
    ends = np.concatenate([starts[1:], [len(lo)]]) - 1
    return list(zip(lo[starts].tolist(), reach[ends].tolist()))


def _path_m(x: np.ndarray, y: np.ndarray, i0: int, i1: int) -> float:
    if i1 <= i0:
        return 0.0
    return float(np.hypot(np.diff(x[i0:i1 + 1]), np.diff(y[i0:i1 + 1])).sum())


def trips_and_stops(track: Track, prof: KindProfile | None = None) -> tuple[list[Trip], list[Stop]]:
    """The trips and stops of ``track`` with the thresholds of ``prof`` (default: its kind's)."""
    prof = prof or profile(track.kind)
    n = len(track)
    if n < 2:
        return [], []
    frame = LocalFrame(float(np.median(track.lon)), float(np.median(track.lat)))
    x, y = frame.fwd(track.lon, track.lat)
    runs = _stay_runs(track.t, x, y, prof.stop_radius_m, prof.stop_min_s)
    # Merge stays separated by less than a trip: drift, or a car moved across the car park.
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and _path_m(x, y, merged[-1][1], a) < prof.trip_min_m:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    stops = []
    r2 = prof.stop_radius_m ** 2
    for a, b in merged:
        # A window may reach up to a diameter from its first fixes; the stop itself is the
        # fixes within the radius of where the unit stood (the median resists the drive in
        # and out), so arrival and departure are when it came within / left that circle.
        cx, cy = float(np.median(x[a:b + 1])), float(np.median(y[a:b + 1]))
        inside = np.flatnonzero((x[a:b + 1] - cx) ** 2 + (y[a:b + 1] - cy) ** 2 <= r2)
        if len(inside):
            a, b = a + int(inside[0]), a + int(inside[-1])
        lon, lat = frame.inv(float(x[a:b + 1].mean()), float(y[a:b + 1].mean()))
        stops.append(Stop(track.unit, track.kind, float(track.t[a]), float(track.t[b]), float(lon), float(lat),
                          b - a + 1, a, b))
    # Trips: before the first stop, between stops, after the last one.
    edges = []
    prev_end = 0
    for s in stops:
        edges.append((prev_end, s.i0))
        prev_end = s.i1
    edges.append((prev_end, n - 1))
    trips = []
    for a, b in edges:
        if b <= a:
            continue
        dist = _path_m(x, y, a, b)
        if dist < prof.trip_min_m:
            continue
        dur = float(track.t[b] - track.t[a])
        top = float(track.speed_kmh[a:b + 1].max())
        if top <= 0.0:  # a tracker that reports no speed: take it from the fixes
            dt = np.diff(track.t[a:b + 1])
            step = np.hypot(np.diff(x[a:b + 1]), np.diff(y[a:b + 1]))
            top = float((step[dt > 0] / dt[dt > 0]).max() * 3.6) if np.any(dt > 0) else 0.0
        mean = dist / dur * 3.6 if dur > 0 else 0.0
        trips.append(Trip(track.unit, track.kind, float(track.t[a]), float(track.t[b]), dist, top, mean, a, b))
    return trips, stops


def find_stops(track: Track, prof: KindProfile | None = None) -> list[Stop]:
    """The stops of ``track`` (see :func:`trips_and_stops`)."""
    return trips_and_stops(track, prof)[1]


def find_trips(track: Track, prof: KindProfile | None = None) -> list[Trip]:
    """The trips of ``track`` (see :func:`trips_and_stops`)."""
    return trips_and_stops(track, prof)[0]
