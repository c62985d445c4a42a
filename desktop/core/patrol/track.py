"""A unit's track: its fixes over a time span as parallel numpy columns.

Tracks are what the journal returns, what stops and trips are found in and what the replay
plays. They are plain numpy arrays in a frozen dataclass, so they pickle cheaply across the
feed process's pipe (a 24 h track at 1 Hz is 86,400 rows, about 3 MB).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from desktop.core.geo.crs import wgs84_to_gcj02

__all__ = ["Track", "TrackSet"]


@dataclass(frozen=True, eq=False)
class Track:
    """Fixes of one unit, sorted by time, one per instant.

    ``t`` epoch seconds; ``lon``/``lat`` WGS84 degrees (float64); ``speed_kmh``;
    ``heading_deg`` (0 = north, clockwise; float32 from the journal, float64 otherwise).
    Arrays of one length.
    """

    unit: str
    kind: str
    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    speed_kmh: np.ndarray
    heading_deg: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    @property
    def t0(self) -> float:
        return float(self.t[0]) if len(self.t) else float("nan")

    @property
    def t1(self) -> float:
        return float(self.t[-1]) if len(self.t) else float("nan")

    @classmethod
    def empty(cls, unit: str, kind: str = "") -> "Track":
        z = np.zeros(0)
        return cls(unit, kind, z, z, z, z, z)

    @classmethod
    def from_arrays(cls, unit: str, kind: str, t, lon, lat, speed_kmh=None, heading_deg=None) -> "Track":
        """A track from unsorted columns: sorted by time, a repeated instant kept once (the last)."""
        t = np.asarray(t, float).reshape(-1)
        n = len(t)
        cols = [np.asarray(c, float).reshape(-1) if c is not None else np.zeros(n)
                for c in (lon, lat, speed_kmh, heading_deg)]
        for c in cols:
            if len(c) != n:
                raise ValueError(f"track {unit!r}: columns of unequal length ({len(c)} vs {n})")
        if n > 1 and np.all(t[1:] > t[:-1]):
            # Already sorted and unique (the common case: chunks are written sorted), so
            # skip the sort; on a day of 1 Hz fixes that is most of the cost of a load.
            return cls(unit, kind, t, *cols)
        order = np.argsort(t, kind="stable")
        t = t[order]
        cols = [c[order] for c in cols]
        if n > 1:
            # The same instant twice (a broker redelivery, a fix both in a row and in a chunk):
            # keep the last one of each run.
            keep = np.ones(n, bool)
            keep[:-1] = t[1:] != t[:-1]
            if not keep.all():
                t = t[keep]
                cols = [c[keep] for c in cols]
        return cls(unit, kind, t, *cols)

    def between(self, t0: float, t1: float) -> "Track":
        """The fixes with ``t0 <= t <= t1``."""
        i = int(np.searchsorted(self.t, t0, side="left"))
        j = int(np.searchsorted(self.t, t1, side="right"))
        return Track(self.unit, self.kind, self.t[i:j], self.lon[i:j], self.lat[i:j],
                     self.speed_kmh[i:j], self.heading_deg[i:j])

    def gcj(self) -> tuple[np.ndarray, np.ndarray]:
        """The track's points in GCJ-02 (the map's default datum), one numpy pass."""
        if not len(self.t):
            return np.zeros(0), np.zeros(0)
        lon, lat = wgs84_to_gcj02(self.lon, self.lat)
        return np.asarray(lon, float), np.asarray(lat, float)


@dataclass(frozen=True, eq=False)
class TrackSet:
    """The tracks of many units in one set of columns: unit *i*'s fixes are
    ``[start[i], end[i])`` of ``t``/``lon``/``lat``/``speed_kmh``/``heading_deg``.

    This is how the journal loads a day of history: a 24 h replay of 50 units is 4.3 M
    fixes, and giving each unit arrays of its own and then joining them for the replay
    would touch the memory twice (on a VM first-touching memory costs ~3 ms a MB, more
    than the decoding). Units are sorted by name; speed and heading are float32 (their
    journal precision is 0.1 km/h and 0.01°).
    """

    units: tuple[str, ...]
    kinds: tuple[str, ...]
    start: np.ndarray
    end: np.ndarray
    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    speed_kmh: np.ndarray
    heading_deg: np.ndarray

    def __len__(self) -> int:
        return len(self.units)

    @property
    def fixes(self) -> int:
        return int(np.sum(self.end - self.start)) if len(self.units) else 0

    def track(self, i: int | str) -> Track:
        """Unit ``i`` (an index or a name) as a :class:`Track` of views into the columns."""
        if isinstance(i, str):
            i = self.units.index(i)
        a, b = int(self.start[i]), int(self.end[i])
        return Track(self.units[i], self.kinds[i], self.t[a:b], self.lon[a:b], self.lat[a:b],
                     self.speed_kmh[a:b], self.heading_deg[a:b])

    def tracks(self) -> dict[str, Track]:
        """unit → :class:`Track` (views, no copy)."""
        return {u: self.track(i) for i, u in enumerate(self.units)}

    @classmethod
    def from_tracks(cls, tracks) -> "TrackSet":
        """A set of the given tracks (a mapping or an iterable; empty ones left out), copied into one set of columns."""
        items = list(tracks.values()) if hasattr(tracks, "values") else list(tracks)
        items = sorted((tr for tr in items if len(tr)), key=lambda tr: tr.unit)
        counts = np.array([len(tr) for tr in items], np.int64)
        end = np.cumsum(counts).astype(np.int64) if len(items) else np.zeros(0, np.int64)
        start = end - counts
        total = int(end[-1]) if len(items) else 0
        cols = {"t": np.empty(total), "lon": np.empty(total), "lat": np.empty(total),
                "speed_kmh": np.empty(total, np.float32), "heading_deg": np.empty(total, np.float32)}
        for tr, a, b in zip(items, start.tolist(), end.tolist()):
            for name, col in cols.items():
                col[a:b] = getattr(tr, name)
        return cls(tuple(tr.unit for tr in items), tuple(tr.kind for tr in items), start, end, **cols)
