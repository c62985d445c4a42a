"""The latest-frame hand-off and the size rounding."""
from __future__ import annotations

import threading
import time

import numpy as np

from desktop.core.video.frames import Frame, LatestFrame, fit_size


def _f(i):
    return Frame(np.zeros((2, 4, 4), np.uint8), i / 25, time.monotonic(), i)


def test_latest_frame_wins_and_counts_drops():
    slot = LatestFrame()
    assert slot.take() is None
    slot.put(_f(1))
    slot.put(_f(2))
    slot.put(_f(3))
    got = slot.take()
    assert got.seq == 3 and slot.take() is None
    assert slot.counts() == (3, 1, 2)
    assert slot.last is got
    slot.put(_f(4))
    slot.clear()
    assert slot.take() is None and slot.dropped == 2


def test_slot_under_threads_loses_nothing_but_drops():
    slot = LatestFrame()
    n = 20000
    taken = []

    def producer():
        for i in range(n):
            slot.put(_f(i))

    t = threading.Thread(target=producer)
    t.start()
    while t.is_alive():
        f = slot.take()
        if f is not None:
            taken.append(f.seq)
    f = slot.take()
    if f is not None:
        taken.append(f.seq)
    assert taken == sorted(taken) and taken[-1] == n - 1
    assert slot.put_count == n and slot.taken + slot.dropped == n


def test_fit_size_keeps_aspect_and_rounds_width_to_4():
    assert fit_size(1280, 720, 480, 270) == (480, 270)
    assert fit_size(1280, 720, 481, 400) == (480, 270)
    w, h = fit_size(1280, 720, 643, 600)
    assert w % 4 == 0 and h % 2 == 0 and w <= 643 and abs(w / h - 16 / 9) < 0.02
    w, h = fit_size(704, 576, 300, 300)  # taller than wide box
    assert w == 300 and h <= 300
    assert fit_size(1280, 720, 1, 1) == (4, 2)
    assert fit_size(0, 0, 101, 51) == (100, 50)
