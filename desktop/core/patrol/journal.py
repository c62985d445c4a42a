"""The patrol journal: position fixes, dispatches and post visits in one SQLite file (WAL).

Days of 1 Hz fixes for hundreds of units are tens of millions of rows, and a replay must
load a whole day of 50 units (4.3 M fixes) in a second or two. A row per fix read through
Python cannot do that (building a tuple per row alone takes longer), so fixes live in two
forms:

* **recent rows** (``fixes``): what the feed wrote in the last minutes, one row per fix,
  full precision. Writes are batched — :meth:`PositionJournal.append` only buffers,
  :meth:`~PositionJournal.flush` commits the buffer in one transaction (a background thread
  does it every second), so 500 units at 1 Hz cost one small transaction a second.
* **chunks** (``chunks``): once a time bucket (:data:`CHUNK_S`, 10 minutes) is over,
  :meth:`~PositionJournal.compact` packs each unit's rows of that bucket into one BLOB of
  fixed-point numpy records (:data:`CHUNK_DTYPE`, 16 bytes a fix: 1 ms, 1 cm, 0.1 km/h,
  0.01°) and deletes the rows, in one transaction. A load reads a few thousand BLOBs and
  turns each unit's into arrays with one ``np.frombuffer``.

Queries read both and merge them, so a track is complete whether or not it was compacted.

Durability: WAL with ``synchronous=FULL``; a committed batch survives a crash or a power
cut, so a crash loses at most the batch still in memory. Compaction moves rows into a chunk
in one transaction: after a crash either the rows or the chunk are there, never neither and
never both.

Dispatches (and arrivals) and post visits have their own small tables, written at once.
"""
from __future__ import annotations

import contextlib
import logging
import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .track import Track, TrackSet

log = logging.getLogger(__name__)

__all__ = ["PositionJournal", "CHUNK_S", "CHUNK_DTYPE", "DispatchRecord", "VisitRecord", "JournalError"]

CHUNK_S = 600  # seconds of one unit's fixes in one chunk
# Rows younger than this (data time, behind the newest fix) are not compacted yet, so fixes
# that arrive a little late still land in their bucket's rows and not in a rewrite of a chunk.
COMPACT_LAG_S = 60.0

# One fix in a chunk BLOB: milliseconds into the bucket, lon/lat in 1e-7 degrees (1 cm),
# speed in 0.1 km/h, heading in 0.01 degrees. Little-endian, so files move between machines.
CHUNK_DTYPE = np.dtype([("dt", "<i4"), ("lon", "<i4"), ("lat", "<i4"), ("spd", "<u2"), ("hdg", "<u2")])
_DEG_Q = 1e7
_SPD_Q = 10.0
_HDG_Q = 100.0

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


@dataclass(frozen=True)
class DispatchRecord:
    """A unit sent to an alarm: when it was sent, when it arrived (within the arrival radius
    of the alarm point) and when it was released; ``None`` for what has not happened yet.

    Response times follow: ``arrived - dispatched``. ``from_lon``/``from_lat``: where the
    unit was when it was sent; ``eta_s``: the estimate it was sent on (NaN if none).
    """

    id: int
    unit: str
    kind: str
    alarm_id: str
    lon: float
    lat: float
    dispatched: float
    arrived: float | None = None
    released: float | None = None
    from_lon: float = math.nan
    from_lat: float = math.nan
    eta_s: float = math.nan

    @property
    def response_s(self) -> float | None:
        """Seconds from dispatch to arrival, or None before the unit arrived."""
        return None if self.arrived is None else self.arrived - self.dispatched


@dataclass(frozen=True)
class VisitRecord:
    """One scheduled visit of a post, judged: ``state`` on_time/early/late/missed (or pending).

    ``scheduled`` is the scheduled time; ``opens``/``closes`` the whole window (early to late
    edge). For a made visit, ``unit``/``kind`` made it, ``arrival`` is when it came within the
    post's radius, ``checkin`` the moment its visit counted (it had stayed the dwell time and
    the window was open) and ``departure`` when it left (None: still there or unknown).
    ``alarm_id``: the ``patrol_missed`` alarm raised for a missed visit. ``final`` is False
    for a provisional state (an early check-in that an on-time one may still replace).
    """

    post: str
    scheduled: float
    state: str
    opens: float
    closes: float
    unit: str = ""
    kind: str = ""
    arrival: float | None = None
    checkin: float | None = None
    departure: float | None = None
    judged: float | None = None
    alarm_id: str = ""
    final: bool = True
    post_name: str = ""


