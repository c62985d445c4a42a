"""Statistics benchmark: a journal of 1,000,000 alarms with their transitions over two years;
every chart of the statistics panel for a one-year range, cold (a fresh process) and warm; the
choropleth; and what keeping the summaries costs the alarm service's writes.

Journal: alarms at the bundled district's cameras (fixed seed), seven types with their hours,
each acknowledged, then dispatched (the unit's arrival journaled) and resolved, or declared a
false alarm; a few hundred thousand camera drops. The rows are written in bulk and the summaries
built from them by the same code that keeps them live (one full scan); ``--keep DIR`` keeps the
file for the next run.

"All charts" is what the panel asks for one refresh: every count chart (over time, hour,
weekday × hour, type, sub-district), year over year and period over period, response times by
type, sub-district and operator, the camera online rate, the cells for the choropleth — and the
panel's chart tables built from them. ``cold``: the first refresh in a new process (the OS
file cache is warm: the file was just written); ``warm``: the median of later refreshes.
Camera coverage is geometry, not journal, computed once a session: reported as
``coverage_ms`` beside.

Write overhead: 20,000 alarms (and 15,000 workflow changes) through the real alarm service
onto a journal with the summaries and onto one without, back to back, in five pairs (the order
alternating); ``journal_write_overhead_pct`` is the median of the pairs' wall-clock ratios and
``journal_write_overhead_cpu_pct`` the same for the process's CPU time.

"Warm" repeats the same refresh with the journal unchanged: the reader remembers summary rows
until SQLite says the journal changed, so it measures the figures and chart tables made from
them. ``all_charts_filtered_ms`` is a refresh for a filter not asked before, in the same
process: the summary queries run again.

The last line of stdout is one JSON object; progress goes to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

TZ_NAME = "Asia/Shanghai"
TYPES = ("one_key", "perimeter", "face_match", "radar_target", "fire", "crowd", "hazard_report")
OPERATORS = ("op1", "op2", "op3", "op4", "op5", "op6", "op7", "op8")
BUILD_VERSION = 3  # bump when the generated journal (or its summaries) changes


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _district():
    from desktop.core.district.loader import load_district
    from desktop.core.geo.crs import MapProjection
    from desktop.paths import MAPS
    proj = MapProjection()
    return load_district(MAPS / "shinan", proj), proj


def build_journal(path: Path, n: int, end: date, seed: int = 9) -> None:
    """Write ``n`` alarms over the two years up to ``end`` with their histories, then the summaries."""
    from zoneinfo import ZoneInfo

    from desktop.core.alarms.journal import _ALARM_COLS, Journal
    from desktop.core.stats.places import GridLocator
    from desktop.core.stats.summary import SummaryKeeper
    tz = ZoneInfo(TZ_NAME)
    district, proj = _district()
    loc = GridLocator(district, proj)
    rng = np.random.default_rng(seed)
    t_end = datetime.combine(end + timedelta(days=1), datetime.min.time(), tz).timestamp()
    t0 = t_end - 730 * 86400
    # hours: a day-night curve; the second year 20 % quieter
    hour_w = 0.5 + 0.5 * np.sin((np.arange(24) - 9) / 24 * 2 * np.pi) + 0.2
    hour_w /= hour_w.sum()
    days = rng.integers(0, 730, n)
    keep = (days >= 365) | (rng.random(n) < 0.8)
    days = np.where(keep, days, rng.integers(365, 730, n))
    epoch = t0 + days * 86400.0 + rng.choice(24, n, p=hour_w) * 3600 + rng.uniform(0, 3600, n)
    order = np.argsort(epoch)
    epoch = epoch[order]
    cams = district.cameras
    at = rng.integers(0, len(cams), n)
    lon = cams.lon_wgs[at] + rng.normal(0, 0.0005, n)
    lat = cams.lat_wgs[at] + rng.normal(0, 0.0004, n)
    cells = loc.cells_of(lon, lat)
    types = rng.choice(len(TYPES), n)
    ack = epoch + rng.lognormal(np.log(25), 0.6, n)
    false = rng.random(n) < 0.2
    disp = ack + rng.lognormal(np.log(45), 0.5, n)
    arrive = disp + rng.lognormal(np.log(400), 0.45, n)
    resolved = arrive + rng.lognormal(np.log(1800), 0.6, n)
    ops = rng.integers(0, len(OPERATORS), n)
    journal = Journal(path, synchronous="NORMAL", summaries=False)
    conn = journal._conn
    chunk = 50_000
    for k in range(0, n, chunk):
        rows, trans, arr = [], [], []
        for i in range(k, min(n, k + chunk)):
            aid = f"B{i:07d}"
            e = float(epoch[i])
            state = "false_alarm" if false[i] else "resolved"
            sub = loc.subdistrict.get(cells[i], "")
            rows.append((aid, TYPES[types[i]], 2, "", e, float(lon[i]), float(lat[i]), "WGS84", float(lon[i]),
                         float(lat[i]), float(lon[i]), float(lat[i]), "cam", "[]", "", state, e, 1, "", e, e, "",
                         sub, e))
            op = OPERATORS[ops[i]]
            trans.append((aid, "new", "acknowledged", op, float(ack[i]), "", "", "b", ""))
            if false[i]:
                trans.append((aid, "acknowledged", "false_alarm", op, float(ack[i]) + 60, "", "", "b", ""))
            else:
                trans.append((aid, "acknowledged", "dispatched", op, float(disp[i]), "", "", "b", "u1"))
                trans.append((aid, "dispatched", "resolved", op, float(resolved[i]), "", "", "b", ""))
                arr.append((aid, "u1", float(disp[i]), float(arrive[i])))
        with journal._lock:
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO alarms ({', '.join(_ALARM_COLS)}) VALUES "
                             f"({', '.join('?' * len(_ALARM_COLS))})", rows)
            conn.executemany("INSERT INTO transitions (alarm_id, from_state, to_state, operator, epoch, time, note,"
                             " origin, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", trans)
            conn.execute("CREATE TABLE IF NOT EXISTS arrivals (alarm_id TEXT NOT NULL, unit TEXT NOT NULL, "
                         "dispatched REAL NOT NULL, arrived REAL NOT NULL, PRIMARY KEY (alarm_id, unit, dispatched))"
                         " WITHOUT ROWID")
            conn.executemany("INSERT INTO arrivals VALUES (?, ?, ?, ?)", arr)
            conn.execute("COMMIT")
        _log(f"  rows {min(n, k + chunk):,} / {n:,}")
    journal.close()
    # camera drops: ~80 per camera over two years, minutes to a day
    from desktop.core.stats.summary import SUMMARY_SCHEMA
    c = sqlite3.connect(path)
    c.executescript(SUMMARY_SCHEMA)
    m = len(cams) * 80
    cs = rng.integers(0, len(cams), m)
    st = t0 + rng.uniform(0, 730 * 86400, m)
    du = np.where(rng.random(m) < 0.7, rng.uniform(30, 900, m), rng.lognormal(np.log(6 * 3600), 1.0, m))
    ids = [str(x) for x in cams.ids]
    c.executemany('INSERT INTO camera_outages (camera_id, status, start, "end") VALUES (?, ?, ?, ?)',
                  [(ids[cs[i]], "offline", float(st[i]), float(st[i] + du[i])) for i in range(m)])
    c.commit()
    c.close()
    _log("  building the summaries from the rows (the journal's own code, one full scan)")
    t = time.perf_counter()
    j = Journal(path, synchronous="NORMAL",
                summaries=SummaryKeeper(tz=ZoneInfo(TZ_NAME), cell_of=loc.cell_of, cells_of=loc.cells_of))
    j.rebuild_summaries()
    with j.batch() as tx:
        tx._c.execute("INSERT OR REPLACE INTO meta VALUES ('bench_build', ?)", (f"{BUILD_VERSION}:{n}:{end}",))
    j.close()
    _log(f"  summaries in {time.perf_counter() - t:.1f} s")


def all_charts(svc, f, n_cams: int, now: float):
    """One refresh of the panel: what StatisticsPlugin.refresh asks for, and its chart tables."""
    from desktop.paths import PLUGINS
    if str(PLUGINS.parent) not in sys.path:
        sys.path.insert(0, str(PLUGINS.parent))
    from plugins.statistics import core
    r = svc.reader()
    counts = r.counts(f)
    charts = [core.over_time_chart(counts, months=True), core.hour_chart(counts), core.weekday_hour_chart(counts),
              core.type_chart(counts, r.changes(f)), core.subdistrict_chart(counts)]
    for by in ("type", "subdistrict", "operator"):
        figs = r.response(f, by)
        charts += [core.response_chart(figs, m, by, 60.0) for m in ("ack", "dispatch", "arrive", "resolve")]
    charts.append(core.camera_chart(r.cameras(f, n_cams, 300.0, now=now)))
    cells = r.cells(f)
    return charts, cells


def choropleth(svc, f, areas):
    from plugins.statistics import core
    cells = svc.reader().cells(f)
    vals = core.choropleth_values(cells, svc.locator.ids, areas, True)
    return core.class_breaks(list(vals.values()))


def child(path: str, end: str) -> None:
    """Run in a fresh process: cold refresh, warm refreshes, choropleth."""
    t_import = time.perf_counter()
    from zoneinfo import ZoneInfo

    from desktop.core.stats.reader import StatsFilter
    from desktop.core.stats.service import StatisticsService
    district, proj = _district()
    svc = StatisticsService(Path(path), district, proj, ZoneInfo(TZ_NAME))
    last = date.fromisoformat(end)
    f = StatsFilter(last - timedelta(days=364), last)
    now = time.time()
    n_cams = len(district.cameras)
    setup_ms = (time.perf_counter() - t_import) * 1000
    t = time.perf_counter()
    charts, cells = all_charts(svc, f, n_cams, now)
    cold = (time.perf_counter() - t) * 1000
    warm = []
    for _ in range(7):
        t = time.perf_counter()
        all_charts(svc, f, n_cams, now)
        warm.append((time.perf_counter() - t) * 1000)
    areas = {c: svc.cell_area_km2(c) for c in svc.locator.ids}
    t = time.perf_counter()
    choropleth(svc, f, areas)
    ch_cold = (time.perf_counter() - t) * 1000
    ch = []
    for _ in range(7):
        t = time.perf_counter()
        choropleth(svc, f, areas)
        ch.append((time.perf_counter() - t) * 1000)
    # a filtered refresh (one type, one sub-district) as an operator narrows down
    sub = district.subdistricts()[0]
    fs = StatsFilter(f.first, f.last, types=("perimeter",), subdistricts=(sub,))
    t = time.perf_counter()
    all_charts(svc, fs, n_cams, now)
    filtered = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    svc.coverage()
    cov = (time.perf_counter() - t) * 1000
    year_alarms = int(svc.reader().counts(f).total.sum())
    print(json.dumps({"setup_ms": setup_ms, "cold": cold, "warm": float(np.median(warm)), "choropleth_cold": ch_cold,
                      "choropleth": float(np.median(ch)), "filtered": filtered, "coverage": cov,
                      "charts": len(charts), "cells": len(cells), "year_alarms": year_alarms}))


def write_overhead(n_alarms: int = 20_000, rounds: int = 5) -> dict:
    """Seconds (wall and process CPU) to ingest through the alarm service without and with
    summaries, in ``rounds`` pairs run back to back (the order alternating); the overhead is the
    median of the pairs' ratios, which cancels the drift of a shared machine better than a
    ratio of medians (single rounds vary by ±15 % here)."""
    from zoneinfo import ZoneInfo

    from desktop.core.alarms.journal import Journal
    from desktop.core.alarms.service import AlarmService
    from desktop.core.clock import iso
    from desktop.core.stats.places import GridLocator
    from desktop.core.stats.summary import SummaryKeeper
    district, proj = _district()
    loc = GridLocator(district, proj)
    cams = district.cameras
    rng = np.random.default_rng(3)
    at = rng.integers(0, len(cams), n_alarms)
    now = time.time()
    payloads = [{"id": f"w{i}", "type": TYPES[i % 7], "priority": 1 + i % 4, "time": iso(now - 3600 + i * 0.1),
                 "lon": float(cams.lon_wgs[at[i]]), "lat": float(cams.lat_wgs[at[i]]), "crs": "WGS84",
                 "source": f"cam-{i}", "text": "bench"} for i in range(n_alarms)]
    times = {False: [], True: []}
    cpu = {False: [], True: []}
    for r in range(rounds):
        for with_summaries in (False, True) if r % 2 == 0 else (True, False):
            d = Path(tempfile.mkdtemp(prefix="pingan-bench-statsw-"))
            keeper = SummaryKeeper(tz=ZoneInfo(TZ_NAME), cell_of=loc.cell_of, cells_of=loc.cells_of) \
                if with_summaries else False
            svc = AlarmService(Journal(d / "j.sqlite", summaries=keeper), workstation="bench",
                               locate=loc.subdistrict_of).start()
            t, c0 = time.perf_counter(), time.process_time()
            for k in range(0, n_alarms, 100):  # bursts of 100, as a busy feed delivers them
                for p in payloads[k:k + 100]:
                    svc.submit("pingan/alarm", p)
            svc.flush(120)
            futs = []
            for i in range(0, n_alarms, 2):  # half acknowledged, a quarter resolved after a dispatch
                futs.append(svc.transition(f"w{i}", "acknowledged", "op1"))
            for fu in futs:
                fu.result(60)
            futs = [svc.transition(f"w{i}", "dispatched", "op1", unit="u") for i in range(0, n_alarms, 4)]
            for fu in futs:
                fu.result(60)
            svc.flush(120)
            times[bool(with_summaries)].append(time.perf_counter() - t)
            cpu[bool(with_summaries)].append(time.process_time() - c0)
            svc.stop()
            shutil.rmtree(d, ignore_errors=True)
            _log(f"  write round {r + 1}: summaries={bool(with_summaries)} {times[bool(with_summaries)][-1]:.2f} s")
    wall = [(w - o) * 100.0 / o for o, w in zip(times[False], times[True])]
    proc = [(w - o) * 100.0 / o for o, w in zip(cpu[False], cpu[True])]
    return {"without_s": float(np.median(times[False])), "with_s": float(np.median(times[True])),
            "pct": float(np.median(wall)), "cpu_pct": float(np.median(proc)),
            "pct_rounds": [round(x, 1) for x in wall]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench stats")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", help="folder to keep (and reuse) the generated journal in")
    ap.add_argument("--child", nargs=2, metavar=("PATH", "END"), help=argparse.SUPPRESS)
    ap.add_argument("--write-alarms", type=int, default=20_000)
    ap.add_argument("--write-rounds", type=int, default=5)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    from desktop.bench.machine import machine_ref_ms
    _log("machine reference (ffmpeg -threads 1, 720p reference clip)")
    ref = machine_ref_ms()
    end = date.today() - timedelta(days=1)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="pingan-bench-stats-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"stats-bench-{args.rows}.sqlite"
    stamp = f"{BUILD_VERSION}:{args.rows}:{end}"
    have = None
    if path.exists():
        try:
            c = sqlite3.connect(path)
            have = (c.execute("SELECT value FROM meta WHERE key = 'bench_build'").fetchone() or [None])[0]
            c.close()
        except sqlite3.Error:
            have = None
    t = time.perf_counter()
    if have != stamp:
        for s in ("", "-wal", "-shm"):
            Path(str(path) + s).unlink(missing_ok=True)
        _log(f"building a journal of {args.rows:,} alarms in {path}")
        build_journal(path, args.rows, end)
    build_s = time.perf_counter() - t
    size_mb = path.stat().st_size / 1e6
    _log("fresh process: all charts cold, then warm, the choropleth")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "desktop.bench.stats", "--child", str(path), end.isoformat()],
                         capture_output=True, text=True, check=True)
    proc_ms = (time.perf_counter() - t) * 1000
    res = json.loads(out.stdout.strip().splitlines()[-1])
    _log(f"  cold {res['cold']:.0f} ms, warm {res['warm']:.0f} ms, choropleth {res['choropleth']:.1f} ms")
    _log(f"write overhead: {args.write_alarms:,} alarms through the alarm service, with and without summaries")
    w = write_overhead(args.write_alarms, args.write_rounds)
    c = sqlite3.connect(path)
    n_trans = c.execute("SELECT COUNT(*) FROM transitions").fetchone()[0]
    c.close()
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    result = {
        "bench": "stats", "rows": args.rows, "transitions": n_trans, "year_alarms": res["year_alarms"],
        "journal_mb": round(size_mb, 1), "build_s": round(build_s, 1),
        "all_charts_cold_ms": round(res["cold"], 1), "all_charts_warm_ms": round(res["warm"], 1),
        "all_charts_filtered_ms": round(res["filtered"], 1),
        "choropleth_ms": round(res["choropleth"], 2), "choropleth_cold_ms": round(res["choropleth_cold"], 2),
        "charts": res["charts"], "cells": res["cells"], "coverage_ms": round(res["coverage"], 1),
        "child_setup_ms": round(res["setup_ms"], 1), "child_process_ms": round(proc_ms, 1),
        "ingest_without_summaries_s": round(w["without_s"], 3), "ingest_with_summaries_s": round(w["with_s"], 3),
        "journal_write_overhead_pct": round(w["pct"], 1), "journal_write_overhead_cpu_pct": round(w["cpu_pct"], 1),
        "journal_write_overhead_rounds_pct": w["pct_rounds"],
        "targets": {"all_charts_cold_ms": 1000, "all_charts_warm_ms": 200, "choropleth_ms": 100,
                    "journal_write_overhead_pct": 10},
        "machine_ref_ms": ref,
    }
    result["targets_met"] = all(result[k] <= v for k, v in result["targets"].items())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
