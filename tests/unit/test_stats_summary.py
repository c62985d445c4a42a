"""The summary tables equal a full scan of the rows after random inserts, folds and state
changes through the real alarm service; camera status history and patrol arrivals are journaled
with it; the history is reproducible."""
from __future__ import annotations

import random
import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from desktop.core.alarms.journal import Journal
from desktop.core.alarms.service import AlarmService
from desktop.core.clock import iso
from desktop.core.stats.summary import STAT_TABLES, SummaryKeeper

TZ = ZoneInfo("Asia/Shanghai")
TYPES = ("fire", "crowd", "perimeter", "one_key")


def cell_of(lon, lat):
    return f"C{int((lon - 120.3) * 100) % 4}"


def _keeper():
    return SummaryKeeper(tz=TZ, cell_of=cell_of)


def _payload(i, epoch, typ, source):
    lon = 120.3 + (i % 37) * 0.001
    return {"id": f"m{i}", "type": typ, "priority": 1 + i % 4, "time": iso(epoch), "lon": lon, "lat": 36.06,
            "crs": "WGS84", "source": source, "text": "x"}


def _dump(conn):
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in STAT_TABLES}


def _scan_counts(conn):
    """An independent count of the rows: per local day, type, sub-district and hour; closures;
    per day and cell."""
    day, cells = Counter(), Counter()
    closed = {r[0]: r[1] for r in conn.execute(
        "SELECT alarm_id, to_state FROM transitions WHERE to_state IN ('resolved', 'false_alarm')")}
    for aid, typ, epoch, sub, lon, lat in conn.execute("SELECT id, type, epoch, subdistrict, lon_wgs, lat_wgs FROM alarms"):
        dt = datetime.fromtimestamp(epoch, TZ)
        d = dt.date().toordinal()
        day[(d, typ, sub, "n")] += 1
        day[(d, typ, sub, f"h{dt.hour}")] += 1
        if closed.get(aid) == "false_alarm":
            day[(d, typ, sub, "n_false")] += 1
        if closed.get(aid) == "resolved":
            day[(d, typ, sub, "n_resolved")] += 1
        cells[(d, typ, cell_of(lon, lat))] += 1
    return day, cells


def _table_counts(conn):
    cols = [r[1] for r in conn.execute("PRAGMA table_info(stat_day)")]
    day = Counter()
    for row in conn.execute("SELECT * FROM stat_day"):
        r = dict(zip(cols, row))
        for c in cols[3:]:
            if r[c]:
                day[(r["day"], r["type"], r["subdistrict"], c)] += r[c]
    cells = Counter({(d, t, c): n for d, t, c, n in conn.execute("SELECT * FROM stat_cell_day")})
    return day, cells


