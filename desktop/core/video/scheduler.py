"""The overload scheduler: when decoders cannot keep up, the smallest tiles fall back to key
frames only (one picture per GOP at a fraction of the CPU), visibly; when load allows they
come back, one at a time, largest first.

Qt-free and clock-injectable. The wall calls :meth:`OverloadScheduler.update` about once a
second with its live tiles; the scheduler reads each worker's counters (dropped frames,
lateness) and the process's CPU use, decides, and calls ``worker.set_keyframes_only``.

Signals of overload (any of them):

* CPU: the process used more than ``cpu_high`` of all cores since the last update;
* dropped-frame ratio: among fully decoding tiles, more than ``drop_high`` of the frames the
  sources offered were not shown (late in the worker, or replaced before the GUI took them),
  while video is what keeps the program busy (below);
* lateness: the median fully decoding tile runs more than ``late_high_ms`` behind its clock.

Drops say that pictures were not taken in time, not why. When a ``video_clock`` is given (the
CPU seconds the GUI has spent on video so far: taking pictures and painting tiles), the
scheduler adds the tiles' own decoding CPU to it and compares the sum with all the CPU the
program used that second (``video_share``). Below ``video_share_min`` the drops come from
other work (measured: the Statistics panel building two years of history at start-up made a
4-tile wall drop 7–12 % of its frames at 62 % CPU, of which video was about a fifth), and
putting tiles on key frames would only spoil the video without relieving anything: such drops
neither degrade nor block a restore. Without a ``video_clock`` every drop counts.

Degrading is quick (the excess is estimated from the CPU figure, at least one tile per
update); restoring is slow and cautious (one tile after ``hold_s`` of calm, and a restore that
brings overload straight back doubles the wait), so the wall does not flap.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable, Protocol


class _Worker(Protocol):
    state: str
    keyframes_only: bool

    @property
    def stats(self): ...

    def set_keyframes_only(self, on: bool) -> None: ...


@dataclass
class TileLoad:
    """One tile as the scheduler sees it: its worker, its on-screen area in pixels, and
    whether it must never be degraded (the enlarged or selected tile)."""

    key: Hashable
    worker: _Worker
    area: int
    pinned: bool = False
    #: seconds since the tile's stream was opened: a tile starting up bursts (open, catch-up)
    age_s: float = 1e9


@dataclass
class LoadReport:
    """What the last update measured and did."""

    cpu: float = 0.0  # fraction of all cores, 0..1
    drop_ratio: float = 0.0
    lateness_ms: float = 0.0
    #: decoding + the GUI's video work over all the CPU used (None: not measured)
    video_share: float | None = None
    overloaded: bool = False
    degraded: list = field(default_factory=list)  # keys put on key frames this update
    restored: list = field(default_factory=list)  # keys back to full decoding this update
    n_degraded: int = 0


class OverloadScheduler:
    """Decides which tiles decode key frames only. See the module docstring for the policy."""

    def __init__(self, *, cpu_high: float = 0.90, cpu_low: float = 0.70, drop_high: float = 0.05,
                 drop_low: float = 0.02, late_high_ms: float = 200.0, hold_s: float = 5.0,
                 max_hold_s: float = 60.0, grace_s: float = 4.0, cpu_count: int | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 cpu_clock: Callable[[], float] = time.process_time,
                 video_clock: Callable[[], float] | None = None, video_share_min: float = 0.5):
        self.cpu_high, self.cpu_low = cpu_high, cpu_low
        self.drop_high, self.drop_low = drop_high, drop_low
        self.late_high_ms = late_high_ms
        self.base_hold_s = hold_s
        self.hold_s = hold_s
        self.max_hold_s = max_hold_s
        self.grace_s = grace_s
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:
            n = os.cpu_count() or 1
        self.cpu_count = cpu_count or n
        self.clock, self.cpu_clock = clock, cpu_clock
        self.video_clock, self.video_share_min = video_clock, video_share_min
        self._video = None
        self.enabled = True
        self.degraded: set = set()
        self.last = LoadReport()
        self._t = None
        self._cpu = None
        self._counts: dict = {}  # key -> (frames_due, dropped, decoding CPU s)
        self._last_change = -1e9
        self._last_restore = -1e9
        self._calm_since = None

    def forget(self, key: Hashable) -> None:
        """A tile went away (closed or re-assigned)."""
        self.degraded.discard(key)
        self._counts.pop(key, None)

    def reset(self, tiles: Iterable[TileLoad] = ()) -> None:
        """Return every tile to full decoding and forget the history (e.g. on a layout change)."""
        for t in tiles:
            if t.key in self.degraded:
                t.worker.set_keyframes_only(False)
        self.degraded.clear()
        self._counts.clear()
        self.hold_s = self.base_hold_s
        self._calm_since = None

    def update(self, tiles: Iterable[TileLoad]) -> LoadReport:
        """Measure and act; returns what happened. Call about once a second."""
        tiles = [t for t in tiles if t.worker is not None]
        now, cpu_now = self.clock(), self.cpu_clock()
        video_now = self.video_clock() if self.video_clock is not None else None
        rep = LoadReport()
        keys = {t.key for t in tiles}
        for k in list(self.degraded):
            if k not in keys:
                self.degraded.discard(k)
        if self._t is None or now - self._t <= 0:
            self._t, self._cpu, self._video = now, cpu_now, video_now
            self._snapshot(tiles)
            self.last = rep
            return rep
        dt = now - self._t
        used = max(0.0, cpu_now - self._cpu)
        rep.cpu = used / (dt * self.cpu_count)
        video_s = None if video_now is None or self._video is None else max(0.0, video_now - self._video)
        self._t, self._cpu, self._video = now, cpu_now, video_now

        due_sum = drop_sum = 0
        decode_s = 0.0
        lates = []
        for t in tiles:
            st = t.worker.stats
            prev = self._counts.get(t.key)
            self._counts[t.key] = (st.frames_due, st.dropped, st.cpu_s)
            if prev is not None:
                decode_s += max(0.0, st.cpu_s - prev[2])  # degraded tiles decode too
            if t.key in self.degraded or t.worker.state != "live" or prev is None or t.age_s < self.grace_s:
                continue
            due_sum += max(0, st.frames_due - prev[0])
            drop_sum += max(0, st.dropped - prev[1])
            lates.append(st.lateness_ms)
        rep.drop_ratio = drop_sum / due_sum if due_sum else 0.0
        rep.lateness_ms = sorted(lates)[len(lates) // 2] if lates else 0.0
        if video_s is not None and used > 0:
            rep.video_share = min(1.0, (video_s + decode_s) / used)
        drops_count = self._drops_count(rep)
        rep.overloaded = (rep.cpu > self.cpu_high or (drops_count and rep.drop_ratio > self.drop_high)
                          or rep.lateness_ms > self.late_high_ms)

        settling = any(t.age_s < self.grace_s for t in tiles)
        if self.enabled and not (settling and rep.overloaded):
            # (while a tile is starting up its open and catch-up burst is not overload)
            if rep.overloaded:
                self._calm_since = None
                if now - self._last_restore < self.hold_s * 2:
                    # the last restore brought the overload back: wait longer next time
                    self.hold_s = min(self.max_hold_s, self.hold_s * 2)
                rep.degraded = self._degrade(tiles, rep)
            else:
                calm = rep.cpu < self.cpu_low and (rep.drop_ratio <= self.drop_low or not drops_count)
                if not calm:
                    self._calm_since = None
                else:
                    if self._calm_since is None:
                        self._calm_since = now
                    if (self.degraded and now - self._calm_since >= self.hold_s
                            and now - self._last_change >= self.hold_s):
                        rep.restored = self._restore(tiles, now)
                    elif not self.degraded and now - self._calm_since > self.max_hold_s:
                        self.hold_s = self.base_hold_s  # long calm: forgive
            if rep.degraded:
                self._last_change = now
        rep.n_degraded = len(self.degraded)
        self.last = rep
        return rep

    def _drops_count(self, rep: LoadReport) -> bool:
        """Drops while other work keeps the program busy are not the wall's to shed."""
        return rep.video_share is None or rep.video_share >= self.video_share_min

    def _snapshot(self, tiles) -> None:
        for t in tiles:
            st = t.worker.stats
            self._counts[t.key] = (st.frames_due, st.dropped, st.cpu_s)

    def _degrade(self, tiles: list[TileLoad], rep: LoadReport) -> list:
        order = {id(t): i for i, t in enumerate(tiles)}
        full = [t for t in tiles if t.key not in self.degraded and not t.pinned
                and t.worker.state in ("live", "connecting")]
        if len(full) <= 0:
            return []
        # shed what the CPU says is in excess, at most a quarter of the tiles at once; drops
        # alone (CPU looks fine: decoder threads that wait for one interpreter lock do not fill
        # the cores) shed in proportion to the share dropped, so a 100-tile wall showing almost
        # nothing gets to what it can carry in a few seconds, not in minutes, while a slight
        # jitter sheds one tile; lateness alone sheds one. Smallest tiles first.
        if rep.cpu > self.cpu_high and rep.cpu > 0:
            excess = (rep.cpu - self.cpu_high * 0.9) / rep.cpu
            n = max(1, math.ceil(len(full) * min(0.25, excess)))
        elif rep.drop_ratio > self.drop_high and self._drops_count(rep):
            n = max(2 if rep.drop_ratio > 4 * self.drop_high else 1,
                    math.ceil(len(full) * min(0.25, rep.drop_ratio / 4)))
        else:
            n = 1
        # equal sizes: the last tiles first (the first ones hold the cameras opened first,
        # e.g. the best views of an alarm)
        full.sort(key=lambda t: (t.area, -order[id(t)]))
        out = []
        for t in full[:n]:
            t.worker.set_keyframes_only(True)
            self.degraded.add(t.key)
            out.append(t.key)
        return out

    def _restore(self, tiles: list[TileLoad], now: float) -> list:
        cands = [t for t in tiles if t.key in self.degraded]
        if not cands:
            return []
        order = {id(t): i for i, t in enumerate(tiles)}
        t = max(cands, key=lambda t: (t.area, -order[id(t)]))
        t.worker.set_keyframes_only(False)
        self.degraded.discard(t.key)
        self._last_restore = self._last_change = now
        self._calm_since = now
        return [t.key]
