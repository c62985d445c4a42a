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
from pathlib import Path

# The pieces of the journal, re-exported here (``from .journal import ...`` keeps working):
# the chunk format, the schema, the dispatch/visit records, and the methods by what they do.
from .chunks import (_DEG_Q, _HDG_Q, _SPD_Q, CHUNK_DTYPE, CHUNK_S, COMPACT_LAG_S,  # noqa: F401
                     _bucket, decode_chunks, encode_chunk)
from .journal_fixes import _FixWriter
from .journal_records import DispatchRecord, VisitRecord, _finite, _nan, _nn, _RecordTables  # noqa: F401
from .journal_schema import _SCHEMA, _VERSION, JournalError
from .journal_tracks import _TrackReader
from .track import Track, TrackSet  # noqa: F401

log = logging.getLogger(__name__)

__all__ = ["PositionJournal", "CHUNK_S", "CHUNK_DTYPE", "DispatchRecord", "VisitRecord", "JournalError"]


class PositionJournal(_FixWriter, _TrackReader, _RecordTables):
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

    def _reload_units(self) -> None:
        self._unit_ids.clear()
        self._unit_kinds.clear()
        for uid, unit, kind in self._db.execute("SELECT id, unit, kind FROM units"):
            self._unit_ids[unit] = uid
            self._unit_kinds[unit] = kind
