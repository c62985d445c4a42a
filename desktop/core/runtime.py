"""Interpreter settings shared by the program's processes (Qt-free).

A process that holds thousands of long-lived objects (alarms, the district, map layers) and
allocates fast (an alarm flood) pays for Python's cyclic garbage collector: every full pass
walks the whole heap, and it lands on whichever thread allocates at that moment. In the GUI
that was a stalled frame; in the alarm feed process, a batch of alarms held for a few hundred
milliseconds. Both processes tune the collector (:func:`tune_gc`) and, once started, move
what they hold out of its sight (:func:`freeze_heap`).
"""
from __future__ import annotations

import gc
import os
import sys
from pathlib import Path


def tune_gc(young: int = 50_000, middle: int = 50, old: int = 100) -> None:
    """Collect rarely: by default a young-generation pass after 50,000 allocations, not 700.

    The GUI takes the default: it keeps few of the containers it makes, and in a flood it
    made no pass at all. The alarm feed process keeps ten or so per alarm (the alarm, its
    event, the batch's tuples), so its passes walk what a threshold lets pile up: 50,000
    objects took 40–90 ms a pass with one core taken by another program, in the middle of a
    batch; it uses ``young=5_000`` (passes of at most ~12 ms, ten times as many)."""
    gc.set_threshold(young, middle, old)


def tune_switching() -> None:
    """A thread waiting for the interpreter lock gets it within 1 ms, not 5 (a GUI or a feed
    thread behind a busy worker thread)."""
    sys.setswitchinterval(0.001)


def freeze_heap() -> None:
    """After start-up: what exists now (the district, the restored alarms, the widgets) is
    left out of every later collection."""
    gc.collect()
    gc.freeze()


def process_cpu_s(pid: int | None) -> float | None:
    """User + system CPU seconds process ``pid`` has used so far (Linux: ``/proc``), or None
    (no such process, or no ``/proc``)."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, AttributeError):
        return None
