"""Camera downtime summaries: seconds down per local day and month, kept as outages end (Qt-free).

The online rate of a year is a sum over a hundred thousand outages; reading them all for every
refresh of the statistics panel took most of a second. So when an outage ends its seconds are
split over the local days it covered and added to three tables:

``stat_cam_all_day``  per day, every camera together (the online-rate chart);
``stat_cam_day``      per day and camera (the worst cameras, for the partial months of a range);
``stat_cam_month``    per month and camera (the worst cameras, for whole months).

The panel ignores drops shorter than a configurable minimum (a reboot, a network blip), so an
outage's time goes into the column of its duration class: ``d{k}`` holds the milliseconds
(integers, so that sums do not depend on the order they were added in) of the outages lasting at least ``DROP_CLASSES_S[k]`` and less than the next class; ``n{k}`` counts
those outages on the day (month) they started. A minimum that is one of the classes is answered
exactly from these tables; any other minimum is answered from the outages themselves (exact,
slower). Outages still open are always read from ``camera_outages`` (there are few).
"""
from __future__ import annotations

import bisect
import sqlite3
from collections import defaultdict
from datetime import datetime, timedelta, tzinfo

__all__ = ["DROP_CLASSES_S", "DOWNTIME_SCHEMA", "DOWNTIME_TABLES", "drop_class", "class_of_minimum",
           "outage_closed", "rebuild_downtime"]

# Minimum-drop settings answered from the summaries: none, 30 s, 1, 2, 5, 10, 30 minutes, 1 hour.
DROP_CLASSES_S = (0, 30, 60, 120, 300, 600, 1800, 3600)
_K = len(DROP_CLASSES_S)
_COLS = ", ".join([f"d{k} INTEGER NOT NULL DEFAULT 0" for k in range(_K)]
                  + [f"n{k} INTEGER NOT NULL DEFAULT 0" for k in range(_K)])

DOWNTIME_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS stat_cam_all_day (
    day INTEGER NOT NULL PRIMARY KEY, {_COLS}) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_cam_day (
    day INTEGER NOT NULL, camera_id TEXT NOT NULL, {_COLS},
    PRIMARY KEY (day, camera_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stat_cam_month (
    month INTEGER NOT NULL, camera_id TEXT NOT NULL, {_COLS},
    PRIMARY KEY (month, camera_id)) WITHOUT ROWID;
"""
DOWNTIME_TABLES = ("stat_cam_all_day", "stat_cam_day", "stat_cam_month")


def drop_class(duration_s: float) -> int:
    """The class of an outage lasting ``duration_s`` (the largest class minimum at or below it)."""
    return max(0, bisect.bisect_right(DROP_CLASSES_S, max(0.0, float(duration_s))) - 1)


def class_of_minimum(min_drop_s: float) -> int | None:
    """The first class counted when drops shorter than ``min_drop_s`` are ignored, or None when
    that minimum is not a class edge (then only the outages themselves can answer exactly)."""
    try:
        return DROP_CLASSES_S.index(float(min_drop_s)) if float(min_drop_s) > 0 else 0
    except ValueError:
        return None


def _split_days(start: float, end: float, tz: tzinfo):
    """(local day ordinal, month index, milliseconds) of each local day [start, end) touches."""
    d = datetime.fromtimestamp(start, tz).date()
    t = start
    while t < end:
        nxt = datetime.combine(d + timedelta(days=1), datetime.min.time(), tz).timestamp()
        stop = min(end, nxt)
        yield d.toordinal(), d.year * 12 + d.month - 1, round((stop - t) * 1000)
        t = stop
        d += timedelta(days=1)


class _Acc:
    """Downtime gathered before it is written: key -> [ms per class, starts per class]."""

    def __init__(self):
        self.all_day: dict = defaultdict(lambda: [0] * (2 * _K))
        self.day: dict = defaultdict(lambda: [0] * (2 * _K))
        self.month: dict = defaultdict(lambda: [0] * (2 * _K))

    def add(self, camera_id: str, start: float, end: float, tz: tzinfo) -> None:
        if not end > start:
            return
        k = drop_class(end - start)
        first = True
        for day, month, ms in _split_days(start, end, tz):
            for acc, key in ((self.all_day, day), (self.day, (day, camera_id)), (self.month, (month, camera_id))):
                row = acc[key]
                row[k] += ms
                if first:
                    row[_K + k] += 1
            first = False

    def write(self, conn: sqlite3.Connection) -> None:
        cols = [f"d{k}" for k in range(_K)] + [f"n{k}" for k in range(_K)]
        upd = ", ".join(f"{c} = {c} + excluded.{c}" for c in cols)
        ph = ", ".join("?" * len(cols))
        conn.executemany(f"INSERT INTO stat_cam_all_day (day, {', '.join(cols)}) VALUES (?, {ph}) "
                         f"ON CONFLICT (day) DO UPDATE SET {upd}", [(k, *v) for k, v in self.all_day.items()])
        conn.executemany(f"INSERT INTO stat_cam_day (day, camera_id, {', '.join(cols)}) VALUES (?, ?, {ph}) "
                         f"ON CONFLICT (day, camera_id) DO UPDATE SET {upd}", [(*k, *v) for k, v in self.day.items()])
        conn.executemany(f"INSERT INTO stat_cam_month (month, camera_id, {', '.join(cols)}) VALUES (?, ?, {ph}) "
                         f"ON CONFLICT (month, camera_id) DO UPDATE SET {upd}",
                         [(*k, *v) for k, v in self.month.items()])


def outage_closed(conn: sqlite3.Connection, camera_id: str, start: float, end: float, tz: tzinfo) -> None:
    """An outage of ``camera_id`` from ``start`` to ``end`` ended: add its seconds (inside the
    journal's transaction)."""
    acc = _Acc()
    acc.add(camera_id, float(start), float(end), tz)
    acc.write(conn)


def rebuild_downtime(conn: sqlite3.Connection, tz: tzinfo) -> int:
    """Recompute the downtime tables from the ended outages (inside a transaction); returns
    how many outages were counted."""
    for t in DOWNTIME_TABLES:
        conn.execute(f"DELETE FROM {t}")
    acc = _Acc()
    n = 0
    for cam, start, end in conn.execute('SELECT camera_id, start, "end" FROM camera_outages WHERE "end" IS NOT NULL'):
        acc.add(str(cam), float(start), float(end), tz)
        n += 1
    acc.write(conn)
    return n
