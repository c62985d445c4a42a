"""Interpreter settings shared by the program's processes (Qt-free).

A process that holds thousands of long-lived objects (alarms, the district, map layers) and
allocates fast (an alarm flood) pays for Python's cyclic garbage collector: every full pass
walks the whole heap, and it lands on whichever thread allocates at that moment. In the GUI
that was a stalled frame; in the alarm feed process, a batch of alarms held for a few hundred
milliseconds. Both processes collect rarely (:func:`tune_gc`) and, once started, move what
they hold out of the collector's sight (:func:`freeze_heap`).
"""
from __future__ import annotations

import gc
import sys


def tune_gc() -> None:
    """Collect rarely: a young-generation pass after 50,000 allocations, not 700."""
    gc.set_threshold(50_000, 50, 100)


def tune_switching() -> None:
    """A thread waiting for the interpreter lock gets it within 1 ms, not 5 (a GUI or a feed
    thread behind a busy worker thread)."""
    sys.setswitchinterval(0.001)


def freeze_heap() -> None:
    """After start-up: what exists now (the district, the restored alarms, the widgets) is
    left out of every later collection."""
    gc.collect()
    gc.freeze()
