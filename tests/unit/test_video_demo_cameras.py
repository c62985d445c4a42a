"""The demo's cameras: which clip a camera plays, and that the demo makes a missing clip on its
own threads before the player opens it (never on the GUI thread, never on a decode thread)."""
from __future__ import annotations

import threading
import time

import pytest

from desktop.core.video import clips
from desktop.core.video.demo_cameras import (THREAD_PREFIX, ClipPreparer, demo_streams_for, demo_variant,
                                             variant_streams)
from desktop.core.video.worker import THREAD_PREFIX as DECODE_PREFIX
from desktop.core.video.worker import wait_for_state

pytestmark = pytest.mark.timeout(120)


def _counting_generator(monkeypatch, fail: Exception | None = None, gate: threading.Event | None = None):
    """Wrap the clip generator: record the thread each generation ran on; hold it until
    ``gate`` is set when one is given."""
    threads = []
    real = clips.generate_pair

    def generate(pair, tick=None):
        threads.append(threading.current_thread())
        if gate is not None:
            assert gate.wait(30)
        if fail is not None:
            raise fail
        return real(pair, tick)
    monkeypatch.setattr(clips, "generate_pair", generate)
    return threads


def test_demo_variants_are_deterministic_and_spread():
    assert demo_variant("HD00042") == demo_variant("HD00042")
    assert {demo_variant(f"HD{i:05d}") for i in range(200)} == set(range(clips.DEFAULT_COUNT))
    assert {demo_variant(f"HD{i:05d}", count=2) for i in range(50)} == {0, 1}


def test_a_cached_pair_is_handed_over_as_plain_files(video_clips, monkeypatch):
    threads = _counting_generator(monkeypatch)
    prep = ClipPreparer()
    folder, seconds = video_clips["folder"], float(video_clips["pairs"][0].seconds)
    a = demo_streams_for("HD00042", "A", count=2, seconds=seconds, folder=folder, preparer=prep)
    b = demo_streams_for("HD00042", "B", count=2, seconds=seconds, folder=folder, preparer=prep)
    assert a.main == b.main and a.sub == b.sub  # same camera, same clip
    assert a.main.path == str(video_clips["pairs"][a.extra["demo_variant"]].main)  # the cache's own files
    assert a.main.ready is None and a.sub.ready is None  # nothing to wait for
    assert threads == [] and prep.pending() == 0


def test_the_demo_makes_its_clip_before_the_player_opens_it(tmp_path, monkeypatch):
    from desktop.core.video.player import StreamPlayer
    gate = threading.Event()
    threads = _counting_generator(monkeypatch, gate=gate)
    prep = ClipPreparer(workers=1)
    streams = variant_streams(2, "HD0002", "Pier", seconds=1.0, folder=tmp_path, preparer=prep)
    pair = clips.clip_pair(2, 1.0, tmp_path)
    assert streams.sub.path == str(pair.sub) and streams.extra["demo_variant"] == 2
    fut = streams.sub.ready
    assert fut is not None and fut is streams.main.ready  # one making for the pair
    # asked again while it is being made: the same making, not a second one
    assert variant_streams(2, "HD0003", "Pier", seconds=1.0, folder=tmp_path, preparer=prep).main.ready is fut
    p = StreamPlayer(streams, (160, 90))
    try:
        time.sleep(0.6)
        # the player waits for the demo, as "connecting"; nothing opened, nothing made yet
        assert p.state == "connecting" and "waiting for the clip" in p.detail, (p.state, p.detail)
        assert not pair.exists() and p.worker.stats.decoded == 0
        gate.set()
        assert wait_for_state(p.worker, "live", 90), (p.state, p.detail)
        assert fut.done() and fut.result() == pair and pair.exists()
    finally:
        gate.set()
        p.stop()
    # made once, on the demo's thread: not on this (the GUI's) thread nor on the decode thread
    assert len(threads) == 1, threads
    maker = threads[0]
    assert maker.name.startswith(THREAD_PREFIX) and not maker.name.startswith(DECODE_PREFIX), maker.name
    # made: the next camera gets plain files from the cache
    again = variant_streams(2, "HD0004", "Pier", seconds=1.0, folder=tmp_path, preparer=prep)
    assert again.main.ready is None and len(threads) == 1
    # the demo's thread ends once nothing is queued
    maker.join(5)
    assert not maker.is_alive()


def test_a_clip_that_cannot_be_made_is_the_tile_s_error(tmp_path, monkeypatch):
    from desktop.core.video.worker import DecodeWorker
    threads = _counting_generator(monkeypatch, fail=OSError(28, "No space left on device"))
    prep = ClipPreparer(workers=1)
    streams = variant_streams(5, "HD0005", "Market", seconds=1.0, folder=tmp_path, preparer=prep)
    w = DecodeWorker(streams.sub, (160, 90)).start()
    try:
        assert wait_for_state(w, "error", 10), w.state
        assert "could not be made" in w.detail and "No space left" in w.detail
    finally:
        assert w.stop(timeout=5)
    assert len(threads) == 1 and not list(tmp_path.iterdir())
    # a later request tries again (the failure is not remembered for ever)
    variant_streams(5, "HD0005", "Market", seconds=1.0, folder=tmp_path, preparer=prep).main.ready.exception(10)
    assert len(threads) == 2
