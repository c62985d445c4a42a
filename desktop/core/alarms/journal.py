"""The alarm journal: SQLite, so that no alarm and no operator action is lost to a crash.

Tables: ``alarms`` (the current record of each alarm), ``occurrences`` (every accepted
``pingan/alarm`` message, the first and each folded repeat, with its payload — also what
duplicate deliveries are recognised by after a restart), ``transitions`` (the full workflow
history, local and remote), ``audit`` (this workstation's operator actions) and ``meta``;
the statistics' summary tables, the camera status history and the patrol arrivals are kept
beside them in the same transactions (see :mod:`desktop.core.stats.summary`).

Durability settings, and why:

* ``journal_mode=WAL``: readers (a panel's history query, an export) never block the
  writer, and a commit is one sequential append to the WAL file.
* ``synchronous=FULL``: each commit is fsynced. NORMAL would survive a killed process
  (the WAL is already in the OS cache) but could lose the last commits on a power cut or
  an OS crash — and the MQTT adapter acknowledges a message to the broker only after its
  commit, so after that point the broker no longer has a copy: the journal must. The cost
  is one fsync per *batch* (the service writes a whole batch in one transaction), a few
  milliseconds, which bounds the rate at a few hundred batches a second, not messages.
* The WAL is copied back into the database by a thread of its own about once a second
  (:mod:`.checkpoint`), not by the commit that happens to fill it: that commit used to
  hold a batch of alarms for tens of milliseconds.

One connection, guarded by a lock; the service's worker thread does the writing, other
threads may read (history, audit) through the same object.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .checkpoint import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer
from .model import Alarm, AlarmState, AuditEntry, Transition

log = logging.getLogger(__name__)

__all__ = ["Journal", "JournalBatch", "JournalState", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alarms (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    priority INTEGER NOT NULL,
    time TEXT NOT NULL,
    epoch REAL NOT NULL,
    lon REAL NOT NULL, lat REAL NOT NULL, crs TEXT NOT NULL,
    lon_wgs REAL NOT NULL, lat_wgs REAL NOT NULL,
    lon_gcj REAL NOT NULL, lat_gcj REAL NOT NULL,
    source TEXT NOT NULL,
    camera_ids TEXT NOT NULL DEFAULT '[]',
    text TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    received REAL NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    last_time TEXT NOT NULL DEFAULT '',
    last_epoch REAL NOT NULL DEFAULT 0,
    last_received REAL NOT NULL DEFAULT 0,
    assigned_unit TEXT NOT NULL DEFAULT '',
    subdistrict TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alarms_state_updated ON alarms (state, updated);
CREATE INDEX IF NOT EXISTS alarms_epoch ON alarms (epoch);
CREATE TABLE IF NOT EXISTS occurrences (
    msg_id TEXT PRIMARY KEY,
    alarm_id TEXT NOT NULL,
    time TEXT NOT NULL,
    received REAL NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS occurrences_alarm ON occurrences (alarm_id);
CREATE TABLE IF NOT EXISTS transitions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_id TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    operator TEXT NOT NULL,
    epoch REAL NOT NULL,
    time TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS transitions_alarm ON transitions (alarm_id, seq);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch REAL NOT NULL,
    time TEXT NOT NULL,
    operator TEXT NOT NULL,
    workstation TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
"""

_ALARM_COLS = ("id", "type", "priority", "time", "epoch", "lon", "lat", "crs", "lon_wgs",
               "lat_wgs", "lon_gcj", "lat_gcj", "source", "camera_ids", "text", "state",
               "received", "count", "last_time", "last_epoch", "last_received",
               "assigned_unit", "subdistrict", "updated")
_INSERT_NEW = (f"INSERT OR IGNORE INTO alarms ({', '.join(_ALARM_COLS)}) "
               f"VALUES ({', '.join('?' * len(_ALARM_COLS))})")
_UPDATE = (f"UPDATE alarms SET {', '.join(f'{c}=?' for c in _ALARM_COLS if c != 'id')} WHERE id=?")
_UPSERT = (f"INSERT INTO alarms ({', '.join(_ALARM_COLS)}) VALUES ({', '.join('?' * len(_ALARM_COLS))}) "
           f"ON CONFLICT(id) DO UPDATE SET "
           + ", ".join(f"{c}=excluded.{c}" for c in _ALARM_COLS if c != "id"))


