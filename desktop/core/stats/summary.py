"""Summary tables of the alarm journal, kept up to date in the same transaction as each write.

A statistics chart over a year of a busy district must not scan a million alarms. So every
write the alarm service journals also adds to small tables of counts, in the same
transaction (they can never disagree with the rows after a crash):

``stat_day``        alarms per local day × type × sub-district, with the false alarms and
                    the resolved ones (cases) and 24 hour-of-day columns (``h0`` … ``h23``):
                    every count chart (over time, hour, weekday × hour, place, YoY) reads it.
``stat_cell_day``   alarms per local day × type × grid cell, and ``stat_cell_month`` the same
                    per month: the choropleth adds whole months from the second and the
                    partial months at the ends of a range from the first.
``stat_resp_day`` / ``stat_resp_month``
                    response-time histograms per period × metric × type × sub-district, and
                    ``stat_resp_op_day`` / ``stat_resp_op_month`` per period × metric × type ×
                    operator. Metrics: ``ack`` (received → acknowledged), ``dispatch``,
                    ``arrive`` (a patrol unit within the arrival radius) and ``resolve``.
                    A histogram is a blob of (bin, count) pairs (:func:`bin_of`): to the
                    second below 10 min, 10 s below an hour, a minute below a day.
``camera_status_log`` every change of a camera's reported status (a repeat of the same
                    status is not a change), and ``camera_outages`` one row per period a
                    camera was not online (``end`` NULL while it lasts).
``arrivals``        patrol arrivals at alarms (the patrol service detects them).
``stat_cam_*``      camera downtime per day and month, added as each outage ends
                    (:mod:`desktop.core.stats.downtime`).

Days and hours are the district's local ones (its zone is written in ``meta`` as
``summary_tz``; a journal opened with another zone has its summaries rebuilt from the rows).
Alarms are placed in a grid cell by ``cell_of(lon_wgs, lat_wgs)`` (the session gives the
district's grid); without it the cell is ''.
"""
from __future__ import annotations

import logging
import sqlite3
import struct
from collections import Counter
from collections import defaultdict
from datetime import date, datetime, tzinfo
from typing import Callable, Iterable

import numpy as np

from .downtime import DOWNTIME_SCHEMA, DOWNTIME_TABLES, outage_closed, rebuild_downtime

log = logging.getLogger(__name__)

__all__ = ["SummaryKeeper", "SUMMARY_SCHEMA", "SUMMARY_VERSION", "METRICS", "HIST_DTYPE", "bin_of",
           "bin_floor", "N_BINS", "day_index", "month_index", "day_of_index", "STAT_TABLES"]

SUMMARY_VERSION = 2  # 2: camera downtime tables (a version-1 journal gets them without a full rebuild)
METRICS = ("ack", "dispatch", "arrive", "resolve")
HOURS = tuple(f"h{h}" for h in range(24))
HIST_DTYPE = np.dtype([("b", "<u2"), ("n", "<u4")])

