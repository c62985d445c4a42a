"""One camera in one tile: picks main or sub for the tile's size and switches without a gap.

Qt-free; the wall's tile owns one :class:`StreamPlayer`. On a resize the player updates the
conversion size at once and, when the tile crossed the sub stream's size, starts a worker on
the other stream. The old worker keeps feeding the tile until the new one has its first
picture (or fails), so switching main↔sub never shows a black tile.

A player is let go by :meth:`StreamPlayer.stop` (alias :meth:`~StreamPlayer.close`) and is
freed by reference counting alone once its owner drops it: its workers report state through a
weak reference, so player and worker never form a cycle that only the (rarely run, see
``desktop.qt.app.tune_runtime``) cyclic collector could break.
"""
from __future__ import annotations

import logging
import threading
import weakref

from desktop.core.video.frames import Frame
from desktop.core.video.source import CameraStreams, StreamSpec, choose_stream
from desktop.core.video.worker import DecodeWorker, StateCallback

log = logging.getLogger(__name__)

#: every StreamPlayer not yet freed (weak: it keeps none alive), for tests and the soak benchmark
_LIVE: "weakref.WeakSet[StreamPlayer]" = weakref.WeakSet()


#: where new workers decode: None = a thread of this process each; a DecodePool = its processes
_DECODE_POOL = None


def set_decode_pool(pool) -> None:
    """Decode the tiles of players made from now on in ``pool``'s processes
    (:class:`~desktop.core.video.procpool.DecodePool`), or in threads of this process (None)."""
    global _DECODE_POOL
    _DECODE_POOL = pool


def decode_pool():
    """The pool new players decode in (None: threads of this process)."""
    return _DECODE_POOL


def live_players() -> int:
    """How many :class:`StreamPlayer` objects exist now (stopped ones included until freed)."""
    return len(_LIVE)


def _state_forwarder(player: "StreamPlayer") -> StateCallback:
    """A worker's state callback that reaches ``player`` without keeping it alive.

    The bound method ``player._state_cb`` would: player → worker → callback → player is a
    cycle, and a dropped tile's player, workers, scaler threads and last frames then waited
    for a full collection (measured: 44 dead players and 88 idle threads after 44 changes)."""
    ref = weakref.ref(player)

    def forward(state: str, detail: str) -> None:
        p = ref()
        if p is not None:
            p._state_cb(state, detail)
    return forward