def _alarm_row(a: Alarm) -> tuple:
    return (a.id, a.type, a.priority, a.time, a.epoch, a.lon, a.lat, a.crs, a.lon_wgs,
            a.lat_wgs, a.lon_gcj, a.lat_gcj, a.source, json.dumps(list(a.camera_ids)),
            a.text, str(a.state), a.received, a.count, a.last_time, a.last_epoch,
            a.last_received, a.assigned_unit, a.subdistrict, a.updated)


@dataclass
class JournalState:
    """What a restart needs: the alarms (with histories) and the message ids already taken."""

    alarms: dict[str, Alarm]
    seen_ids: set[str]


class JournalBatch:
    """The writes of one transaction (use :meth:`Journal.batch`)."""

    def __init__(self, conn: sqlite3.Connection, summaries=None):
        self._c = conn
        self._s = summaries  # desktop.core.stats.summary.SummaryKeeper, or None

    def upsert_alarm(self, alarm: Alarm) -> None:
        row = _alarm_row(alarm)
        if self._s is None:
            self._c.execute(_UPSERT, row)
            return
        # Whether the row is new decides whether the summaries count it. An alarm the summaries
        # know (counted lately) is updated in one statement; another is inserted if absent.
        if self._s.knows(alarm.id):
            self._c.execute(_UPSERT, row)
        elif self._c.execute(_INSERT_NEW, row).rowcount == 1:
            self._s.alarm_added(self._c, alarm.id, alarm.type, alarm.epoch, alarm.subdistrict,
                                alarm.lon_wgs, alarm.lat_wgs, alarm.received)
        else:
            self._c.execute(_UPDATE, row[1:] + row[:1])  # the insert was ignored: the row exists

    def add_occurrence(self, msg_id: str, alarm_id: str, time: str, received: float,
                       payload: dict | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        # OR IGNORE: a duplicate delivery of an already-journaled message is not an error.
        self._c.execute("INSERT OR IGNORE INTO occurrences VALUES (?, ?, ?, ?, ?)",
                        (msg_id, alarm_id, time, received, text))

    def add_transition(self, t: Transition) -> None:
        self._c.execute(
            "INSERT INTO transitions (alarm_id, from_state, to_state, operator, epoch, time, note, origin, unit)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (t.alarm_id, str(t.from_state), str(t.to_state), t.operator, t.epoch, t.time,
             t.note, t.origin, t.unit))
        if self._s is not None:
            self._s.transition_added(self._c, t.alarm_id, str(t.to_state), t.operator, t.epoch)

    def add_arrival(self, alarm_id: str, unit: str, dispatched: float, arrived: float) -> None:
        """A patrol unit sent to ``alarm_id`` arrived (for the dispatch-to-arrival figures)."""
        cur = self._c.execute("INSERT OR IGNORE INTO arrivals VALUES (?, ?, ?, ?)",
                              (alarm_id, unit, float(dispatched), float(arrived)))
        if cur.rowcount == 1 and self._s is not None:
            self._s.arrival_added(self._c, alarm_id, arrived, unit)

    def add_camera_status(self, camera_id: str, status: str, epoch: float, reason: str = "") -> bool:
        """A camera's reported status; a change of state goes into the camera status history
        (True), a repeat of the current state does not (False)."""
        if self._s is None:
            return False
        return self._s.camera_status(self._c, camera_id, status, epoch, reason)

    def add_audit(self, e: AuditEntry) -> None:
        self._c.execute(
            "INSERT INTO audit (epoch, time, operator, workstation, action, target, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.epoch, e.time, e.operator, e.workstation, e.action, e.target,
             json.dumps(dict(e.detail), ensure_ascii=False, default=str)))


