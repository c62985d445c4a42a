"""The patrol journal: fixes round-trip through rows and packed chunks, survive a crash, and a
day of history loads fast; dispatches and visits are queried by time range."""
from __future__ import annotations

import math
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from desktop.core.patrol import journal as jmod
from desktop.core.patrol.journal import CHUNK_S, JournalError, PositionJournal, VisitRecord
from desktop.core.patrol.synthetic import fill_journal, synthetic_track
from desktop.core.patrol.track import Track

ROOT = Path(__file__).resolve().parents[2]
T0 = 1717203600.0  # 2024-06-01 09:00 +08:00, a bucket boundary (multiple of 600)


def fixes(unit, kind, t, lon0=120.38, lat0=36.06):
    """Rows for PositionJournal.append: a unit moving north-east, speed and heading varying."""
    t = np.asarray(t, float)
    return [(unit, kind, float(ti), lon0 + 1e-5 * i, lat0 + 2e-5 * i, 10.0 + i % 7, (i * 13.7) % 360)
            for i, ti in enumerate(t)]


def test_rows_round_trip_before_compaction(tmp_path):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        rows = fixes("car-01", "car", T0 + np.arange(0, 100, 1.0))
        assert j.append(rows) == 100 and j.pending() == 100
        assert j.track("car-01", T0, T0 + 1000).t.size == 0  # not flushed yet: not there
        assert j.flush() == 100 and j.pending() == 0
        tr = j.track("car-01", T0, T0 + 1000)
        assert tr.kind == "car" and len(tr) == 100
        assert np.array_equal(tr.lon, [r[3] for r in rows]) and np.array_equal(tr.t, [r[2] for r in rows])
        assert np.allclose(tr.heading_deg, [r[6] for r in rows], atol=1e-4)  # float32: 0.01° is the journal's unit
        # a time range cuts exactly, inclusive at both ends
        assert j.track("car-01", T0 + 10, T0 + 19).t.tolist() == [T0 + k for k in range(10, 20)]
        assert j.counts() == {"rows": 100, "chunked": 0, "chunks": 0}


def test_compaction_packs_finished_buckets_and_the_track_is_unchanged(tmp_path):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        t = T0 + np.arange(0, 1500, 1.0)  # buckets T0, T0+600 finished, T0+1200 current
        rows = fixes("ebike-01", "ebike", t) + fixes("car-02", "car", t, 120.30, 36.07)
        j.append(rows)
        j.flush()
        before = j.tracks(None, T0 - 10, T0 + 2000)
        moved = j.compact()  # default: up to the newest fix minus the lag → buckets before T0+1200
        assert moved == 2 * 1200
        assert j.counts() == {"rows": 2 * 300, "chunked": 2 * 1200, "chunks": 4}
        after = j.tracks(None, T0 - 10, T0 + 2000)
        assert set(after) == {"ebike-01", "car-02"}
        for unit in after:
            a, b = before[unit], after[unit]
            assert np.array_equal(a.t, b.t)
            assert np.allclose(a.lon, b.lon, atol=0.6e-7) and np.allclose(a.lat, b.lat, atol=0.6e-7)
            assert np.allclose(a.speed_kmh, b.speed_kmh, atol=0.051)
            assert np.allclose(((a.heading_deg - b.heading_deg + 180) % 360) - 180, 0, atol=0.0051)
        # a span inside one chunk, and one across a chunk and the rows
        assert j.track("car-02", T0 + 100, T0 + 109).t.tolist() == [T0 + k for k in range(100, 110)]
        assert len(j.track("car-02", T0 + 1100, T0 + 1299)) == 200


def test_a_late_fix_merges_into_its_compacted_chunk_and_a_repeat_is_kept_once(tmp_path):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        j.append(fixes("foot-01", "foot", T0 + np.arange(0, 600, 2.0)))
        j.flush()
        assert j.compact(before=T0 + 600) == 300
        late = [("foot-01", "foot", T0 + 301.0, 120.5, 36.5, 4.0, 90.0),  # between two fixes
                ("foot-01", "foot", T0 + 300.0, 120.6, 36.6, 5.0, 45.0)]  # the same instant again
        j.append(late)
        j.flush()
        tr = j.track("foot-01", T0, T0 + 600)
        assert len(tr) == 301  # one new instant; the repeat replaced its twin
        i = int(np.searchsorted(tr.t, T0 + 300.0))
        assert tr.lon[i] == pytest.approx(120.6) and tr.lon[i + 1] == pytest.approx(120.5)
        assert j.compact(before=T0 + 600) == 2  # merged into the existing chunk, not a second one
        assert j.counts()["chunks"] == 1
        tr2 = j.track("foot-01", T0, T0 + 600)
        assert np.array_equal(tr2.t, tr.t) and np.allclose(tr2.lon, tr.lon, atol=1e-7)