class StreamPlayer:
    """Plays ``streams`` at ``size``; ``force_main`` pins the main stream (an enlarged tile).

    ``take()`` returns the newest frame of whichever worker is current. The player's
    ``state``/``stats`` are its current worker's. ``worker_kwargs`` go to every
    :class:`DecodeWorker` it creates (e.g. ``realtime=False`` in benchmarks). With a decode
    ``pool`` (or one given to :func:`set_decode_pool`) the workers decode in its processes.
    """

    def __init__(self, streams: CameraStreams, size: tuple[int, int], on_state: StateCallback | None = None,
                 *, force_main: bool = False, start: bool = True, pool=None, **worker_kwargs):
        self.streams = streams
        self.pool = pool  # a DecodePool for this player's workers; None: the one set_decode_pool chose
        self.size = (max(4, int(size[0])), max(2, int(size[1])))
        self.on_state = on_state
        self.force_main = force_main
        self.worker_kwargs = worker_kwargs
        self._lock = threading.Lock()
        self._keyframes_only = False
        self._paused = False
        self.switches = 0
        self.worker: DecodeWorker = self._make(self.wanted_spec())
        #: the worker being replaced, still shown until ``worker`` has a picture
        self.previous: DecodeWorker | None = None
        self.last: Frame | None = None
        self._closed = False
        _LIVE.add(self)
        if start:
            self.worker.start()

    # -- choice ------------------------------------------------------------------------------
    def wanted_spec(self) -> StreamSpec:
        """The stream this tile should show now."""
        if self.force_main:
            return self.streams.main
        return choose_stream(self.streams, *self.size)

    @property
    def spec(self) -> StreamSpec:
        return self.worker.spec

    def _make(self, spec: StreamSpec) -> DecodeWorker:
        name = f"{self.streams.name} [{spec.kind}]"
        pool = self.pool if self.pool is not None else _DECODE_POOL
        if pool is not None:
            w = pool.worker(spec, self.size, _state_forwarder(self), name=name, **self.worker_kwargs)
        else:
            w = DecodeWorker(spec, self.size, _state_forwarder(self), name=name, **self.worker_kwargs)
        w.set_keyframes_only(self._keyframes_only)
        return w

    def _state_cb(self, state: str, detail: str) -> None:
        cb = self.on_state
        if cb is not None:
            cb(state, detail)

    # -- control -----------------------------------------------------------------------------
    def start(self) -> None:
        if not self._closed:
            self.worker.start()

    def resize(self, width: int, height: int) -> bool:
        """The tile's new size; returns True when it started a switch to another stream."""
        self.size = (max(4, int(width)), max(2, int(height)))
        self.worker.set_target_size(*self.size)
        if self.previous is not None:
            self.previous.set_target_size(*self.size)
        return self._maybe_switch()

    def set_force_main(self, on: bool) -> bool:
        """Pin (or unpin) the main stream; returns True when it started a switch."""
        self.force_main = bool(on)
        return self._maybe_switch()

    def _maybe_switch(self) -> bool:
        want = self.wanted_spec()
        if want == self.worker.spec or self._closed:
            return False
        with self._lock:
            old = self.worker
            if self.previous is not None and self.previous.spec == want:
                # switching back before the new one showed anything: keep the old one
                self.worker, self.previous = self.previous, None
                old.stop()
                return True
            if self.previous is not None:
                self.previous.stop()
            self.previous = old
            self.worker = self._make(want)
            if self._paused:
                self.worker.pause()
            self.worker.start()
            self.switches += 1
        log.info("video %s: switching to the %s stream for %dx%d", self.streams.name, want.kind, *self.size)
        return True

    def take(self) -> Frame | None:
        """The newest picture not yet taken (from the new worker once it has one)."""
        prev = self.previous
        f = self.worker.slot.take()
        if f is not None:
            if prev is not None:
                with self._lock:
                    if self.previous is prev:
                        self.previous = None
                prev.stop()
            self.last = f
            return f
        if prev is not None:
            if self.worker.state in ("error", "offline") or prev.state not in ("live", "connecting"):
                # the new stream failed or the old one died: stop waiting for a smooth switch
                with self._lock:
                    if self.previous is prev:
                        self.previous = None
                prev.stop()
                return None
            f = prev.slot.take()
            if f is not None:
                self.last = f
            return f
        return None

    def set_keyframes_only(self, on: bool) -> None:
        self._keyframes_only = bool(on)
        self.worker.set_keyframes_only(on)
        if self.previous is not None:
            self.previous.set_keyframes_only(on)

    @property
    def keyframes_only(self) -> bool:
        return self._keyframes_only

    def pause(self) -> None:
        """Stop decoding (tile hidden)."""
        self._paused = True
        self.worker.pause()
        if self.previous is not None:
            self.previous.stop()
            self.previous = None

    def resume(self) -> None:
        self._paused = False
        self.worker.resume()

    @property
    def paused(self) -> bool:
        return self._paused

    def stop(self) -> None:
        """Stop for good: every worker is told to end (returns at once; each thread then closes
        its connection, drops its scaler and its frames, and ends by itself), the state
        callback and the last picture are let go. A stopped player never starts again."""
        self._closed = True
        self.on_state = None
        with self._lock:
            prev, self.previous = self.previous, None
        self.worker.stop()
        if prev is not None:
            prev.stop()
        self.last = None

    close = stop

    @property
    def closed(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._closed

    @property
    def state(self) -> str:
        # while switching, the tile still shows the old stream: report its state until then
        prev = self.previous
        if prev is not None and self.worker.state in ("connecting", "reconnecting"):
            return prev.state
        return self.worker.state

    @property
    def detail(self) -> str:
        return self.worker.detail

    @property
    def stats(self):
        return self.worker.stats
