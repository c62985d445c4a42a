"""Map benchmark: full-HD frame time with the district plus 25,000 camera icons, hit-test time,
and time from interpreter start to the first painted map frame.

Frames are rendered offscreen into a 1920×1080 image through the canvas's own paint path
(static cache, dynamic layers, overlays) along a scripted operator session: the whole
district (clustered), zooming into the densest area, panning at street level, and back.
A worst case with clustering off and every icon drawn is reported separately.

Frames come at 60 Hz with the event loop running between them, as in the program: when a
step leaves the cached image (a zoom, a pan past its margin) the canvas asks its render
thread for a new one and the frame shows the previous image stretched (``stale_frames``);
``frame_ms_*`` is what the GUI thread paid for each frame. ``full_render_ms_*`` is the cost
of one full render of the static layers measured alone (the canvas forced to render in
place along the session's views), ``thread_render_ms_*`` the same renders on the render
thread during the session (they share the cores and the interpreter with the frames).
``--hog N`` runs N busy processes meanwhile; ``--slow-to MS`` runs it as on a slower machine
whose ``machine_ref_ms`` is MS; ``machine_ref_ms`` and both options: ``desktop/bench/machine.py``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _pct(values, q) -> float:
    return round(float(np.percentile(np.asarray(values, float), q)), 3) if len(values) else 0.0


def _with_extra_cameras(district, total: int, seed: int = 23800):
    """Pad the district's camera table to ``total`` with extra sources on its land (the integrated feeds)."""
    import shapely

    from desktop.core.district.model import Camera, CameraTable
    from desktop.core.geo.crs import to_wgs84

    have = len(district.cameras)
    need = max(0, total - have)
    rng = np.random.default_rng(seed)
    land = district.boundary.map_geom
    minx, miny, maxx, maxy = land.bounds
    # Integrated sources cluster where people are: sample around existing cameras, keep those on land.
    base_x, base_y = district.cameras.x, district.cameras.y
    xs, ys = [], []
    while sum(len(a) for a in xs) < need:
        pick = rng.integers(0, len(base_x), need)
        x = base_x[pick] + rng.normal(0, 120, need)
        y = base_y[pick] + rng.normal(0, 120, need)
        ok = shapely.contains_xy(land, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
    x = np.concatenate(xs)[:need]
    y = np.concatenate(ys)[:need]
    from desktop.core.geo.crs import mercator_to_lonlat
    lon, lat = mercator_to_lonlat(x, y)
    extra = [Camera(id=f"X{i:05d}", name=f"X{i:05d}", kind="hd", lon=float(lon[i]), lat=float(lat[i]),
                    x=float(x[i]), y=float(y[i]), heading_deg=float(rng.uniform(0, 360)), fov_deg=75.0,
                    range_m=100.0) for i in range(need)]
    records = list(district.cameras.records) + extra
    lon_all = np.concatenate([district.cameras.lon_wgs, to_wgs84(lon, lat, district.info.crs)[0]])
    lat_all = np.concatenate([district.cameras.lat_wgs, to_wgs84(lon, lat, district.info.crs)[1]])
    district.cameras = CameraTable(records, lon_all, lat_all)
    return district


def _session():
    """The scripted operator session: a list of (action, argument) steps."""
    steps = []
    steps += [("home", None)] * 10
    for k in range(14):  # zoom towards the densest area, pausing now and then (crisp re-render)
        steps.append(("zoom", 1.25))
        if k % 5 == 4:
            steps.append(("settle", None))
    steps.append(("settle", None))
    for i in range(40):  # pan at street level
        steps.append(("pan", (37 if i % 20 < 10 else -37, 11)))
    for k in range(14):
        steps.append(("zoom", 0.8))
        if k % 5 == 4:
            steps.append(("settle", None))
    steps.append(("settle", None))
    for i in range(30):  # pan at district level
        steps.append(("pan", (-29, 17 if i < 15 else -17)))
    return steps


def measure_frames(canvas, steps, densest, allow_stale: bool = True, hz: float = 60.0,
                   cpu: list | None = None) -> list[float]:
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    img = QImage(canvas.vp.width, canvas.vp.height, QImage.Format_ARGB32_Premultiplied)
    times = []
    next_tick = time.perf_counter()
    for kind, arg in steps:
        if kind == "home":
            canvas.zoom_home()
        elif kind == "zoom":
            sx, sy = canvas.vp.to_screen(*densest)
            canvas.vp.zoom_at(arg, float(sx), float(sy))
        elif kind == "pan":
            canvas.vp.pan_pixels(*arg)
        elif kind == "settle":  # what the canvas's settle timer does when a zoom gesture pauses
            canvas._cache_key = None
        t0, c0 = time.perf_counter(), time.thread_time()
        p = QPainter(img)
        canvas.render_to(p, allow_stale=allow_stale)
        p.end()
        ms = (time.perf_counter() - t0) * 1000.0
        times.append(ms)
        if cpu is not None:  # the GUI thread's own CPU time: the frame's work without the waits
            cpu.append((time.thread_time() - c0) * 1000.0)
        # the event loop runs until the next frame is due (the render thread's results arrive)
        next_tick = max(next_tick + 1.0 / hz, time.perf_counter())
        while True:
            app.processEvents()
            left = next_tick - time.perf_counter()
            if left <= 0:
                break
            time.sleep(min(left, 0.002))
    return times


def startup_time(district_arg: str | None, runs: int = 3) -> float:
    """Wall time from launching ``python -m desktop`` to its first painted map frame (median)."""
    env = dict(os.environ, PINGAN_REPORT_FIRST_FRAME="1", QT_QPA_PLATFORM="offscreen", PINGAN_NO_DEMO_FEED="1")
    out = []
    for _ in range(runs):
        cmd = [sys.executable, "-m", "desktop"] + (["--district", district_arg] if district_arg else [])
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        wall = (time.perf_counter() - t0) * 1000.0
        lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"start-up run failed: {proc.stderr[-2000:]}")
        reported = json.loads(lines[-1])["startup_to_first_frame_ms"]
        out.append(min(wall, reported + 0.0) if reported > 0 else wall)
    return float(np.median(out))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench map")
    ap.add_argument("--json", action="store_true", help="(default) print the JSON result on the last line")
    ap.add_argument("--district", default=None, help="dataset folder (default: the bundled one)")
    ap.add_argument("--icons", type=int, default=25000)
    ap.add_argument("--no-startup", action="store_true", help="skip the start-up subprocess runs")
    ap.add_argument("--hog", type=int, default=0, help="N busy processes taking cores while it runs")
    ap.add_argument("--sync-render", action="store_true",
                    help="render the static layers on the GUI thread, as before the render thread (a comparison)")
    ap.add_argument("--slow-to", type=float, default=None, metavar="MS",
                    help="run as on a slower machine whose machine_ref_ms is MS (realtime processes take a share "
                         "of every core; see desktop/bench/machine.py)")
    args = ap.parse_args(argv)
    from desktop.bench.machine import machine_ref_ms, run_loaded
    ref = machine_ref_ms()
    print(f"bench map: machine_ref_ms {ref}", file=sys.stderr)
    result = run_loaded("map", args, ref, run)
    if isinstance(result, int):
        return result
    result["machine_ref_ms"] = ref
    result["hog"] = args.hog
    print(json.dumps(result))
    return 0


