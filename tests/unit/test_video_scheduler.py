"""The overload scheduler with fake workers and clocks: degrade small tiles, restore large ones."""
from __future__ import annotations

from dataclasses import dataclass

from desktop.core.video.scheduler import OverloadScheduler, TileLoad
from desktop.core.video.worker import WorkerStats


@dataclass
class FakeWorker:
    state: str = "live"
    keyframes_only: bool = False
    due: int = 0
    dropped: int = 0
    lateness: float = 0.0

    @property
    def stats(self):
        return WorkerStats(frames_due=self.due, dropped=self.dropped, lateness_ms=self.lateness)

    def set_keyframes_only(self, on):
        self.keyframes_only = on

    def run(self, seconds, drop_ratio=0.0):
        n = int(25 * seconds)
        self.due += n
        self.dropped += int(n * drop_ratio) if not self.keyframes_only else 0


class Clocks:
    def __init__(self):
        self.t = 0.0
        self.cpu = 0.0

    def advance(self, dt, cpu_fraction, cores=2):
        self.t += dt
        self.cpu += dt * cpu_fraction * cores


def _setup(**kw):
    c = Clocks()
    s = OverloadScheduler(cpu_count=2, clock=lambda: c.t, cpu_clock=lambda: c.cpu, hold_s=3.0, **kw)
    workers = {i: FakeWorker() for i in range(6)}
    areas = {0: 960 * 540, 1: 480 * 270, 2: 480 * 270, 3: 320 * 180, 4: 320 * 180, 5: 320 * 180}
    tiles = lambda pinned=(): [TileLoad(i, w, areas[i], i in pinned) for i, w in workers.items()]  # noqa: E731
    return c, s, workers, tiles


def test_cpu_overload_degrades_the_smallest_tiles_first():
    c, s, w, tiles = _setup()
    s.update(tiles())
    c.advance(1.0, 0.99)
    rep = s.update(tiles())
    assert rep.overloaded and rep.degraded
    assert set(rep.degraded) <= {3, 4, 5}
    assert all(w[k].keyframes_only for k in rep.degraded)
    assert not w[0].keyframes_only


def test_dropped_frames_count_as_overload_and_pinned_tiles_are_kept():
    c, s, w, tiles = _setup()
    s.update(tiles(pinned=(3, 4, 5)))
    for wk in w.values():
        wk.run(1.0, drop_ratio=0.2)
    c.advance(1.0, 0.5)
    rep = s.update(tiles(pinned=(3, 4, 5)))
    assert rep.overloaded and rep.drop_ratio > 0.1
    assert rep.degraded and not set(rep.degraded) & {3, 4, 5}


def test_calm_restores_largest_first_one_at_a_time_after_hold():
    c, s, w, tiles = _setup()
    s.update(tiles())
    for _ in range(3):
        c.advance(1.0, 0.99)
        s.update(tiles())
    degraded = set(s.degraded)
    assert len(degraded) >= 2
    restored = []
    for _ in range(40):
        c.advance(1.0, 0.3)
        for wk in w.values():
            wk.run(1.0)
        rep = s.update(tiles())
        assert len(rep.restored) <= 1
        restored += rep.restored
    assert set(restored) == degraded and not s.degraded
    sizes = [tiles()[k].area for k in restored]
    assert sizes == sorted(sizes, reverse=True)


def test_a_restore_that_brings_overload_back_doubles_the_hold():
    c, s, w, tiles = _setup()
    s.update(tiles())
    c.advance(1.0, 0.99)
    s.update(tiles())
    hold0 = s.hold_s
    t_restore = None
    for _ in range(20):
        c.advance(1.0, 0.3)
        if s.update(tiles()).restored:
            t_restore = c.t
            break
    assert t_restore is not None
    c.advance(1.0, 0.99)
    s.update(tiles())
    assert s.hold_s == 2 * hold0


def test_disabled_scheduler_only_measures_and_reset_restores():
    c, s, w, tiles = _setup()
    s.enabled = False
    s.update(tiles())
    c.advance(1.0, 1.0)
    rep = s.update(tiles())
    assert rep.overloaded and not rep.degraded and not s.degraded
    s.enabled = True
    c.advance(1.0, 1.0)
    s.update(tiles())
    assert s.degraded
    s.reset(tiles())
    assert not s.degraded and not any(wk.keyframes_only for wk in w.values())


def test_tiles_starting_up_do_not_trigger_degradation():
    c, s, w, tiles = _setup()
    young = lambda: [TileLoad(t.key, t.worker, t.area, age_s=1.0) for t in tiles()]  # noqa: E731
    s.update(young())
    c.advance(1.0, 0.99)
    rep = s.update(young())
    assert rep.overloaded and not rep.degraded
    c.advance(1.0, 0.99)
    assert s.update(tiles()).degraded


def test_equal_tiles_degrade_from_the_last_and_restore_from_the_first():
    c = Clocks()
    s = OverloadScheduler(cpu_count=2, clock=lambda: c.t, cpu_clock=lambda: c.cpu, hold_s=1.0)
    ws = [FakeWorker() for _ in range(4)]
    tiles = lambda: [TileLoad(i, w, 100) for i, w in enumerate(ws)]  # noqa: E731
    s.update(tiles())
    for wk in ws:
        wk.run(1.0, drop_ratio=0.1)
    c.advance(1.0, 0.5)
    assert s.update(tiles()).degraded == [3]
    for wk in ws:
        wk.run(1.0, drop_ratio=0.1)
    c.advance(1.0, 0.5)
    assert s.update(tiles()).degraded == [2]
    restored = []
    for _ in range(10):
        c.advance(1.0, 0.2)
        for wk in ws:
            wk.run(1.0)
        restored += s.update(tiles()).restored
    assert restored == [2, 3]