def test_summaries_equal_a_full_scan_after_random_inserts_and_state_changes(tmp_path):
    rng = random.Random(7)
    path = tmp_path / "alarms.sqlite"
    journal = Journal(path, summaries=_keeper())
    svc = AlarmService(journal, workstation="ws1", locate=lambda lon, lat: "S1" if lon < 120.32 else "S2",
                       flood_window_s=60.0).start()
    try:
        # two years either side of a New Year and a leap day, some repeats from one source (folded)
        base = datetime(2023, 12, 30, 20, 0, tzinfo=TZ).timestamp()
        for i in range(400):
            epoch = base + rng.uniform(0, 800 * 86400) if i % 10 else base + (i // 10) * 7.0
            src = "cam-flood" if i % 10 == 0 else f"cam-{i}"
            svc.submit("pingan/alarm", _payload(i, epoch, TYPES[i % 10 % 4] if i % 10 else "fire", src))
        assert svc.flush()
        ids = [a.id for a in svc.alarms()]
        rng.shuffle(ids)
        for aid in ids[:250]:
            path_ = rng.choice([("acknowledged",), ("false_alarm",), ("acknowledged", "dispatched"),
                                ("acknowledged", "dispatched", "resolved"), ("acknowledged", "false_alarm")])
            for state in path_:
                svc.transition(aid, state, rng.choice(["op1", "op2", "op3"]),
                               unit="car-1" if state == "dispatched" else "").result(10)
            if "dispatched" in path_:
                svc.record_arrival(aid, "car-1", 1.0, svc.get(aid).received + rng.uniform(60, 900))
        svc.submit("pingan/camera/c1/status", {"status": "offline", "time": iso(base)})
        svc.submit("pingan/camera/c1/status", {"status": "offline", "time": iso(base + 5)})
        svc.submit("pingan/camera/c1/status", {"status": "online", "time": iso(base + 900)})
        assert svc.flush()
    finally:
        svc.stop()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT SUM(count) FROM alarms").fetchone()[0] == 400
    assert conn.execute("SELECT COUNT(*) FROM alarms").fetchone()[0] < 400  # repeats were folded
    kept = _dump(conn)
    scan_day, scan_cells = _scan_counts(conn)
    tab_day, tab_cells = _table_counts(conn)
    assert tab_day == scan_day
    assert tab_cells == scan_cells
    # the month table is the day table summed by month
    by_month = Counter()
    for (d, t, c), n in scan_cells.items():
        dd = date.fromordinal(d)
        by_month[(dd.year * 12 + dd.month - 1, t, c)] += n
    assert Counter({(m, t, c): n for m, t, c, n in conn.execute("SELECT * FROM stat_cell_month")}) == by_month
    n_arrivals = conn.execute("SELECT COUNT(*) FROM arrivals").fetchone()[0]
    assert n_arrivals > 0
    assert [r[0] for r in conn.execute("SELECT status FROM camera_status_log ORDER BY seq")] == ["offline", "online"]
    assert conn.execute('SELECT "end" - start FROM camera_outages').fetchall() == [(900.0,)]
    conn.close()
    # a rebuild from the rows (one full scan, histograms included) gives the same tables
    j2 = Journal(path, summaries=_keeper())
    j2.rebuild_summaries()
    j2.close()
    conn = sqlite3.connect(path)
    assert _dump(conn) == kept
    conn.close()


def test_a_journal_counted_in_another_zone_is_rebuilt(tmp_path):
    path = tmp_path / "alarms.sqlite"
    svc = AlarmService(Journal(path, summaries=SummaryKeeper(tz=ZoneInfo("UTC"))), workstation="ws").start()
    # 23:30 UTC on 31 Dec is 07:30 on 1 Jan in Shanghai
    svc.submit("pingan/alarm", _payload(1, datetime(2024, 12, 31, 23, 30, tzinfo=ZoneInfo("UTC")).timestamp(),
                                        "fire", "c"))
    svc.flush()
    svc.stop()
    j = Journal(path, summaries=_keeper())
    with j.batch():
        pass  # the first write installs the summaries for the new zone
    j.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT day, h7 FROM stat_day").fetchall() == [(date(2025, 1, 1).toordinal(), 1)]
    assert conn.execute("SELECT value FROM meta WHERE key = 'summary_tz'").fetchone() == ("Asia/Shanghai",)


def test_an_older_journal_without_summaries_gets_them(tmp_path):
    path = tmp_path / "alarms.sqlite"
    svc = AlarmService(Journal(path, summaries=False), workstation="ws").start()
    svc.submit("pingan/alarm", _payload(1, datetime(2024, 6, 1, 12, tzinfo=TZ).timestamp(), "fire", "c"))
    svc.flush()
    svc.stop()
    j = Journal(path, summaries=_keeper())
    with j.batch():
        pass
    j.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT n, h12 FROM stat_day").fetchall() == [(1, 1)]


def test_rolled_back_batch_leaves_no_counts(tmp_path):
    path = tmp_path / "alarms.sqlite"
    j = Journal(path, summaries=_keeper())
    from desktop.core.alarms.model import Alarm
    a = Alarm(id="x", type="fire", priority=1, time="", epoch=1.7e9, lon=120.3, lat=36, crs="WGS84",
              lon_wgs=120.3, lat_wgs=36, lon_gcj=120.3, lat_gcj=36, source="s", received=1.7e9)
    with pytest.raises(RuntimeError):
        with j.batch() as tx:
            tx.upsert_alarm(a)
            raise RuntimeError("disk full")
    with j.batch() as tx:
        tx.upsert_alarm(a)  # the retry of the batch that failed
        tx.upsert_alarm(replace(a, id="y"))
    j.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT SUM(n) FROM stat_day").fetchone() == (2,)
    assert conn.execute("SELECT SUM(n) FROM stat_cell_day").fetchone() == (2,)


def test_history_is_reproducible_and_extends_day_by_day(tmp_path, tiny_district):
    from desktop.core.district.loader import load_district
    from desktop.core.geo.crs import MapProjection
    from desktop.core.stats.history import DEFAULT_PLAN, build_history, history_is_current
    from desktop.core.stats.places import GridLocator
    plan = replace(DEFAULT_PLAN, years=0.05)  # 18 days keep the test quick
    tiny_district = load_district(tiny_district, MapProjection())
    loc = GridLocator(tiny_district, MapProjection())
    seen = []
    a = build_history(tmp_path / "a.sqlite", tiny_district, loc, TZ, date(2026, 3, 2), plan,
                      progress=lambda d, n: seen.append((d, n)))
    b = build_history(tmp_path / "b.sqlite", tiny_district, loc, TZ, date(2026, 3, 2), plan)
    assert a["alarms"] > 50 and a["last"] == "2026-03-01" and seen[-1] == (a["days"], a["days"])
    assert history_is_current(tmp_path / "a.sqlite", date(2026, 3, 2), plan)
    assert not history_is_current(tmp_path / "a.sqlite", date(2026, 3, 4), plan)

    def rows(p):
        c = sqlite3.connect(p)
        out = (c.execute("SELECT id, type, epoch, state, subdistrict FROM alarms ORDER BY id").fetchall(),
               _dump(c), c.execute("SELECT camera_id, status, epoch FROM camera_status_log ORDER BY seq").fetchall())
        c.close()
        return out
    assert rows(tmp_path / "a.sqlite") == rows(tmp_path / "b.sqlite")
    ext = build_history(tmp_path / "a.sqlite", tiny_district, loc, TZ, date(2026, 3, 4), plan)
    assert ext["extended"] and ext["days"] == 2 and ext["last"] == "2026-03-03"
    c = sqlite3.connect(tmp_path / "a.sqlite")
    assert c.execute("SELECT MAX(day) FROM stat_day").fetchone()[0] <= date(2026, 3, 3).toordinal()
    # the days added are those a fresh build to that day would have
    fresh = build_history(tmp_path / "c.sqlite", tiny_district, loc, TZ, date(2026, 3, 4), plan)
    c2 = sqlite3.connect(tmp_path / "c.sqlite")
    q = "SELECT id, type, epoch FROM alarms WHERE epoch >= ? ORDER BY id"
    t0 = datetime(2026, 3, 2, tzinfo=TZ).timestamp()
    assert c.execute(q, (t0,)).fetchall() == c2.execute(q, (t0,)).fetchall() != []
    assert fresh["days"] == a["days"]
