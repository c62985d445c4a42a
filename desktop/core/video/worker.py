"""The decode worker: one thread per live tile that opens a stream, decodes it, converts each
picture to the tile's size in BGRA and leaves it in a :class:`LatestFrame` slot.

Qt-free. PyAV releases the GIL while demuxing, decoding and scaling, so tiles decode in
parallel on every core (docs/field.md, *Video decoding: decode*). This module holds the
worker's thread, its controls and its state machine; what happens while a connection is open
(the packet loop, pacing, skipping late conversions, conversion to BGRA) is in
:mod:`desktop.core.video.playback`, and how a failure counts in
:mod:`desktop.core.video.failures`.

Life of a worker::

    connecting ──first frame──▶ live ──EOF/timeout/reset──▶ reconnecting ──(n failures)──▶ offline
        │                        ▲                              │  backoff 0.5 s, 1, 2 … 30 s  │
        └──bad data─▶ error      └──────────first frame──────────┴──────────────────────────────┘

* A live (network) source that ends is a disconnect, not the end: a killed RTSP server just
  ends the packet loop (docs/field.md, *Video decoding: network*). A stalled one raises
  ``TimeoutError`` because every open carries the ``timeout`` option.
* A file source is pseudo-live: paced at its frame rate by its timestamps, looping forever.
  The worker opens the path it is given and nothing else: a file that is not there is an
  ``error`` (``no such file``), like a file it cannot decode. Whoever hands in a file it is
  still making (the demo's clips) says so with the stream's ``ready`` future; the worker
  stays ``connecting`` until it is done and never makes anything itself.
* Data that cannot be decoded (garbage, a truncated file, a stream that yields no picture)
  puts the worker in ``error``; it keeps retrying slowly and never raises out of the thread.
* Frames the worker cannot show in time (it fell behind the stream's clock) are decoded but
  not converted: conversion is the expensive half, and skipping it lets a late worker catch up.

Release: a wall that tours replaces workers every few seconds for days, so a stopped worker
must cost nothing once its thread has ended, without help from the cyclic collector (the
program raises its thresholds and freezes the start-up heap, so a cycle may wait for hundreds
of dead tiles). When the thread ends it closes its container, drops its scaler (and the
scaler's threads) and empties its slot; :meth:`DecodeWorker.stop` forgets the state callback,
so nothing the worker holds points back at its owner; and no exception (whose traceback holds
the thread's frames, and through them the worker) outlives the ``except`` that caught it.
"""
from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable

from desktop.core.video.failures import Interrupted, classify_error, is_stream_problem, judge
from desktop.core.video.frames import LatestFrame
from desktop.core.video.playback import ConnectionPlayback
from desktop.core.video.source import StreamSpec

__all__ = ["STATES", "THREAD_PREFIX", "DecodeWorker", "StateCallback", "WorkerStats", "classify_error",
           "decode_threads", "live_workers", "tune_interpreter_for_video", "wait_for_state"]

log = logging.getLogger(__name__)

STATES = ("connecting", "live", "reconnecting", "offline", "error")

StateCallback = Callable[[str, str], None]

#: every DecodeWorker not yet freed (a weak set: it keeps none alive) - for tests, the soak
#: benchmark and diagnostics, which must see leaks the collector would hide
_LIVE: "weakref.WeakSet[DecodeWorker]" = weakref.WeakSet()

#: decode threads are named with this prefix (see :func:`decode_threads`)
THREAD_PREFIX = "decode:"


def live_workers() -> int:
    """How many :class:`DecodeWorker` objects exist now (stopped ones included until freed)."""
    return len(_LIVE)


def decode_threads() -> int:
    """How many decode threads are running now."""
    return sum(1 for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive())


@dataclass
class WorkerStats:
    """A snapshot of a worker's counters (safe to read from any thread).

    ``fps`` frames delivered per second (last ~2 s); ``decoded`` pictures decoded;
    ``delivered`` put into the slot; ``dropped`` not shown (late, or replaced in the slot
    before the GUI took them); ``late_skipped`` decoded but not converted because late;
    ``lateness_ms`` how far behind the stream's clock the worker runs (smoothed);
    ``cpu_ms_per_frame`` this thread's CPU per decoded picture (smoothed);
    ``frames_due`` pictures the source offered since start (files: by the clock);
    ``reconnects`` opens after the first; ``ttff_s`` time from open to first picture of the
    latest connection; ``last_error`` the latest failure, credentials redacted.
    """

    fps: float = 0.0
    decoded: int = 0
    delivered: int = 0
    dropped: int = 0
    late_skipped: int = 0
    lateness_ms: float = 0.0
    cpu_ms_per_frame: float = 0.0
    cpu_s: float = 0.0
    frames_due: int = 0
    reconnects: int = 0
    ttff_s: float | None = None
    last_error: str = ""
    keyframes_only: bool = False
    source_size: tuple[int, int] = (0, 0)
    output_size: tuple[int, int] = (0, 0)
    stream_kind: str = "main"
    stream_fps: float = 0.0