def run(args) -> dict:

    from PySide6.QtWidgets import QApplication

    from desktop.core.district.loader import load_district
    from desktop.core.district.resolve import resolve_district
    from desktop.core.geo.crs import MapProjection
    from desktop.qt.app import tune_runtime
    from desktop.qt.main_window import build_district_layers
    from desktop.qt.map.canvas import MapCanvas
    from desktop.qt.theme import apply_theme

    tune_runtime()  # as the program does
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    folder = resolve_district(args.district)
    t0 = time.perf_counter()
    district = load_district(folder, MapProjection())
    load_ms = (time.perf_counter() - t0) * 1000.0
    base_cams = len(district.cameras)
    district = _with_extra_cameras(district, args.icons)

    canvas = MapCanvas()
    canvas.async_render = not args.sync_render
    canvas.resize(1920, 1080)
    canvas.vp.width, canvas.vp.height = 1920, 1080
    for layer in build_district_layers(district):
        canvas.add_layer(layer)
    canvas.set_home(district.map_bounds())
    # the densest spot: where most cameras are, by a coarse 2-D histogram
    h, xe, ye = np.histogram2d(district.cameras.x, district.cameras.y, bins=40)
    i, j = np.unravel_index(np.argmax(h), h.shape)
    densest = ((xe[i] + xe[i + 1]) / 2.0, (ye[j] + ye[j + 1]) / 2.0)

    steps = _session()
    measure_frames(canvas, steps[:5], densest)  # warm-up: atlas, fonts
    canvas.wait_render()
    canvas.static_render_ms.clear()
    stale0 = canvas.stale_frames
    frames_cpu: list[float] = []
    frames = measure_frames(canvas, steps, densest, cpu=frames_cpu)
    stale = canvas.stale_frames - stale0
    canvas.wait_render()
    threaded = list(canvas.static_render_ms)

    # The full render alone: every zoom step of the session rendered in place.
    canvas.static_render_ms.clear()
    measure_frames(canvas, [(k, a if k != "settle" else None) for k, a in steps if k in ("home", "zoom", "settle")]
                   + [("settle", None)], densest, allow_stale=False, hz=1000)
    measure_frames(canvas, [("home", None), ("settle", None)], densest, allow_stale=False, hz=1000)
    full = list(canvas.static_render_ms)

    # Worst case: no clustering, the whole district in view, every icon drawn each frame.
    cams = [l for l in canvas.layers if l.id in ("cameras", "checkpoints", "coastal")]
    for l in cams:
        l.cluster_enabled = False
        l.changed()
    worst = []
    for k in range(12):
        canvas._cache_key = None  # force a full render, in place: what it costs with every icon
        worst += measure_frames(canvas, [("home", None)], densest, allow_stale=False, hz=1000)
    drawn = sum(l.last_drawn for l in cams)
    for l in cams:
        l.cluster_enabled = True
        l.changed()

    # Hit-testing at random screen points, at district and street zoom.
    rng = np.random.default_rng(7)
    hits = []
    for zoom in (None, 6.0):
        canvas.zoom_home()
        if zoom:
            sx, sy = canvas.vp.to_screen(*densest)
            canvas.vp.zoom_at(zoom, float(sx), float(sy))
        for _ in range(400):
            x, y = rng.uniform(0, 1920), rng.uniform(0, 1080)
            t = time.perf_counter()
            canvas.hit_test(x, y)
            hits.append((time.perf_counter() - t) * 1000.0)

    startup = None if args.no_startup else startup_time(args.district)
    result = {
        "bench": "map",
        "icons": len(district.cameras),
        "district_cameras": base_cams,
        "frames": len(frames),
        "frame_ms_p50": _pct(frames, 50),
        "frame_ms_p95": _pct(frames, 95),
        "frame_ms_max": _pct(frames, 100),
        "frame_cpu_ms_p50": _pct(frames_cpu, 50),
        "frame_cpu_ms_p95": _pct(frames_cpu, 95),
        "stale_frames": int(stale),
        "full_render_ms_p50": _pct(full, 50),
        "full_render_ms_p95": _pct(full, 95),
        "full_renders": len(full),
        "thread_render_ms_p50": _pct(threaded, 50),
        "thread_render_ms_p95": _pct(threaded, 95),
        "thread_renders": len(threaded),
        "worst_all_icons_frame_ms_p50": _pct(worst, 50),
        "worst_all_icons_frame_ms_p95": _pct(worst, 95),
        "worst_icons_drawn": int(drawn),
        "hit_test_ms_p50": _pct(hits, 50),
        "hit_test_ms_p95": _pct(hits, 95),
        "load_district_ms": round(load_ms, 1),
        "startup_to_first_frame_ms": None if startup is None else round(startup, 1),
        "screen": "1920x1080 offscreen raster",
        "render": "gui-thread" if args.sync_render else "render-thread",
        "targets": {"frame_ms_p95": 16, "hit_test_ms_p95": 1, "startup_to_first_frame_ms": 2000},
    }
    return result


if __name__ == "__main__":
    sys.exit(main())