def _bucket(t: float) -> int:
    return int(math.floor(t / CHUNK_S)) * CHUNK_S


def encode_chunk(bucket: int, t, lon, lat, speed, heading) -> bytes:
    """Pack fixes of one bucket (sorted by time) into a chunk BLOB."""
    rec = np.empty(len(t), CHUNK_DTYPE)
    rec["dt"] = np.rint((np.asarray(t, float) - bucket) * 1000.0)
    rec["lon"] = np.rint(np.asarray(lon, float) * _DEG_Q)
    rec["lat"] = np.rint(np.asarray(lat, float) * _DEG_Q)
    rec["spd"] = np.clip(np.rint(np.asarray(speed, float) * _SPD_Q), 0, 65535)
    rec["hdg"] = np.rint((np.asarray(heading, float) % 360.0) * _HDG_Q).astype(np.int64) % 36000
    return rec.tobytes()


def decode_chunks(buckets: np.ndarray, counts: np.ndarray, blob: bytes) -> tuple[np.ndarray, ...]:
    """(t, lon, lat, speed, heading) float arrays of concatenated chunk BLOBs."""
    rec = np.frombuffer(blob, CHUNK_DTYPE)
    t = np.repeat(np.asarray(buckets, float), counts) + rec["dt"] * 1e-3
    return (t, rec["lon"] * (1.0 / _DEG_Q), rec["lat"] * (1.0 / _DEG_Q), rec["spd"] * (1.0 / _SPD_Q),
            rec["hdg"] * (1.0 / _HDG_Q))


