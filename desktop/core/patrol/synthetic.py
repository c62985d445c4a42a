"""Synthetic patrol history: plausible tracks for benchmarks and tests, made fast.

A day of 1 Hz fixes for 50 units is 4.3 M fixes; building them fix by fix in Python would
take longer than the benchmark they feed. Here every track is a few numpy passes: a chain
of drive and stop phases (lengths drawn per unit), a heading that wanders, speed by kind,
positions as the cumulative sum of the steps, folded back into a box around a centre so a
unit stays in its district. :func:`fill_journal` writes them with the journal's bulk
writer (chunks directly, one transaction).
"""
from __future__ import annotations

import numpy as np

from .geometry import LocalFrame
from .journal import PositionJournal
from .track import Track
from .units import KINDS, profile

__all__ = ["synthetic_track", "synthetic_tracks", "fill_journal"]


def _fold(v: np.ndarray, half: float) -> np.ndarray:
    """Reflect coordinates into [-half, half] (a unit bouncing off the edge of its area)."""
    period = 4.0 * half
    w = np.mod(v + half, period)
    return np.where(w <= 2 * half, w, period - w) - half


def synthetic_track(unit: str, kind: str, t0: float, seconds: float, hz: float = 1.0, *,
                    lon0: float = 120.36, lat0: float = 36.06, half_m: float = 3000.0,
                    rng: np.random.Generator | None = None) -> Track:
    """One unit's synthetic track of ``seconds`` from ``t0`` at ``hz`` fixes a second.

    Alternates drives (1–10 min at 50–100 % of the kind's speed) and stops (1–8 min, with a
    few metres of GPS jitter), inside a square of ``2 × half_m`` around (``lon0``, ``lat0``).
    """
    rng = rng or np.random.default_rng()
    n = max(1, int(seconds * hz))
    dt = 1.0 / hz
    t = t0 + np.arange(n) * dt
    # Phases: drive, stop, drive, stop … with random lengths (in fixes).
    lengths = []
    total = 0
    moving = bool(rng.random() < 0.7)
    flags = []
    while total < n:
        dur = rng.uniform(60, 600) if moving else rng.uniform(60, 480)
        k = max(1, int(dur * hz))
        lengths.append(k)
        flags.append(moving)
        total += k
        moving = not moving
    is_moving = np.repeat(np.array(flags), lengths)[:n]
    prof = profile(kind)
    cruise = np.repeat(rng.uniform(0.5, 1.0, len(lengths)), lengths)[:n] * prof.speed_kmh
    speed = np.where(is_moving, cruise, 0.0)
    heading = np.mod(np.cumsum(rng.normal(0.0, 6.0, n)) + rng.uniform(0, 360), 360.0)
    step = speed / 3.6 * dt
    h = np.radians(heading)
    x = np.cumsum(step * np.sin(h)) + rng.uniform(-half_m, half_m) * 0.8
    y = np.cumsum(step * np.cos(h)) + rng.uniform(-half_m, half_m) * 0.8
    x = _fold(x, half_m) + rng.normal(0.0, 2.0, n)
    y = _fold(y, half_m) + rng.normal(0.0, 2.0, n)
    lon, lat = LocalFrame(lon0, lat0).inv(x, y)
    return Track(unit, kind, t, np.asarray(lon), np.asarray(lat), speed, heading)


def synthetic_tracks(units: int, t0: float, seconds: float, hz: float = 1.0, seed: int = 1,
                     kinds: tuple[str, ...] = ("car", "ebike", "foot"), **kw) -> list[Track]:
    """``units`` synthetic tracks (kinds taken in turn), reproducible for one ``seed``."""
    rng = np.random.default_rng(seed)
    kinds = tuple(k for k in kinds if k in KINDS) or ("car",)
    out = []
    for i in range(units):
        kind = kinds[i % len(kinds)]
        out.append(synthetic_track(f"{kind}-{i + 1:03d}", kind, t0, seconds, hz, rng=rng, **kw))
    return out


def fill_journal(journal: PositionJournal, units: int = 50, t0: float = 1717203600.0, hours: float = 24.0,
                 hz: float = 1.0, seed: int = 1, **kw) -> int:
    """Write ``hours`` of synthetic history for ``units`` units into ``journal``; returns the fix count.

    Tracks are made and written a few units at a time, so memory stays at a few tracks.
    """
    total = 0
    rng_seed = np.random.SeedSequence(seed)
    kinds = ("car", "ebike", "foot")
    for i, child in enumerate(rng_seed.spawn(units)):
        rng = np.random.default_rng(child)
        kind = kinds[i % len(kinds)]
        tr = synthetic_track(f"{kind}-{i + 1:03d}", kind, t0, hours * 3600.0, hz, rng=rng, **kw)
        total += journal.bulk_write([tr])
    return total