class Journal:
    """A journal file (created if missing). Thread-safe; see the module text for its settings."""

    def __init__(self, path: Path | str, synchronous: str = "FULL", recover: bool = True,
                 summaries: bool | object = True):
        """``summaries``: True keeps the statistics' summary tables (a default
        :class:`~desktop.core.stats.summary.SummaryKeeper`), a keeper of your own, or False."""
        if summaries is True:
            from desktop.core.stats.summary import SummaryKeeper
            summaries = SummaryKeeper()
        self.summaries = summaries or None
        if synchronous.upper() not in ("NORMAL", "FULL", "EXTRA"):
            raise ValueError("synchronous must be NORMAL, FULL or EXTRA (OFF would lose alarms)")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._synchronous = synchronous.upper()
        # (where the unreadable file went, why) when it had to be set aside: see recover()
        self.recovered: tuple[Path, str] | None = None
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            if not recover:
                raise
            self.recover(exc)

    def _open(self) -> None:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per batch.
        self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                     timeout=10.0)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={self._synchronous}")
            self._conn.execute("PRAGMA foreign_keys=OFF")
            # the checkpoints run on their own thread, not inside a commit (see .checkpoint)
            self._conn.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
            with self._lock:
                self._conn.executescript(_SCHEMA)
                self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                                   (str(SCHEMA_VERSION),))
                self._conn.execute("SELECT COUNT(*) FROM alarms").fetchone()
                if self.summaries is not None:
                    from desktop.core.stats.summary import SUMMARY_SCHEMA
                    self._conn.executescript(SUMMARY_SCHEMA)
                    self._summaries_installed = False
        except sqlite3.DatabaseError:
            self._conn.close()
            raise
        self._checkpointer = WalCheckpointer(self.path).start()

    def recover(self, exc: BaseException) -> Path:
        """The file cannot be read (not a database, damaged): move it and its WAL aside, untouched,
        for whoever will try to rescue it, and start a new empty journal in its place.

        A damaged journal must not keep the workstation from taking new alarms. Returns the
        new name of the old file (also in ``recovered``)."""
        with self._lock:
            self._stop_checkpoints()
            try:
                self._conn.close()
            except (sqlite3.Error, AttributeError):
                pass
            stamp = time.strftime("%Y%m%d-%H%M%S")
            moved = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(self.path) + suffix)
                if src.exists():
                    os.replace(src, Path(str(moved) + suffix))
            self.recovered = (moved, f"{type(exc).__name__}: {exc}")
            log.error("alarm journal %s could not be read (%s); moved to %s, a new journal is started",
                      self.path, exc, moved)
            self._open()
        return moved

    @contextmanager
    def batch(self) -> Iterator[JournalBatch]:
        """One transaction: everything written inside commits together, or not at all."""
        with self._lock:
            self._install_summaries()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield JournalBatch(self._conn, self.summaries)
                if self.summaries is not None:
                    self.summaries.end_batch(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                if self.summaries is not None:
                    self.summaries.abort_batch()
                raise
            else:
                self._conn.execute("COMMIT")

    def _install_summaries(self) -> None:
        # Deferred to the first write, so the session can set the district's zone and grid on
        # the keeper after opening (a rebuild, when the zone changed, happens once, here).
        if self.summaries is not None and not getattr(self, "_summaries_installed", True):
            self.summaries.install(self._conn)
            self._summaries_installed = True

    def rebuild_summaries(self) -> None:
        """Recompute the statistics' summary tables from the rows (a full scan)."""
        with self._lock:
            if self.summaries is None:
                raise RuntimeError("this journal keeps no summaries")
            self._install_summaries()
            self.summaries.rebuild(self._conn)

    def pragma(self, name: str):
        with self._lock:
            return self._conn.execute(f"PRAGMA {name}").fetchone()[0]

    # --- reading -----------------------------------------------------------------------

    def load(self, closed_since: float | None = None) -> JournalState:
        """Every open alarm, and closed ones updated at or after ``closed_since`` (None: all)."""
        with self._lock:
            c = self._conn
            if closed_since is None:
                rows = c.execute(f"SELECT {', '.join(_ALARM_COLS)} FROM alarms").fetchall()
            else:
                rows = c.execute(
                    f"SELECT {', '.join(_ALARM_COLS)} FROM alarms WHERE state NOT IN (?, ?) OR updated >= ?",
                    (str(AlarmState.RESOLVED), str(AlarmState.FALSE_ALARM), closed_since)).fetchall()
            histories: dict[str, list[Transition]] = {}
            sql = "SELECT alarm_id, from_state, to_state, operator, epoch, time, note, origin, unit FROM transitions"
            args: tuple = ()
            if closed_since is not None:  # only the histories of the alarms kept: years of journal stay on disk
                sql += (" WHERE alarm_id IN (SELECT id FROM alarms WHERE state NOT IN (?, ?) OR updated >= ?)")
                args = (str(AlarmState.RESOLVED), str(AlarmState.FALSE_ALARM), closed_since)
            for r in c.execute(sql + " ORDER BY seq", args):
                histories.setdefault(r[0], []).append(_transition(r))
            if closed_since is None:
                seen = {r[0] for r in c.execute("SELECT msg_id FROM occurrences")}
            else:
                # Duplicates of older, closed alarms can no longer arrive (the broker does
                # not keep messages that long), so their ids need not be kept in memory.
                seen = {r[0] for r in c.execute(
                    "SELECT msg_id FROM occurrences WHERE received >= ? OR alarm_id IN"
                    " (SELECT id FROM alarms WHERE state NOT IN (?, ?))",
                    (closed_since, str(AlarmState.RESOLVED), str(AlarmState.FALSE_ALARM)))}
        alarms: dict[str, Alarm] = {}
        for r in rows:
            d = dict(zip(_ALARM_COLS, r))
            d["camera_ids"] = tuple(json.loads(d["camera_ids"] or "[]"))
            d["state"] = AlarmState(d["state"])
            d["history"] = tuple(histories.get(d["id"], ()))
            alarms[d["id"]] = Alarm(**d)
        return JournalState(alarms=alarms, seen_ids=seen)

    def history(self, alarm_id: str) -> list[Transition]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT alarm_id, from_state, to_state, operator, epoch, time, note, origin, unit"
                " FROM transitions WHERE alarm_id = ? ORDER BY seq", (alarm_id,)).fetchall()
        return [_transition(r) for r in rows]

    def occurrences(self, alarm_id: str) -> list[tuple[str, str, float]]:
        """(message id, event time, received) of every message folded into ``alarm_id``."""
        with self._lock:
            return self._conn.execute(
                "SELECT msg_id, time, received FROM occurrences WHERE alarm_id = ? ORDER BY received",
                (alarm_id,)).fetchall()

    def occurrence_ids(self, alarm_ids: list[str]) -> set[str]:
        """The message ids folded into these alarms."""
        out: set[str] = set()
        with self._lock:
            for k in range(0, len(alarm_ids), 500):
                chunk = alarm_ids[k:k + 500]
                out.update(r[0] for r in self._conn.execute(
                    f"SELECT msg_id FROM occurrences WHERE alarm_id IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def audit_log(self, limit: int = 200, operator: str | None = None) -> list[AuditEntry]:
        """The latest operator actions, newest first."""
        sql = "SELECT epoch, time, operator, workstation, action, target, detail FROM audit"
        args: tuple = ()
        if operator:
            sql += " WHERE operator = ?"
            args = (operator,)
        sql += " ORDER BY seq DESC LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, args + (int(limit),)).fetchall()
        return [AuditEntry(epoch=r[0], time=r[1], operator=r[2], workstation=r[3], action=r[4],
                           target=r[5], detail=json.loads(r[6] or "{}")) for r in rows]

    def count(self, table: str) -> int:
        if table not in ("alarms", "occurrences", "transitions", "audit"):
            raise ValueError(table)
        with self._lock:
            return self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def _stop_checkpoints(self) -> None:
        cp = getattr(self, "_checkpointer", None)
        if cp is not None:
            cp.stop()
            self._checkpointer = None

    def close(self) -> None:
        with self._lock:
            self._stop_checkpoints()
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass
            self._conn.close()


def _transition(r) -> Transition:
    return Transition(alarm_id=r[0], from_state=AlarmState(r[1]), to_state=AlarmState(r[2]),
                      operator=r[3], epoch=r[4], time=r[5], note=r[6], origin=r[7], unit=r[8])