def test_a_failing_compaction_leaves_every_fix_exactly_once(tmp_path, monkeypatch):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        for u in range(3):
            j.append(fixes(f"car-{u}", "car", T0 + np.arange(0, 700, 1.0)))
        j.flush()
        calls = {"n": 0}
        real = PositionJournal._put_chunks

        def flaky(self, *a, **kw):
            calls["n"] += 1
            if calls["n"] == 2:  # the second unit of the transaction fails
                raise sqlite3.OperationalError("disk I/O error (simulated)")
            return real(self, *a, **kw)

        monkeypatch.setattr(PositionJournal, "_put_chunks", flaky)
        with pytest.raises(sqlite3.OperationalError):
            j.compact(before=T0 + 600)
        assert j.counts() == {"rows": 2100, "chunked": 0, "chunks": 0}  # rolled back as a whole
        monkeypatch.setattr(PositionJournal, "_put_chunks", real)
        assert j.compact(before=T0 + 600) == 1800
        got = j.tracks(None, T0, T0 + 700)
        assert {u: len(tr) for u, tr in got.items()} == {f"car-{u}": 700 for u in range(3)}


CRASH = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from desktop.core.patrol.journal import PositionJournal
    j = PositionJournal({path!r}, autoflush_s=0)
    T0 = {t0!r}
    for b in range(3):   # three committed batches of 50 fixes, 5 s apart: 0 s to 745 s
        j.append([("car-01", "car", T0 + b * 250 + i * 5, 120.3, 36.0, 30.0, 0.0) for i in range(50)])
        j.flush()
    j.compact(before=T0 + 600)  # the first bucket's 120 fixes packed into a chunk
    j.append([("car-01", "car", T0 + 750 + i * 5, 120.3, 36.0, 30.0, 0.0) for i in range(50)])  # not committed
    print("ready", flush=True)
    os._exit(9)  # a crash: no close, no flush, no cleanup
""")


def test_a_crash_loses_only_the_uncommitted_batch(tmp_path):
    path = tmp_path / "crash.sqlite"
    code = CRASH.format(root=str(ROOT), path=str(path), t0=T0)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 9 and "ready" in res.stdout, res.stderr
    with PositionJournal(path, autoflush_s=0) as j:
        tr = j.track("car-01", T0 - 1, T0 + 2000)
        assert tr.t.tolist() == [T0 + k * 5 for k in range(150)]
        assert j.counts() == {"rows": 30, "chunked": 120, "chunks": 1}
        ok = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
        assert ok == "ok"


def test_background_flush_commits_within_a_second(tmp_path):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0.1) as j:
        j.append(fixes("car-01", "car", T0 + np.arange(10.0)))
        deadline = time.monotonic() + 5
        while j.pending() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert j.pending() == 0
        assert len(j.track("car-01", T0, T0 + 20)) == 10


def test_a_file_that_is_not_a_journal_is_refused(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError, match="bad.sqlite"):
        PositionJournal(bad, autoflush_s=0)


def test_bulk_history_loads_fast_and_exactly(tmp_path):
    """A scaled-down replay load (8 units × 6 h at 1 Hz, 173 k fixes); the 4.3 M-fix figure is the benchmark's."""
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        n = fill_journal(j, units=8, t0=T0, hours=6, seed=5)
        assert n == 8 * 6 * 3600
        t = time.perf_counter()
        got = j.tracks(None, T0, T0 + 6 * 3600)
        took = time.perf_counter() - t
        assert sum(len(tr) for tr in got.values()) == n
        assert took < 1.5  # ~0.03 s here; a row-per-fix SELECT would take seconds
        ref = synthetic_track("x", "car", T0, 600, rng=np.random.default_rng(1))
        j.bulk_write([Track("check", "car", ref.t, ref.lon, ref.lat, ref.speed_kmh, ref.heading_deg)])
        back = j.track("check", T0, T0 + 600)
        assert np.array_equal(back.t, ref.t) and np.allclose(back.lat, ref.lat, atol=1e-7)
        assert j.counts()["chunks"] == 8 * 36 + 1