class DecodeWorker(ConnectionPlayback):
    """Decodes one stream in its own thread and keeps the latest converted frame in ``slot``.

    ``target_size`` is the tile's size in pixels; pictures are scaled to fit it keeping their
    aspect ratio (width rounded down to a multiple of 4). ``on_state(state, detail)`` is
    called from the worker thread on every state change; ``detail`` is a short reason with
    credentials redacted. The Qt side should rather poll :attr:`state` and :attr:`slot` from
    its frame timer — no cross-thread calls.

    ``realtime=False`` decodes a file as fast as possible (benchmarks) instead of at its frame
    rate; ``loop=False`` makes a file's end final (state ``offline``).
    """

    #: a reconnecting camera is shown as offline after this many failed attempts in a row
    #: spanning at least OFFLINE_AFTER_S seconds (a server restart is not "offline")
    OFFLINE_AFTER = 3
    OFFLINE_AFTER_S = 10.0
    BACKOFF_FIRST_S = 0.5
    BACKOFF_MAX_S = 30.0
    #: retry interval for sources in ``error`` (bad data rarely heals quickly)
    ERROR_RETRY_S = 10.0

    def __init__(self, spec: StreamSpec, target_size: tuple[int, int], on_state: StateCallback | None = None,
                 *, name: str = "", realtime: bool = True, loop: bool = True, slot: LatestFrame | None = None):
        self.spec = spec
        self.name = name or spec.safe_url()
        self.on_state = on_state
        self.realtime = realtime
        self.loop = loop
        self.slot = slot if slot is not None else LatestFrame()
        self._target = (max(4, int(target_size[0])), max(2, int(target_size[1])))
        self._keyframes_only = False
        self._state = "connecting"
        self._detail = ""
        self._paused = False
        self._stop = threading.Event()
        self._wake = threading.Event()  # interrupts backoff sleeps and pacing waits
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stats = WorkerStats(stream_kind=spec.kind)
        self._fps_times: deque[float] = deque(maxlen=64)
        self._failures = 0
        self._failing_since = 0.0
        self._opens = 0
        self._phase = "open"
        self._reformatter = None
        self._fit_key = None
        self._fit = (0, 0)
        _LIVE.add(self)

    # -- control (any thread) ---------------------------------------------------------------
    def start(self) -> "DecodeWorker":
        """Start the decode thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"{THREAD_PREFIX}{self.name[:40]}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 0.0) -> bool:
        """Ask the thread to end. Returns at once by default (a network read may take up to
        the stream's timeout to return; the thread then exits by itself). With ``timeout``
        None waits for it; returns True when the thread has ended.

        The state callback is forgotten at once: the owner (a player, a tile) is done with this
        worker and must not be kept alive, or called, by a thread that is still winding down."""
        self._stop.set()
        self._wake.set()
        self.on_state = None
        t = self._thread
        if t is None:
            self._release()
            return True
        if timeout is None or timeout > 0:
            t.join(timeout)
        return not t.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end (a file with ``loop=False``, or after :meth:`stop`)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.is_alive()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def pause(self) -> None:
        """Stop decoding (hidden or minimised tile). Network sources are disconnected; a file
        keeps its place. The last frame stays in ``slot.last``."""
        self._paused = True
        self._wake.set()

    def resume(self) -> None:
        """Decode again after :meth:`pause`."""
        if self._paused:
            self._paused = False
            self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def set_target_size(self, width: int, height: int) -> None:
        """Convert to this size from the next picture on (a tile resize)."""
        self._target = (max(4, int(width)), max(2, int(height)))

    @property
    def target_size(self) -> tuple[int, int]:
        return self._target

    def set_keyframes_only(self, on: bool) -> None:
        """Decode only key frames (``skip_frame='NONKEY'``): the overload fallback. One picture
        per GOP, at a fraction of the CPU."""
        if bool(on) != self._keyframes_only:
            self._fps_times.clear()  # the rate of before would read as this one's for seconds
        self._keyframes_only = bool(on)

    @property
    def keyframes_only(self) -> bool:
        return self._keyframes_only

    @property
    def state(self) -> str:
        """One of ``connecting``, ``live``, ``reconnecting``, ``offline``, ``error``."""
        return self._state

    @property
    def detail(self) -> str:
        """Why the worker is in its state (redacted error text), or ``""``."""
        return self._detail

    @property
    def stats(self) -> WorkerStats:
        """A copy of the counters, with ``fps`` and ``dropped`` brought up to date."""
        with self._lock:
            st = replace(self._stats)
        now = time.monotonic()
        st.fps = _rate(list(self._fps_times), now)
        st.dropped = st.late_skipped + self.slot.dropped
        st.keyframes_only = self._keyframes_only
        st.lateness_ms = round(st.lateness_ms, 1)
        st.cpu_ms_per_frame = round(st.cpu_ms_per_frame, 3)
        st.cpu_s = round(st.cpu_s, 4)
        return st

    # -- the thread --------------------------------------------------------------------------
    def _set_state(self, state: str, detail: str = "") -> None:
        if state == self._state and detail == self._detail:
            return
        changed = state != self._state
        self._state, self._detail = state, detail
        if changed:
            log.info("video %s: %s%s", self.name, state, f" ({detail})" if detail else "")
            cb = self.on_state
            if cb is not None:
                try:
                    cb(state, detail)
                except Exception:  # a broken observer must not kill the decoder
                    log.exception("on_state callback failed")

    def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early for stop/pause/resume (waits of a frame or less just sleep:
        an Event wait costs several GIL round trips, and 30 threads pace 750 frames/s)."""
        if seconds <= 0.1:
            time.sleep(max(0.0, seconds))
            return
        self._wake.wait(seconds)
        self._wake.clear()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            if self._stop.is_set():
                self._release()
            else:
                # a file that ended without looping: nothing will be decoded again, but the
                # last picture stays in the slot for whoever still shows it
                self._reformatter = None

    def _release(self) -> None:
        """Drop what a stopped worker holds: its scaler (and the scaler's threads) and the
        frames in its slot. The container is closed by :meth:`_open_and_play` itself."""
        self._reformatter = None
        self._fit_key = None
        self.slot.release()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._paused:
                self._wake.wait(0.5)
                self._wake.clear()
                if not self._paused and self.spec.is_live and not self._stop.is_set():
                    self._set_state("connecting", "")
                continue
            failure = None  # (kind, message): never the exception, see the module docstring
            try:
                self._open_and_play()
            except Interrupted:
                pass
            except Exception as exc:  # noqa: BLE001 - every failure becomes a state, never a crash
                if not is_stream_problem(exc):
                    # not a stream problem: a bug. Keep the tile alive, but leave a traceback
                    log.exception("video %s: unexpected failure", self.name)
                if not self._stop.is_set():
                    failure = judge(self.spec, exc, self._phase)
                # ``exc`` is unbound here by Python; keeping it (with its traceback, which holds
                # this thread's frames and the decoded pictures in them) would make a cycle
            if self._stop.is_set():
                break
            if self._paused and failure is None:
                continue
            if failure is None:
                # a file that ended without looping
                self._set_state("offline", "end of file")
                self._stop.set()
                break
            kind, msg = failure
            with self._lock:
                self._stats.last_error = msg
            self._failures += 1
            if self._failures == 1:
                self._failing_since = time.monotonic()
            if kind == "data":
                self._set_state("error", msg)
                delay = self.ERROR_RETRY_S
            else:
                offline = (self._failures >= self.OFFLINE_AFTER
                           and time.monotonic() - self._failing_since >= self.OFFLINE_AFTER_S)
                self._set_state("offline" if offline else "reconnecting", msg)
                delay = min(self.BACKOFF_MAX_S, self.BACKOFF_FIRST_S * 2 ** (self._failures - 1))
            log.debug("video %s: retry in %.1f s after %s", self.name, delay, msg)
            deadline = time.monotonic() + delay
            while not self._stop.is_set() and time.monotonic() < deadline:
                if self._paused:
                    break
                self._sleep(deadline - time.monotonic())

    def __repr__(self) -> str:
        return f"DecodeWorker({self.spec!r}, state={self._state!r})"


def _rate(times: list[float], now: float) -> float:
    """Pictures a second from the delivery times ``times`` (oldest first): over the last 2 s,
    or over two and a half gaps when pictures come further apart (key frames only: one a GOP,
    which a 2 s window showed as 0 or 0.5 by turns); 0 once the stream is a gap and a half
    (at least 1 s) overdue."""
    if len(times) < 2:
        return 0.0
    gap = times[-1] - times[-2]
    if now - times[-1] >= max(1.0, 1.5 * gap):
        return 0.0
    window = max(2.0, 2.5 * gap)
    recent = [t for t in times if now - t <= window]
    if len(recent) < 2:
        return 0.0
    return round((len(recent) - 1) / max(recent[-1] - recent[0], 1e-3), 1)


def tune_interpreter_for_video(switch_interval_s: float = 0.001) -> None:
    """Shorten the GIL switch interval (Python's default is 5 ms). With one decoder thread per
    tile the GUI thread otherwise waits whole switch intervals for the GIL and misses display
    frames: measured on 2 cores with 32 tiles of 360p, 86 % -> 99 % of frames painted.
    Process-wide; the video wall calls it when it is created."""
    import sys
    if sys.getswitchinterval() > switch_interval_s:
        sys.setswitchinterval(switch_interval_s)


def wait_for_state(worker: DecodeWorker, states, timeout: float) -> bool:
    """Poll until ``worker.state`` is one of ``states`` (a helper for tests and tools)."""
    if isinstance(states, str):
        states = (states,)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.state in states:
            return True
        time.sleep(0.02)
    return worker.state in states

