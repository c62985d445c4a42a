"""Writing fixes into the patrol journal: the buffer and its batched commits, compaction of
finished buckets into chunks, bulk writes of whole tracks, and pruning.

:class:`_FixWriter` is mixed into :class:`~.journal.PositionJournal`; it uses the journal's
writer connection and locks (``_db``, ``_wlock``, ``_buf_lock``), its unit-id cache
(``_unit_id``, ``_reload_units``) and its write transaction (``_txn``).
"""
from __future__ import annotations

import math
import time
from typing import Iterable, Sequence

import numpy as np

from .chunks import CHUNK_S, COMPACT_LAG_S, _bucket, decode_chunks, encode_chunk
from .track import Track


class _FixWriter:
    """The fix-writing half of :class:`~.journal.PositionJournal` (a mixin)."""

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
