"""Giving freed memory back to the system after tiles were replaced (glibc only; Qt-free).

Every camera change ends a decode thread and starts another. Measured here (an RTSP open, a
few pictures, close, each in a new thread): the process grows by about 9-23 KB per change
although no object survives — not a leak but glibc's allocator keeping freed chunks in the
arenas those short-lived threads used, fragmented, so the pages are never returned. With the
same work done in one thread it does not grow at all, and with ``MALLOC_ARENA_MAX=1`` hardly,
so it is the churn of threads across arenas. A wall touring 16 tiles every 3 s changes five
cameras a second: about 1 MB a minute, 60 MB an hour. ``malloc_trim(0)`` returns every free
page of every arena (not only the top of the heap, since glibc 2.8) in well under a
millisecond for a 50 MB process; :class:`MemoryTrimmer` calls it now and then, only after
tiles were replaced.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import time
from typing import Callable

log = logging.getLogger(__name__)

_trim: Callable[[int], int] | None = None
_looked = False


def _malloc_trim() -> Callable[[int], int] | None:
    global _trim, _looked
    if not _looked:
        _looked = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                fn = libc.malloc_trim  # glibc; musl and others have none
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
                _trim = fn
            except (OSError, AttributeError):
                _trim = None
    return _trim


def release_freed_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not possible."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True


class MemoryTrimmer:
    """Calls :func:`release_freed_memory` at most every ``interval_s`` seconds, and only when
    something was let go since the last time (:meth:`note_released`). :meth:`maybe_trim` is
    cheap to call often (the wall calls it from its once-a-second housekeeping)."""

    def __init__(self, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self.clock = clock
        self.pending = 0  # releases since the last trim
        self.trims = 0
        self.last_ms = 0.0  # how long the last trim took
        self.max_ms = 0.0
        self._at = clock()

    def note_released(self, n: int = 1) -> None:
        """Something that held memory in a thread of its own (a player) was let go."""
        self.pending += n

    def maybe_trim(self) -> bool:
        """Trim when due; True when it did."""
        now = self.clock()
        if not self.pending or now - self._at < self.interval_s:
            return False
        self._at = now
        self.pending = 0
        t0 = time.perf_counter()
        if not release_freed_memory():
            return False
        self.last_ms = (time.perf_counter() - t0) * 1000.0
        self.max_ms = max(self.max_ms, self.last_ms)
        self.trims += 1
        if self.last_ms > 20:
            log.info("returning freed memory to the system took %.1f ms", self.last_ms)
        return True
