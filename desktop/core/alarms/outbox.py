"""The outbox between the alarm worker and the GUI: a drainable, coalescing queue of events.

The worker puts events in; the GUI's frame timer takes them all out at once
(:meth:`Outbox.drain`), so a flood costs one update per frame however many messages came.
While an event waits, a newer one about the same thing replaces it in place: the folds
of one alarm, the moves of one patrol unit, the status of one camera and the rejection
counters each occupy at most one slot. ``new`` and ``state_changed`` events are never
dropped (a fold into a still-waiting ``new`` refreshes that ``new`` event's snapshot).
"""
from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from typing import Callable, Iterable

from .model import AlarmEvent, EventKind

log = logging.getLogger(__name__)

__all__ = ["Outbox"]


def _key(ev: AlarmEvent, seq: int):
    k = ev.kind
    if k == EventKind.PATROL:
        return ("patrol", ev.patrol.unit)
    if k == EventKind.CAMERA_STATUS:
        return ("camera", ev.camera.camera_id)
    if k == EventKind.REJECTED:
        return ("rejected",)
    return ("seq", seq)


# When two waiting events about one alarm merge, the merged one keeps the stronger kind.
_RANK = {EventKind.FOLDED: 0, EventKind.UPDATED: 1, EventKind.NEW: 2}


class Outbox:
    """Thread-safe; ``notify`` (optional) is called, from the producer's thread, when it stops being empty."""

    def __init__(self, notify: Callable[[], None] | None = None):
        self._lock = threading.Lock()
        self._items: OrderedDict = OrderedDict()
        self._tail: dict[str, tuple] = {}  # alarm id -> key of its latest waiting event
        self._seq = itertools.count()
        self.notify = notify
        self.coalesced = 0  # events merged into a waiting one (a measure of the flood)

    def put_many(self, events: Iterable[AlarmEvent]) -> None:
        with self._lock:
            was_empty = not self._items
            for ev in events:
                self._put(ev)
            now_empty = not self._items
        if was_empty and not now_empty and self.notify is not None:
            try:
                self.notify()
            except Exception:
                log.exception("outbox notify callback failed")

    def _put(self, ev: AlarmEvent) -> None:
        alarm_id = ev.alarm.id if ev.alarm is not None else None
        if ev.kind in (EventKind.FOLDED, EventKind.UPDATED):
            tail = self._tail.get(alarm_id)
            old = self._items.get(tail) if tail is not None else None
            if old is not None and old.kind in _RANK:
                # The UI has not seen the previous change yet: show the alarm as it is now,
                # in the slot it already has. (Not across a waiting state change, so the
                # snapshots the UI gets never go back in time.)
                kind = old.kind if _RANK[old.kind] >= _RANK[ev.kind] else ev.kind
                self._items[tail] = AlarmEvent(kind, alarm=ev.alarm)
                self.coalesced += 1
                return
        key = _key(ev, next(self._seq))
        if key in self._items:
            self.coalesced += 1
        self._items[key] = ev  # replacing an entry keeps its original position
        if alarm_id is not None:
            self._tail[alarm_id] = key

    def drain(self, max_items: int | None = None) -> list[AlarmEvent]:
        """Take up to ``max_items`` events (all when None), oldest first."""
        out: list[AlarmEvent] = []
        with self._lock:
            n = len(self._items) if max_items is None else min(max(0, max_items), len(self._items))
            for _ in range(n):
                key, ev = self._items.popitem(last=False)
                if ev.alarm is not None and self._tail.get(ev.alarm.id) == key:
                    del self._tail[ev.alarm.id]
                out.append(ev)
        return out

    def __len__(self) -> int:
        return len(self._items)
