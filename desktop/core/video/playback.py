"""Playing one connection of a decode worker: opening the stream (after waiting for a file
its owner is still making), the packet loop and the conversion of each picture shown.

Qt-free. :class:`ConnectionPlayback` is the half of :class:`~desktop.core.video.worker.DecodeWorker`
that runs while a connection is open; the worker (its thread, controls and state machine) is
in :mod:`desktop.core.video.worker` and calls :meth:`ConnectionPlayback._open_and_play` once
per connection. The loop runs on the worker's own members (its stop and pause flags, key
frames only, counters, slot and target size): it is the worker's code, kept apart because it
is the per-frame path and the longest part.

What happens here:

* A file is paced at its frame rate by its timestamps and loops with a continuous clock; a
  network source is read as it comes and its lateness measured against the smallest delay
  seen recently.
* A picture more than :attr:`~ConnectionPlayback.LATE_SKIP_S` behind the clock is decoded but
  not converted: conversion is the expensive half, and skipping it lets a late worker catch up.
* Key frames only (the overload fallback) hands the decoder key frames alone, and full
  decoding resumes at the next key frame.
* Conversion happens once, at the size shown and in the byte order Qt paints without
  conversion (RGB32 = BGRA in memory), because swscale costs more than the decode and would
  otherwise land on the GUI thread.
"""
from __future__ import annotations

import os
import time

import numpy as np

from desktop.core.video.failures import BadData, Disconnected, Interrupted
from desktop.core.video.frames import Frame, fit_size
from desktop.core.video.source import WAITING_FOR_FILE


class ConnectionPlayback:
    """The connection half of :class:`~desktop.core.video.worker.DecodeWorker` (a base class of
    it, never used alone): open the stream, decode, pace, skip late conversions, deliver."""

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
    #: how often a worker waiting for its stream's file to be made (``spec.ready``) looks again
    READY_POLL_S = 0.25

    def _open_and_play(self) -> None:
        """One connection: open the stream, set up its decoder, play it until it ends or fails.
        The container is closed and the scaler dropped whatever happens."""
        import av

        spec = self.spec
        if spec.ready is not None:
            self._wait_until_ready(spec.ready)
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
                raise BadData("no video stream")
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

    def _wait_until_ready(self, ready) -> None:
        """Wait, as ``connecting``, until whoever handed in the stream has made its file (a demo
        clip generated on the demo's threads); stop and pause cut the wait short. The worker
        never makes the file itself: a decode thread busy encoding for seconds could not be
        stopped, paused or replaced, and a wall that tours replaces tiles every few seconds."""
        if not ready.done():
            self._set_state("connecting", WAITING_FOR_FILE)
            while not ready.done():
                if self._stop.is_set() or self._paused:
                    raise Interrupted()
                self._sleep(self.READY_POLL_S)
        if ready.cancelled():
            raise BadData("the clip was not made")
        if ready.exception() is not None:
            raise BadData(f"the clip could not be made ({ready.exception()})")

    def _play(self, container, stream, cc, fps: float, t_open: float) -> None:
        """The packet loop of an open connection (returns at a file's end without looping)."""
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
                    raise Interrupted()
                if self._paused:
                    if spec.is_live:
                        raise Interrupted()  # hidden tile: drop the connection
                    # a file keeps its place; wait, then re-anchor the clock
                    while self._paused and not self._stop.is_set():
                        self._sleep(0.5)
                    if self._stop.is_set():
                        raise Interrupted()
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
                        raise BadData(f"undecodable stream ({exc})") from exc
                    frames = []
                now = time.monotonic()
                if not frames:
                    if now - last_picture > self.NO_PICTURE_S:
                        raise BadData("no picture decoded from the stream")
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
                                raise Interrupted()
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
                raise Disconnected("the stream ended")
            if not self.loop:
                return
            # pseudo-live file: start again; stream time continues one frame after the last
            container.seek(0)
            cc.flush_buffers()
            kf_applied = None
            lap_join, lap_end = lap_end + loop_offset + frame_dur, 0.0

    def _deliver(self, vf, pts_s: float, seq: int, kind: str) -> None:
        """Convert ``vf`` to the tile's size in BGRA and put it in the slot."""
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
