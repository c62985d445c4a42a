"""The decode worker: one thread per live tile that opens a stream, decodes it, converts each
picture to the tile's size in BGRA and leaves it in a :class:`LatestFrame` slot.

Qt-free. PyAV releases the GIL while demuxing, decoding and scaling, so tiles decode in
parallel on every core (docs/field.md, *Video decoding: decode*). Conversion happens here, once, at the size shown and
in the byte order Qt paints without conversion (RGB32 = BGRA in memory), because swscale
costs more than the decode and would otherwise land on the GUI thread.

Life of a worker::

    connecting ──first frame──▶ live ──EOF/timeout/reset──▶ reconnecting ──(n failures)──▶ offline
        │                        ▲                              │  backoff 0.5 s, 1, 2 … 30 s  │
        └──bad data─▶ error      └──────────first frame──────────┴──────────────────────────────┘

* A live (network) source that ends is a disconnect, not the end: a killed RTSP server just
  ends the packet loop (docs/field.md, *Video decoding: network*). A stalled one raises ``TimeoutError`` because every
  open carries the ``timeout`` option.
* A file source is pseudo-live: paced at its frame rate by its timestamps, looping forever.
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
import os
import re
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from desktop.core.video.frames import Frame, LatestFrame, fit_size
from desktop.core.video.source import StreamSpec

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


class _Disconnected(Exception):
    """The live source went away (end of stream on a network source)."""


class _BadData(Exception):
    """The source delivers something we cannot show (no video, undecodable)."""


class _Interrupted(Exception):
    """stop(), pause() or a restart request: leave the packet loop."""


def classify_error(exc: BaseException) -> str:
    """``"data"`` for problems retrying will not fix soon (garbage, no video stream, no
    decoder, 4xx), ``"net"`` for the rest (refused, reset, timeout, EOF, 5xx)."""
    import av.error as averr
    if isinstance(exc, _BadData):
        return "data"
    if isinstance(exc, (averr.InvalidDataError, averr.DecoderNotFoundError, averr.PatchWelcomeError,
                        averr.HTTPClientError, averr.BugError)):
        return "data"
    if isinstance(exc, FileNotFoundError):
        return "data"
    return "net"


def _classify(spec: StreamSpec, exc: BaseException) -> str:
    # a file that fails is a bad file: there is no server to come back
    return "data" if spec.is_file else classify_error(exc)


class DecodeWorker:
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
    #: behind the clock by more than this and frames are decoded but not converted, to catch
    #: up. Not less: conversion is only 15-30 % of a frame's cost, so skipping it cannot rescue
    #: an overloaded machine (key frames only does that), while a threshold near one frame
    #: turned every small hiccup into a dozen unshown frames (measured: 14 tiles of 720p went
    #: from 94 % to 49 % shown at half the CPU). A frame 100 ms late is still worth showing.
    LATE_SKIP_S = 0.5
    #: but never skip more than this many in a row, so an overloaded tile still moves
    MAX_CONSECUTIVE_SKIPS = 12
    #: packets in a row that fail to decode before the stream counts as corrupt
    MAX_DECODE_ERRORS = 50
    #: seconds of packets without a single picture before the stream counts as corrupt
    NO_PICTURE_S = 8.0

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
        times = [t for t in list(self._fps_times) if now - t <= 2.0]
        if len(times) >= 2:
            span = max(times[-1] - times[0], 1e-3)
            st.fps = round((len(times) - 1) / span if now - times[-1] < 1.0 else 0.0, 1)
        elif not times:
            st.fps = 0.0
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
            except _Interrupted:
                pass
            except Exception as exc:  # noqa: BLE001 - every failure becomes a state, never a crash
                import av.error
                if not isinstance(exc, (av.error.FFmpegError, OSError, EOFError, _BadData, _Disconnected)):
                    # not a stream problem: a bug. Keep the tile alive, but leave a traceback
                    log.exception("video %s: unexpected failure", self.name)
                if not self._stop.is_set():
                    failure = self._judge(exc)
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

    def _judge(self, exc: BaseException) -> tuple[str, str]:
        """(``"data"`` or ``"net"``, redacted message) for a failure of the latest connection."""
        kind = _classify(self.spec, exc)
        msg = self._describe(exc)
        if (kind == "data" and self._phase == "open" and self.spec.is_live
                and isinstance(exc, ValueError)):
            # FFmpeg says "invalid data" both when the server hangs and when it cannot serve
            # this stream; only a server that still answers means the stream is bad
            from desktop.core.video.source import rtsp_server_answers
            if not rtsp_server_answers(self.spec.url, min(2.0, self.spec.timeout_s)):
                kind = "net"
                msg = "no answer from the server (" + msg + ")"
        return kind, msg

    def _describe(self, exc: BaseException) -> str:
        text = str(exc) or type(exc).__name__
        # FFmpeg quotes the URL in its messages: hide credentials
        text = text.replace(self.spec.url, self.spec.safe_url())
        text = re.sub(r"//[^/@\s'\"]*@", "//***@", text)  # any other spelling of a user:password@
        if self.spec.is_file:
            text = text.replace(self.spec.path, self.spec.path.rsplit("/", 1)[-1])
        return f"{type(exc).__name__}: {text}"[:300]

    def _open_and_play(self) -> None:
        import av

        spec = self.spec
        if spec.prepare is not None:
            spec.prepare()  # e.g. a demo clip not generated yet is made now, off the GUI thread
        if spec.is_file and not os.path.exists(spec.path):
            raise FileNotFoundError(f"no such file: {spec.path}")
        t_open = time.monotonic()
        self._phase = "open"
        self._opens += 1
        if self._opens > 1:
            with self._lock:
                self._stats.reconnects += 1
        container = av.open(spec.path if spec.is_file else spec.url, options=spec.open_options())
        try:
            if not container.streams.video:
                raise _BadData("no video stream")
            stream = container.streams.video[0]
            cc = stream.codec_context
            # one thread per tile; FRAME/AUTO threading would add a frame of delay (docs/field.md, *Video decoding: decode*)
            cc.thread_count = 1
            cc.thread_type = "SLICE"
            rate = stream.average_rate or stream.guessed_rate or 25
            try:
                fps = float(rate)
            except (TypeError, ZeroDivisionError):
                fps = 25.0
            if not (1.0 <= fps <= 240.0):
                fps = 25.0
            with self._lock:
                self._stats.stream_fps = fps
            self._phase = "play"
            from av.video.reformatter import VideoReformatter
            self._reformatter = VideoReformatter()
            self._play(container, stream, cc, fps, t_open)
        finally:
            # the scaler belongs to this connection (a reconnect may bring another size)
            self._reformatter = None
            try:
                container.close()
            except Exception:  # noqa: BLE001
                pass

    def _play(self, container, stream, cc, fps: float, t_open: float) -> None:
        import av.error as averr

        spec = self.spec
        pace = spec.is_file and self.realtime
        frame_dur = 1.0 / fps
        tb = float(stream.time_base) if stream.time_base else frame_dur
        first = True
        decode_errors = 0
        last_picture = time.monotonic()
        skip_run = 0
        kf_applied = None
        need_key = False  # after key-frames-only, wait for a key frame before decoding P-frames
        skipped = False  # packets were skipped since the last key frame went to the decoder
        # pacing (files): wall time at which stream time ``anchor_pts`` is due; stream time
        # runs on across loops (``loop_offset``) so the clock never jumps back
        anchor_wall = None
        anchor_pts = 0.0
        loop_offset = 0.0
        lap_join = None  # continuous time the first packet of the next lap should get
        lap_end = 0.0  # latest packet time of this lap (skipped packets count too)
        # lateness (live): arrival delay relative to the smallest seen recently
        base_delay = None
        base_at = 0.0
        seq = 0
        last_put = None
        min_gap = 0.5 * frame_dur
        ewma_late = 0.0
        ewma_cpu = None
        thread_time = time.thread_time

        while True:
            for packet in container.demux(stream):
                if self._stop.is_set():
                    raise _Interrupted()
                if self._paused:
                    if spec.is_live:
                        raise _Interrupted()  # hidden tile: drop the connection
                    # a file keeps its place; wait, then re-anchor the clock
                    while self._paused and not self._stop.is_set():
                        self._sleep(0.5)
                    if self._stop.is_set():
                        raise _Interrupted()
                    anchor_wall = None
                if packet.size == 0:
                    continue  # the demuxer's flush packet at the end
                if packet.pts is not None:
                    p_s = packet.pts * tb
                    if lap_join is not None:
                        loop_offset, lap_join = lap_join - p_s, None
                    lap_end = max(lap_end, p_s)
                kf = self._keyframes_only
                if kf != kf_applied:
                    cc.skip_frame = "NONKEY" if kf else "DEFAULT"
                    # P-frames reference what was skipped: full decoding resumes at a key frame
                    need_key = skipped and not kf
                    kf_applied = kf
                if (kf or need_key) and not packet.is_keyframe:
                    # skip_frame drops it inside the decoder anyway; not handing it over at all
                    # saves the per-packet call. Still a picture the source offered:
                    skipped = True
                    self._stats.frames_due += 1
                    continue
                if packet.is_keyframe:
                    skipped = False
                need_key = False
                c0 = thread_time()
                try:
                    frames = cc.decode(packet)
                    decode_errors = 0
                except (averr.InvalidDataError, averr.PatchWelcomeError, averr.BugError) as exc:
                    decode_errors += 1
                    if decode_errors >= self.MAX_DECODE_ERRORS:
                        raise _BadData(f"undecodable stream ({exc})") from exc
                    frames = []
                now = time.monotonic()
                if not frames:
                    if now - last_picture > self.NO_PICTURE_S:
                        raise _BadData("no picture decoded from the stream")
                    continue
                for vf in frames:
                    last_picture = now
                    seq += 1
                    pts_s = (vf.pts * tb) if vf.pts is not None else seq * frame_dur
                    t = pts_s + loop_offset  # continuous stream time
                    late = 0.0
                    if pace:
                        if anchor_wall is None or t < anchor_pts:
                            anchor_wall, anchor_pts = now, t
                        due = anchor_wall + (t - anchor_pts)
                        wait = due - time.monotonic()
                        if wait > 0:
                            self._sleep(wait)
                            if self._stop.is_set():
                                raise _Interrupted()
                        late = time.monotonic() - due
                        if late > 1.0:
                            # hopelessly behind (a stall, a suspended laptop): re-anchor, like a
                            # live camera that simply moved on
                            anchor_wall, anchor_pts = time.monotonic(), t
                    elif spec.is_live:
                        delay = now - t
                        if base_delay is None or delay < base_delay or now - base_at > 10.0:
                            # the smallest delay seen is "on time"; renewed every 10 s so drift
                            # between the camera's clock and ours does not count as lateness
                            base_delay, base_at = delay, now
                        late = max(0.0, delay - base_delay)
                    ewma_late = late if first else 0.9 * ewma_late + 0.1 * late
                    # counters are written by this thread only; readers copy them (stats), so
                    # no lock on the per-frame path (at 1,000 frames/s every call counts)
                    st = self._stats
                    st.decoded += 1
                    st.frames_due += 1
                    st.lateness_ms = ewma_late * 1000.0
                    if (not first and late > self.LATE_SKIP_S and skip_run < self.MAX_CONSECUTIVE_SKIPS
                            and not vf.key_frame):
                        skip_run += 1
                        st.late_skipped += 1
                        continue
                    skip_run = 0
                    if self.realtime and last_put is not None:
                        # catching up, or a network burst: keep pictures at least half a frame
                        # apart, or the GUI (polling about every 16 ms) sees only the last of
                        # two that land between its polls. Late frames gain half a frame each.
                        gap = time.monotonic() - last_put
                        if gap < min_gap:
                            time.sleep(min_gap - gap)
                    self._deliver(vf, t, seq, spec.kind)
                    last_put = time.monotonic()
                    if first:
                        first = False
                        self._failures = 0
                        st.ttff_s = round(time.monotonic() - t_open, 4)
                        st.last_error = ""
                        self._set_state("live", "")
                cpu = thread_time() - c0
                ewma_cpu = cpu if ewma_cpu is None else 0.95 * ewma_cpu + 0.05 * cpu
                st = self._stats
                st.cpu_s += cpu
                st.cpu_ms_per_frame = ewma_cpu * 1000.0
            # end of the packet loop
            if spec.is_live:
                raise _Disconnected("the stream ended")
            if not self.loop:
                return
            # pseudo-live file: start again; stream time continues one frame after the last
            container.seek(0)
            cc.flush_buffers()
            kf_applied = None
            lap_join, lap_end = lap_end + loop_offset + frame_dur, 0.0

    def _deliver(self, vf, pts_s: float, seq: int, kind: str) -> None:
        src = (vf.width, vf.height)
        key = (src, self._target)
        if key != self._fit_key:
            self._fit_key, self._fit = key, fit_size(src[0], src[1], *self._target)
        w, h = self._fit
        # one reformatter per worker keeps its SwsContext: frame.reformat() builds a new one
        # for every picture (measured: 0.4 ms of a 1.5 ms 360p frame). threads=1: without it
        # swscale starts one thread per core for every scaler (2 here, 16 on a 16-core PC),
        # idle for a tile-sized picture and, before scalers were dropped, left behind by every
        # replaced tile; the parallelism is across tiles, one decode thread each. Measured on
        # the 720p clip to 480x270: 2.48 ms a frame with the default, 2.13 with one thread.
        out = self._reformatter.reformat(vf, w, h, format="bgra", interpolation="FAST_BILINEAR", threads=1)
        arr = out.to_ndarray()
        if not arr.flags.c_contiguous:  # never expected with widths rounded to 4; be safe
            arr = np.ascontiguousarray(arr)
        now = time.monotonic()
        self.slot.put(Frame(arr, pts_s, now, seq, vf.key_frame, src, kind, owner=out))
        self._fps_times.append(now)
        st = self._stats
        st.delivered += 1
        st.output_size = (w, h)
        st.source_size = src

    def __repr__(self) -> str:
        return f"DecodeWorker({self.spec!r}, state={self._state!r})"


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

