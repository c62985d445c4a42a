"""Soak benchmark: ``python -m desktop.bench soak [--json] [--minutes N]``.

A wall used as a command center uses it, for as long as asked (default 10 minutes): the
operator window offscreen (map, alarm panel plugin, audit trail, video wall), a 16-tile wall
touring a group of cameras a page every 3 s, and alarms at 1/s published on the in-process
bus — the way the offline program receives them — whose linkage puts their cameras on the
wall (at most one automatic change every 3 s, the panel's own limit). Every camera plays real
H.264 over RTSP from the GStreamer server (``desktop/bench/rtsp_server.py``): the district's
cameras are mapped onto the eight demo clips, main and sub stream each.

An operator is simulated too: each alarm is acknowledged after 10 s and closed (false alarm)
after 30 s, and closed alarms leave memory after ``--retention-s`` (120 s) instead of the
program's 7 days — days of a shift's alarm turnover compressed into minutes, so the alarm
store reaches its steady size and what still grows is a leak, not the alarms themselves.
``--close-after-s 0`` keeps every alarm open instead (the store then grows by design).

Measured every ``--sample-s`` seconds: resident memory (VmRSS), OS threads
(``/proc/self/task``), live players, workers and decode threads, tiles live. "Start" is the
end of the warm-up (the wall's first page live and alarms flowing); ``rss_growth_pct`` is
from minute 2 to the end (from the start when the run is shorter than 3 minutes), as the
medians of the first and last minute of that span, with ``rss_trend_pct`` beside it (see
:func:`rss_growth`: single samples swing by 10 % on a touring wall). The
cyclic collector runs as in the program (``tune_runtime``, ``freeze_heap``); what it had to
free is reported (``gc_collected``): memory that waits for a collection is what this
benchmark is for. ``growing`` lists the Python containers of the window, the wall, the
plugins and the alarm service that gained more than ``--grow-min`` entries during the run.

The last line of stdout is one JSON object; progress goes to stderr. ``machine_ref_ms`` is
the machine's reference (``desktop/bench/machine.py``: ``ffmpeg -threads 1`` decoding a fixed
720p clip, ms a frame).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from collections import deque
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ALARM_TYPES = ("one_key", "perimeter", "face_match", "fire", "crowd", "hazard_report")
TARGETS = {"threads_end_minus_start": 4, "players_alive_end": "tiles", "rss_growth_pct": 5.0}


def rss_growth(samples: list[dict], from_s: float, window_s: float = 60.0) -> dict:
    """Growth of resident memory from ``from_s`` to the end, robust to the wall's own swing.

    A touring wall's RSS saw-tooths by tens of MB: each page change allocates 16 new players
    before the freed memory of the old ones goes back to the system (every 30 s, see
    desktop.core.video.memory), so two single samples can differ by 10 % with nothing leaking.
    ``rss_growth_pct`` compares the median of the first minute of the span with the median of
    its last minute; ``rss_trend_pct`` is a least-squares line through every sample of the
    span, as its rise over the span in per cent of its start — a leak shows in both.
    """
    import statistics
    span = [x for x in samples if x["t_s"] >= from_s] or samples
    t0, t1 = span[0]["t_s"], span[-1]["t_s"]
    head = [x["rss_mb"] for x in span if x["t_s"] <= t0 + window_s]
    tail = [x["rss_mb"] for x in span if x["t_s"] >= t1 - window_s]
    m0, m1 = statistics.median(head), statistics.median(tail)
    out = {"rss_growth_pct": round(100.0 * (m1 - m0) / m0, 2), "rss_mb_median_first_min": m0,
           "rss_mb_median_last_min": m1, "rss_trend_pct": None}
    if len(span) >= 3 and t1 > t0:
        ts = [x["t_s"] for x in span]
        rs = [x["rss_mb"] for x in span]
        fit = statistics.linear_regression(ts, rs)  # MB per second
        start = fit.intercept + fit.slope * t0
        slope = fit.slope
        out["rss_trend_pct"] = round(100.0 * slope * (t1 - t0) / start, 2)
    return out


def _log(msg: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Resident memory now (not the peak), MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def os_threads() -> int:
    """OS threads of this process, every one (Qt's, FFmpeg's, Python's)."""
    return len(os.listdir("/proc/self/task"))


# the machine reference lives in desktop/bench/machine.py (shared by every benchmark)
from desktop.bench.machine import machine_ref_ms  # noqa: E402  (re-exported for older callers)


# --------------------------------------------------------------------------------------------
# containers that grow
# --------------------------------------------------------------------------------------------

def container_sizes(roots: dict, depth: int = 3) -> dict[str, int]:
    """``{"root.attr.attr": len}`` for every list, dict, set and deque reachable through the
    instance attributes of ``roots`` (``depth`` levels). Finds per-event lists by name without
    knowing the classes (the plugins are rewritten while this benchmark stays)."""
    import numpy as np
    out: dict[str, int] = {}
    seen: set[int] = set()

    def walk(obj, path: str, level: int) -> None:
        if id(obj) in seen or level > depth:
            return
        seen.add(id(obj))
        if isinstance(obj, (list, dict, set, frozenset, deque)):
            out[path] = len(obj)
            return
        if isinstance(obj, (str, bytes, int, float, bool, np.ndarray, type)) or obj is None:
            return
        try:
            attrs = vars(obj)
        except TypeError:
            slots = getattr(type(obj), "__slots__", ())
            attrs = {s: getattr(obj, s, None) for s in slots if isinstance(s, str)}
        for name, value in list(attrs.items()):
            walk(value, f"{path}.{name}", level + 1)

    for name, root in roots.items():
        walk(root, name, 0)
    return out


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------

def _camera_points(district, rng: random.Random, n: int) -> list[tuple[float, float]]:
    """Alarm points (WGS84) inside the view of ``n`` cameras: half the camera's range ahead
    along its heading, so the linkage finds that camera (and its neighbours)."""
    import math
    cams = district.cameras
    rows = rng.sample(range(len(cams)), min(n, len(cams)))
    pts = []
    for i in rows:
        d = 0.5 * float(cams.range_m[i] or 60.0)
        h = math.radians(float(cams.heading[i]))
        lat = float(cams.lat_wgs[i])
        pts.append((float(cams.lon_wgs[i]) + d * math.sin(h) / (111_320.0 * math.cos(math.radians(lat))),
                    lat + d * math.cos(h) / 111_320.0))
    return pts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="(the JSON line is always printed last)")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    ap.add_argument("--tiles", type=int, default=16, help="tiles on the wall (a square layout; default 16)")
    ap.add_argument("--tour-s", type=float, default=3.0, help="seconds per tour page (default 3)")
    ap.add_argument("--pages", type=int, default=3, help="pages in the toured group (default 3)")
    ap.add_argument("--alarm-rate", type=float, default=1.0, help="alarms per second (default 1)")
    ap.add_argument("--ack-after-s", type=float, default=10.0)
    ap.add_argument("--close-after-s", type=float, default=30.0, help="0: alarms stay open")
    ap.add_argument("--retention-s", type=float, default=120.0,
                    help="closed alarms leave memory after this long (the program: 7 days)")
    ap.add_argument("--warmup-s", type=float, default=20.0)
    ap.add_argument("--sample-s", type=float, default=10.0)
    ap.add_argument("--grow-min", type=int, default=50, help="report containers that grew by more than this")
    ap.add_argument("--district", default=None)
    ap.add_argument("--no-trim", action="store_true",
                    help="the wall never returns freed memory to the system (to see what that does)")
    ap.add_argument("--clips", type=int, default=8, help="demo clips served (each a main and a sub mount)")
    ap.add_argument("--clip-seconds", type=float, default=20.0)
    ap.add_argument("--clip-folder", default=None, help="where the clips are (default: the cache)")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.bench.rtsp_server import RtspServer, gst_rtsp_available
    from desktop.core.config import Config
    from desktop.core.district.loader import load_district
    from desktop.core.district.resolve import resolve_district
    from desktop.core.geo.crs import MapProjection
    from desktop.core.session import Session
    from desktop.core.video.clips import annexb_copy, ensure_demo_clips
    from desktop.core.video.layouts import layout_for_count
    from desktop.core.video.player import live_players
    from desktop.core.video.source import CameraStreams, StreamSpec
    from desktop.core.video.worker import decode_threads, live_workers
    from desktop.qt.app import attach_operator_tools, freeze_heap, start_plugins, tune_runtime
    from desktop.qt.main_window import MainWindow
    from desktop.qt.theme import apply_theme
    from desktop.qt.video.wall import VideoWall

    reason = gst_rtsp_available()
    if reason:
        print(f"soak: no RTSP server: {reason}", file=sys.stderr)
        return 2
    t_setup = time.monotonic()
    _log("machine reference (ffmpeg -threads 1, 720p reference clip)")
    ref = machine_ref_ms()
    _log(f"  machine_ref_ms {ref}")
    tune_runtime()  # as desktop.qt.app.run does: switch interval, rare collections
    tmp = Path(tempfile.mkdtemp(prefix="pingan-bench-soak-"))
    pairs = ensure_demo_clips(count=args.clips, seconds=args.clip_seconds,
                              folder=Path(args.clip_folder) if args.clip_folder else None)
    mounts = {}
    for i, p in enumerate(pairs):
        mounts[f"v{i}"] = annexb_copy(p.main)
        mounts[f"v{i}s"] = annexb_copy(p.sub)
    server = RtspServer(mounts, log_path=tmp / "rtsp-server.log").start()
    _log(f"RTSP server on port {server.port}: {len(mounts)} mounts")

    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    district = load_district(resolve_district(args.district), MapProjection())
    n_clips = len(pairs)

    def resolve(camera_id: str):
        cam = district.cameras.get(camera_id)
        if cam is None:
            return None
        v = district.cameras.row(camera_id) % n_clips
        return CameraStreams(camera_id, cam.name or camera_id,
                             StreamSpec(server.url(f"v{v}"), 1280, 720, "main"),
                             StreamSpec(server.url(f"v{v}s"), 640, 360, "sub"))

    layout = layout_for_count(args.tiles)
    cfg = Config(operator="soak", workstation="soak-ws")
    window = MainWindow(district, MapProjection(), wall_factory=lambda win: VideoWall(
        resolve=resolve, settings_path=tmp / "video_layouts.json", layout=layout))
    window.resize(1920, 1080)
    window.splitter.setSizes([640, 1280])  # the wall takes two thirds: 16 tiles of ~320x250
    session = Session(cfg, district, window.projection, journal_path=tmp / "journal.sqlite", demo_feed=False)
    alarms = session.alarms
    alarms.closed_retention_s = args.retention_s
    alarms.FORGET_EVERY_S = max(10.0, args.retention_s / 2)  # instance attribute: this run only
    session.start()
    manager = start_plugins(window, cfg, district, bus=session.bus,
                            services={"alarms": alarms, "clock": session.clock, "operator": "soak",
                                      "duty": session.duty, "session": session})
    attach_operator_tools(app, window, session, cfg, district)
    window.show()
    wall = window.wall
    if args.no_trim:
        wall.trimmer.interval_s = float("inf")
    end = time.monotonic() + 1.5
    while time.monotonic() < end:  # the first map frame and dock layout: start-up, not soak
        app.processEvents()
        time.sleep(0.01)
    freeze_heap()

    # --- what happens during the run ---------------------------------------------------------
    counts = {"camera_changes": 0, "linkage_opens": 0, "alarms_sent": 0, "acknowledged": 0, "closed": 0,
              "workflow_errors": 0}
    wall.camera_opened.connect(lambda _i, _cid: counts.__setitem__("camera_changes", counts["camera_changes"] + 1))
    original_open = window.open_camera_ids

    def counted_open(*ids):  # the alarm panel's linkage reaches the wall through this
        counts["linkage_opens"] += 1
        return original_open(*ids)
    window.open_camera_ids = counted_open

    gc_stats = {"collections": 0, "full": 0, "collected": 0}

    def on_gc(phase, info):
        if phase == "stop":
            gc_stats["collections"] += 1
            gc_stats["collected"] += info.get("collected", 0)
            if info.get("generation") == 2:
                gc_stats["full"] += 1
    gc.callbacks.append(on_gc)

    rng = random.Random(20261201)
    points = _camera_points(district, rng, 400)
    group_ids = [str(i) for i in rng.sample(list(district.cameras.ids), wall.tile_count * args.pages)]
    pending: deque = deque()  # (sent monotonic, alarm id, acknowledged?)
    seq = [0]

    def publish_alarm():
        k = seq[0]
        seq[0] += 1
        lon, lat = points[k % len(points)]
        aid = f"SOAK-{k:07d}"
        session.bus.publish("pingan/alarm", {
            "id": aid, "type": ALARM_TYPES[k % len(ALARM_TYPES)], "priority": 1 + k % 3,
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "lon": round(lon, 7), "lat": round(lat, 7), "crs": "WGS84",
            "source": f"soak-sensor-{k}", "text": "soak"})
        counts["alarms_sent"] += 1
        if args.close_after_s > 0:
            pending.append([time.monotonic(), aid, False])

    def operate():
        """The operator: acknowledge, then close, the oldest alarms."""
        now = time.monotonic()
        for item in list(pending):
            sent, aid, acked = item
            age = now - sent
            try:
                if not acked and age >= args.ack_after_s:
                    alarms.transition(aid, "acknowledged", "soak")
                    item[2] = True
                    counts["acknowledged"] += 1
                elif acked and age >= args.close_after_s:
                    alarms.transition(aid, "false_alarm", "soak", note="soak")
                    pending.popleft()
                    counts["closed"] += 1
                elif age < args.ack_after_s:
                    break
            except Exception:  # noqa: BLE001 - e.g. not ingested yet: try again next second
                counts["workflow_errors"] += 1
                break

    samples: list[dict] = []
    t0 = time.monotonic()
    c0 = time.process_time()

    def tiles_live() -> int:
        return sum(1 for t in wall.tiles[:wall.tile_count] if t.state == "live")

    def sample():
        samples.append({"t_s": round(time.monotonic() - t0, 1), "rss_mb": round(rss_mb(), 1),
                        "threads": os_threads(), "players": live_players(), "workers": live_workers(),
                        "decode_threads": decode_threads(), "tiles_live": tiles_live()})
        s = samples[-1]
        if len(samples) == 1 or int(s["t_s"]) % 60 < args.sample_s:
            _log(f"t={s['t_s']:7.1f}s rss {s['rss_mb']:6.1f} MB threads {s['threads']:3d} players {s['players']:3d} "
                 f"decode {s['decode_threads']:3d} live {s['tiles_live']:2d}/{wall.tile_count} "
                 f"changes {counts['camera_changes']} alarms {counts['alarms_sent']}")

    timers = []

    def every(seconds: float, fn):
        t = QTimer()
        t.setInterval(max(1, int(seconds * 1000)))
        t.timeout.connect(fn)
        t.start()
        timers.append(t)

    start_figures: dict = {}
    containers_start: dict = {}
    roots = lambda: {"window": window, "wall": wall, "alarms": alarms,  # noqa: E731
                     **{f"plugin[{k}]": r.instance for k, r in manager.records.items() if r.instance is not None}}

    def warmed_up():
        sample()
        start_figures.update(samples[-1])
        start_figures["py_objects"] = len(gc.get_objects())
        containers_start.update(container_sizes(roots()))
        _log(f"warm-up done: {start_figures}")

    duration_s = max(args.warmup_s + 2 * args.sample_s, args.minutes * 60.0)
    result: dict = {}

    def finish():
        """The end, measured while everything still runs (``app.quit`` unloads the plugins and
        stops the session through ``aboutToQuit``, so nothing is measured after it)."""
        sample()
        last = samples[-1]
        elapsed = time.monotonic() - t0
        cpu = (time.process_time() - c0) / (elapsed * (len(os.sched_getaffinity(0)) or 1))
        containers_end = container_sizes(roots())
        growing = {k: [containers_start.get(k, 0), n] for k, n in containers_end.items()
                   if n - containers_start.get(k, 0) > args.grow_min}
        base_t = 120.0 if duration_s >= 180.0 else float(start_figures.get("t_s", 0.0))
        base = next((x for x in samples if x["t_s"] >= base_t), samples[0])
        for t in timers:
            t.stop()
        wall.stop_tour()
        svc = alarms.counters()
        result.update({
            "bench": "soak",
            "minutes": round(elapsed / 60.0, 2),
            "tiles": wall.tile_count,
            "layout": layout,
            "tour_interval_s": args.tour_s,
            "tour_cameras": len(group_ids),
            "alarm_rate_per_s": args.alarm_rate,
            "camera_changes": counts["camera_changes"],
            "linkage_wall_changes": counts["linkage_opens"],
            "alarms_sent": counts["alarms_sent"],
            "alarms_new": svc.get("new", 0),
            "alarms_closed": counts["closed"],
            "alarms_in_memory_end": len(alarms.alarms()),
            "workflow_retries": counts["workflow_errors"],
            "rss_mb_start": start_figures.get("rss_mb"),
            "rss_mb_2min": base["rss_mb"],
            "rss_mb_end": last["rss_mb"],
            "rss_mb_max": max(x["rss_mb"] for x in samples),
            **rss_growth(samples, base["t_s"]),
            "rss_growth_endpoints_pct": round(100.0 * (last["rss_mb"] - base["rss_mb"]) / base["rss_mb"], 2),
            "rss_growth_from_s": base["t_s"],
            "threads_start": start_figures.get("threads"),
            "threads_end": last["threads"],
            "threads_max": max(x["threads"] for x in samples),
            "players_alive_end": last["players"],
            "workers_alive_end": last["workers"],
            "decode_threads_end": last["decode_threads"],
            "tiles_live_end": last["tiles_live"],
            "tiles_live_min_after_warmup": min((x["tiles_live"] for x in samples if x["t_s"] >= args.warmup_s),
                                               default=None),
            "cpu_pct": round(100.0 * cpu, 1),
            "py_objects_start": start_figures.get("py_objects"),
            "py_objects_end": len(gc.get_objects()),  # outside the frozen start-up heap
            "memory_trims": wall.trimmer.trims,
            "memory_trim_ms_max": round(wall.trimmer.max_ms, 2),
            "gc_collections": gc_stats["collections"],
            "gc_full_collections": gc_stats["full"],
            "gc_collected": gc_stats["collected"],
            "growing": growing,
            "closed_retention_s": args.retention_s,
            "plugin_states": {k: r.state for k, r in manager.records.items()},
            "machine_ref_ms": ref,
            "setup_s": round(t0 - t_setup, 1),
            "samples": samples[:: max(1, len(samples) // 60)],
            "targets": TARGETS,
        })
        app.quit()

    _log(f"soak: {args.minutes:g} min, {wall.tile_count} tiles ({layout}), tour of {len(group_ids)} cameras "
         f"every {args.tour_s:g} s, {args.alarm_rate:g} alarm/s")
    wall.start_tour(group_ids, args.tour_s)
    every(1.0 / args.alarm_rate, publish_alarm)
    every(1.0, operate)
    every(args.sample_s, sample)
    QTimer.singleShot(int(args.warmup_s * 1000), warmed_up)
    QTimer.singleShot(int(duration_s * 1000), finish)
    sample()
    app.exec()

    gc.callbacks.remove(on_gc)
    try:
        wall.stop()  # the plugins and the session were stopped by aboutToQuit, as in the program
    finally:
        server.stop()
    if not result:
        print("soak: the event loop ended before the run did", file=sys.stderr)
        return 3
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