class PositionJournal:
    """The patrol journal file. Thread-safe: one writer connection behind a lock, and a
    read connection per thread (WAL lets reads run while a batch commits).

    ``autoflush_s``: commit the buffered fixes this often from a background thread (and
    compact finished buckets every ``compact_every_s``); 0 = only when :meth:`flush` is
    called. ``readonly``: open an existing journal only to read it — from another process
    too, while the feed process writes (a replay loads straight from the file instead of
    through a pipe). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: Path | str, autoflush_s: float = 1.0, compact_every_s: float = 60.0,
                 readonly: bool = False):
        if str(path) == ":memory:" or str(path).startswith("file:"):
            # Readers have connections of their own: an in-memory database would be empty to them.
            raise JournalError(f"{path}: the patrol journal needs a file")
        self.path = Path(path)
        self.readonly = bool(readonly)
        if self.readonly:
            if not self.path.is_file():
                raise JournalError(f"{self.path}: no patrol journal there to read")
            autoflush_s = 0
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._wlock = threading.RLock()  # the write connection and the unit-id cache
        self._buf_lock = threading.Lock()  # the buffer alone, so append never waits for a commit
        self._buffer: list[tuple] = []
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        try:
            self._db = self._connect()
            if not self.readonly:
                self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='patrol_journal'").fetchone()
            if row is None and not self.readonly:
                self._db.execute("INSERT INTO meta VALUES('patrol_journal', ?)", (_VERSION,))
            elif row is None or row[0] != _VERSION:
                raise JournalError(f"{self.path}: patrol journal version {row[0] if row else 'unknown'}, "
                                   f"this program reads {_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: not a usable patrol journal ({exc})") from None
        self._unit_ids: dict[str, int] = {}
        self._unit_kinds: dict[str, str] = {}
        for uid, unit, kind in self._db.execute("SELECT id, unit, kind FROM units"):
            self._unit_ids[unit] = uid
            self._unit_kinds[unit] = kind
        self._max_t = self._db.execute("SELECT max(t) FROM fixes").fetchone()[0] or -math.inf
        self.compact_every_s = compact_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = {"flushed": 0, "batches": 0, "compacted": 0, "flush_ms_max": 0.0}
        if autoflush_s > 0:
            self._thread = threading.Thread(target=self._run, args=(autoflush_s,), name="patrol-journal",
                                            daemon=True)
            self._thread.start()

    # --- connections ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                 check_same_thread=False, timeout=30.0)
        else:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=30000")
        # A bigger page cache keeps the index pages of a day's chunks in memory between loads.
        db.execute("PRAGMA cache_size=-32768")
        return db

    def _reader(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise JournalError(f"{self.path}: the journal is closed")
            db = self._connect()
            db.execute("PRAGMA query_only=1")
            self._local.db = db
            with self._readers_lock:
                self._readers.append(db)
        return db

    def close(self) -> None:
        """Commit what is buffered, stop the background thread, close every connection."""
        if self._closed:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush()
        finally:
            self._closed = True
            with self._readers_lock:
                for db in self._readers:
                    try:
                        db.close()
                    except sqlite3.Error:
                        pass
                self._readers.clear()
            with self._wlock:
                self._db.close()

    def __enter__(self) -> "PositionJournal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _run(self, every_s: float) -> None:
        last_compact = time.monotonic()
        while not self._stop.wait(every_s):
            try:
                self.flush()
                now = time.monotonic()
                if self.compact_every_s > 0 and now - last_compact >= self.compact_every_s:
                    last_compact = now
                    self.compact()
            except Exception:  # the thread must outlive one bad batch; the error is logged
                log.exception("patrol journal: background flush failed")

    def _writable(self) -> None:
        if self.readonly:
            raise JournalError(f"{self.path}: opened read-only")

    @contextlib.contextmanager
    def _txn(self):
        """One write transaction on the writer connection (under the write lock)."""
        self._writable()
        with self._wlock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- units ------------------------------------------------------------------------

    def _unit_id(self, unit: str, kind: str) -> int:
        """The id of ``unit`` (created on first sight); its kind follows the latest fix. Under _wlock."""
        uid = self._unit_ids.get(unit)
        if uid is None:
            cur = self._db.execute("INSERT INTO units(unit, kind) VALUES(?, ?)", (unit, kind))
            uid = int(cur.lastrowid)
            self._unit_ids[unit] = uid
            self._unit_kinds[unit] = kind
        elif kind and self._unit_kinds.get(unit) != kind:
            self._db.execute("UPDATE units SET kind=? WHERE id=?", (kind, uid))
            self._unit_kinds[unit] = kind
        return uid

    def units(self) -> dict[str, str]:
        """Every unit the journal knows → its kind."""
        with self._wlock:
            return dict(self._unit_kinds)

    # --- writing fixes ----------------------------------------------------------------

    def append(self, fixes: Iterable[Sequence]) -> int:
        """Buffer fixes ``(unit, kind, t, lon_wgs, lat_wgs, speed_kmh, heading_deg)``; returns how many.

        Nothing is written until :meth:`flush` (the background thread calls it every
        ``autoflush_s``).
        """
        self._writable()
        rows = [tuple(f) for f in fixes]
        with self._buf_lock:
            self._buffer.extend(rows)
        return len(rows)

    def pending(self) -> int:
        """Fixes buffered and not committed yet."""
        with self._buf_lock:
            return len(self._buffer)

    def flush(self) -> int:
        """Commit the buffered fixes in one transaction; returns how many were written.

        A fix already journaled for the same unit and instant (a redelivery) is replaced.
        On a failure the batch is put back in front of the buffer and the error re-raised.
        """
        with self._buf_lock:
            batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        t_start = time.perf_counter()
        with self._wlock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                rows = []
                max_t = self._max_t
                for unit, kind, t, lon, lat, spd, hdg in batch:
                    uid = self._unit_id(unit, kind)
                    t = float(t)
                    rows.append((uid, t, float(lon), float(lat), float(spd), float(hdg)))
                    if t > max_t:
                        max_t = t
                self._db.executemany("INSERT OR REPLACE INTO fixes VALUES(?,?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
                self._max_t = max_t
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                # Units created inside the rolled-back transaction do not exist: forget them.
                self._reload_units()
                with self._buf_lock:
                    self._buffer[:0] = batch
                raise
        ms = (time.perf_counter() - t_start) * 1000.0
        self.stats["flushed"] += len(batch)
        self.stats["batches"] += 1
        self.stats["flush_ms_max"] = max(self.stats["flush_ms_max"], ms)
        return len(batch)

    def _reload_units(self) -> None:
        self._unit_ids.clear()
        self._unit_kinds.clear()
        for uid, unit, kind in self._db.execute("SELECT id, unit, kind FROM units"):
            self._unit_ids[unit] = uid
            self._unit_kinds[unit] = kind

    # --- chunks -----------------------------------------------------------------------

    def compact(self, before: float | None = None, units_per_txn: int = 50) -> int:
        """Pack recent rows of finished buckets into chunks; returns how many rows moved.

        ``before``: compact rows of buckets that end at or before this time (default: the
        newest fix journaled minus :data:`COMPACT_LAG_S`). Each group of ``units_per_txn``
        units is one transaction (rows deleted, chunks written or merged), so a crash in
        the middle leaves every fix exactly once.
        """
        self._writable()
        with self._wlock:
            if before is None:
                if not math.isfinite(self._max_t):
                    return 0
                before = self._max_t - COMPACT_LAG_S
            cutoff = float(_bucket(before))
            uids = [r[0] for r in self._db.execute("SELECT DISTINCT unit_id FROM fixes WHERE t < ?", (cutoff,))]
            moved = 0
            for i in range(0, len(uids), max(1, units_per_txn)):
                group = uids[i:i + units_per_txn]
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    for uid in group:
                        moved += self._compact_unit(uid, cutoff)
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
            self.stats["compacted"] += moved
            return moved

    def _compact_unit(self, uid: int, cutoff: float) -> int:
        rows = self._db.execute("SELECT t, lon, lat, speed, heading FROM fixes WHERE unit_id=? AND t < ? "
                                "ORDER BY t", (uid, cutoff)).fetchall()
        if not rows:
            return 0
        arr = np.array(rows, float)
        self._put_chunks(uid, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4])
        self._db.execute("DELETE FROM fixes WHERE unit_id=? AND t < ?", (uid, cutoff))
        return len(rows)

    def _put_chunks(self, uid: int, t, lon, lat, spd, hdg) -> None:
        """Write fixes (sorted by time) of one unit into their buckets' chunks, merging with
        chunks already there. Inside the caller's transaction."""
        if not len(t):
            return
        buckets = (np.floor(t / CHUNK_S) * CHUNK_S).astype(np.int64)
        cuts = np.flatnonzero(np.diff(buckets)) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [len(t)]])
        existing = {b: (n, data) for b, n, data in self._db.execute(
            "SELECT bucket, n, data FROM chunks WHERE unit_id=? AND bucket BETWEEN ? AND ?",
            (uid, int(buckets[0]), int(buckets[-1])))}
        out = []
        for s, e in zip(starts.tolist(), ends.tolist()):
            b = int(buckets[s])
            cols = (t[s:e], lon[s:e], lat[s:e], spd[s:e], hdg[s:e])
            if b in existing:
                n_old, data = existing[b]
                old = decode_chunks(np.array([b]), np.array([n_old]), data)
                # The old chunk first: for an instant in both, the newer fix (later) wins.
                tr = Track.from_arrays("", "", *[np.concatenate([o, c]) for o, c in zip(old, cols)])
                cols = (tr.t, tr.lon, tr.lat, tr.speed_kmh, tr.heading_deg)
            blob = encode_chunk(b, *cols)
            out.append((uid, b, len(cols[0]), float(cols[0][0]), float(cols[0][-1]), blob))
        self._db.executemany("INSERT OR REPLACE INTO chunks(unit_id, bucket, n, t_first, t_last, data) "
                             "VALUES(?,?,?,?,?,?)", out)

    def bulk_write(self, tracks: Iterable[Track]) -> int:
        """Write whole tracks straight into chunks, in one transaction (history for a
        benchmark, an import). Returns the number of fixes written."""
        self._writable()
        n = 0
        with self._wlock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for tr in tracks:
                    if not len(tr):
                        continue
                    tr = Track.from_arrays(tr.unit, tr.kind, tr.t, tr.lon, tr.lat, tr.speed_kmh, tr.heading_deg)
                    uid = self._unit_id(tr.unit, tr.kind)
                    self._put_chunks(uid, tr.t, tr.lon, tr.lat, tr.speed_kmh, tr.heading_deg)
                    n += len(tr)
                    self._max_t = max(self._max_t, tr.t1)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._reload_units()
                raise
        return n

    def prune(self, before: float) -> int:
        """Delete fixes older than ``before`` (whole chunks that end before it, and rows);
        returns the number of fixes removed. Dispatches and visits are kept."""
        with self._txn():
            n_chunks = self._db.execute("SELECT coalesce(sum(n), 0) FROM chunks WHERE t_last < ?",
                                        (before,)).fetchone()[0]
            self._db.execute("DELETE FROM chunks WHERE t_last < ?", (before,))
            cur = self._db.execute("DELETE FROM fixes WHERE t < ?", (before,))
            return int(n_chunks) + cur.rowcount

    # --- reading fixes ----------------------------------------------------------------

    def tracks(self, units: Sequence[str] | None, t0: float, t1: float) -> dict[str, Track]:
        """Tracks of ``units`` (None: every unit) with fixes in ``[t0, t1]``, unit → Track.

        Units without a fix in the span are left out. Reads chunks and recent rows and
        merges them; what is still in the write buffer is not included (flush first).
        """
        return self.track_set(units, t0, t1).tracks()

    def track_set(self, units: Sequence[str] | None, t0: float, t1: float) -> TrackSet:
        """The same as :meth:`tracks`, as one :class:`~.track.TrackSet` (what a replay loads).

        Decoded straight into the set's columns: each unit's chunks are joined and read
        with one ``np.frombuffer``, cut to the span, and written in place; its recent rows
        follow (merged in order if a late one falls among the chunked fixes).
        """
        db = self._reader()
        with self._wlock:
            if self.readonly:  # another process writes: units may have been added since
                self._reload_units()
            names = {uid: u for u, uid in self._unit_ids.items()}
            kinds = dict(self._unit_kinds)
            ids = dict(self._unit_ids)
        if units is not None:
            wanted = [uid for u, uid in ((u, ids.get(u)) for u in units) if uid is not None]
            if not wanted:
                return TrackSet.from_tracks([])
            where = f" AND unit_id IN ({','.join('?' * len(wanted))})"
            args: list = list(wanted)
        else:
            where, args = "", []
        b0 = _bucket(t0)
        db.execute("BEGIN")  # one read transaction: chunks and rows seen at the same moment
        try:
            chunk_rows = db.execute(
                "SELECT unit_id, bucket, n, data FROM chunks WHERE bucket >= ? AND bucket <= ?" + where,
                [b0, t1, *args]).fetchall()
            recent = db.execute("SELECT unit_id, t, lon, lat, speed, heading FROM fixes WHERE t >= ? AND t <= ?"
                                + where + " ORDER BY unit_id, t", [t0, t1, *args]).fetchall()
            # Ids of units created after our cache was copied (another writer): look them up.
            missing = ({r[0] for r in chunk_rows} | {r[0] for r in recent}) - set(names)
            for uid in missing:
                row = db.execute("SELECT unit, kind FROM units WHERE id=?", (uid,)).fetchone()
                if row:
                    names[uid], kinds[row[0]] = row[0], row[1]
        finally:
            db.execute("COMMIT")
        # Group the chunks by unit in Python (an ORDER BY would make SQLite sort the BLOBs).
        by_unit: dict[int, list[tuple]] = {}
        for row in chunk_rows:
            by_unit.setdefault(row[0], []).append(row)
        rows_of: dict[int, np.ndarray] = {}
        if recent:
            arr = np.array(recent, float)
            ids = arr[:, 0].astype(np.int64)
            cuts = np.flatnonzero(np.diff(ids)) + 1
            for a, b in zip(np.concatenate([[0], cuts]).tolist(), np.concatenate([cuts, [len(ids)]]).tolist()):
                rows_of[int(ids[a])] = arr[a:b, 1:]
        uids = sorted(set(by_unit) | set(rows_of), key=lambda u: names.get(u, str(u)))
        # Room for every chunked fix and row; the tail that the span cuts off is never touched.
        total = sum(r[2] for r in chunk_rows) + len(recent)
        t_out, lon_out, lat_out = np.empty(total), np.empty(total), np.empty(total)
        spd_out, hdg_out = np.empty(total, np.float32), np.empty(total, np.float32)
        out_units, out_kinds, starts, ends = [], [], [], []
        o = 0
        for uid in uids:
            name = names.get(uid, str(uid))
            begin = o
            group = by_unit.get(uid)
            if group:
                group.sort(key=lambda r: r[1])
                rec = np.frombuffer(b"".join(r[3] for r in group), CHUNK_DTYPE)
                tt = rec["dt"] * 1e-3
                tt += np.repeat(np.fromiter((r[1] for r in group), float, len(group)),
                                np.fromiter((r[2] for r in group), np.int64, len(group)))
                lo = int(np.searchsorted(tt, t0, side="left"))
                hi = int(np.searchsorted(tt, t1, side="right"))
                m = hi - lo
                t_out[o:o + m] = tt[lo:hi]
                np.multiply(rec["lon"][lo:hi], 1.0 / _DEG_Q, out=lon_out[o:o + m])
                np.multiply(rec["lat"][lo:hi], 1.0 / _DEG_Q, out=lat_out[o:o + m])
                np.multiply(rec["spd"][lo:hi], 1.0 / _SPD_Q, out=spd_out[o:o + m], casting="unsafe")
                np.multiply(rec["hdg"][lo:hi], 1.0 / _HDG_Q, out=hdg_out[o:o + m], casting="unsafe")
                o += m
            rows = rows_of.get(uid)
            if rows is not None and len(rows):
                r = len(rows)
                if o == begin or rows[0, 0] > t_out[o - 1]:
                    # the usual case: the rows are newer than every chunk
                    t_out[o:o + r], lon_out[o:o + r], lat_out[o:o + r] = rows[:, 0], rows[:, 1], rows[:, 2]
                    spd_out[o:o + r], hdg_out[o:o + r] = rows[:, 3], rows[:, 4]
                    o += r
                else:  # a late fix among chunked ones: merge (the row wins a tie)
                    sl = slice(begin, o)
                    mt = Track.from_arrays(name, "", *[np.concatenate([c[sl], rows[:, k]]) for k, c in
                                                       enumerate((t_out, lon_out, lat_out, spd_out, hdg_out))])
                    o = begin + len(mt)
                    t_out[begin:o], lon_out[begin:o], lat_out[begin:o] = mt.t, mt.lon, mt.lat
                    spd_out[begin:o], hdg_out[begin:o] = mt.speed_kmh, mt.heading_deg
            if o > begin:
                out_units.append(name)
                out_kinds.append(kinds.get(name, ""))
                starts.append(begin)
                ends.append(o)
        return TrackSet(tuple(out_units), tuple(out_kinds), np.array(starts, np.int64), np.array(ends, np.int64),
                        t_out[:o], lon_out[:o], lat_out[:o], spd_out[:o], hdg_out[:o])

    def track(self, unit: str, t0: float, t1: float) -> Track:
        """One unit's track in ``[t0, t1]`` (empty if none)."""
        got = self.tracks([unit], t0, t1)
        return got.get(unit) or Track.empty(unit, self._unit_kinds.get(unit, ""))

    def counts(self) -> dict[str, int]:
        """How many fixes are in rows, in chunks, and how many chunks (for checks and benchmarks)."""
        db = self._reader()
        rows = db.execute("SELECT count(*) FROM fixes").fetchone()[0]
        n, c = db.execute("SELECT coalesce(sum(n), 0), count(*) FROM chunks").fetchone()
        return {"rows": int(rows), "chunked": int(n), "chunks": int(c)}

    # --- dispatches -------------------------------------------------------------------

    def add_dispatch(self, unit: str, kind: str, alarm_id: str, lon: float, lat: float, dispatched: float,
                     from_lon: float = math.nan, from_lat: float = math.nan, eta_s: float = math.nan) -> DispatchRecord:
        """Journal a dispatch (committed before it returns)."""
        with self._txn():
            cur = self._db.execute(
                "INSERT INTO dispatches(unit, kind, alarm_id, lon, lat, dispatched, from_lon, from_lat, eta_s) "
                "VALUES(?,?,?,?,?,?,?,?,?)",
                (unit, kind, alarm_id, lon, lat, dispatched, _nn(from_lon), _nn(from_lat), _nn(eta_s)))
        return DispatchRecord(int(cur.lastrowid), unit, kind, alarm_id, lon, lat, dispatched,
                              from_lon=from_lon, from_lat=from_lat, eta_s=eta_s)

    def set_arrived(self, dispatch_id: int, arrived: float) -> None:
        with self._txn():
            self._db.execute("UPDATE dispatches SET arrived=? WHERE id=? AND arrived IS NULL",
                             (arrived, dispatch_id))

    def set_released(self, dispatch_id: int, released: float) -> None:
        with self._txn():
            self._db.execute("UPDATE dispatches SET released=? WHERE id=? AND released IS NULL",
                             (released, dispatch_id))

    def dispatches(self, t0: float = -math.inf, t1: float = math.inf, *, open_only: bool = False,
                   unit: str | None = None, alarm_id: str | None = None,
                   by: str = "dispatched") -> list[DispatchRecord]:
        """Dispatches made in ``[t0, t1]`` (``by="arrived"``: that arrived in it), oldest first;
        ``open_only``: those not released yet."""
        if by not in ("dispatched", "arrived", "released"):
            raise ValueError(f"dispatches by {by!r}: expected dispatched, arrived or released")
        q = f"SELECT * FROM dispatches WHERE {by} >= ? AND {by} <= ?"
        args: list = [_finite(t0, -1e18), _finite(t1, 1e18)]
        if open_only:
            q += " AND released IS NULL"
        if unit is not None:
            q += " AND unit = ?"
            args.append(unit)
        if alarm_id is not None:
            q += " AND alarm_id = ?"
            args.append(alarm_id)
        rows = self._reader().execute(q + f" ORDER BY {by}, id", args).fetchall()
        return [DispatchRecord(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                               _nan(r[9]), _nan(r[10]), _nan(r[11])) for r in rows]

    # --- visits -----------------------------------------------------------------------

    def put_visits(self, visits: Iterable[VisitRecord]) -> None:
        """Journal judged visits (one per post and scheduled time; a re-judgement replaces)."""
        rows = [(v.post, v.scheduled, v.state, v.unit, v.kind, v.arrival, v.checkin, v.departure, v.opens,
                 v.closes, v.judged if v.judged is not None else v.closes, v.alarm_id) for v in visits]
        if not rows:
            return
        with self._txn():
            self._db.executemany("INSERT OR REPLACE INTO visits VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def visits(self, t0: float, t1: float, post: str | None = None, state: str | None = None) -> list[VisitRecord]:
        """Judged visits scheduled in ``[t0, t1]``, by scheduled time then post."""
        q = "SELECT * FROM visits WHERE scheduled >= ? AND scheduled <= ?"
        args: list = [_finite(t0, -1e18), _finite(t1, 1e18)]
        if post is not None:
            q += " AND post = ?"
            args.append(post)
        if state is not None:
            q += " AND state = ?"
            args.append(state)
        rows = self._reader().execute(q + " ORDER BY scheduled, post", args).fetchall()
        return [VisitRecord(post=r[0], scheduled=r[1], state=r[2], unit=r[3], kind=r[4], arrival=r[5],
                            checkin=r[6], departure=r[7], opens=r[8], closes=r[9], judged=r[10],
                            alarm_id=r[11]) for r in rows]


def _nn(v: float):
    """NaN as SQL NULL."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _nan(v) -> float:
    return math.nan if v is None else float(v)


def _finite(v: float, default: float) -> float:
    return v if math.isfinite(v) else default
