"""Decoding in separate processes: a pool of decoder processes, and a worker that looks like a
:class:`~desktop.core.video.worker.DecodeWorker` to the tile but decodes in one of them (Qt-free).

Why: with every tile's decode thread in the GUI's process, the threads and the GUI take turns
at one interpreter lock, and past ~30 tiles of 360p the wall stops at about half of what the
cores could decode (the performance issue's figures: 62 % CPU at 32 tiles). In a pool of
decoder processes (one per core by default) each process has its own lock; pictures come back
through shared memory (:mod:`desktop.core.video.shm`), so the GUI's only per-frame work is to
wrap the newest picture and paint it.

Protocol (one duplex pipe per decoder process, pickled tuples): the GUI side sends
``open``/``stop``/``pause``/``resume``/``size``/``keyframes``/``slot`` (a bigger slot file) per
worker key; the decoder answers ``mapped`` (it opened a slot file: its name can go),
``state``, ``stopped`` and, once a second, ``stats`` of every worker it runs. A decoder that
dies is replaced, and its workers open again on the new one ("reconnecting" meanwhile).
"""
from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path

from desktop.core.video.frames import LatestFrame
from desktop.core.video.shm import ShmSlotReader, ShmSlotWriter, create_slot_file, slot_folder
from desktop.core.video.source import WAITING_FOR_FILE, StreamSpec
from desktop.core.video.worker import StateCallback, WorkerStats

__all__ = ["DecodePool", "RemoteDecodeWorker", "shared_pool", "close_shared_pool", "sweep_stale_slot_files"]

log = logging.getLogger(__name__)

_STATS_EVERY_S = 1.0

#: how much nicer than the GUI the decoder processes are. Decoding is the bulk of the CPU a wall
#: uses and can wait a few milliseconds; the GUI thread that takes and paints the pictures (and
#: runs the map and the alarm panel) cannot. At equal priority, near the CPU ceiling the GUI's
#: 60 Hz ticks lost their turn to decoders often enough that pictures were replaced in their
#: slots before being painted: measured on 2 cores, 56 tiles of 360p, three pairs of runs,
#: 91 / 90 / 82 % of the pictures painted at equal priority, 99.6 / 97 / 93 % with the decoders
#: at nice 5, at the same CPU. The alarm feed process stays at the GUI's priority.
DECODER_NICE = 5


