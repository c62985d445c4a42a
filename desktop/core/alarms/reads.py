"""Reading the alarms held in memory: the filters and sort of the queue, and the journal query.

:class:`AlarmReads` is shared by :class:`~.service.AlarmService` and its feed-process mirror
(:class:`~.remote.RemoteAlarmService`); :func:`select_alarms` is the filter both apply.
"""
from __future__ import annotations

from typing import Any, Iterable

from desktop.core.i18n import tr

from . import workflow
from .model import Alarm, AlarmState


def select_alarms(items: Iterable[Alarm], *, types=None, states=None, subdistricts=None, priorities=None,
                  open_only: bool = False, newest_first: bool = True, limit: int | None = None) -> list[Alarm]:
    """Filter and sort alarms as :meth:`AlarmService.alarms` does (shared with the feed-process mirror)."""
    types = set(types) if types is not None else None
    states = {workflow.as_state(s) for s in states} if states is not None else None
    subdistricts = set(subdistricts) if subdistricts is not None else None
    priorities = set(priorities) if priorities is not None else None
    out = [a for a in items
           if (types is None or a.type in types)
           and (states is None or a.state in states)
           and (subdistricts is None or a.subdistrict in subdistricts)
           and (priorities is None or a.priority in priorities)
           and (not open_only or a.is_open)]
    out.sort(key=lambda a: a.sort_key(newest_first))
    return out[:limit] if limit is not None else out


class UnknownAlarm(LookupError):
    """No alarm with this id is known to the service."""

    def __init__(self, alarm_id: str):
        self.alarm_id = alarm_id
        super().__init__(tr("Unknown alarm {id}", id=alarm_id))


class AlarmReads:
    """The read side shared by :class:`AlarmService` and its feed-process mirror
    (:class:`~desktop.core.alarms.remote.RemoteAlarmService`): both keep ``_alarms`` under ``_lock``."""

    _alarms: dict
    _lock: Any

    def alarms(self, *, types: Iterable[str] | None = None,
               states: Iterable[AlarmState | str] | None = None,
               subdistricts: Iterable[str] | None = None,
               priorities: Iterable[int] | None = None, open_only: bool = False,
               newest_first: bool = True, limit: int | None = None) -> list[Alarm]:
        """Alarms sorted by priority (1 first) then time; each filter is a set of allowed values."""
        with self._lock:
            items = list(self._alarms.values())
        return select_alarms(items, types=types, states=states, subdistricts=subdistricts, priorities=priorities,
                             open_only=open_only, newest_first=newest_first, limit=limit)

    def get(self, alarm_id: str) -> Alarm | None:
        with self._lock:
            return self._alarms.get(alarm_id)

    def types(self) -> list[str]:
        """Alarm types present (for a filter list)."""
        with self._lock:
            return sorted({a.type for a in self._alarms.values()})

    def subdistricts(self) -> list[str]:
        with self._lock:
            return sorted({a.subdistrict for a in self._alarms.values()} - {""})

    _reader_db: Any = None

    def query(self, t0: float, t1: float, *, types: Iterable[str] | None = None,
              subdistricts: Iterable[str] | None = None, states: Iterable[AlarmState | str] | None = None,
              with_history: bool = False, limit: int = 100_000) -> list[Alarm]:
        """Alarms whose event time lies in [t0, t1), oldest first, read from the journal — the
        whole record, not only what is kept in memory (see :class:`~.query.JournalReader`)."""
        return self._reader_db.between(t0, t1, types=types, subdistricts=subdistricts, states=states,
                                       with_history=with_history, limit=limit)
