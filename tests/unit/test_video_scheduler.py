"""The overload scheduler with fake workers and clocks: degrade small tiles, restore large ones."""
from __future__ import annotations

import math
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
    cpu: float = 0.0  # decoding CPU seconds so far

    @property
    def stats(self):
        return WorkerStats(frames_due=self.due, dropped=self.dropped, lateness_ms=self.lateness, cpu_s=self.cpu)

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


def test_a_wall_dropping_almost_everything_sheds_a_quarter_at_once_not_one_or_two():
    # 100 tiles whose decoder threads wait for one interpreter lock: the CPU looks half idle,
    # but nearly every frame is dropped; shedding two tiles a second would take most of a minute
    c = Clocks()
    s = OverloadScheduler(cpu_count=2, clock=lambda: c.t, cpu_clock=lambda: c.cpu, hold_s=3.0)
    workers = {i: FakeWorker() for i in range(100)}
    tiles = lambda: [TileLoad(i, w, 192 * 108) for i, w in workers.items()]  # noqa: E731
    s.update(tiles())
    for wk in workers.values():
        wk.run(1.0, drop_ratio=0.95)
    c.advance(1.0, 0.55)
    rep = s.update(tiles())
    assert rep.overloaded and rep.cpu < s.cpu_high
    # in proportion to the share dropped (a quarter of it, at most a quarter of the tiles)
    assert len(rep.degraded) == math.ceil(100 * min(0.25, rep.drop_ratio / 4)) >= 20
    # a slight jitter still sheds one tile at a time
    c2, s2, w2, tiles2 = _setup()
    s2.update(tiles2())
    for wk in w2.values():
        wk.run(1.0, drop_ratio=0.1)
    c2.advance(1.0, 0.5)
    assert len(s2.update(tiles2()).degraded) == 1


def test_the_picture_rate_of_a_key_frames_only_tile_reads_one_per_gop_not_zero():
    from desktop.core.video.worker import _rate
    every_2s = [10.0 + 2.0 * k for k in range(6)]  # a 2 s GOP, key frames only
    for now in (20.1, 20.9, 21.5, 22.5):
        assert _rate(every_2s, now) == 0.5, now
    assert _rate(every_2s, 23.1) == 0.0  # a gap and a half overdue: stopped
    live = [10.0 + 0.04 * k for k in range(64)]  # 25 fps
    assert _rate(live, live[-1] + 0.01) == 25.0
    assert _rate(live, live[-1] + 1.1) == 0.0  # a stalled live stream reads 0 after 1 s, as before
    assert _rate([5.0], 5.1) == 0.0


def test_drops_caused_by_other_work_neither_degrade_nor_block_a_restore():
    """Four tiles dropping 10 % while the program's CPU goes mostly to something else (the
    statistics history being built): key frames would not help, so nothing is shed. Once video
    is most of the work, the same drops count."""
    c = Clocks()
    gui_video = [0.0]
    s = OverloadScheduler(cpu_count=2, clock=lambda: c.t, cpu_clock=lambda: c.cpu, hold_s=3.0,
                          video_clock=lambda: gui_video[0])
    workers = {i: FakeWorker() for i in range(4)}
    tiles = lambda: [TileLoad(i, w, 480 * 270) for i, w in workers.items()]  # noqa: E731

    def second(cpu_fraction, decode_s_per_tile, gui_s):
        c.advance(1.0, cpu_fraction)
        gui_video[0] += gui_s
        for w in workers.values():
            w.run(1.0, drop_ratio=0.10)
            w.cpu += decode_s_per_tile
        return s.update(tiles())

    s.update(tiles())
    for _ in range(5):  # 1.24 core-seconds used, video 4 × 0.05 + 0.07 of it: about a fifth
        rep = second(0.62, 0.05, 0.07)
        assert not rep.overloaded and not rep.degraded
        assert rep.drop_ratio > s.drop_high and rep.video_share < 0.25
    # a big wall in the same state: video is most of the CPU, and its drops are the wall's
    rep = second(0.62, 0.25, 0.25)
    assert rep.video_share > 0.9 and rep.overloaded and rep.degraded
    degraded = set(s.degraded)
    # other work again, still dropping: calm enough to give tiles back after the hold
    restored = []
    for _ in range(8):
        restored += second(0.30, 0.02, 0.02).restored
    assert restored and set(restored) <= degraded


def test_without_a_video_clock_every_drop_counts():
    c, s, w, tiles = _setup()
    s.update(tiles())
    c.advance(1.0, 0.30)
    for x in w.values():
        x.run(1.0, drop_ratio=0.10)
        x.cpu += 0.001  # decoding that is only a sliver of the CPU: unknown without the GUI's share
    rep = s.update(tiles())
    assert rep.video_share is None and rep.overloaded and rep.degraded
