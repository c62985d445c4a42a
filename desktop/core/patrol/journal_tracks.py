"""Reading fixes back from the patrol journal: tracks of a span, chunks and recent rows merged,
decoded straight into a :class:`~.track.TrackSet` (what a replay loads).

:class:`_TrackReader` is mixed into :class:`~.journal.PositionJournal`; it uses the journal's
per-thread read connection (``_reader``) and its unit-id cache.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .chunks import _DEG_Q, _HDG_Q, _SPD_Q, CHUNK_DTYPE, _bucket
from .track import Track, TrackSet


class _TrackReader:
    """The fix-reading half of :class:`~.journal.PositionJournal` (a mixin)."""

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
