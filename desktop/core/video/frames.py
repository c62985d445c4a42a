"""The hand-off between a decode worker and the GUI: one slot, the latest frame wins.

A worker converts each frame to the tile's size in BGRA (Qt's RGB32 byte order on little-endian
machines) and :meth:`LatestFrame.put` s it; the GUI's timer :meth:`LatestFrame.take` s whatever
is newest once per display frame. A frame replaced before the GUI took it is dropped and
counted: the GUI never falls behind the camera, and a slow GUI costs frames, never latency or
memory (Frigate's capture loop does the same with bounded queues).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Frame:
    """One converted picture, ready to paint.

    ``image`` is a C-contiguous ``(height, width, 4)`` uint8 array in BGRA order whose width
    is a multiple of 4 (so a QImage can wrap it without a copy). ``pts`` is the stream time in
    seconds (None when the stream has none), ``wall_time`` the ``time.monotonic()`` at which
    the worker finished it, ``seq`` the worker's frame counter, ``source_size`` the decoded
    picture's size before scaling, ``stream_kind`` ``"main"``/``"sub"``.
    """

    image: np.ndarray
    pts: float | None
    wall_time: float
    seq: int
    key_frame: bool = False
    source_size: tuple[int, int] = (0, 0)
    stream_kind: str = "main"
    #: keeps the buffer the array views alive (a PyAV frame) — never touch it from the GUI
    owner: object = field(default=None, repr=False)

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def bytes_per_line(self) -> int:
        return int(self.image.strides[0])


class LatestFrame:
    """A one-frame mailbox: ``put`` replaces, ``take`` empties. Thread-safe and lock-free.

    Counters: ``put_count`` (frames offered), ``taken`` (frames the consumer got) and
    ``dropped`` (frames replaced before anyone took them). One producer, one consumer.

    Why no lock: with a lock, a worker preempted inside ``put`` (the interpreter switches
    threads between any two bytecodes) holds it while it waits for the GIL, and the GUI's
    ``take`` then waits behind it — with 30 decoder threads that convoy cost the GUI whole
    display frames. A ``deque(maxlen=1)`` does the exchange in one C call under the GIL.
    """

    __slots__ = ("_q", "put_count", "taken", "last")

    def __init__(self) -> None:
        self._q: deque = deque(maxlen=1)
        self.put_count = 0  # written by the producer only
        self.taken = 0  # written by the consumer only
        #: the last frame handed out (kept for snapshots and repaint after resize)
        self.last: Frame | None = None

    def put(self, frame: Frame) -> None:
        """Offer a new frame; an untaken older one is dropped (and counted)."""
        self._q.append(frame)  # atomic; a full deque discards the old frame
        self.put_count += 1

    def take(self) -> Frame | None:
        """The newest frame not yet taken, or None when nothing new arrived."""
        try:
            frame = self._q.pop()  # atomic
        except IndexError:
            return None
        self.taken += 1
        self.last = frame
        return frame

    def pending(self) -> bool:
        """A frame is waiting (cheap check without taking it)."""
        return bool(self._q)

    def clear(self) -> None:
        """Forget a waiting frame without counting it as dropped (stream switch, stop)."""
        try:
            self._q.pop()
            self.put_count -= 1
        except IndexError:
            pass

    def release(self) -> None:
        """Let go of every frame held (a waiting one and ``last``): the producer has stopped
        for good, and a slot that outlives it (held by a tile, a test, a benchmark) must not
        keep its pictures. An untaken frame counts as dropped, as it was never shown."""
        self._q.clear()
        self.last = None

    @property
    def dropped(self) -> int:
        """Frames replaced before the consumer took them."""
        return max(0, self.put_count - self.taken - len(self._q))

    def counts(self) -> tuple[int, int, int]:
        """(put_count, taken, dropped)."""
        return self.put_count, self.taken, self.dropped


def fit_size(src_w: int, src_h: int, box_w: int, box_h: int, align: int = 4) -> tuple[int, int]:
    """Largest size with the source's aspect ratio inside ``box_w`` × ``box_h``; the width is
    rounded down to a multiple of ``align`` (docs/field.md, *Video decoding: decode*: other widths make
    ``to_ndarray()`` strided and QImage refuses the buffer) and the height to even."""
    box_w, box_h = max(align, int(box_w)), max(2, int(box_h))
    if src_w <= 0 or src_h <= 0:
        w, h = box_w, box_h
    else:
        scale = min(box_w / src_w, box_h / src_h)
        w, h = src_w * scale, src_h * scale
    w = max(align, int(w) // align * align)
    h = max(2, int(round(h)) // 2 * 2)
    return w, h
