"""Segment coverage: which parts of each patrol route were driven in the last N minutes.

Each route is sampled every :data:`SAMPLE_M` metres along its line. Every new fix of a unit
of the route's kinds (level 1 routes: cars; level 2: e-bikes — :data:`ROUTE_KINDS`) draws
the leg from that unit's previous fix, and every sample within :data:`BUFFER_M` of that
leg gets the fix's time as its "last driven" time. The work is done as fixes come in (one
spatial-index query per batch of legs), so asking for the coverage of the last N minutes
is just a comparison of the samples' times with ``now - N min``: cheap enough every few
seconds for any N, and exact to the sample spacing.

Legs, not points: at 10 s between fixes a car moves 80 m, and a buffer around its points
alone would leave gaps in a street it drove from end to end.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from .network import Route
from .units import KINDS, kind_code

__all__ = ["SegmentCoverage", "CoverageTracker", "ROUTE_KINDS", "BUFFER_M", "SAMPLE_M"]

SAMPLE_M = 5.0
BUFFER_M = 30.0
MAX_LEG_S = 60.0  # fixes further apart than this are not joined (the unit may have gone anywhere)
MAX_LEG_KMH = 150.0  # a leg faster than this is a position jump, not driving
# Which unit kinds patrol which route level (the dataset: level 1 routes are car patrols, level 2 e-bike).
ROUTE_KINDS: dict[int, tuple[str, ...]] = {1: ("car",), 2: ("ebike",)}
_DEFAULT_KINDS = ("car", "ebike")  # a route of another level: either


@dataclass(frozen=True, eq=False)
class SegmentCoverage:
    """Coverage of one route over the asked span.

    ``fraction`` of its length driven; ``intervals_m``: the driven stretches as (start, end)
    metres along the line, ``intervals`` the same as fractions of its length (0..1, for
    ``shapely.ops.substring(..., normalized=True)`` on the map geometry); ``parts``: the
    driven stretches as (N, 2) WGS84 lon/lat arrays; ``last_driven``: newest time any part
    was driven (None: never, as far as we know).
    """

    route: str
    name: str
    level: int
    length_m: float
    fraction: float
    intervals_m: tuple[tuple[float, float], ...]
    intervals: tuple[tuple[float, float], ...]
    parts: tuple[np.ndarray, ...]
    last_driven: float | None


class CoverageTracker:
    """Keeps, for every sample along every route, when it was last driven. Not thread-safe."""

    def __init__(self, routes: list[Route], sample_m: float = SAMPLE_M, buffer_m: float = BUFFER_M,
                 route_kinds: dict[int, tuple[str, ...]] | None = None):
        self.routes = routes
        self.buffer_m = buffer_m
        kinds_by_level = dict(ROUTE_KINDS if route_kinds is None else route_kinds)
        xs, ys, ss, rs, lons, lats = [], [], [], [], [], []
        self._lengths = []
        self._slices = []
        for ri, r in enumerate(routes):
            seg = np.hypot(np.diff(r.x), np.diff(r.y))
            cum = np.concatenate([[0.0], np.cumsum(seg)])
            length = float(cum[-1])
            n = max(2, int(np.ceil(length / sample_m)) + 1)
            s = np.linspace(0.0, length, n)
            start = sum(len(a) for a in xs)
            xs.append(np.interp(s, cum, r.x))
            ys.append(np.interp(s, cum, r.y))
            lons.append(np.interp(s, cum, r.lon))
            lats.append(np.interp(s, cum, r.lat))
            ss.append(s)
            rs.append(np.full(n, ri))
            self._lengths.append(length)
            self._slices.append(slice(start, start + n))
        cat = (lambda a: np.concatenate(a) if a else np.zeros(0))
        self.x, self.y, self.s = cat(xs), cat(ys), cat(ss)
        self.lon, self.lat = cat(lons), cat(lats)
        self.route_of = cat(rs).astype(np.int64)
        self.last = np.full(len(self.x), -np.inf)
        self.tree = STRtree(shapely.points(self.x, self.y)) if len(self.x) else None
        # allowed[kind code, route index]
        self.allowed = np.zeros((len(KINDS), len(routes)), bool)
        for ri, r in enumerate(routes):
            for k in kinds_by_level.get(r.level, _DEFAULT_KINDS):
                c = kind_code(k)
                if c >= 0:
                    self.allowed[c, ri] = True
        self._eligible_kinds = {KINDS[c] for c in range(len(KINDS)) if self.allowed[c].any()}

    def eligible(self, kind: str) -> bool:
        """Whether fixes of ``kind`` count for any route."""
        return kind in self._eligible_kinds

    def add_legs(self, kinds: np.ndarray, x0, y0, x1, y1, t) -> None:
        """Legs from (x0, y0) to (x1, y1) driven by units of ``kinds`` (codes) ending at ``t``."""
        if self.tree is None or not len(t):
            return
        x0, y0, x1, y1 = (np.asarray(a, float) for a in (x0, y0, x1, y1))
        coords = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)
        legs = shapely.linestrings(coords)
        # A leg of zero length is not a valid line for GEOS: use its point.
        zero = (x0 == x1) & (y0 == y1)
        if zero.any():
            legs[zero] = shapely.points(x1[zero], y1[zero])
        pairs = self.tree.query(legs, predicate="dwithin", distance=self.buffer_m)
        if not pairs.shape[1]:
            return
        g, smp = pairs
        keep = self.allowed[np.asarray(kinds)[g], self.route_of[smp]]
        if not keep.any():
            return
        np.maximum.at(self.last, smp[keep], np.asarray(t, float)[g[keep]])

    def coverage(self, now: float, minutes: float) -> list[SegmentCoverage]:
        """Every route's coverage over the last ``minutes`` before ``now``."""
        since = now - minutes * 60.0
        out = []
        for ri, r in enumerate(self.routes):
            sl = self._slices[ri]
            last = self.last[sl]
            s = self.s[sl]
            length = self._lengths[ri]
            hit = last >= since
            intervals, parts = [], []
            if hit.any():
                # Runs of driven samples; each sample stands for half a spacing either side.
                edges = np.diff(np.concatenate([[0], hit.astype(np.int8), [0]]))
                starts = np.flatnonzero(edges == 1)
                ends = np.flatnonzero(edges == -1) - 1
                half = (s[1] - s[0]) / 2.0 if len(s) > 1 else 0.0
                for a, b in zip(starts.tolist(), ends.tolist()):
                    intervals.append((max(0.0, float(s[a]) - half), min(length, float(s[b]) + half)))
                    parts.append(np.column_stack([self.lon[sl][a:b + 1], self.lat[sl][a:b + 1]]))
            covered = sum(b - a for a, b in intervals)
            seen = last[np.isfinite(last)]
            out.append(SegmentCoverage(
                route=r.id, name=r.name, level=r.level, length_m=length,
                fraction=float(covered / length) if length > 0 else 0.0,
                intervals_m=tuple(intervals),
                intervals=tuple((a / length, b / length) for a, b in intervals) if length > 0 else (),
                parts=tuple(parts), last_driven=float(seen.max()) if len(seen) else None))
        return out