def lower_priority(increment: int) -> int:
    """Make this process nicer by ``increment``: the calling thread and the threads it starts
    from now on, and (Linux, where niceness is a thread's) the threads already running, such
    as a numeric library's pool started at import. Returns the new niceness, or 0 where there
    is no ``os.nice`` (Windows)."""
    if not hasattr(os, "nice") or increment <= 0:
        return 0
    try:
        nice = os.nice(increment)
    except OSError:  # not allowed (never expected when lowering): decode at the priority we have
        return 0
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except (OSError, ValueError):
        return nice
    for tid in tids:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError:  # a thread that ended meanwhile
            pass
    return nice


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def sweep_stale_slot_files() -> int:
    """Remove slot files left by processes that are gone (a crash before their names were
    removed); returns how many."""
    n = 0
    if os.name == "nt":
        return 0  # os.kill(pid, 0) would end the process there, not ask about it
    for p in slot_folder().glob("pingan-frames-*"):
        try:
            pid = int(p.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        try:
            os.kill(pid, 0)
            continue  # still running
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # someone else's
        _unlink(str(p))
        n += 1
    return n


# --- the decoder process ---------------------------------------------------------------------
def _decoder_main(conn) -> None:
    """A decoder process: runs a DecodeWorker per key, writing into the key's slot file."""
    from desktop.core.video.worker import DecodeWorker, tune_interpreter_for_video
    tune_interpreter_for_video()
    lower_priority(DECODER_NICE)  # before any decode thread: they inherit it
    workers: dict[int, DecodeWorker] = {}
    lock = threading.Lock()

    def send(msg) -> None:
        with lock:
            try:
                conn.send(msg)
            except (OSError, EOFError, BrokenPipeError):
                pass  # the GUI side is gone; the loop ends at its next receive

    def state_cb(key: int):
        return lambda state, detail: send(("state", key, state, detail))

    def stopped(key: int, w) -> None:
        w.join(5.0)
        send(("stopped", key))

    last_stats = time.monotonic()
    while True:
        try:
            ready = conn.poll(0.25)
            msg = conn.recv() if ready else None
        except (EOFError, OSError):
            break
        if msg is not None:
            op, key = msg[0], msg[1] if len(msg) > 1 else None
            w = workers.get(key)
            if op == "open":
                _op, key, spec, size, opts, path = msg
                try:
                    writer = ShmSlotWriter(Path(path))
                    w = DecodeWorker(spec, size, state_cb(key), slot=writer, **opts)
                except Exception as exc:  # noqa: BLE001 - one bad tile must not end the process
                    send(("state", key, "error", f"the decoder could not open the tile: {exc}"))
                    continue
                finally:
                    send(("mapped", key, path))
                workers[key] = w
                w.start()
            elif op == "quit":
                break
            elif w is None:
                continue
            elif op == "stop":
                workers.pop(key, None)
                w.stop()
                threading.Thread(target=stopped, args=(key, w), daemon=True, name="decoder-join").start()
            elif op == "pause":
                w.pause()
            elif op == "resume":
                w.resume()
            elif op == "size":
                w.set_target_size(msg[2], msg[3])
            elif op == "keyframes":
                w.set_keyframes_only(msg[2])
            elif op == "slot":
                w.slot = ShmSlotWriter(Path(msg[2]))
                send(("mapped", key, msg[2]))
        now = time.monotonic()
        if now - last_stats >= _STATS_EVERY_S and workers:
            last_stats = now
            send(("stats", {k: x.stats for k, x in workers.items()}))
    for w in workers.values():
        w.stop()
    for w in workers.values():
        w.join(2.0)


class _Decoder:
    """One decoder process, seen from the GUI side: its pipe and the thread reading it."""

    def __init__(self, pool: "DecodePool", index: int):
        ctx = multiprocessing.get_context("spawn")  # no fork of a process running Qt threads
        self.pool = pool
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_decoder_main, args=(child,), name=f"pingan-decoder-{index}", daemon=True)
        self.proc.start()
        self.started_at = time.monotonic()
        child.close()
        self.workers: "weakref.WeakValueDictionary[int, RemoteDecodeWorker]" = weakref.WeakValueDictionary()
        self.load = 0  # workers placed here and not stopped
        self._send_lock = threading.Lock()
        self.alive = True
        self._reader = threading.Thread(target=self._read, daemon=True, name=f"decoder-pipe-{index}")
        self._reader.start()

    def send(self, msg) -> bool:
        with self._send_lock:
            if not self.alive:
                return False
            try:
                self.conn.send(msg)
                return True
            except (OSError, EOFError, BrokenPipeError, ValueError):
                return False

    def _read(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                break
            op = msg[0]
            if op == "stats":
                for key, st in msg[1].items():
                    w = self.workers.get(key)
                    if w is not None:
                        w._child_stats = st
                continue
            w = self.workers.get(msg[1])
            if op == "mapped":
                _unlink(msg[2])  # both sides have it mapped: the name can go
            elif w is None:
                continue
            elif op == "state":
                w._child_state(msg[2], msg[3])
            elif op == "stopped":
                w._stopped.set()
        self.alive = False
        self.pool._decoder_died(self)

    def close(self) -> None:
        self.send(("quit",))
        self.proc.join(3.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(1.0)
        self.alive = False
        try:
            self.conn.close()
        except OSError:
            pass


class DecodePool:
    """Decoder processes (``processes``, default one per core, at most 8), started on demand;
    :meth:`worker` places a new worker on the least loaded one."""

    def __init__(self, processes: int | None = None):
        n = processes if processes is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                                     else (os.cpu_count() or 1))
        if int(n) < 1:
            raise ValueError(f"a decode pool needs at least one process, got {n}")
        self.size = min(8, int(n))
        sweep_stale_slot_files()
        self._decoders: list[_Decoder | None] = [None] * self.size
        self._lock = threading.Lock()
        self._keys = itertools.count(1)
        self._closed = False
        self.restarts = 0
        self._fast_failures = 0  # decoder processes in a row that ended within FAST_FAILURE_S
        self.broken = ""  # why no decoder process is started any more ("" while all is well)

    FAST_FAILURE_S = 5.0
    MAX_FAST_FAILURES = 3

    def _pick(self) -> _Decoder:
        with self._lock:
            if self._closed:
                raise RuntimeError("the decode pool is closed")
            if self.broken:
                raise RuntimeError(self.broken)
            for i, d in enumerate(self._decoders):
                if d is None or not d.alive:
                    if d is not None:
                        self.restarts += 1
                    d = self._decoders[i] = _Decoder(self, i)
                    if d.load == 0:
                        return d
            return min(self._decoders, key=lambda d: d.load)

    def worker(self, spec: StreamSpec, target_size: tuple[int, int], on_state: StateCallback | None = None, *,
               name: str = "", **opts) -> "RemoteDecodeWorker":
        """A worker for ``spec`` (not started), like ``DecodeWorker(spec, target_size, …)``."""
        return RemoteDecodeWorker(self, spec, target_size, on_state, name=name, **opts)

    def _decoder_died(self, dec: _Decoder) -> None:
        if self._closed:
            return
        dec.proc.join(1.0)
        if time.monotonic() - dec.started_at < self.FAST_FAILURE_S:
            self._fast_failures += 1
        else:
            self._fast_failures = 0
        broken = self._fast_failures >= self.MAX_FAST_FAILURES
        log.warning("video: decoder process %s ended (exit %s)%s", dec.proc.name, dec.proc.exitcode,
                    "; it keeps failing at start: no more decoder processes" if broken else "; its tiles reopen")
        if broken:
            self.broken = f"the decoder process ends at start (exit {dec.proc.exitcode})"
        for w in list(dec.workers.values()):
            w._decoder_lost()

    def processes(self) -> int:
        """Decoder processes running now."""
        return sum(1 for d in self._decoders if d is not None and d.alive)

    def cpu_s(self) -> float:
        """CPU seconds the running decoder processes have used (Linux: /proc; 0 elsewhere), so
        the wall's overload scheduler sees the decoding it no longer does in its own process."""
        from desktop.core.runtime import process_cpu_s
        total = 0.0
        for d in list(self._decoders):
            total += (process_cpu_s(d.proc.pid) or 0.0) if d is not None else 0.0
        return total

    def close(self) -> None:
        with self._lock:
            self._closed = True
            decs = [d for d in self._decoders if d is not None]
            self._decoders = [None] * self.size
        for d in decs:
            d.close()


class RemoteDecodeWorker:
    """A :class:`~desktop.core.video.worker.DecodeWorker` stand-in whose decoding happens in a
    decoder process: the same controls, ``state``/``detail``/``stats``, and a ``slot`` with the
    LatestFrame interface over shared memory."""

    def __init__(self, pool: DecodePool, spec: StreamSpec, target_size: tuple[int, int],
                 on_state: StateCallback | None = None, *, name: str = "", **opts):
        self.pool = pool
        self.spec = spec
        self.name = name or spec.safe_url()
        self.on_state = on_state
        self.opts = opts
        self.key = next(pool._keys)
        self._target = (max(4, int(target_size[0])), max(2, int(target_size[1])))
        self._keyframes_only = False
        self._paused = False
        self._state, self._detail = "connecting", ""
        self._started = False
        self._closed = False
        self._stopped = threading.Event()
        self._child_stats = WorkerStats(stream_kind=spec.kind)
        self._dec: _Decoder | None = None
        # an empty slot until the decoder has one (a clip still being made): take() gives None
        self.slot: ShmSlotReader | LatestFrame = LatestFrame()
        self._paths: list[str] = []  # slot files made for this worker (removed at stop if still there)

    # --- life ---------------------------------------------------------------------------------
    def start(self) -> "RemoteDecodeWorker":
        if self._started or self._closed:
            return self
        self._started = True
        ready = self.spec.ready
        if ready is not None and not ready.done():
            self._detail = WAITING_FOR_FILE
            ready.add_done_callback(lambda _f: self._open())
        else:
            self._open()
        return self

    def _capacity(self) -> int:
        return self._target[0] * self._target[1] * 4

    def _open(self) -> None:
        if self._closed:
            return
        ready = self.spec.ready
        if ready is not None and ready.done() and ready.exception() is not None:
            self._child_state("error", f"the clip could not be made: {ready.exception()}")
            return
        try:
            dec = self.pool._pick()
        except RuntimeError as exc:
            self._child_state("error", f"no decoder process: {exc}")
            return
        path = create_slot_file(self._capacity())
        self._paths.append(str(path))
        if isinstance(self.slot, ShmSlotReader):
            self.slot.switch_to(path)
        else:
            self.slot = ShmSlotReader(path)
        dec.workers[self.key] = self
        dec.load += 1
        self._dec = dec
        spec = replace(self.spec, ready=None)  # a future does not cross processes
        if not dec.send(("open", self.key, spec, self._target, self.opts, str(path))):
            self._child_state("reconnecting", "the decoder process is not answering")
            return
        if self._paused:
            dec.send(("pause", self.key))
        if self._keyframes_only:
            dec.send(("keyframes", self.key, True))

    def _decoder_lost(self) -> None:
        if self._closed:
            self._stopped.set()  # its "stopped" will never come
            return
        if self._dec is not None:
            self._dec.load = max(0, self._dec.load - 1)
        self._dec = None
        self._child_state("reconnecting", "the decoder process ended")
        try:
            self._open()
        except Exception as exc:  # noqa: BLE001 - the pool is closing, or no process can start
            self._child_state("error", f"no decoder process: {exc}")

    def stop(self, timeout: float | None = 0.0) -> bool:
        """End decoding (returns at once unless ``timeout``); the worker is not used again."""
        if not self._closed:
            self._closed = True
            self.on_state = None
            dec, self._dec = self._dec, None  # nothing more is sent, nor counted twice if it dies
            if dec is not None and dec.send(("stop", self.key)):
                dec.load = max(0, dec.load - 1)
            else:
                self._stopped.set()
            self.slot.release()
            for path in self._paths:  # a decoder that died before mapping it left the name behind
                _unlink(path)
            self._paths.clear()
        if not self._started:
            self._stopped.set()
        return self.join(timeout) if timeout else not self.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        if not self._started:
            return True
        return self._stopped.wait(timeout)

    def is_alive(self) -> bool:
        return self._started and not self._stopped.is_set()

    # --- controls -----------------------------------------------------------------------------
    def _send(self, *msg) -> None:
        dec = self._dec
        if dec is not None:
            dec.send((msg[0], self.key, *msg[1:]))

    def pause(self) -> None:
        self._paused = True
        self._send("pause")

    def resume(self) -> None:
        self._paused = False
        self._send("resume")

    @property
    def paused(self) -> bool:
        return self._paused

    def set_target_size(self, width: int, height: int) -> None:
        self._target = (max(4, int(width)), max(2, int(height)))
        slot = self.slot
        if isinstance(slot, ShmSlotReader) and self._capacity() > slot.capacity and not self._closed:
            path = create_slot_file(self._capacity())  # a bigger tile: a bigger slot, first
            self._paths.append(str(path))
            slot.switch_to(path)
            self._send("slot", str(path))
        self._send("size", *self._target)

    @property
    def target_size(self) -> tuple[int, int]:
        return self._target

    def set_keyframes_only(self, on: bool) -> None:
        self._keyframes_only = bool(on)
        self._send("keyframes", bool(on))

    @property
    def keyframes_only(self) -> bool:
        return self._keyframes_only

    # --- state --------------------------------------------------------------------------------
    def _child_state(self, state: str, detail: str) -> None:
        self._state, self._detail = state, detail
        cb = self.on_state
        if cb is not None:
            try:
                cb(state, detail)
            except Exception:  # noqa: BLE001 - as in a decode thread: a bad callback is logged
                log.exception("video %s: state callback failed", self.name)

    @property
    def state(self) -> str:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def stats(self) -> WorkerStats:
        """The decoder's counters (sent once a second) brought up to now with the slot's.

        The overload scheduler compares the frames due with the frames dropped over the same
        second. The dropped ones are counted here, live, from the slot; the decoder's frames
        due were up to a second old, so one update could see a second of drops against
        almost no frames due and shed a tile of a wall that was keeping up. Both now move with
        the slot: frames due = what the decoder skipped (late, or key frames only) as of its
        last report + every picture published into the slot so far. After a decoder restart
        the slot's count runs on and the new decoder's skips start from 0: the figure may step
        back once, which the scheduler reads as no frames due that second, never as drops."""
        st = replace(self._child_stats, keyframes_only=self._keyframes_only)
        slot = self.slot
        st.dropped = st.late_skipped + slot.dropped
        if isinstance(slot, ShmSlotReader):
            published = slot.put_count
            st.frames_due = max(0, st.frames_due - st.delivered) + published
            st.delivered = published
        return st

    def __repr__(self) -> str:
        return f"<RemoteDecodeWorker {self.name} {self._state}>"


_SHARED: DecodePool | None = None
_SHARED_LOCK = threading.Lock()


def shared_pool(processes: int | None = None) -> DecodePool:
    """The program's one decode pool (made on first use)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = DecodePool(processes)
        return _SHARED


def close_shared_pool() -> None:
    global _SHARED
    with _SHARED_LOCK:
        pool, _SHARED = _SHARED, None
    if pool is not None:
        pool.close()
