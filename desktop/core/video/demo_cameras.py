"""The demo's cameras: what a camera without stream URLs plays (a generated demo clip), and
the threads that make a clip before any player opens it.

Qt-free. The demo owns its content and hands it to the player from outside:
:func:`demo_streams_for` (given to ``streams_for_camera(camera, without_url=...)`` by the
window and the wall) and :func:`variant_streams` (a training scenario's ``variant = N``)
return at once, so they are fine on the GUI thread. A pair that is not in the cache yet is
queued on the :class:`ClipPreparer`'s own threads, and its streams carry the preparation's
``ready`` future: the decode worker shows ``connecting`` until the pair is there, then opens
it like any file. Generation takes seconds (a 20 s pair is 500 frames of 720p and 360p to
encode); a decode thread doing it could not be stopped or paused meanwhile.

The clips themselves (names, cache folder, generation) are :mod:`desktop.core.video.clips`;
a pair already made is never made again (same files, same place).
"""
from __future__ import annotations

import logging
import threading
import zlib
from collections import deque
from concurrent.futures import Future
from pathlib import Path

from desktop.core.video.clips import DEFAULT_COUNT, DEFAULT_SECONDS, VARIANT_NAMES, ClipPair, clip_pair, ensure_pair
from desktop.core.video.source import CameraStreams

log = logging.getLogger(__name__)

#: the preparer's threads are named with this prefix
THREAD_PREFIX = "clipgen-"


class ClipPreparer:
    """Makes missing demo clip pairs on threads of its own, each pair once, and tells when.

    :meth:`prepare` returns a :class:`~concurrent.futures.Future` per pair: done at once when
    the pair is in the cache, else when it has been generated (or failed: the future then
    holds a short error, without the traceback, which is logged). At most ``workers`` pairs
    are made at once (default: one per core; libx264 and FFmpeg's noise filter release the
    GIL). The threads are daemons that end when nothing is queued, so an idle demo holds none
    and quitting never waits for an encode (a clip is written to a temporary name and renamed,
    so an interrupted one is never taken for done).
    """

    def __init__(self, workers: int | None = None):
        import os
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._lock = threading.Lock()
        self._futures: dict[Path, Future] = {}
        self._queue: deque[tuple[ClipPair, Future]] = deque()
        self._running = 0
        self._started = 0

    def prepare(self, pair: ClipPair) -> Future:
        """The future of ``pair``'s files; queues their generation when they are missing (or
        went missing, or failed last time). Cheap: two ``stat`` calls when the pair exists."""
        with self._lock:
            fut = self._futures.get(pair.main)
            if fut is not None and (not fut.done() or (_succeeded(fut) and pair.exists())):
                return fut
            fut = Future()
            self._futures[pair.main] = fut
            if pair.exists():
                fut.set_result(pair)
                return fut
            self._queue.append((pair, fut))
            if self._running < self.workers:
                self._running += 1
                self._started += 1
                threading.Thread(target=self._work, name=f"{THREAD_PREFIX}{self._started}", daemon=True).start()
        log.info("demo clip %s queued for generation", pair.main.name)
        return fut

    def pending(self) -> int:
        """Pairs queued or being made now."""
        with self._lock:
            return sum(1 for f in self._futures.values() if not f.done())

    def _work(self) -> None:
        while True:
            with self._lock:
                # the same lock as prepare's queueing: a job is never left without a thread
                if not self._queue:
                    self._running -= 1
                    return
                pair, fut = self._queue.popleft()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                ensure_pair(pair)
            except Exception as exc:  # noqa: BLE001 - a failed clip is the tile's error, never a crash
                log.exception("demo clip %s could not be made", pair.main.name)
                fut.set_exception(RuntimeError(f"{type(exc).__name__}: {exc}"[:300]))
            else:
                fut.set_result(pair)


def _succeeded(fut: Future) -> bool:
    return fut.done() and not fut.cancelled() and fut.exception() is None


#: the program's preparer, shared by every window and wall of the process
_PREPARER = ClipPreparer()


def default_preparer() -> ClipPreparer:
    """The preparer :func:`demo_streams_for` and :func:`variant_streams` use by default."""
    return _PREPARER


def demo_variant(camera_id: str, count: int = DEFAULT_COUNT) -> int:
    """The variant a demo camera plays: a stable hash of its id over ``count`` variants."""
    return zlib.crc32(str(camera_id).encode("utf-8")) % max(1, min(count, len(VARIANT_NAMES)))


def variant_streams(variant: int, camera_id: str, name: str, seconds: float = DEFAULT_SECONDS,
                    folder: Path | None = None, preparer: ClipPreparer | None = None) -> CameraStreams:
    """CameraStreams of demo variant ``variant`` for a camera, its pair made first when missing
    (on ``preparer``'s threads; the streams' ``ready`` says when). Returns at once."""
    pair = clip_pair(variant, seconds, folder)
    fut = (preparer or _PREPARER).prepare(pair)
    ready = None if _succeeded(fut) else fut
    return pair.streams(camera_id, name, ready=ready)


def demo_streams_for(camera_id: str, name: str, count: int = DEFAULT_COUNT, seconds: float = DEFAULT_SECONDS,
                     folder: Path | None = None, preparer: ClipPreparer | None = None) -> CameraStreams:
    """CameraStreams of a demo camera (a camera without URLs): the variant of
    :func:`demo_variant`, made first when missing (see :func:`variant_streams`)."""
    return variant_streams(demo_variant(camera_id, count), camera_id, name, seconds, folder, preparer)
