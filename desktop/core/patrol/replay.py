"""Replay of recorded tracks, Qt-free: a timeline with play/pause/seek/step and frames.

The model holds the tracks of the replayed units in one set of concatenated arrays, sorted
by (unit, time), with one search key per fix: ``time - start + unit_index × stride``. The
positions of *all* units at a time *t* are then one ``np.searchsorted`` of one key per unit
plus a vectorised interpolation — a frame of 50 units over 4.3 M fixes costs well under a
millisecond, and a seek is no dearer than a frame.

Between two fixes at most :data:`INTERPOLATE_S` apart a unit moves in a straight line;
across a longer gap it stays at its last fix. A unit is *visible* from its first fix until
:data:`HOLD_S` after its last one before *t* (as the live map greys a unit stale after a
minute). Stops (with arrival and departure times) and trips are found per unit on demand
and cached.

The playing clock is advanced by the view (:meth:`ReplayModel.advance` with the real seconds
since the last call), so the model has no timer and no thread.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from desktop.core.geo.crs import wgs84_to_gcj02

from .stops import Stop, Trip, trips_and_stops
from .track import Track, TrackSet

__all__ = ["ReplayModel", "Frame", "SPEEDS", "HOLD_S", "INTERPOLATE_S"]

SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)  # the speeds a timeline offers
MIN_SPEED, MAX_SPEED = 1.0, 120.0
HOLD_S = 60.0
INTERPOLATE_S = 30.0


@dataclass(frozen=True, eq=False)
class Frame:
    """Every replayed unit at time ``t``: parallel arrays in the order of ``units``.

    ``visible``: the unit has a position to show at ``t``; ``age_s``: seconds since its last
    fix (NaN before its first); ``lon``/``lat`` WGS84 and ``lon_gcj``/``lat_gcj`` GCJ-02 (NaN
    where not visible); ``fix``: index of the last fix at or before ``t`` in the unit's track
    (-1 before the first).
    """

    t: float
    units: tuple[str, ...]
    kinds: tuple[str, ...]
    lon: np.ndarray
    lat: np.ndarray
    lon_gcj: np.ndarray
    lat_gcj: np.ndarray
    heading_deg: np.ndarray
    speed_kmh: np.ndarray
    visible: np.ndarray
    age_s: np.ndarray
    fix: np.ndarray
    followed: str | None = None


class ReplayModel:
    """A replay of ``tracks`` over ``[t0, t1]`` (default: the span of the tracks).

    State: ``t`` (the replayed time), ``speed`` (1–120 × real time), ``playing``,
    ``followed`` (a unit the view keeps centred, or None). Methods change it; :meth:`frame`
    reads it. Not thread-safe (a view owns it).
    """

    def __init__(self, tracks: TrackSet | Mapping[str, Track] | Iterable[Track], t0: float | None = None,
                 t1: float | None = None, *, hold_s: float = HOLD_S, interpolate_s: float = INTERPOLATE_S):
        # A TrackSet (what the journal loads) is used as it is; other tracks are copied into one.
        ts = tracks if isinstance(tracks, TrackSet) else TrackSet.from_tracks(tracks)
        self.track_set = ts
        self.units = ts.units
        self.kinds = ts.kinds
        self._start, self._end = ts.start, ts.end
        self._t, self._lon, self._lat = ts.t, ts.lon, ts.lat
        self._spd, self._hdg = ts.speed_kmh, ts.heading_deg
        n = len(ts)
        lo = float(ts.t[ts.start].min()) if n else 0.0
        hi = float(ts.t[ts.end - 1].max()) if n else 0.0
        self.t0 = float(lo if t0 is None else t0)
        self.t1 = float(hi if t1 is None else t1)
        if self.t1 < self.t0:
            raise ValueError(f"replay span ends ({self.t1}) before it starts ({self.t0})")
        self.hold_s = hold_s
        self.interpolate_s = interpolate_s
        self._base = min(lo, self.t0)
        # Keys must keep units apart whatever t is asked: stride > the whole time range.
        self._stride = float(max(hi, self.t1) - self._base) + 2.0 * hold_s + 10.0
        self._offsets = np.arange(n, dtype=float) * self._stride
        self._keys = np.empty(len(ts.t))
        for i, (a, b) in enumerate(zip(ts.start.tolist(), ts.end.tolist())):
            np.subtract(ts.t[a:b], self._base - self._offsets[i], out=self._keys[a:b])
        self.tracks: dict[str, Track] = ts.tracks()
        self.t = self.t0
        self.speed = 1.0
        self.playing = False
        self.followed: str | None = None
        self._stops: dict[str, tuple[list[Trip], list[Stop]]] = {}

    @classmethod
    def from_journal(cls, journal, units: Iterable[str] | None, t0: float, t1: float, **kw) -> "ReplayModel":
        """A replay of ``units`` (None: all) from a :class:`~.journal.PositionJournal`."""
        return cls(journal.track_set(None if units is None else list(units), t0, t1), t0, t1, **kw)

    def __len__(self) -> int:
        return len(self.units)

    @property
    def fixes(self) -> int:
        return len(self._keys)

    # --- the timeline ----------------------------------------------------------------

    def play(self) -> None:
        if self.t >= self.t1:
            self.t = self.t0  # play at the end starts over
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> float:
        """Set the playing speed (clamped to 1–120 × real time); returns the speed set."""
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not math.isfinite(speed):
            raise ValueError(f"replay speed must be a number, got {speed!r}")
        self.speed = float(min(MAX_SPEED, max(MIN_SPEED, speed)))
        return self.speed

    def seek(self, t: float) -> Frame:
        """Jump to ``t`` (clamped into the span) and return the frame there."""
        self.t = float(min(self.t1, max(self.t0, t)))
        return self.frame()

    def seek_fraction(self, f: float) -> Frame:
        """Jump to a fraction 0..1 of the span (a timeline slider)."""
        return self.seek(self.t0 + (self.t1 - self.t0) * min(1.0, max(0.0, f)))

    def step(self, seconds: float = 1.0) -> Frame:
        """Pause and move by ``seconds`` of replayed time (negative: back)."""
        self.playing = False
        return self.seek(self.t + seconds)

    def step_fix(self, direction: int = 1) -> Frame:
        """Pause and jump to the next (or previous) fix of the followed unit — of any unit
        when none is followed."""
        self.playing = False
        if self.followed in self.tracks:
            ts = self.tracks[self.followed].t
        else:
            ts = self._t  # every unit's fixes
        if not len(ts):
            return self.frame()
        if direction >= 0:
            later = ts[ts > self.t + 1e-6]
            target = later.min() if len(later) else self.t1
        else:
            earlier = ts[ts < self.t - 1e-6]
            target = earlier.max() if len(earlier) else self.t0
        return self.seek(float(target))

    def advance(self, real_seconds: float) -> Frame:
        """Move the replayed time by ``real_seconds × speed`` if playing; stops at the end."""
        if self.playing and real_seconds > 0:
            self.t = min(self.t1, self.t + real_seconds * self.speed)
            if self.t >= self.t1:
                self.playing = False
        return self.frame()

    @property
    def fraction(self) -> float:
        span = self.t1 - self.t0
        return 0.0 if span <= 0 else (self.t - self.t0) / span

    def follow(self, unit: str | None) -> None:
        """Keep ``unit`` centred (None: follow nobody). An unknown unit is an error."""
        if unit is not None and unit not in self.tracks:
            raise KeyError(f"unit {unit!r} is not in this replay")
        self.followed = unit

    # --- reading ---------------------------------------------------------------------

    def frame(self, t: float | None = None) -> Frame:
        """Every unit's position at ``t`` (default: the current time)."""
        t = self.t if t is None else float(t)
        n = len(self.units)
        if n == 0:
            z = np.zeros(0)
            return Frame(t, (), (), z, z, z, z, z, z, np.zeros(0, bool), z, np.zeros(0, np.int64), self.followed)
        # One search for all units: the last fix at or before t of each.
        j = np.searchsorted(self._keys, (t - self._base) + self._offsets, side="right") - 1
        has = j >= self._start
        jj = np.where(has, j, self._start)
        t_fix = self._t[jj]
        age = np.where(has, t - t_fix, np.nan)
        lon, lat = self._lon[jj], self._lat[jj]
        spd, hdg = self._spd[jj].astype(float), self._hdg[jj].astype(float)
        # Interpolate towards the next fix when it is close enough in time.
        nj = np.minimum(jj + 1, self._end - 1)
        gap = self._t[nj] - t_fix
        interp = has & (nj > jj) & (gap > 0) & (gap <= self.interpolate_s)
        if interp.any():
            f = np.where(interp, (t - t_fix) / np.where(gap > 0, gap, 1.0), 0.0)
            lon = lon + f * (self._lon[nj] - lon)
            lat = lat + f * (self._lat[nj] - lat)
            spd = spd + f * (self._spd[nj] - spd)
            dh = (self._hdg[nj] - hdg + 180.0) % 360.0 - 180.0
            hdg = (hdg + f * dh) % 360.0
        visible = has & ((age <= self.hold_s) | interp)
        lon = np.where(visible, lon, np.nan)
        lat = np.where(visible, lat, np.nan)
        lon_g, lat_g = np.full(n, np.nan), np.full(n, np.nan)
        if visible.any():
            g = wgs84_to_gcj02(lon[visible], lat[visible])
            lon_g[visible], lat_g[visible] = g[0], g[1]
        fix = np.where(has, j - self._start, -1)
        return Frame(t, self.units, self.kinds, lon, lat, lon_g, lat_g, hdg, spd, visible, age, fix, self.followed)

    def position(self, unit: str, t: float | None = None) -> tuple[float, float] | None:
        """(lon, lat) WGS84 of ``unit`` at ``t``, or None where it is not visible."""
        fr = self.frame(t)
        i = self.units.index(unit)
        return (float(fr.lon[i]), float(fr.lat[i])) if fr.visible[i] else None

    def trail(self, unit: str, seconds: float = 300.0, t: float | None = None) -> np.ndarray:
        """(N, 2) WGS84 fixes of ``unit`` in the ``seconds`` before ``t`` (a fading trail)."""
        t = self.t if t is None else float(t)
        tr = self.tracks[unit].between(t - seconds, t)
        return np.column_stack([tr.lon, tr.lat])

    def _trips_stops(self, unit: str) -> tuple[list[Trip], list[Stop]]:
        got = self._stops.get(unit)
        if got is None:
            tr = self.tracks[unit]
            got = self._stops[unit] = trips_and_stops(tr)
        return got

    def stops(self, unit: str) -> list[Stop]:
        """``unit``'s stops in the replayed span, with arrival and departure times (cached)."""
        return list(self._trips_stops(unit)[1])

    def trips(self, unit: str) -> list[Trip]:
        """``unit``'s trips in the replayed span (cached)."""
        return list(self._trips_stops(unit)[0])

    def stop_at(self, unit: str, t: float | None = None) -> Stop | None:
        """The stop ``unit`` is in at ``t``, if any (the view labels it with arrival/departure)."""
        t = self.t if t is None else float(t)
        for s in self.stops(unit):
            if s.arrival <= t <= s.departure:
                return s
        return None
