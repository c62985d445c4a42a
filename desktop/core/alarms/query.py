"""Reading the alarm journal by time range, from any process (Qt-free).

The alarm service keeps only open alarms and the last days of closed ones in memory; a
report, a statistics chart or a plugin asking "what happened last March" reads the journal
itself. :class:`JournalReader` opens the SQLite file read-only (WAL lets readers run beside
the one writer, in this process or in the feed process), so the same query answers the same
way whether the service runs here or in a child process.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterable

from .journal import _ALARM_COLS, _transition
from .model import Alarm, AlarmState, Transition

__all__ = ["JournalReader", "QueryError"]

MAX_ROWS = 100_000  # a query answers at most this many alarms (ask for a narrower range)


class QueryError(ValueError):
    """A query that cannot be answered; the message says which argument was wrong."""


class JournalReader:
    """Read-only access to an alarm journal file. Thread-safe (one connection, one lock)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self.path.exists():
                raise QueryError(f"no alarm journal at {self.path}")
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                         timeout=10.0)
        return self._conn

    def history(self, alarm_id: str) -> tuple[Transition, ...]:
        """Every workflow change of ``alarm_id``, oldest first (empty when unknown)."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT alarm_id, from_state, to_state, operator, epoch, time, note, origin, unit"
                " FROM transitions WHERE alarm_id = ? ORDER BY seq", (alarm_id,)).fetchall()
        return tuple(_transition(r) for r in rows)

    def between(self, t0: float, t1: float, *, types: Iterable[str] | None = None,
                subdistricts: Iterable[str] | None = None,
                states: Iterable[AlarmState | str] | None = None,
                with_history: bool = False, limit: int = MAX_ROWS) -> list[Alarm]:
        """Alarms whose event time lies in [t0, t1) (epoch seconds), oldest first."""
        try:
            t0, t1 = float(t0), float(t1)
        except (TypeError, ValueError):
            raise QueryError(f"time range must be numbers (epoch seconds), got {t0!r}, {t1!r}") from None
        if not t0 <= t1:
            raise QueryError(f"time range ends before it starts: {t0} > {t1}")
        if not 0 < int(limit) <= MAX_ROWS:
            raise QueryError(f"limit must be 1…{MAX_ROWS}, got {limit!r}")
        sql = f"SELECT {', '.join(_ALARM_COLS)} FROM alarms WHERE epoch >= ? AND epoch < ?"
        args: list = [t0, t1]
        for col, values in (("type", types), ("subdistrict", subdistricts),
                            ("state", [str(s) for s in states] if states is not None else None)):
            if values is not None:
                values = list(values)
                if not values:
                    return []
                sql += f" AND {col} IN ({','.join('?' * len(values))})"
                args += values
        sql += " ORDER BY epoch, id LIMIT ?"
        args.append(int(limit))
        with self._lock:
            conn = self._connection()
            rows = conn.execute(sql, args).fetchall()
            histories: dict[str, list[Transition]] = {}
            if with_history and rows:
                ids = [r[0] for r in rows]
                for k in range(0, len(ids), 500):
                    chunk = ids[k:k + 500]
                    for r in conn.execute(
                            "SELECT alarm_id, from_state, to_state, operator, epoch, time, note, origin, unit"
                            f" FROM transitions WHERE alarm_id IN ({','.join('?' * len(chunk))}) ORDER BY seq",
                            chunk):
                        histories.setdefault(r[0], []).append(_transition(r))
        out = []
        for r in rows:
            d = dict(zip(_ALARM_COLS, r))
            d["camera_ids"] = tuple(json.loads(d["camera_ids"] or "[]"))
            d["state"] = AlarmState(d["state"])
            d["history"] = tuple(histories.get(d["id"], ()))
            out.append(Alarm(**d))
        return out

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
