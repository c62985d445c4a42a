"""The figures a center reports, read from the journals' summary tables (Qt-free).

:class:`StatsReader` opens one or more alarm journals read-only (the live one, and the bundled
history of the embedded default) and answers every chart of the statistics panel for a
:class:`StatsFilter` (a range of local days, types, sub-districts) from the summary tables of
:mod:`desktop.core.stats.summary` — never by scanning the alarms, except for the drill-down
(:meth:`StatsReader.alarms_behind`), which lists at most ``limit`` alarms behind one bar or cell.

Percentiles are nearest-rank (the smallest value with at least p % of the samples at or below
it), read off the histograms: exact to the second below ten minutes.
"""
from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, tzinfo
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from desktop.core.alarms.journal import _ALARM_COLS
from desktop.core.alarms.model import Alarm, AlarmState

from .downtime import DROP_CLASSES_S, class_of_minimum
from .periods import (StatsError, StatsFilter, merge_spans, pct_change, percentile_nearest_rank,  # noqa: F401
                      previous_period, same_range_last_year, split_months)
from .summary import HIST_DTYPE, HOURS, METRICS, N_BINS, bin_floor, day_index, month_index

__all__ = ["StatsFilter", "StatsReader", "StatsError", "CountFigures", "Change", "ResponseFigure",
           "CameraFigures", "percentile_nearest_rank", "pct_change", "same_range_last_year",
           "previous_period"]

TARGET_S = 60.0  # the response target line of the charts


