"""Every statistics figure against counts worked out by hand on a small journal: an alarm
acknowledged after midnight, alarms either side of a year boundary in the district's zone
(UTC+8: 2025-01-01 00:30 local is still 2024 in UTC), a leap day, a folded repeat."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from desktop.core.alarms import workflow
from desktop.core.alarms.journal import Journal
from desktop.core.alarms.model import Alarm
from desktop.core.stats.reader import (StatsError, StatsFilter, StatsReader, pct_change, percentile_nearest_rank,
                                       previous_period, same_range_last_year)
from desktop.core.stats.summary import SummaryKeeper, bin_floor, bin_of

TZ = ZoneInfo("Asia/Shanghai")


def ep(*t) -> float:
    return datetime(*t, tzinfo=TZ).timestamp()


def cell_of(lon, lat):
    return "A" if lon < 120.35 else "B"


def alarm(aid, t, typ, sub, lon=120.3):
    e = ep(*t)
    return Alarm(id=aid, type=typ, priority=2, time=datetime.fromtimestamp(e, TZ).isoformat(), epoch=e, lon=lon,
                 lat=36.06, crs="WGS84", lon_wgs=lon, lat_wgs=36.06, lon_gcj=lon, lat_gcj=36.06, source="s",
                 received=e, last_epoch=e, subdistrict=sub, updated=e)


def move(tx, a, state, op, dt, unit=""):
    a2, t = workflow.apply(a, state, op, a.epoch + dt, "", unit=unit)
    tx.upsert_alarm(a2)
    tx.add_transition(t)
    return a2


@pytest.fixture()
def reader(tmp_path):
    path = tmp_path / "alarms.sqlite"
    j = Journal(path, summaries=SummaryKeeper(tz=TZ, cell_of=cell_of))
    with j.batch() as tx:
        # a1: raised at 23:59:30 on the leap day, acknowledged 45 s later — on 1 March
        a1 = alarm("a1", (2024, 2, 29, 23, 59, 30), "fire", "S1")
        tx.upsert_alarm(a1)
        a1 = move(tx, a1, "acknowledged", "op1", 45)
        a1 = move(tx, a1, "dispatched", "op1", 100, unit="car-1")
        tx.add_arrival("a1", "car-1", a1.epoch + 100, a1.epoch + 400)
        tx.add_arrival("a1", "car-1", a1.epoch + 100, a1.epoch + 400)  # a duplicate report: once
        move(tx, a1, "resolved", "op2", 1000)
    with j.batch() as tx:
        # a2: New Year's Eve 23:30 local, in cell B, a false alarm
        a2 = alarm("a2", (2024, 12, 31, 23, 30), "fire", "S2", lon=120.4)
        tx.upsert_alarm(a2)
        a2 = move(tx, a2, "acknowledged", "op2", 20)
        move(tx, a2, "false_alarm", "op2", 60)
        # a3: 00:30 on 1 January local (16:30 on 31 December in UTC)
        a3 = alarm("a3", (2025, 1, 1, 0, 30), "crowd", "S1")
        tx.upsert_alarm(a3)
        a3 = move(tx, a3, "acknowledged", "op1", 70)
        tx.upsert_alarm(replace(a3, count=2))  # a folded repeat: the same alarm, not a new one
        tx.upsert_alarm(alarm("a4", (2025, 3, 1, 10, 0), "crowd", "S1"))
        tx.upsert_alarm(alarm("a5", (2023, 2, 28, 9, 0), "fire", "S1"))
    with j.batch() as tx:
        tx.add_camera_status("c1", "offline", ep(2024, 3, 1, 0, 0))
        tx.add_camera_status("c1", "offline", ep(2024, 3, 1, 1, 0))  # a repeat: no change
        tx.add_camera_status("c1", "online", ep(2024, 3, 1, 6, 0))
        tx.add_camera_status("c2", "fault", ep(2024, 3, 1, 12, 0))
        tx.add_camera_status("c2", "online", ep(2024, 3, 1, 12, 2))  # a 120 s drop
        tx.add_camera_status("c3", "offline", ep(2024, 3, 2, 12, 0))  # still down
        tx.add_camera_status("c3", "online", ep(2024, 3, 2, 11, 0))  # late report, older: ignored
    j.close()
    r = StatsReader([path], TZ)
    yield r
    r.close()


F = StatsFilter(date(2024, 1, 1), date(2025, 12, 31))


def test_counts_by_type_day_hour_weekday_place(reader):
    c = reader.counts(F)
    assert c.types == ["crowd", "fire"]
    assert c.total.tolist() == [2, 2]
    assert c.false.tolist() == [0, 1] and c.resolved.tolist() == [0, 1]
    assert c.false_share()[1] == 0.5
    by_day = {date.fromordinal(int(d)).isoformat(): int(c.by_day[:, i].sum())
              for i, d in enumerate(c.days) if c.by_day[:, i].sum()}
    assert by_day == {"2024-02-29": 1, "2024-12-31": 1, "2025-01-01": 1, "2025-03-01": 1}
    assert {h: int(n) for h, n in enumerate(c.hour) if n} == {0: 1, 10: 1, 23: 2}
    # Thu 29 Feb 23h, Tue 31 Dec 23h, Wed 1 Jan 0h, Sat 1 Mar 10h
    assert {(w, h): int(c.weekday_hour[w, h]) for w in range(7) for h in range(24) if c.weekday_hour[w, h]} == \
        {(3, 23): 1, (1, 23): 1, (2, 0): 1, (5, 10): 1}
    months, by_month = c.months()
    got = {f"{y}-{m:02d}": int(by_month[:, i].sum()) for i, (y, m) in enumerate(months) if by_month[:, i].sum()}
    assert got == {"2024-02": 1, "2024-12": 1, "2025-01": 1, "2025-03": 1}
    assert c.subdistricts == ["S1", "S2"]
    assert c.by_sub.tolist() == [[2, 1], [0, 1]]  # S1: crowd 2, fire 1; S2: fire 1


def test_filters_narrow_every_count(reader):
    c = reader.counts(StatsFilter(date(2024, 1, 1), date(2024, 12, 31), types=["fire"], subdistricts=["S2"]))
    assert c.total.tolist() == [1] and c.types == ["fire"]
    assert reader.counts(StatsFilter(date(2025, 1, 1), date(2025, 1, 1))).total.tolist() == [1]
    assert reader.counts(StatsFilter(date(2024, 12, 31), date(2024, 12, 31))).types == ["fire"]
    assert reader.counts(StatsFilter(date(2024, 1, 1), date(2025, 12, 31), types=[])).total.tolist() == []


def test_year_over_year_and_period_over_period(reader):
    ch = {c.type: c for c in reader.changes(StatsFilter(date(2025, 1, 1), date(2025, 12, 31)))}
    assert (ch["crowd"].now, ch["crowd"].last_year, ch["crowd"].yoy_pct) == (2, 0, None)
    assert (ch["fire"].now, ch["fire"].last_year, ch["fire"].yoy_pct) == (0, 2, -100.0)
    feb = {c.type: c for c in reader.changes(StatsFilter(date(2024, 2, 1), date(2024, 2, 29)))}
    assert (feb["fire"].now, feb["fire"].last_year, feb["fire"].yoy_pct) == (1, 1, 0.0)  # vs 1–28 Feb 2023
    assert feb["fire"].previous == 0 and feb["fire"].pop_pct is None  # January 2024 had none
    assert pct_change(61, 100) == pytest.approx(-39.0) and pct_change(37, 100) == pytest.approx(-63.0)
    assert same_range_last_year(date(2024, 2, 29), date(2024, 2, 29)) == (date(2023, 2, 28), date(2023, 2, 28))
    assert previous_period(date(2024, 3, 1), date(2024, 3, 31)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert previous_period(date(2024, 3, 5), date(2024, 3, 11)) == (date(2024, 2, 27), date(2024, 3, 4))
    assert previous_period(date(2025, 1, 1), date(2025, 12, 31)) == (date(2024, 1, 1), date(2024, 12, 31))


def test_response_times_median_p90_by_type_operator_subdistrict(reader):
    r = {(x.group, x.metric): x for x in reader.response(F, "type")}
    fire = r[("fire", "ack")]
    assert (fire.n, fire.median_s, fire.p90_s, fire.within_target) == (2, 20.0, 45.0, 1.0)  # samples 20, 45
    assert (r[("crowd", "ack")].median_s, r[("crowd", "ack")].within_target) == (70.0, 0.0)
    assert r[("fire", "dispatch")].median_s == 100.0
    assert r[("fire", "arrive")].n == 1 and r[("fire", "arrive")].median_s == 400.0
    assert r[("fire", "resolve")].median_s == 1000.0
    ops = {(x.group, x.metric): x for x in reader.response(F, "operator")}
    assert (ops[("op1", "ack")].median_s, ops[("op1", "ack")].p90_s) == (45.0, 70.0)
    assert ops[("op2", "ack")].median_s == 20.0 and ops[("op2", "resolve")].median_s == 1000.0
    assert ("car-1", "arrive") not in ops  # an arrival is a unit's, not an operator's
    subs = {(x.group, x.metric): x.n for x in reader.response(F, "subdistrict")}
    assert subs[("S1", "ack")] == 2 and subs[("S2", "ack")] == 1
    # a range of whole months and partial ones at both ends gives the same answer
    part = {(x.group, x.metric): x for x in reader.response(StatsFilter(date(2024, 2, 10), date(2025, 1, 20)))}
    assert part[("fire", "ack")].median_s == 20.0 and part[("crowd", "ack")].n == 1
    with pytest.raises(StatsError, match="by 'unit'"):
        reader.response(F, "unit")


def test_percentile_and_bins():
    import numpy as np
    assert percentile_nearest_rank(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 1, 1, 1]), 50) == 2.0
    assert percentile_nearest_rank(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1, 1, 1, 1]), 90) == 4.0
    assert percentile_nearest_rank(np.array([10.0, 99.0]), np.array([9, 1]), 90) == 10.0
    for s in (0, 59, 599, 600, 615, 3599, 3600, 7259, 86399, 86400, 10 ** 7):
        assert bin_floor(bin_of(s)) <= s
    assert bin_floor(bin_of(615)) == 610 and bin_floor(bin_of(3661)) == 3660 and bin_of(-5) == 0


def test_choropleth_counts_per_cell(reader):
    assert reader.cells(F) == {"A": 3, "B": 1}
    assert reader.cells(F, cells=["B"]) == {"B": 1}
    assert reader.cells(StatsFilter(date(2024, 12, 15), date(2025, 2, 10)), cells=None) == {"A": 1, "B": 1}
    assert reader.cells(StatsFilter(date(2024, 1, 1), date(2025, 12, 31), types=["crowd"])) == {"A": 2}


def test_camera_online_rate_drops_and_open_outages(reader):
    f = StatsFilter(date(2024, 3, 1), date(2024, 3, 3))
    now = ep(2024, 3, 3, 0, 0)
    cam = reader.cameras(f, 4, min_drop_s=300, now=now)
    assert cam.rate[0] == pytest.approx(1 - 6 / 96)  # c1 down 6 h of 4 × 24 camera-hours; c2's 2 min ignored
    assert cam.rate[1] == pytest.approx(1 - 12 / 96)  # c3 down from noon, still down at midnight
    assert str(cam.rate[2]) == "nan"  # the day has not begun
    assert cam.overall == pytest.approx(1 - 18 / 192)
    assert [w[0] for w in cam.worst] == ["c3", "c1"] and cam.worst[0][1] == pytest.approx(12 * 3600)
    all_drops = reader.cameras(f, 4, min_drop_s=0, now=now)
    assert all_drops.rate[0] == pytest.approx(1 - (6 * 3600 + 120) / (4 * 86400))
    with pytest.raises(StatsError, match="number of cameras"):
        reader.cameras(f, 0)


def test_drill_down_lists_the_alarms_behind_a_bar_or_cell(reader):
    assert [a.id for a in reader.alarms_behind(F, hour=23)] == ["a1", "a2"]
    assert [a.id for a in reader.alarms_behind(F, weekday=2)] == ["a3"]
    assert [a.id for a in reader.alarms_behind(F, day=date(2025, 1, 1))] == ["a3"]
    assert [a.id for a in reader.alarms_behind(F, month=(2024, 2))] == ["a1"]
    assert [a.id for a in reader.alarms_behind(F, cell="B", cell_of=cell_of)] == ["a2"]
    assert [a.id for a in reader.alarms_behind(F, type_="crowd", subdistrict="S1")] == ["a3", "a4"]
    assert [a.id for a in reader.alarms_behind(F, false_only=True)] == ["a2"]
    with pytest.raises(StatsError, match="cell_of"):
        reader.alarms_behind(F, cell="A")


def test_bad_filters_are_named():
    with pytest.raises(StatsError, match="ends"):
        StatsFilter(date(2024, 2, 1), date(2024, 1, 1))
    with pytest.raises(StatsError, match="two dates"):
        StatsFilter("2024-01-01", date(2024, 1, 1))


def test_a_journal_without_summaries_is_named(tmp_path):
    path = tmp_path / "old.sqlite"
    Journal(path, summaries=False).close()
    with pytest.raises(StatsError, match="no summary tables"):
        StatsReader([path], TZ).counts(F)
    assert StatsReader([tmp_path / "missing.sqlite"], TZ).counts(F).total.tolist() == []
