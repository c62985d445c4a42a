"""Flood control: repeats from one source fold into one alarm instead of a thousand rows.

A repeat is a message with the same ``source`` and ``type`` as an open alarm whose latest
occurrence is within ``window_s`` seconds (event time, either direction, so a repeat that
arrives out of order still folds). The window slides: a source that keeps chattering stays
one alarm, with a count and a last time, until an operator closes it; after that the next
message opens a new alarm.
"""
from __future__ import annotations

__all__ = ["FloodControl"]


class FloodControl:
    """Which open alarm, if any, a new message from (source, type) folds into.

    Not thread-safe: owned by the alarm service's worker thread.
    """

    def __init__(self, window_s: float = 60.0):
        if window_s < 0:
            raise ValueError("flood window must be >= 0 seconds (0 turns folding off)")
        self.window_s = float(window_s)
        self._groups: dict[tuple[str, str], tuple[str, float]] = {}  # key -> (alarm id, last epoch)
        self._by_alarm: dict[str, tuple[str, str]] = {}

    def match(self, source: str, alarm_type: str, epoch: float) -> str | None:
        """The id of the alarm a message at ``epoch`` folds into, or None for a new alarm."""
        if self.window_s <= 0:
            return None
        group = self._groups.get((source, alarm_type))
        if group is None:
            return None
        alarm_id, last = group
        return alarm_id if abs(epoch - last) <= self.window_s else None

    def record(self, source: str, alarm_type: str, alarm_id: str, epoch: float) -> None:
        """Note an occurrence (the first of a new alarm, or a folded repeat)."""
        key = (source, alarm_type)
        old = self._groups.get(key)
        if old is not None and old[0] == alarm_id:
            epoch = max(epoch, old[1])
        elif old is not None:
            self._by_alarm.pop(old[0], None)
        self._groups[key] = (alarm_id, epoch)
        self._by_alarm[alarm_id] = key

    def forget(self, alarm_id: str) -> None:
        """The alarm was closed: the next message from its source opens a new one."""
        key = self._by_alarm.pop(alarm_id, None)
        if key is not None and self._groups.get(key, ("",))[0] == alarm_id:
            del self._groups[key]

    def prune(self, before_epoch: float) -> int:
        """Drop groups whose last occurrence is older than ``before_epoch`` (memory bound); returns how many."""
        stale = [k for k, (_, last) in self._groups.items() if last < before_epoch]
        for k in stale:
            alarm_id, _ = self._groups.pop(k)
            self._by_alarm.pop(alarm_id, None)
        return len(stale)

    def __len__(self) -> int:
        return len(self._groups)