def test_dispatches_and_visits_by_time_range(tmp_path):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        a = j.add_dispatch("car-01", "car", "A-1", 120.3, 36.0, T0, 120.31, 36.01, 95.0)
        b = j.add_dispatch("foot-02", "foot", "A-2", 120.4, 36.1, T0 + 300)
        j.set_arrived(a.id, T0 + 80)
        j.set_arrived(a.id, T0 + 99)  # a second arrival does not overwrite the first
        j.set_released(a.id, T0 + 900)
        got = j.dispatches(T0 - 1, T0 + 1000)
        assert [d.alarm_id for d in got] == ["A-1", "A-2"]
        assert got[0].arrived == T0 + 80 and got[0].response_s == 80 and got[0].released == T0 + 900
        assert got[0].eta_s == 95.0 and math.isnan(got[1].eta_s) and got[1].response_s is None
        assert [d.unit for d in j.dispatches(open_only=True)] == ["foot-02"]
        assert [d.unit for d in j.dispatches(T0, T0 + 100, by="arrived")] == ["car-01"]
        assert j.dispatches(T0 + 301, T0 + 1000) == []
        assert b.id != a.id
        j.put_visits([VisitRecord("P1", T0 + 600, "on_time", T0 + 480, T0 + 780, unit="foot-02", kind="foot",
                                  arrival=T0 + 560, checkin=T0 + 620, departure=None, judged=T0 + 620),
                      VisitRecord("P2", T0 + 1200, "missed", T0 + 1080, T0 + 1380, judged=T0 + 1390,
                                  alarm_id="PATROL-MISSED-P2")])
        assert [v.post for v in j.visits(T0, T0 + 2000)] == ["P1", "P2"]
        assert [v.post for v in j.visits(T0, T0 + 2000, state="missed")] == ["P2"]
        assert j.visits(T0, T0 + 2000, post="P1")[0].departure is None
        assert j.visits(T0 + 700, T0 + 1100) == []


def test_chunk_encoding_is_fixed_point_little_endian():
    blob = jmod.encode_chunk(int(T0), [T0 + 0.001, T0 + 599.999], [120.1234567, -73.5], [36.0, -0.0000001],
                             [12.34, 0.0], [359.996, -10.0])
    assert len(blob) == 2 * jmod.CHUNK_DTYPE.itemsize == 32
    t, lon, lat, spd, hdg = jmod.decode_chunks(np.array([int(T0)]), np.array([2]), blob)
    assert t.tolist() == pytest.approx([T0 + 0.001, T0 + 599.999], abs=1e-6)
    assert lon.tolist() == pytest.approx([120.1234567, -73.5], abs=1e-9)
    assert lat[1] == pytest.approx(-1e-7)
    assert spd.tolist() == pytest.approx([12.3, 0.0])
    assert hdg.tolist() == pytest.approx([0.0, 350.0])  # 359.996° rounds to 360 = 0
    assert CHUNK_S % 60 == 0


@pytest.mark.skipif(os.environ.get("PINGAN_PATROL_BIG") != "1",
                    reason="the full 4.3 M-fix load is the benchmark's; set PINGAN_PATROL_BIG=1 to run it here")
def test_a_day_of_fifty_units_loads_within_the_target(tmp_path):
    with PositionJournal(tmp_path / "p.sqlite", autoflush_s=0) as j:
        assert fill_journal(j, units=50, t0=T0, hours=24) == 4_320_000
        t = time.perf_counter()
        got = j.tracks(None, T0, T0 + 86400)
        assert time.perf_counter() - t <= 3.0
        assert sum(len(tr) for tr in got.values()) == 4_320_000


def test_a_read_only_journal_sees_what_the_writer_commits(tmp_path):
    path = tmp_path / "p.sqlite"
    with pytest.raises(JournalError, match="no patrol journal"):
        PositionJournal(path, readonly=True)
    with PositionJournal(path, autoflush_s=0) as w:
        w.append(fixes("car-01", "car", T0 + np.arange(700.0)))
        w.flush()
        w.compact()
        with PositionJournal(path, readonly=True) as r:
            assert len(r.track("car-01", T0, T0 + 700)) == 700
            w.append(fixes("boat-07", "boat", T0 + np.arange(5.0)))  # a unit the reader has not seen
            assert r.tracks(["boat-07"], T0, T0 + 10) == {}
            w.flush()
            assert len(r.tracks(["boat-07"], T0, T0 + 10)["boat-07"]) == 5
            ts = r.track_set(None, T0, T0 + 700)
            assert ts.units == ("boat-07", "car-01") and ts.fixes == 705
            for write in (lambda: r.append([("x", "car", T0, 0, 0, 0, 0)]), lambda: r.compact(),
                          lambda: r.add_dispatch("x", "car", "A", 0, 0, T0)):
                with pytest.raises(JournalError, match="read-only"):
                    write()