SUMMARY_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS stat_day (
    day INTEGER NOT NULL, type TEXT NOT NULL, subdistrict TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0, n_false INTEGER NOT NULL DEFAULT 0, n_resolved INTEGER NOT NULL DEFAULT 0,
    {', '.join(f'{h} INTEGER NOT NULL DEFAULT 0' for h in HOURS)},
    PRIMARY KEY (day, type, subdistrict)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_cell_day (
    day INTEGER NOT NULL, type TEXT NOT NULL, cell TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, type, cell)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_cell_month (
    month INTEGER NOT NULL, type TEXT NOT NULL, cell TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, type, cell)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_resp_day (
    day INTEGER NOT NULL, metric TEXT NOT NULL, type TEXT NOT NULL, subdistrict TEXT NOT NULL, bins BLOB NOT NULL,
    PRIMARY KEY (day, metric, type, subdistrict)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_resp_month (
    month INTEGER NOT NULL, metric TEXT NOT NULL, type TEXT NOT NULL, subdistrict TEXT NOT NULL, bins BLOB NOT NULL,
    PRIMARY KEY (month, metric, type, subdistrict)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_resp_op_day (
    day INTEGER NOT NULL, metric TEXT NOT NULL, type TEXT NOT NULL, operator TEXT NOT NULL, bins BLOB NOT NULL,
    PRIMARY KEY (day, metric, type, operator)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_resp_op_month (
    month INTEGER NOT NULL, metric TEXT NOT NULL, type TEXT NOT NULL, operator TEXT NOT NULL, bins BLOB NOT NULL,
    PRIMARY KEY (month, metric, type, operator)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS camera_status_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, camera_id TEXT NOT NULL, status TEXT NOT NULL,
    epoch REAL NOT NULL, reason TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS camera_status_log_camera ON camera_status_log (camera_id, epoch);
CREATE TABLE IF NOT EXISTS camera_outages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, camera_id TEXT NOT NULL, status TEXT NOT NULL,
    start REAL NOT NULL, "end" REAL);
CREATE INDEX IF NOT EXISTS camera_outages_start ON camera_outages (start);
CREATE INDEX IF NOT EXISTS camera_outages_open ON camera_outages (camera_id) WHERE "end" IS NULL;
CREATE TABLE IF NOT EXISTS arrivals (
    alarm_id TEXT NOT NULL, unit TEXT NOT NULL, dispatched REAL NOT NULL, arrived REAL NOT NULL,
    PRIMARY KEY (alarm_id, unit, dispatched)) WITHOUT ROWID;
""" + DOWNTIME_SCHEMA

_METRIC_OF = {"acknowledged": "ack", "dispatched": "dispatch", "resolved": "resolve"}

STAT_TABLES = ("stat_day", "stat_cell_day", "stat_cell_month", "stat_resp_day", "stat_resp_month",
               "stat_resp_op_day", "stat_resp_op_month") + DOWNTIME_TABLES

# Histogram bins: 1 s below 600 s, 10 s below 3600 s, 60 s below a day, one bin beyond.
_B1, _B2, _B3 = 600, 600 + 300, 600 + 300 + 1380
N_BINS = _B3 + 1


def bin_of(seconds: float) -> int:
    """The histogram bin of a duration (negative durations — clock skew — count as 0)."""
    s = max(0.0, float(seconds))
    if s < 600:
        return int(s)
    if s < 3600:
        return _B1 + int((s - 600) // 10)
    if s < 86400:
        return _B2 + int((s - 3600) // 60)
    return _B3


def bin_floor(b: np.ndarray | int) -> np.ndarray:
    """The lower edge (seconds) of bin(s) ``b``."""
    b = np.asarray(b, np.int64)
    return np.where(b < _B1, b, np.where(b < _B2, 600 + (b - _B1) * 10,
                                         np.where(b < _B3, 3600 + (b - _B2) * 60, 86400))).astype(float)


def day_index(d: date) -> int:
    """A local date as the integer the summaries key by (its proleptic ordinal)."""
    return d.toordinal()


def day_of_index(i: int) -> date:
    return date.fromordinal(int(i))


def month_index(d: date) -> int:
    """A local month as an integer: year × 12 + month − 1."""
    return d.year * 12 + d.month - 1


def _encode(hist: dict[int, int]) -> bytes:
    """(bin, count) pairs, sorted by bin, little-endian u16 + u32 (the layout of :data:`HIST_DTYPE`)."""
    items = sorted(hist.items())
    return struct.pack("<" + "HI" * len(items), *(x for kv in items for x in kv))


def _decode(blob: bytes) -> dict[int, int]:
    return dict(struct.iter_unpack("<HI", blob))


class _AlarmKey:
    """What the summaries need of an alarm: local day, month, hour, type, sub-district, cell."""

    __slots__ = ("day", "month", "hour", "type", "sub", "cell", "received")  # cell: placed at the batch's end

    def __init__(self, day, month, hour, type_, sub, cell, received):
        self.day, self.month, self.hour = day, month, hour
        self.type, self.sub, self.cell, self.received = type_, sub, cell, received


class SummaryKeeper:
    """Keeps the summary tables of one journal connection (called by the journal's batches).

    ``tz`` is the zone days and hours are counted in; ``cell_of(lon_wgs, lat_wgs)`` names the
    grid cell of a point ('' outside every cell). Both may be set after construction, before
    the first write (the session sets them when the district is known).
    """

    def __init__(self, tz: tzinfo | None = None, cell_of: Callable[[float, float], str] | None = None,
                 cells_of: Callable | None = None):
        if tz is None:
            from desktop.core.localtime import district_zone
            tz = district_zone()
        self.tz = tz
        self.cell_of = cell_of
        # cells_of(lon array, lat array) -> list of cell ids: the same as cell_of for many
        # points at once; a batch's new alarms are placed together when the batch ends.
        self.cells_of = cells_of
        self._new: list[tuple[int, int, str, float, float]] = []  # (day, month, type, lon, lat)
        self._keys: dict[str, _AlarmKey] = {}  # alarms seen lately (see _remember)
        self._resp: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._hists: dict[tuple, dict[int, int]] = {}  # histograms as last written (see flush)
        self._batch_new: list[str] = []  # alarms first counted in this batch
        self._day_add: Counter = Counter()  # (day, type, sub, hour) -> new alarms in this batch
        self._closed: Counter = Counter()  # (day, type, sub, column) -> closures in this batch
        self._camera_last: dict[str, tuple[str, float]] | None = None
        self._hour_sql = [
            f"INSERT INTO stat_day (day, type, subdistrict, n, {h}) VALUES (?, ?, ?, ?, ?) "
            f"ON CONFLICT (day, type, subdistrict) DO UPDATE SET n = n + excluded.n, {h} = {h} + excluded.{h}"
            for h in HOURS]

    @property
    def tz_name(self) -> str:
        return getattr(self.tz, "key", None) or str(self.tz)

    # --- set-up -------------------------------------------------------------------------------
    def install(self, conn: sqlite3.Connection) -> None:
        """Rebuild the summaries from the rows when they are stale (an older version), were
        counted in another zone or were never kept (a journal from before them). The tables
        themselves are created when the journal opens."""
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('summary_tz', 'summary_version')"))
        if meta.get("summary_tz") == self.tz_name and meta.get("summary_version") == str(SUMMARY_VERSION):
            return
        conn.execute("BEGIN IMMEDIATE")  # the rebuild and both keys in one commit (one fsync)
        try:
            if meta.get("summary_tz") == self.tz_name and meta.get("summary_version") == "1":
                # version 1 lacked only the downtime tables: add them, keep the rest
                log.info("alarm journal: camera downtime summaries added")
                rebuild_downtime(conn, self.tz)
            elif (conn.execute("SELECT 1 FROM alarms LIMIT 1").fetchone() is not None
                  or conn.execute("SELECT 1 FROM camera_outages LIMIT 1").fetchone() is not None):
                log.info("alarm journal summaries (re)built for zone %s", self.tz_name)
                self._rebuild(conn)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('summary_tz', ?)", (self.tz_name,))
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('summary_version', ?)", (str(SUMMARY_VERSION),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def rebuild(self, conn: sqlite3.Connection) -> None:
        """Recompute every summary from the alarms, transitions, arrivals and camera outages
        (one full scan)."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._rebuild(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _rebuild(self, conn: sqlite3.Connection) -> None:
        try:
            for t in STAT_TABLES:
                conn.execute(f"DELETE FROM {t}")
            self._keys.clear()
            self._hists.clear()
            cur = conn.execute("SELECT id, type, epoch, subdistrict, lon_wgs, lat_wgs, received FROM alarms")
            while rows := cur.fetchmany(5000):
                for r in rows:
                    self.alarm_added(conn, *r)
                self.place_new(conn)
                self.flush(conn)
            cur = conn.execute("SELECT alarm_id, to_state, operator, epoch FROM transitions ORDER BY seq")
            while rows := cur.fetchmany(5000):
                for r in rows:
                    self.transition_added(conn, *r)
                self.flush(conn)
            cur = conn.execute("SELECT alarm_id, arrived FROM arrivals")
            while rows := cur.fetchmany(5000):
                for r in rows:
                    self.arrival_added(conn, *r)
                self.flush(conn)
            rebuild_downtime(conn, self.tz)
        finally:
            self._resp.clear()
            self._new.clear()
            self._day_add.clear()
            self._closed.clear()

    # --- hooks (inside a journal transaction) -----------------------------------------------
    def _key(self, type_: str, epoch: float, sub: str, lon_wgs: float, lat_wgs: float, received: float) -> _AlarmKey:
        dt = datetime.fromtimestamp(float(epoch), self.tz)
        d = dt.date()
        return _AlarmKey(d.toordinal(), d.year * 12 + d.month - 1, dt.hour, type_, sub or "", "",
                         float(received or epoch))

    def _cells(self, lon: list[float], lat: list[float]) -> list[str]:
        try:
            if self.cells_of is not None:
                return [c or "" for c in self.cells_of(np.asarray(lon, float), np.asarray(lat, float))]
            if self.cell_of is not None:
                return [self.cell_of(x, y) or "" for x, y in zip(lon, lat)]
        except Exception:  # noqa: BLE001 - a bad locator must not lose the alarms
            log.exception("placing %d alarms in grid cells failed", len(lon))
        return [""] * len(lon)

    def alarm_added(self, conn: sqlite3.Connection, alarm_id: str, type_: str, epoch: float, sub: str,
                    lon_wgs: float, lat_wgs: float, received: float) -> None:
        """A new alarm was inserted (not a repeat folded into one, not an update). Counted when
        the batch ends, with the batch's others (one statement per hour of day touched)."""
        k = self._key(type_, epoch, sub, lon_wgs, lat_wgs, received)
        self._remember(alarm_id, k)
        self._batch_new.append(alarm_id)
        self._day_add[(k.day, k.type, k.sub, k.hour)] += 1
        self._new.append((k.day, k.month, k.type, float(lon_wgs), float(lat_wgs)))

    def knows(self, alarm_id: str) -> bool:
        """True when ``alarm_id`` is in the journal already (seen lately by these summaries)."""
        return alarm_id in self._keys

    def _remember(self, alarm_id: str, k: _AlarmKey) -> None:
        # What the summaries need of an alarm never changes (type, time, place, receipt), so it
        # is kept across batches: a workflow change minutes later needs no read of the row.
        if len(self._keys) >= 200_000:
            self._keys.clear()
        self._keys[alarm_id] = k

    def _lookup(self, conn: sqlite3.Connection, alarm_id: str) -> _AlarmKey | None:
        k = self._keys.get(alarm_id)
        if k is None:
            r = conn.execute("SELECT type, epoch, subdistrict, lon_wgs, lat_wgs, received FROM alarms WHERE id = ?",
                             (alarm_id,)).fetchone()
            if r is None:
                return None
            k = self._key(*r)
            self._remember(alarm_id, k)
        return k

    def transition_added(self, conn: sqlite3.Connection, alarm_id: str, to_state: str, operator: str,
                         epoch: float) -> None:
        """A workflow change was journaled: count closures, add response times."""
        to_state = str(to_state)
        k = self._lookup(conn, alarm_id)
        if k is None:
            return  # a change of an alarm this journal never had (cannot be placed)
        if to_state == "false_alarm":
            self._closed[(k.day, k.type, k.sub, "n_false")] += 1
        elif to_state == "resolved":
            self._closed[(k.day, k.type, k.sub, "n_resolved")] += 1
        metric = _METRIC_OF.get(to_state)
        if metric is not None:
            self._add_response(k, metric, operator, float(epoch) - k.received)

    def arrival_added(self, conn: sqlite3.Connection, alarm_id: str, arrived: float, unit: str = "") -> None:
        k = self._lookup(conn, alarm_id)
        if k is not None:
            self._add_response(k, "arrive", unit, float(arrived) - k.received)

    def _add_response(self, k: _AlarmKey, metric: str, who: str, seconds: float) -> None:
        b = bin_of(seconds)
        self._resp[("stat_resp_day", k.day, metric, k.type, k.sub)][b] += 1
        self._resp[("stat_resp_month", k.month, metric, k.type, k.sub)][b] += 1
        if metric != "arrive":  # an arrival is a unit's, not an operator's
            self._resp[("stat_resp_op_day", k.day, metric, k.type, who or "")][b] += 1
            self._resp[("stat_resp_op_month", k.month, metric, k.type, who or "")][b] += 1

    def flush(self, conn: sqlite3.Connection) -> None:
        """Write what the batch gathered: alarm counts per day and hour, closures, and the
        response histograms merged into their rows. The histograms last written are kept in
        memory (a journal has one writer), so a merge reads a row only the first time."""
        by_hour: dict[int, list] = defaultdict(list)
        for (day, type_, sub, hour), n in self._day_add.items():
            by_hour[hour].append((day, type_, sub, n, n))
        for hour, rows in by_hour.items():
            conn.executemany(self._hour_sql[hour], rows)
        self._day_add.clear()
        for col in ("n_false", "n_resolved"):
            rows = [(d, t, s, n) for (d, t, s, c), n in self._closed.items() if c == col]
            if rows:
                conn.executemany(f"INSERT INTO stat_day (day, type, subdistrict, {col}) VALUES (?, ?, ?, ?) "
                                 f"ON CONFLICT (day, type, subdistrict) DO UPDATE SET {col} = {col} + excluded.{col}",
                                 rows)
        self._closed.clear()
        if len(self._hists) > 50_000:
            self._hists.clear()
        writes: dict[str, list] = defaultdict(list)
        for key, hist in self._resp.items():
            table, period, metric, type_, who = key
            merged = self._hists.get(key)
            if merged is None:
                pcol = "day" if table.endswith("_day") else "month"
                wcol = "operator" if "_op_" in table else "subdistrict"
                r = conn.execute(f"SELECT bins FROM {table} WHERE {pcol} = ? AND metric = ? AND type = ? "
                                 f"AND {wcol} = ?", (period, metric, type_, who)).fetchone()
                merged = self._hists[key] = _decode(r[0]) if r else {}
            for b, n in hist.items():
                merged[b] = merged.get(b, 0) + n
            writes[table].append((period, metric, type_, who, _encode(merged)))
        for table, rows in writes.items():
            conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?)", rows)
        self._resp.clear()

    def place_new(self, conn: sqlite3.Connection) -> None:
        """Count the batch's new alarms in their grid cells (placed all at once)."""
        if not self._new:
            return
        cells = self._cells([r[3] for r in self._new], [r[4] for r in self._new])
        by_day = Counter((r[0], r[2], c) for r, c in zip(self._new, cells))
        by_month = Counter((r[1], r[2], c) for r, c in zip(self._new, cells))
        conn.executemany("INSERT INTO stat_cell_day VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                         [(*k, n) for k, n in by_day.items()])
        conn.executemany("INSERT INTO stat_cell_month VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n",
                         [(*k, n) for k, n in by_month.items()])
        self._new.clear()

    def end_batch(self, conn: sqlite3.Connection) -> None:
        """Called before the batch commits."""
        self.place_new(conn)
        self.flush(conn)
        self._batch_new.clear()

    def abort_batch(self) -> None:
        """The batch rolled back: forget what it gathered, and the merged histograms and camera
        states kept in memory (they may hold what was rolled back)."""
        for aid in self._batch_new:  # not in the journal after all
            self._keys.pop(aid, None)
        self._batch_new.clear()
        self._new.clear()
        self._resp.clear()
        self._day_add.clear()
        self._closed.clear()
        self._hists.clear()
        self._camera_last = None

    # --- camera status ---------------------------------------------------------------------
    def camera_status(self, conn: sqlite3.Connection, camera_id: str, status: str, epoch: float,
                      reason: str = "") -> bool:
        """A reported status: journaled when it changes the camera's state (True), else ignored.
        A report older than the camera's last change is ignored too (it arrived late)."""
        if self._camera_last is None:
            self._camera_last = {}
            for cam, st, ep in conn.execute(
                    "SELECT camera_id, status, MAX(epoch) FROM camera_status_log GROUP BY camera_id"):
                self._camera_last[cam] = (st, ep)
        last = self._camera_last.get(camera_id)
        status = str(status)
        if last is not None and (last[0] == status or epoch < last[1]):
            return False
        if last is None and status == "online":
            # First report and it is online: the normal state, worth a row (the camera is known).
            pass
        conn.execute("INSERT INTO camera_status_log (camera_id, status, epoch, reason) VALUES (?, ?, ?, ?)",
                     (camera_id, status, float(epoch), reason or ""))
        was_down = last is not None and last[0] != "online"
        if status == "online":
            if was_down:
                for oid, start in conn.execute('SELECT id, start FROM camera_outages WHERE camera_id = ? '
                                               'AND "end" IS NULL', (camera_id,)).fetchall():
                    conn.execute('UPDATE camera_outages SET "end" = ? WHERE id = ?', (float(epoch), oid))
                    outage_closed(conn, camera_id, start, float(epoch), self.tz)
        elif not was_down:
            conn.execute('INSERT INTO camera_outages (camera_id, status, start) VALUES (?, ?, ?)',
                         (camera_id, status, float(epoch)))
        self._camera_last[camera_id] = (status, float(epoch))
        return True
