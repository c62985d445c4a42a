"""Radar targets as tracks: the latest report of every target and a short trail behind it (Qt-free).

A target is known by its radar and the radar's id for it (``<radar>/<id>``): two radars that
see one boat report two targets (the radars do not share ids, and fusing them is not done).
A target missing from its radar's reports for :data:`LOST_S` is *lost* (drawn dim, not in
the watch any more); after :data:`FORGET_S` it is forgotten. A report older than what is
known of a target (out of order across a reconnect) does not move it back.

Everything a read returns is plain data (frozen dataclasses, numpy arrays), so it can cross a
process pipe or be drawn without holding the board's lock.
"""
from __future__ import annotations

import collections
import threading
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from desktop.core.feeds.schema import RadarReport

__all__ = ["TargetState", "TrackBoard", "TRACK_S", "LOST_S", "FORGET_S", "target_key"]

TRACK_S = 300.0  # the short track: the last five minutes
TRACK_POINTS = 150  # at most this many fixes per track (one radar sweep every 2 s)
LOST_S = 30.0
FORGET_S = 600.0


def target_key(radar: str, target: str) -> str:
    return f"{radar}/{target}"


@dataclass(frozen=True)
class TargetState:
    """A target's latest fix (WGS84 and GCJ-02), course, speed and whether it is lost."""

    key: str
    radar: str
    id: str
    epoch: float
    lon_wgs: float
    lat_wgs: float
    lon_gcj: float
    lat_gcj: float
    heading_deg: float
    speed_kn: float
    lost: bool = False


class _Track:
    __slots__ = ("state", "trail")

    def __init__(self, state: TargetState):
        self.state = state
        self.trail: collections.deque = collections.deque(maxlen=TRACK_POINTS)


class TrackBoard:
    """Every target heard of, thread-safe. ``ingest`` reports, ``expire`` now and then, read any time."""

    def __init__(self, track_s: float = TRACK_S, lost_s: float = LOST_S, forget_s: float = FORGET_S):
        self.track_s = track_s
        self.lost_s = lost_s
        self.forget_s = forget_s
        self._tracks: dict[str, _Track] = {}
        self._lock = threading.Lock()
        self.version = 0  # bumped on every change (a view redraws when it moved)

    def __len__(self) -> int:
        return len(self._tracks)

    def ingest(self, reports: RadarReport | Iterable[RadarReport]) -> list[TargetState]:
        """Apply reports (positions filled); returns the targets that moved, in report order."""
        if isinstance(reports, RadarReport):
            reports = (reports,)
        moved: list[TargetState] = []
        with self._lock:
            for r in reports:
                for t in r.targets:
                    key = target_key(r.radar, t.id)
                    st = TargetState(key, r.radar, t.id, t.epoch, t.lon_wgs, t.lat_wgs, t.lon_gcj, t.lat_gcj,
                                     t.heading_deg, t.speed_kn)
                    tr = self._tracks.get(key)
                    if tr is None:
                        tr = self._tracks[key] = _Track(st)
                    elif t.epoch < tr.state.epoch:
                        continue  # an older fix, late: keep the newer one
                    tr.state = st
                    trail = tr.trail
                    if not trail or trail[-1][0] != t.epoch:
                        trail.append((t.epoch, t.lon_wgs, t.lat_wgs))
                    while trail and trail[0][0] < t.epoch - self.track_s:
                        trail.popleft()
                    moved.append(st)
            if moved:
                self.version += 1
        return moved

    def expire(self, now: float) -> tuple[list[str], list[str]]:
        """Mark targets silent for ``lost_s`` as lost and forget those silent for ``forget_s``;
        returns (newly lost keys, forgotten keys)."""
        lost, gone = [], []
        with self._lock:
            for key, tr in list(self._tracks.items()):
                age = now - tr.state.epoch
                if age > self.forget_s:
                    del self._tracks[key]
                    gone.append(key)
                elif age > self.lost_s and not tr.state.lost:
                    s = tr.state
                    tr.state = TargetState(s.key, s.radar, s.id, s.epoch, s.lon_wgs, s.lat_wgs, s.lon_gcj,
                                           s.lat_gcj, s.heading_deg, s.speed_kn, lost=True)
                    lost.append(key)
            if lost or gone:
                self.version += 1
        return lost, gone

    def targets(self) -> list[TargetState]:
        """Every known target, by key."""
        with self._lock:
            return [self._tracks[k].state for k in sorted(self._tracks)]

    def get(self, key: str) -> TargetState | None:
        with self._lock:
            tr = self._tracks.get(key)
            return tr.state if tr is not None else None

    def trail(self, key: str) -> np.ndarray:
        """The target's track as an (n, 3) array of (epoch, lon_wgs, lat_wgs), oldest first."""
        with self._lock:
            tr = self._tracks.get(key)
            return np.array(tr.trail, float).reshape(-1, 3) if tr is not None else np.zeros((0, 3))

    def trails(self) -> dict[str, np.ndarray]:
        with self._lock:
            return {k: np.array(tr.trail, float).reshape(-1, 3) for k, tr in self._tracks.items()}
