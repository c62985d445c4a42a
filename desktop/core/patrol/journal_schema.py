"""The patrol journal's SQLite schema and file version, and the error for a file it cannot use.

Tables: ``meta`` (the version), ``units`` (id, call sign, kind), ``fixes`` (recent rows, one a
fix), ``chunks`` (packed fixes, see :mod:`.chunks`), ``dispatches`` and ``visits``.
"""
from __future__ import annotations

__all__ = ["JournalError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units(id INTEGER PRIMARY KEY, unit TEXT NOT NULL UNIQUE, kind TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fixes(
    unit_id INTEGER NOT NULL, t REAL NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL,
    speed REAL NOT NULL, heading REAL NOT NULL, PRIMARY KEY(unit_id, t)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks(
    unit_id INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL,
    t_first REAL NOT NULL, t_last REAL NOT NULL, data BLOB NOT NULL, UNIQUE(unit_id, bucket));
CREATE INDEX IF NOT EXISTS chunks_by_bucket ON chunks(bucket);
CREATE TABLE IF NOT EXISTS dispatches(
    id INTEGER PRIMARY KEY AUTOINCREMENT, unit TEXT NOT NULL, kind TEXT NOT NULL,
    alarm_id TEXT NOT NULL, lon REAL NOT NULL, lat REAL NOT NULL, dispatched REAL NOT NULL,
    arrived REAL, released REAL, from_lon REAL, from_lat REAL, eta_s REAL);
CREATE INDEX IF NOT EXISTS dispatches_by_time ON dispatches(dispatched);
CREATE TABLE IF NOT EXISTS visits(
    post TEXT NOT NULL, scheduled REAL NOT NULL, state TEXT NOT NULL, unit TEXT NOT NULL,
    kind TEXT NOT NULL, arrival REAL, checkin REAL, departure REAL, opens REAL NOT NULL,
    closes REAL NOT NULL, judged REAL NOT NULL, alarm_id TEXT NOT NULL, PRIMARY KEY(post, scheduled));
CREATE INDEX IF NOT EXISTS visits_by_time ON visits(scheduled);
"""
_VERSION = "1"


class JournalError(RuntimeError):
    """The journal file cannot be used (not a database, another program's, a newer version)."""
