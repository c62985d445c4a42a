"""A frame slot in shared memory: a decode process writes, the GUI process reads, no copy on the
way in and no interpreter lock shared between the two (Qt-free).

A slot file (under ``/dev/shm`` where it exists) holds a header and three picture buffers of
``capacity`` bytes. The writer converts into the buffer after the one last published, fills
that buffer's fields (size, stride, times, key frame) and only then bumps ``published``, one
aligned 8-byte store: the reader never sees a half-written picture's number. The reader wraps
the newest buffer in a numpy array without copying (the tile paints it at once); the writer
comes back to that buffer only two pictures later (80 ms at 25 fps), by when the paint is long
done. Both sides map the file; the GUI process removes its name once the decoder has opened it,
and the memory goes back to the system when the last mapping (and the last array on it) goes.

The reader has the :class:`~desktop.core.video.frames.LatestFrame` interface (``take``,
``last``, ``pending``, ``clear``, ``release``, the counters), so a tile cannot tell it from
a thread's slot.
"""
from __future__ import annotations

import mmap
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from desktop.core.video.frames import Frame

__all__ = ["BUFFERS", "ShmSlotWriter", "ShmSlotReader", "create_slot_file", "slot_folder"]

BUFFERS = 3
_KINDS = ("main", "sub")
# header: published seq and put count, then one record per buffer
_HEAD = np.dtype([("published", "<i8"), ("put_count", "<i8"), ("capacity", "<i8"), ("_pad", "<i8")])
_BUF = np.dtype([("seq", "<i8"), ("width", "<i4"), ("height", "<i4"), ("stride", "<i4"), ("key", "<i4"),
                 ("src_w", "<i4"), ("src_h", "<i4"), ("kind", "<i4"), ("_pad", "<i4"),
                 ("pts", "<f8"), ("wall", "<f8")])
_HEADER_BYTES = 4096  # the pictures start on a page boundary


def slot_folder() -> Path:
    """Where slot files are made: shared memory on Linux, else the temporary folder."""
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())


def create_slot_file(capacity: int) -> Path:
    """A new slot file for pictures of up to ``capacity`` bytes (sparse until written)."""
    capacity = int(capacity)
    if capacity <= 0:
        raise ValueError(f"a frame slot needs a positive capacity, got {capacity}")
    path = slot_folder() / f"pingan-frames-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, _HEADER_BYTES + BUFFERS * capacity)
    finally:
        os.close(fd)
    mm = _map(path)
    np.frombuffer(mm, _HEAD, 1, 0)["capacity"][0] = capacity
    del mm
    return path


def _map(path: Path) -> mmap.mmap:
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


class _Mapped:
    """One mapping of a slot file: the header and buffer records as numpy views."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.mm = _map(self.path)
        self.head = np.frombuffer(self.mm, _HEAD, 1, 0)
        # one-element views of the two counters (read fresh on every access)
        self.published = self.head["published"]
        self.put_count = self.head["put_count"]
        self.capacity = int(self.head["capacity"][0])
        self.bufs = np.frombuffer(self.mm, _BUF, BUFFERS, _HEAD.itemsize)
        if _HEADER_BYTES + BUFFERS * self.capacity > len(self.mm):
            raise ValueError(f"{self.path}: not a frame slot (size {len(self.mm)})")

    def pixels(self, i: int) -> np.ndarray:
        return np.frombuffer(self.mm, np.uint8, self.capacity, _HEADER_BYTES + i * self.capacity)


class ShmSlotWriter(_Mapped):
    """The decode process's side: ``put(frame)`` copies the picture in and publishes it."""

    def put(self, frame: Frame) -> None:
        img = frame.image
        n = img.nbytes
        if n > self.capacity:
            return  # bigger than the slot was made for: the GUI side is making a bigger one
        seq = int(self.published[0]) + 1
        i = seq % BUFFERS
        self.pixels(i)[:n] = img.reshape(-1)  # numpy copies without the interpreter lock
        b = self.bufs[i]
        b["seq"], b["width"], b["height"], b["stride"] = seq, img.shape[1], img.shape[0], img.strides[0]
        b["key"], b["src_w"], b["src_h"] = int(frame.key_frame), frame.source_size[0], frame.source_size[1]
        b["kind"] = _KINDS.index(frame.stream_kind) if frame.stream_kind in _KINDS else 0
        b["pts"] = np.nan if frame.pts is None else frame.pts
        b["wall"] = frame.wall_time
        self.put_count[0] += 1
        # last: the reader takes only finished pictures (x86 keeps stores in order; this one
        # is an aligned 8-byte store, never seen half-done)
        self.published[0] = seq

    def release(self) -> None:
        """Nothing to let go in the writer (the mapping goes with it)."""

    @property
    def dropped(self) -> int:
        return 0  # counted by the reader, which knows what it took


class ShmSlotReader:
    """The GUI process's side of a slot: newest picture without a copy. ``switch_to(path)``
    moves to a bigger slot file (a tile grew); the old one is read until the decoder has
    published into the new one."""

    def __init__(self, path: Path):
        self._cur = _Mapped(path)
        self._next: _Mapped | None = None
        self._seen = 0
        self.taken = 0
        self._put_before = 0  # put counts of slot files left behind
        self.last: Frame | None = None

    @property
    def path(self) -> Path:
        return self._cur.path

    @property
    def capacity(self) -> int:
        return (self._next or self._cur).capacity

    def switch_to(self, path: Path) -> None:
        self._next = _Mapped(path)

    def _maybe_switch(self) -> None:
        nxt = self._next
        if nxt is not None and int(nxt.published[0]) > 0:
            self._put_before += int(self._cur.put_count[0])
            self._cur, self._next, self._seen = nxt, None, 0

    @property
    def put_count(self) -> int:
        return self._put_before + int(self._cur.put_count[0])

    def pending(self) -> bool:
        self._maybe_switch()
        return int(self._cur.published[0]) > self._seen

    def take(self) -> Frame | None:
        """The newest picture not taken yet, or None."""
        self._maybe_switch()
        cur = self._cur
        seq = int(cur.published[0])
        if seq <= self._seen:
            return None
        b = cur.bufs[seq % BUFFERS]
        h, stride, w = int(b["height"]), int(b["stride"]), int(b["width"])
        img = cur.pixels(seq % BUFFERS)[:h * stride].reshape(h, stride // 4, 4)[:, :w]
        pts = float(b["pts"])
        frame = Frame(img, None if pts != pts else pts, float(b["wall"]), seq, bool(b["key"]),
                      (int(b["src_w"]), int(b["src_h"])), _KINDS[int(b["kind"])] if 0 <= b["kind"] < 2 else "main",
                      owner=cur.mm)
        self._seen = seq
        self.taken += 1
        self.last = frame
        return frame

    def clear(self) -> None:
        """Forget a waiting picture (a stream switch)."""
        self._maybe_switch()
        self._seen = int(self._cur.published[0])

    def release(self) -> None:
        """Let go of the pictures held; the mappings go with the last array on them."""
        self.last = None

    @property
    def dropped(self) -> int:
        """Pictures published that the GUI never took."""
        return max(0, self.put_count - self.taken - (1 if self.pending() else 0))

    def counts(self) -> tuple[int, int, int]:
        return self.put_count, self.taken, self.dropped
