"""Camera downtime summaries against the outages themselves: random drops and outages over
days (some across midnight, some across a daylight-saving change, some still open), read through
the summaries and through the raw outages; a version-1 journal gets its downtime tables without
a full rebuild; remembered summary rows are forgotten when the journal changes."""
from __future__ import annotations

import random
import sqlite3
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from desktop.core.alarms.journal import Journal
from desktop.core.alarms.model import Alarm
from desktop.core.stats.downtime import DOWNTIME_TABLES, DROP_CLASSES_S, class_of_minimum, drop_class
from desktop.core.stats.reader import StatsFilter, StatsReader
from desktop.core.stats.summary import SummaryKeeper

BERLIN = ZoneInfo("Europe/Berlin")  # summer time began on 2024-03-31: a 23-hour day


def _write_outages(path, tz, seed=4, cams=12, days=45, first=date(2024, 3, 26)):
    rng = random.Random(seed)
    j = Journal(path, summaries=SummaryKeeper(tz=tz, cell_of=lambda lon, lat: ""))
    t0 = datetime.combine(first, datetime.min.time(), tz).timestamp()
    events = []
    for c in range(cams):
        t = t0 + rng.uniform(0, 3600)
        while t < t0 + days * 86400:
            dur = rng.choice([rng.uniform(5, 200), rng.uniform(200, 4000), rng.uniform(3600, 40 * 3600)])
            events.append((t, f"c{c}", rng.choice(["offline", "fault"])))
            if t + dur < t0 + days * 86400:  # else it stays open
                events.append((t + dur, f"c{c}", "online"))
            t += dur + rng.uniform(60, 30000)
    events.sort()
    for k in range(0, len(events), 7):  # batches of a few changes, as the status feed delivers them
        with j.batch() as tx:
            for t, cam, st in events[k:k + 7]:
                tx.add_camera_status(cam, st, t)
    j.close()
    return t0 + days * 86400


def test_classes_and_minimums():
    assert [drop_class(x) for x in (0, 29.9, 30, 299, 300, 3599, 3600, 1e6)] == [0, 0, 1, 3, 4, 6, 7, 7]
    assert class_of_minimum(0) == 0 and class_of_minimum(300) == 4 and class_of_minimum(3600.0) == 7
    assert class_of_minimum(45) is None  # answered from the outages themselves


@pytest.mark.parametrize("tz", [BERLIN, ZoneInfo("Asia/Shanghai")])
def test_summaries_equal_the_outages(tmp_path, tz):
    path = tmp_path / "j.sqlite"
    end = _write_outages(path, tz)
    r = StatsReader([path], tz)
    f = StatsFilter(date(2024, 3, 27), date(2024, 5, 6))  # a whole April, a partial month either side
    now = end + 7200
    all_cams = [f"c{c}" for c in range(12)]
    for minimum in DROP_CLASSES_S:
        fast = r.cameras(f, 12, minimum, now=now)
        raw = r.cameras(f, 12, minimum, now=now, camera_ids=all_cams)  # a subset: read outage by outage
        np.testing.assert_allclose(fast.rate, raw.rate, rtol=0, atol=1e-8, equal_nan=True)
        assert fast.overall == pytest.approx(raw.overall, abs=1e-9)
        assert [w[0] for w in fast.worst] == [w[0] for w in raw.worst]
        assert [w[2] for w in fast.worst] == [w[2] for w in raw.worst]
        np.testing.assert_allclose([w[1] for w in fast.worst], [w[1] for w in raw.worst], atol=0.01)
    # a day of 23 hours: the rate is over the seconds the day had
    if tz is BERLIN:
        i = (date(2024, 3, 31) - f.first).days
        assert 0 < fast.rate[i] < 1
    # a minimum that is not a class edge is still exact (from the outages)
    assert r.cameras(f, 12, 45, now=now).overall == pytest.approx(
        r.cameras(f, 12, 45, now=now, camera_ids=all_cams).overall)
    r.close()


def test_a_version_1_journal_gets_its_downtime_tables(tmp_path):
    tz = ZoneInfo("Asia/Shanghai")
    path = tmp_path / "j.sqlite"
    _write_outages(path, tz, cams=4, days=4)
    c = sqlite3.connect(path)
    dump = lambda: {t: sorted(c.execute(f"SELECT * FROM {t}").fetchall()) for t in DOWNTIME_TABLES}  # noqa: E731
    kept = dump()
    assert kept["stat_cam_all_day"]
    for t in DOWNTIME_TABLES:
        c.execute(f"DELETE FROM {t}")
    c.execute("UPDATE meta SET value = '1' WHERE key = 'summary_version'")
    n_day = c.execute("SELECT COUNT(*) FROM stat_day").fetchone()
    c.commit()
    j = Journal(path, summaries=SummaryKeeper(tz=tz))
    with j.batch():
        pass
    j.close()
    assert dump() == kept
    assert c.execute("SELECT value FROM meta WHERE key = 'summary_version'").fetchone() == ("2",)
    assert c.execute("SELECT COUNT(*) FROM stat_day").fetchone() == n_day
    c.close()


def test_remembered_rows_are_forgotten_when_the_journal_changes(tmp_path):
    tz = ZoneInfo("Asia/Shanghai")
    path = tmp_path / "j.sqlite"
    j = Journal(path, summaries=SummaryKeeper(tz=tz, cell_of=lambda lon, lat: "A"))
    e = datetime(2024, 5, 1, 9, tzinfo=tz).timestamp()

    def alarm(aid):
        return Alarm(id=aid, type="fire", priority=1, time="", epoch=e, lon=120.3, lat=36, crs="WGS84",
                     lon_wgs=120.3, lat_wgs=36, lon_gcj=120.3, lat_gcj=36, source="s", received=e, subdistrict="S")
    with j.batch() as tx:
        tx.upsert_alarm(alarm("a"))
    r = StatsReader([path], tz)
    f = StatsFilter(date(2024, 5, 1), date(2024, 5, 1))
    assert int(r.counts(f).total.sum()) == 1 and r.cells(f) == {"A": 1}
    assert int(r.counts(f).total.sum()) == 1  # remembered
    with j.batch() as tx:  # another connection writes
        tx.upsert_alarm(alarm("b"))
    assert int(r.counts(f).total.sum()) == 2 and r.cells(f) == {"A": 2}
    j.close()
    r.close()
