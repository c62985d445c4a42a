"""Players and workers are freed by reference counting alone once stopped and dropped.

The program runs with the cyclic collector nearly off (``desktop.qt.app.tune_runtime`` and
``freeze_heap``), so anything that needs it stays for hundreds of replaced tiles. Each test
here disables the collector and checks, through weak references, that what a stopped player
or worker held — the worker itself, its frames, its scaler threads — is gone once its thread
has ended.
"""
from __future__ import annotations

import gc
import os
import time
import weakref

import pytest

from desktop.core.video.player import StreamPlayer, live_players
from desktop.core.video.source import StreamSpec
from desktop.core.video.worker import DecodeWorker, decode_threads, live_workers, wait_for_state

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def no_collector():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _wait(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def _first_frame(source, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f = source.take() if isinstance(source, StreamPlayer) else source.slot.take()
        if f is not None:
            return f
        time.sleep(0.01)
    return None


def test_a_stopped_player_is_freed_with_its_workers_and_frames(video_clips, no_collector):
    players0, workers0 = live_players(), live_workers()
    p = StreamPlayer(video_clips["pairs"][0].streams("A", "Cam A"), (480, 270))
    assert _first_frame(p) is not None
    p.set_force_main(True)  # a switch: two workers for a moment
    assert _wait(lambda: p.take() is not None and p.previous is None)
    assert live_players() == players0 + 1
    workers = [weakref.ref(p.worker)]
    slot = p.worker.slot
    frame = weakref.ref(slot.last)
    p.stop()
    assert p.closed and p.worker.on_state is None  # nothing points back at the player
    player = weakref.ref(p)
    del p
    assert player() is None  # no cycle: gone at once, not at a collection
    assert _wait(lambda: decode_threads() == 0)
    assert all(w() is None for w in workers)
    assert live_players() == players0 and live_workers() == workers0
    # the slot (still held here) gave up its pictures when its thread ended
    assert slot.last is None and not slot.pending() and frame() is None


def test_a_worker_that_failed_is_freed_after_stop(video_clips, no_collector):
    # a failure keeps the exception only until it is judged: its traceback holds the thread's
    # frames, which hold the worker, a cycle the collector would have to break
    w = DecodeWorker(StreamSpec(str(video_clips["garbage"])), (320, 180))
    w.ERROR_RETRY_S = 30.0  # stopped while it waits to retry, the failure just judged
    w.start()
    assert wait_for_state(w, "error", 15)
    ref = weakref.ref(w)
    assert w.stop(timeout=5)
    del w
    assert ref() is None


def test_a_live_worker_costs_one_thread_and_gives_it_back(video_clips, no_collector):
    time.sleep(0.2)
    base = _os_threads()
    w = DecodeWorker(StreamSpec(str(video_clips["pairs"][0].main)), (480, 270)).start()
    try:
        for _ in range(5):  # several pictures scaled: the scaler exists
            assert _first_frame(w) is not None
        # one decode thread, and no scaler threads (swscale takes one per core by default)
        assert _os_threads() == base + 1
    finally:
        assert w.stop(timeout=5)
    assert _wait(lambda: _os_threads() == base)
    assert w.slot.last is None and w._reformatter is None


def test_the_trimmer_returns_freed_memory_only_after_releases_and_not_too_often():
    import sys

    from desktop.core.video.memory import MemoryTrimmer, release_freed_memory
    now = [100.0]
    t = MemoryTrimmer(interval_s=30.0, clock=lambda: now[0])
    on_glibc = sys.platform.startswith("linux")
    now[0] += 60
    assert not t.maybe_trim()  # nothing was let go: nothing to give back
    t.note_released()
    assert t.maybe_trim() is on_glibc and t.trims == int(on_glibc)
    assert not t.maybe_trim()  # done: waits for the next release
    t.note_released(3)
    now[0] += 10
    assert not t.maybe_trim()  # released, but the last trim was 10 s ago
    now[0] += 25
    assert t.maybe_trim() is on_glibc and t.trims == 2 * int(on_glibc) and t.pending == 0
    assert release_freed_memory() is on_glibc