@dataclass
class CountFigures:
    """Alarm counts of a filter: ``types`` (sorted), ``days`` (ordinals, every day of the
    range), ``by_day[type, day]``, ``hour[24]``, ``weekday_hour[7, 24]`` (Monday first),
    ``by_sub`` (sub-district → counts per type), totals, false alarms and cases per type."""

    types: list[str]
    days: np.ndarray
    by_day: np.ndarray
    hour: np.ndarray
    weekday_hour: np.ndarray
    type_hour: np.ndarray
    subdistricts: list[str]
    by_sub: np.ndarray  # [sub, type]
    total: np.ndarray  # per type
    false: np.ndarray
    resolved: np.ndarray

    def months(self) -> tuple[list[tuple[int, int]], np.ndarray]:
        """(year, month) of each month of the range and ``[type, month]`` counts."""
        mi = np.array([month_index(date.fromordinal(int(d))) for d in self.days], np.int64)
        uniq, inv = np.unique(mi, return_inverse=True)
        out = np.zeros((len(self.types), len(uniq)), np.int64)
        for k in range(len(self.types)):
            out[k] = np.bincount(inv, weights=self.by_day[k], minlength=len(uniq))
        return [(int(m) // 12, int(m) % 12 + 1) for m in uniq], out

    def false_share(self) -> np.ndarray:
        """False alarms / alarms per type (NaN where there were none)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.total > 0, self.false / np.maximum(self.total, 1), np.nan)


@dataclass(frozen=True)
class Change:
    """One type's count in the range, a year before (同比) and the period before (环比)."""

    type: str
    now: int
    last_year: int
    previous: int

    @property
    def yoy_pct(self) -> float | None:
        return pct_change(self.now, self.last_year)

    @property
    def pop_pct(self) -> float | None:
        return pct_change(self.now, self.previous)


@dataclass(frozen=True)
class ResponseFigure:
    """Response times of one group and metric: how many, median and p90 (seconds)."""

    group: str
    metric: str
    n: int
    median_s: float
    p90_s: float
    within_target: float  # share of samples at or under the target (60 s)


@dataclass
class CameraFigures:
    """Camera online rate per day of the range (NaN for days still to come), over the range,
    and the cameras down longest (camera id, seconds down, drops)."""

    days: np.ndarray
    rate: np.ndarray
    overall: float
    worst: list[tuple[str, float, int]]
    n_cameras: int
    min_drop_s: float


def _in(col: str, values: Sequence[str] | None, args: list) -> str:
    if values is None:
        return ""
    args.extend(values)
    return f" AND {col} IN ({','.join('?' * len(values))})" if values else " AND 0"


def _dense_histograms(rows: list[tuple]) -> tuple[tuple[list[tuple[str, str, str]], np.ndarray], int]:
    """(metric, type, who, histogram blob) rows as their keys and one dense ``[key, bin]``
    table of counts (merged where a key repeats), with its size in bytes."""
    keys = sorted({(m, t, w) for m, t, w, _b in rows})
    kidx = {k: i for i, k in enumerate(keys)}
    lens = np.array([len(r[3]) // HIST_DTYPE.itemsize for r in rows], np.int64)
    allb = np.frombuffer(b"".join(r[3] for r in rows), HIST_DTYPE)
    owner = np.repeat(np.array([kidx[(r[0], r[1], r[2])] for r in rows], np.int64), lens)
    dense = np.bincount(owner * N_BINS + allb["b"].astype(np.int64), weights=allb["n"],
                        minlength=len(keys) * N_BINS).astype(np.uint32).reshape(len(keys), N_BINS)
    return (keys, dense), dense.nbytes + 100 * len(keys)


class StatsReader:
    """Read-only statistics over one or more alarm journals (summed). Thread-safe.

    ``tz`` is the zone the summaries were counted in (the district's): it turns local days into
    epoch ranges for the drill-down and the camera figures.
    """

    MEMO_BYTES = 64 << 20  # summary rows (or what was made of them) remembered between refreshes
    MEMO_QUERIES = 256

    def __init__(self, paths: Iterable[Path | str], tz: tzinfo | None = None):
        if tz is None:
            from desktop.core.localtime import district_zone
            tz = district_zone()
        self.tz = tz
        self.paths = [Path(p) for p in paths]
        self._lock = threading.Lock()
        self._conns: dict[Path, sqlite3.Connection] = {}
        self._memo: OrderedDict[tuple, tuple[int, object, int]] = OrderedDict()  # key -> version, value, bytes
        self._memo_size = 0  # bytes remembered (roughly)
        self._downtime: dict[int, bool] = {}

    def _connections(self) -> list[sqlite3.Connection]:
        out = []
        for p in self.paths:
            c = self._conns.get(p)
            if c is None:
                if not p.exists():
                    continue  # a live journal not created yet: nothing to count
                c = sqlite3.connect(f"file:{p}?mode=ro", uri=True, check_same_thread=False, timeout=10.0)
                has = c.execute("SELECT 1 FROM sqlite_master WHERE name = 'stat_day'").fetchone()
                if has is None:
                    c.close()
                    raise StatsError(f"{p}: this journal has no summary tables (open it once with the program to build them)")
                self._conns[p] = c
            out.append(c)
        return out

    def _rows(self, sql: str, args: Sequence, memo: bool = True) -> list[tuple]:
        """The rows of ``sql`` from every journal, summed. Summary queries are remembered per
        journal until that journal changes (SQLite's ``data_version``): a refresh over the
        bundled history, which never changes, or over a live journal between two writes, does
        not read the same rows twice. The rows returned may be shared: do not change them."""
        with self._lock:
            rows: list[tuple] = []
            for c in self._connections():
                rows.extend(self._memo_rows(c, sql, args) if memo else c.execute(sql, args).fetchall())
            return rows

    def _memo_rows(self, c: sqlite3.Connection, sql: str, args: Sequence,
                   parse: Callable[[list[tuple]], tuple[object, int]] | None = None):
        """The rows of ``sql`` on one journal — or ``parse(rows)``'s result, when given (it
        returns the result and its size in bytes) — remembered until the journal changes."""
        version = c.execute("PRAGMA data_version").fetchone()[0]
        key = (id(c), sql, tuple(args), parse.__name__ if parse is not None else "")
        hit = self._memo.get(key)
        if hit is not None and hit[0] == version:
            self._memo.move_to_end(key)
            return hit[1]
        rows = c.execute(sql, args).fetchall()
        value, size = parse(rows) if parse is not None else (rows, 64 * len(rows) + 64)
        old = self._memo.pop(key, None)
        if old is not None:
            self._memo_size -= old[2]
        self._memo[key] = (version, value, size)
        self._memo_size += size
        while self._memo and (self._memo_size > self.MEMO_BYTES or len(self._memo) > self.MEMO_QUERIES):
            _k, (_v, _value, dropped) = self._memo.popitem(last=False)
            self._memo_size -= dropped
        return value

    def _has_downtime(self, c: sqlite3.Connection) -> bool:
        """True when the journal keeps the camera downtime summaries (summary version 2 on)."""
        has = self._downtime.get(id(c))
        if has is None:
            r = c.execute("SELECT value FROM meta WHERE key = 'summary_version'").fetchone()
            try:
                has = r is not None and int(r[0]) >= 2
            except ValueError:
                has = False
            self._downtime[id(c)] = has
        return has

    def epoch_of_day(self, d: date) -> float:
        """Local midnight starting ``d``, as epoch seconds."""
        return datetime.combine(d, dtime(0), self.tz).timestamp()

    def close(self) -> None:
        with self._lock:
            for c in self._conns.values():
                c.close()
            self._conns.clear()
            self._memo.clear()
            self._memo_size = 0
            self._downtime.clear()

    # --- counts -------------------------------------------------------------------------------
    def counts(self, f: StatsFilter) -> CountFigures:
        """Every count chart of the filter from ``stat_day``, summed by SQLite in three queries
        (per type and weekday with the hours; per day and type; per sub-district and type)."""
        d0, d1 = day_index(f.first), day_index(f.last)
        args: list = [d0, d1]
        where = "FROM stat_day WHERE day BETWEEN ? AND ?" + _in("type", f.types, args) + _in("subdistrict", f.subdistricts, args)
        # ordinal 1 (0001-01-01) was a Monday: (day - 1) % 7 is the weekday, Monday 0
        by_wd = self._rows(f"SELECT type, (day - 1) % 7, SUM(n), SUM(n_false), SUM(n_resolved), "
                           f"{', '.join(f'SUM({h})' for h in HOURS)} {where} GROUP BY 1, 2", args)
        by_dt = self._rows(f"SELECT day, type, SUM(n) {where} GROUP BY 1, 2", args)
        by_st = self._rows(f"SELECT subdistrict, type, SUM(n) {where} GROUP BY 1, 2", args)
        days = np.arange(d0, d1 + 1)
        types = sorted({r[0] for r in by_wd} | set(f.types or ()))
        subs = sorted({r[0] for r in by_st} | set(f.subdistricts or ()))
        ti = {t: i for i, t in enumerate(types)}
        si = {s: i for i, s in enumerate(subs)}
        nt, ns = len(types), len(subs)

        def arr(rows, cols, width):
            return np.array([r[cols:] for r in rows], np.int64).reshape(len(rows), width)

        a = arr(by_wd, 2, 27)  # n, n_false, n_resolved, h0 … h23
        t = np.array([ti[r[0]] for r in by_wd], np.int64)
        wd = np.array([r[1] for r in by_wd], np.int64)
        hours = a[:, 3:]
        weekday_hour = np.zeros((7, 24), np.int64)
        np.add.at(weekday_hour, wd, hours)
        type_hour = np.zeros((nt, 24), np.int64)
        np.add.at(type_hour, t, hours)
        tot, false, res = (np.bincount(t, weights=a[:, k], minlength=nt).astype(np.int64) for k in range(3))
        by_day = np.zeros((nt, len(days)), np.int64)
        if by_dt:
            np.add.at(by_day, (np.array([ti[r[1]] for r in by_dt]), np.array([r[0] for r in by_dt]) - d0),
                      arr(by_dt, 2, 1)[:, 0])
        by_sub = np.zeros((ns, nt), np.int64)
        if by_st:
            np.add.at(by_sub, (np.array([si[r[0]] for r in by_st]), np.array([ti[r[1]] for r in by_st])),
                      arr(by_st, 2, 1)[:, 0])
        return CountFigures(types=types, days=days, by_day=by_day, hour=hours.sum(axis=0),
                            weekday_hour=weekday_hour, type_hour=type_hour, subdistricts=subs, by_sub=by_sub,
                            total=tot, false=false, resolved=res)

    def totals(self, f: StatsFilter) -> dict[str, tuple[int, int, int]]:
        """type → (alarms, false alarms, resolved) over the filter."""
        args: list = [day_index(f.first), day_index(f.last)]
        sql = "SELECT type, SUM(n), SUM(n_false), SUM(n_resolved) FROM stat_day WHERE day BETWEEN ? AND ?"
        sql += _in("type", f.types, args) + _in("subdistrict", f.subdistricts, args) + " GROUP BY type"
        out: dict[str, list[int]] = {}
        for t, n, nf, nr in self._rows(sql, args):
            acc = out.setdefault(t, [0, 0, 0])
            acc[0] += n
            acc[1] += nf
            acc[2] += nr
        return {t: tuple(v) for t, v in out.items()}

    def changes(self, f: StatsFilter) -> list[Change]:
        """Per type: the range against the same dates a year before and the period before."""
        now = self.totals(f)
        ly = self.totals(f.shifted(*same_range_last_year(f.first, f.last)))
        pp = self.totals(f.shifted(*previous_period(f.first, f.last)))
        types = sorted(set(now) | set(ly) | set(pp))
        return [Change(t, now.get(t, (0,))[0], ly.get(t, (0,))[0], pp.get(t, (0,))[0]) for t in types]

    # --- response times ------------------------------------------------------------------------
    def response(self, f: StatsFilter, by: str = "type", target_s: float = TARGET_S) -> list[ResponseFigure]:
        """Median and p90 per group (``by``: type, subdistrict, operator, or all) and metric.

        By operator the sub-district filter does not apply (those histograms are kept per type
        and operator only); every other filter does."""
        if by not in ("type", "subdistrict", "operator", "all"):
            raise StatsError(f"response times by {by!r}: expected type, subdistrict, operator or all")
        op = by == "operator"
        wcol = "operator" if op else "subdistrict"
        spans, months = split_months(f.first, f.last)
        parts: list[tuple[list[tuple[str, str, str]], np.ndarray]] = []
        for table, pcol, ranges in ((f"stat_resp{'_op' if op else ''}_month", "month",
                                     [(min(months), max(months))] if months else []),
                                    (f"stat_resp{'_op' if op else ''}_day", "day", merge_spans(spans))):
            if not ranges:
                continue
            # one query per table: the whole months (contiguous), or the (at most two) partial spans
            cond = " OR ".join(f"{pcol} BETWEEN ? AND ?" for _ in ranges)
            args: list = [x for r in ranges for x in r]
            sql = f"SELECT metric, type, {wcol}, bins FROM {table} WHERE ({cond})"
            sql += _in("type", f.types, args)
            if not op:
                sql += _in("subdistrict", f.subdistricts, args)
            with self._lock:
                for c in self._connections():
                    parts.append(self._memo_rows(c, sql, args, _dense_histograms))
        pick = {"type": 1, "subdistrict": 2, "operator": 2}.get(by)
        keys = sorted({(k[pick] if pick is not None else "", k[0]) for ks, _d in parts for k in ks})
        if not keys:
            return []
        kidx = {k: i for i, k in enumerate(keys)}
        dense = np.zeros((len(keys), N_BINS))
        for ks, d in parts:
            # summed into the groups by a 0/1 matrix product (np.add.at on rows is 50× slower);
            # float64 holds these counts exactly
            onehot = np.zeros((len(keys), len(ks)))
            onehot[[kidx[(k[pick] if pick is not None else "", k[0])] for k in ks], np.arange(len(ks))] = 1.0
            dense += onehot @ d
        # the nearest-rank percentiles: the first bin whose running count reaches the rank
        cum = np.cumsum(dense, axis=1)
        totals = cum[:, -1]
        vals = bin_floor(np.arange(N_BINS))
        t_idx = int(np.searchsorted(vals, target_s, side="right")) - 1

        def pct(p: float) -> np.ndarray:
            rank = np.maximum(1, np.ceil(p / 100.0 * totals))
            return vals[np.argmax(cum >= rank[:, None], axis=1)]

        p50, p90 = pct(50), pct(90)
        out = []
        for i, (group, metric) in enumerate(keys):
            total = int(totals[i])
            if total == 0:
                out.append(ResponseFigure(group, metric, 0, math.nan, math.nan, math.nan))
                continue
            within = float(cum[i, t_idx]) / total if t_idx >= 0 else 0.0
            out.append(ResponseFigure(group, metric, total, float(p50[i]), float(p90[i]), within))
        order = {m: i for i, m in enumerate(METRICS)}
        out.sort(key=lambda r: (r.group, order.get(r.metric, 9)))
        return out

    # --- places ---------------------------------------------------------------------------------
    def cells(self, f: StatsFilter, cells: Iterable[str] | None = None) -> dict[str, int]:
        """Alarms per grid cell ('' = outside every cell). The sub-district filter is applied by
        the caller as ``cells`` (the cells of those sub-districts)."""
        spans, months = split_months(f.first, f.last)
        out: dict[str, int] = {}
        for table, pcol, ranges in (("stat_cell_month", "month", [(min(months), max(months))] if months else []),
                                    ("stat_cell_day", "day", merge_spans(spans))):
            if not ranges:
                continue
            cond = " OR ".join(f"{pcol} BETWEEN ? AND ?" for _ in ranges)
            args: list = [x for r in ranges for x in r]
            sql = f"SELECT cell, SUM(n) FROM {table} WHERE ({cond})" + _in("type", f.types, args) + " GROUP BY cell"
            for cell, n in self._rows(sql, args):
                out[cell] = out.get(cell, 0) + int(n)
        if cells is not None:
            keep = set(cells)
            out = {c: n for c, n in out.items() if c in keep}
        return out

    # --- cameras --------------------------------------------------------------------------------
    def cameras(self, f: StatsFilter, n_cameras: int, min_drop_s: float = 0.0, now: float | None = None,
                worst: int = 20, camera_ids: Iterable[str] | None = None) -> CameraFigures:
        """Online rate per day: 1 − (camera-seconds down) / (cameras × seconds of the day gone by).
        A drop shorter than ``min_drop_s`` (a reboot, a network blip) is not counted; an
        outage still open counts until ``now``. ``worst`` cameras: the most seconds down in the
        range, with the drops that started in it.

        Ended outages come from the downtime summaries when ``min_drop_s`` is one of
        :data:`~desktop.core.stats.downtime.DROP_CLASSES_S` (and no ``camera_ids`` subset is
        asked), else from the outages themselves; open ones always from the outages."""
        if n_cameras <= 0:
            raise StatsError(f"camera online rate needs the number of cameras (got {n_cameras})")
        import time as _time
        now = _time.time() if now is None else float(now)
        edges = np.array([self.epoch_of_day(f.first + timedelta(days=k)) for k in range(f.days + 1)])
        t0, t1 = float(edges[0]), float(edges[-1])
        d0 = day_index(f.first)
        keep = set(camera_ids) if camera_ids is not None else None
        k = class_of_minimum(min_drop_s) if keep is None else None
        down = np.zeros(f.days)  # camera-seconds down per day, from the summaries
        per: dict[str, list[float]] = {}  # camera -> [seconds down, drops]
        intervals: list[tuple[str, float, float]] = []  # outages read one by one
        with self._lock:
            for c in self._connections():
                if k is not None and self._has_downtime(c):
                    self._downtime_of(c, f, k, down, per)
                    # only the partial index of open outages (a condition on start would make
                    # SQLite walk the index on start instead: every outage of the years)
                    intervals += c.execute('SELECT camera_id, start, ? FROM camera_outages WHERE "end" IS NULL',
                                           (now,)).fetchall()
                else:
                    intervals += c.execute(
                        'SELECT camera_id, start, COALESCE("end", ?) FROM camera_outages '
                        'WHERE start < ? AND COALESCE("end", ?) > ?', (now, t1, now, t0)).fetchall()
        rows = [r for r in intervals
                if r[2] - r[1] >= min_drop_s and r[1] < now and (keep is None or r[0] in keep)]
        s = np.array([max(r[1], t0) for r in rows], float)
        e = np.array([min(r[2], t1, now) for r in rows], float)
        ok = e > s
        s, e = s[ok], e[ok]
        ids = [r[0] for r, good in zip(rows, ok) if good]
        began = np.array([r[1] for r in rows], float)[ok] >= t0  # the drop started in the range
        ss, es = np.sort(s), np.sort(e)
        ps, pe = np.concatenate([[0.0], np.cumsum(ss)]), np.concatenate([[0.0], np.cumsum(es)])

        def down_until(t: np.ndarray) -> np.ndarray:
            # Σ clip(t − s_i, 0, e_i − s_i): camera-seconds down before t
            cs = np.searchsorted(ss, t)
            ce = np.searchsorted(es, t)
            return (cs * t - ps[cs]) - (ce * t - pe[ce])

        clipped = np.minimum(edges, now)
        down += np.diff(down_until(clipped))
        span = np.diff(clipped)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(span > 0, 1.0 - down / (n_cameras * np.maximum(span, 1e-9)), np.nan)
        total_span = float(span.sum())
        overall = 1.0 - float(down[span > 0].sum()) / (n_cameras * total_span) if total_span > 0 else math.nan
        for cam, a, b, new in zip(ids, s.tolist(), e.tolist(), began.tolist()):
            acc = per.setdefault(cam, [0.0, 0])
            acc[0] += b - a
            acc[1] += int(new)
        worst_list = sorted(((c, v[0], int(v[1])) for c, v in per.items() if v[0] > 0),
                            key=lambda x: (-x[1], x[0]))[:worst]
        return CameraFigures(days=np.arange(d0, d0 + f.days), rate=rate,
                             overall=overall, worst=worst_list, n_cameras=n_cameras, min_drop_s=min_drop_s)

    def _downtime_of(self, c: sqlite3.Connection, f: StatsFilter, k: int, down: np.ndarray,
                     per: dict[str, list[float]]) -> None:
        """Add one journal's ended outages of class ``k`` and up (the downtime summaries) to the
        per-day ``down`` and the per-camera ``per`` (under the reader's lock)."""
        d_sum = " + ".join(f"d{j}" for j in range(k, len(DROP_CLASSES_S)))
        n_sum = " + ".join(f"n{j}" for j in range(k, len(DROP_CLASSES_S)))
        d0, d1 = day_index(f.first), day_index(f.last)
        for day, ms in self._memo_rows(c, f"SELECT day, {d_sum} FROM stat_cam_all_day WHERE day BETWEEN ? AND ?",
                                       (d0, d1)):
            down[day - d0] += ms / 1000.0
        spans, months = split_months(f.first, f.last)
        parts = [(f"SELECT camera_id, SUM({d_sum}), SUM({n_sum}) FROM stat_cam_day WHERE day BETWEEN ? AND ? "
                  "GROUP BY camera_id", r) for r in merge_spans(spans)]
        if months:
            parts.append((f"SELECT camera_id, SUM({d_sum}), SUM({n_sum}) FROM stat_cam_month "
                          "WHERE month BETWEEN ? AND ? GROUP BY camera_id", (min(months), max(months))))
        for sql, args in parts:
            for cam, ms, n in self._memo_rows(c, sql, args):
                acc = per.setdefault(cam, [0.0, 0])
                acc[0] += ms / 1000.0
                acc[1] += n

    # --- drill-down ------------------------------------------------------------------------------
    def alarms_behind(self, f: StatsFilter, *, day: date | None = None, month: tuple[int, int] | None = None,
                      hour: int | None = None, weekday: int | None = None, type_: str | None = None,
                      subdistrict: str | None = None, cell: str | None = None,
                      cell_of: Callable[[float, float], str] | None = None,
                      bbox_wgs: tuple[float, float, float, float] | None = None,
                      false_only: bool = False, limit: int = 2000) -> list[Alarm]:
        """The alarms behind one bar or cell of a chart: the filter narrowed to a day, month,
        hour of day, weekday (0 = Monday), type, sub-district or grid cell (``cell_of`` places
        an alarm as the summaries did; ``bbox_wgs`` narrows the search). Oldest first."""
        first, last = f.first, f.last
        if day is not None:
            first, last = max(first, day), min(last, day)
        if month is not None:
            m0 = date(month[0], month[1], 1)
            m1 = date(month[0] + (month[1] == 12), month[1] % 12 + 1, 1) - timedelta(days=1)
            first, last = max(first, m0), min(last, m1)
        if last < first:
            return []
        t0, t1 = self.epoch_of_day(first), self.epoch_of_day(last + timedelta(days=1))
        args: list = [t0, t1]
        sql = f"SELECT {', '.join(_ALARM_COLS)} FROM alarms WHERE epoch >= ? AND epoch < ?"
        types = (type_,) if type_ is not None else f.types
        subs = (subdistrict,) if subdistrict is not None else f.subdistricts
        sql += _in("type", types, args) + _in("subdistrict", subs, args)
        if false_only:
            sql += " AND state = ?"
            args.append(str(AlarmState.FALSE_ALARM))
        if bbox_wgs is not None:
            sql += " AND lon_wgs BETWEEN ? AND ? AND lat_wgs BETWEEN ? AND ?"
            args += [bbox_wgs[0], bbox_wgs[2], bbox_wgs[1], bbox_wgs[3]]
        sql += " ORDER BY epoch, id"
        if hour is None and weekday is None and cell is None:
            sql += " LIMIT ?"
            args.append(int(limit))
        out: list[Alarm] = []
        for r in sorted(self._rows(sql, args, memo=False), key=lambda r: (r[4], r[0])):
            d = dict(zip(_ALARM_COLS, r))
            if hour is not None or weekday is not None:
                lt = datetime.fromtimestamp(d["epoch"], self.tz)
                if (hour is not None and lt.hour != hour) or (weekday is not None and lt.weekday() != weekday):
                    continue
            if cell is not None:
                if cell_of is None:
                    raise StatsError("drilling into a cell needs cell_of (the district's grid)")
                if (cell_of(d["lon_wgs"], d["lat_wgs"]) or "") != cell:
                    continue
            d["camera_ids"] = tuple(json.loads(d["camera_ids"] or "[]"))
            d["state"] = AlarmState(d["state"])
            out.append(Alarm(**d))
            if len(out) >= limit:
                break
        return out
