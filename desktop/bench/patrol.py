"""Patrol benchmark: 500 units at 1 Hz through a real mosquitto into the running window for 30 s
while alarms flow at 100/s; then a replay of 24 h × 50 units at 1 Hz (4.3 M fixes) from the
journal at 60×; and the dispatch ranking of 200 units for one alarm.

Live part: a publisher process (its own GIL) sends the fixes (QoS 1, the send time in the
payload's ``time``) and the alarms. The workstation runs offscreen as with ``--broker``: the
feed process validates and journals (alarms and patrol), the patrol plugin shows the units.
Measured: event-loop stall (lateness of a 10 ms timer), fix → screen latency (the send time
against the end of the first map frame painted with that fix), lost fixes (sent, never
journaled) and lost alarms.

Replay part: a journal filled with synthetic tracks (fixed seed); the load of every track
through the patrol service, seeks to random times, and the patrol plugin's replay frames
(model frame, trails, stops, the map layer and a repaint of the map) at 60×.
``machine_ref_ms`` (ffmpeg decoding the reference clip on one thread) says how fast this
machine is, so figures from different machines can be compared.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PINGAN_NO_DEMO_FEED", "1")

PUBLISHER = r"""
import json, math, sys, time
from datetime import datetime, timezone, timedelta
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
host, port, units, alarm_rate, seconds, lon0, lat0 = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                                      float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]),
                                                      float(sys.argv[7]))
tz = timezone(timedelta(hours=8))
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-patrol-publisher", clean_session=True)
c.max_inflight_messages_set(2000)
c.max_queued_messages_set(0)
c.connect(host, port)
c.loop_start()
kinds = ["car", "ebike", "foot"]
t0 = time.monotonic()
sent_fix = sent_alarm = 0
infos = []
tick = 0
n_alarm = 0
while time.monotonic() - t0 < seconds:
    due = t0 + tick * 0.1  # ten slots a second: a tenth of the units, a tenth of the alarms
    while time.monotonic() < due:
        time.sleep(0.001)
    for u in range(tick % 10, units, 10):
        now = time.time()
        a = (now / 60.0 + u) % (2 * math.pi)
        p = {"unit": f"U{u:03d}", "kind": kinds[u % 3], "crs": "WGS84",
             "time": datetime.fromtimestamp(now, tz).isoformat(timespec="microseconds"),
             "lon": lon0 + 0.02 * math.cos(u) + 0.003 * math.cos(a), "lat": lat0 + 0.01 * math.sin(u) + 0.003 * math.sin(a),
             "speed_kmh": 20.0, "heading_deg": (math.degrees(a) + 90.0) % 360.0}
        infos.append(c.publish(f"pingan/patrol/U{u:03d}/position", json.dumps(p), qos=1))
        sent_fix += 1
    for _ in range(int(alarm_rate / 10)):
        p = {"id": f"PB{n_alarm:06d}", "type": "perimeter", "priority": 1 + n_alarm % 4,
             "time": datetime.now(tz).isoformat(), "lon": lon0 + (n_alarm % 97) * 1e-4,
             "lat": lat0 + (n_alarm % 89) * 1e-4, "crs": "WGS84", "source": f"src-{n_alarm}"}
        infos.append(c.publish("pingan/alarm", json.dumps(p), qos=1))
        n_alarm += 1
    tick += 1
for info in infos:
    info.wait_for_publish(60)
print(json.dumps({"sent_fixes": sent_fix, "sent_alarms": n_alarm, "elapsed": time.monotonic() - t0}), flush=True)
c.loop_stop()
c.disconnect()
"""


def _pct(values, q):
    return round(float(np.percentile(np.asarray(values, float), q)), 2) if len(values) else None


def _run_events(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def live(args, app, district, tmp: Path) -> dict:
    """Part one: units and alarms through the broker into the window."""
    from PySide6.QtCore import QTimer

    from desktop.bench.mosquitto import Broker, mosquitto_exe
    from desktop.core.config import Config
    from desktop.core.session import Session
    from desktop.qt.app import freeze_heap, start_plugins
    from desktop.qt.main_window import MainWindow

    broker = Broker(mosquitto_exe(), tmp / "broker").start()
    cfg = Config(broker=broker.url, operator="bench", workstation="bench-patrol")
    window = MainWindow(district, district_projection(), wall_factory=None)
    window.resize(1920, 1080)
    session = Session(cfg, district, window.projection, journal_path=tmp / "alarms.sqlite").start()
    manager = start_plugins(window, cfg, district, bus=session.bus, services=session.services())
    alarms_plugin = manager.records["alarms"].instance
    alarms_plugin.sound.enabled = False
    plugin = manager.records["patrol"].instance
    window.show()
    window.canvas.zoom_home()
    _run_events(app, 1.5)
    freeze_heap()
    if not session.wait_connected(15):
        raise SystemExit("could not connect to the broker")

    layer = plugin.layer
    pending: dict[str, float] = {}  # unit -> send time of the newest fix not yet painted
    latencies: list[float] = []
    original = layer.update_positions

    def on_fixes(fixes):
        original(fixes)
        for f in fixes:
            pending[f.unit] = f.epoch
    layer.update_positions = on_fixes

    def painted():
        if pending:
            now = time.time()
            latencies.extend((now - t) * 1000.0 for t in pending.values())
            pending.clear()
    window.canvas.frame_callbacks.append(painted)

    stalls: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        stalls.append(max(0.0, (now - last[0]) * 1000.0 - 10.0))
        last[0] = now
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()

    lon0 = float(np.mean([c.lon for c in district.cameras.records[:200]])) if len(district.cameras) else 120.38
    lat0 = float(np.mean([c.lat for c in district.cameras.records[:200]])) if len(district.cameras) else 36.06
    from desktop.core.geo.crs import gcj02_to_wgs84
    lon0, lat0 = (float(v) for v in gcj02_to_wgs84(lon0, lat0))
    pub = subprocess.Popen([sys.executable, "-c", PUBLISHER, "127.0.0.1", str(broker.port), str(args.units),
                            str(args.alarm_rate), str(args.seconds), str(lon0), str(lat0)],
                           stdout=subprocess.PIPE, text=True)
    sent = None
    deadline = time.monotonic() + args.seconds + 90
    while time.monotonic() < deadline:
        app.processEvents()
        if pub.poll() is not None and sent is None:
            sent = json.loads(pub.stdout.read().strip().splitlines()[-1])
            break
        time.sleep(0.002)
    _run_events(app, 3.0)  # the last fixes through
    timer.stop()
    # what reached the journals
    session.patrol.flush()
    t_lo, t_hi = time.time() - args.seconds - 600, time.time() + 60
    tracks = session.patrol.tracks(None, t_lo, t_hi)
    journaled = sum(len(t) for t in tracks.values())
    alarms_seen = sum(1 for a in session.alarms.alarms(limit=None) if a.id.startswith("PB"))
    sent = sent or {"sent_fixes": 0, "sent_alarms": 0}
    steady = latencies[len(latencies) // 20:]  # the first second's start-up is not the steady state
    out = {
        "units": len(layer.units),
        "sent_fixes": sent["sent_fixes"],
        "journaled_fixes": journaled,
        "sent_alarms": sent["sent_alarms"],
        "alarms_shown": alarms_seen,
        "lost": max(0, sent["sent_fixes"] - journaled) + max(0, sent["sent_alarms"] - alarms_seen),
        "stall_ms_p50": _pct(stalls, 50),
        "stall_ms_p99": _pct(stalls, 99),
        "position_to_screen_ms_p50": _pct(steady, 50),
        "position_to_screen_ms_p99": _pct(steady, 99),
        "frames": len(window.canvas.frame_times),
        "plugin_state": manager.records["patrol"].state,
    }
    manager.unload_all()
    session.stop()
    broker.stop()
    window.close()
    return out


def district_projection():
    from desktop.core.geo.crs import MapProjection
    return MapProjection()


def replay(args, app, district, tmp: Path) -> dict:
    """Part two: 24 h × 50 units from the journal, seeks, frames at 60× in the patrol plugin."""
    from desktop.core.alarms.service import AlarmService
    from desktop.core.config import Config
    from desktop.core.feeds.bus import EventBus
    from desktop.core.patrol.journal import PositionJournal
    from desktop.core.patrol.service import PatrolService
    from desktop.core.patrol.synthetic import fill_journal
    from desktop.qt.app import start_plugins
    from desktop.qt.main_window import MainWindow

    path = tmp / "replay-patrol.sqlite"
    t0 = time.time() - args.hours * 3600.0
    with PositionJournal(path, autoflush_s=0) as j:
        t_fill = time.perf_counter()
        fixes = fill_journal(j, units=args.replay_units, t0=t0, hours=args.hours, seed=7,
                             lon0=120.38, lat0=36.06)
        fill_s = time.perf_counter() - t_fill
    svc = PatrolService(path, district)
    loads = []
    for _ in range(3):  # the first read pays the page cache; an operator's second look is the warm one
        t = time.perf_counter()
        model = svc.replay(None, t0, t0 + args.hours * 3600.0)
        loads.append(time.perf_counter() - t)
    rng = np.random.default_rng(3)
    seeks = []
    for target in rng.uniform(model.t0, model.t1, 100):
        t = time.perf_counter()
        model.seek(float(target))
        seeks.append((time.perf_counter() - t) * 1000.0)
    # the plugin's frames, painted
    bus = EventBus("bench")
    alarms = AlarmService(tmp / "replay-alarms.sqlite", bus=bus).start()
    window = MainWindow(district, district_projection(), wall_factory=None)
    window.resize(1920, 1080)
    mgr = start_plugins(window, Config(), district, bus=bus, services={"alarms": alarms, "patrol": svc})
    plugin = mgr.records["patrol"].instance
    window.show()
    _run_events(app, 1.0)
    stops = sorted((s for u in model.units[:10] for s in model.stops(u)), key=lambda s: s.arrival)
    plugin._start_replay(model, stops, loads[-1], follow="")
    model.seek(model.t0 + 3600.0)
    model.set_speed(60.0)
    model.play()
    frames = []
    for _ in range(args.frames):
        t = time.perf_counter()
        plugin.replay_frame()
        window.canvas.repaint()
        frames.append((time.perf_counter() - t) * 1000.0)
        time.sleep(plugin.FRAME_MS / 1000.0)
    mgr.unload_all()
    alarms.stop()
    window.close()
    # dispatch ranking: 200 units, one alarm, on the district's route network
    rank = rank_bench(district, tmp)
    svc.close()
    return {"replay_units": len(model), "replay_fixes": fixes, "replay_fill_s": round(fill_s, 2),
            "replay_load_s": round(min(loads[1:] or loads), 3), "replay_load_cold_s": round(loads[0], 3),
            "replay_seek_ms_p95": _pct(seeks, 95), "replay_frame_ms_p50": _pct(frames, 50),
            "replay_frame_ms_p95": _pct(frames, 95), **rank}


def rank_bench(district, tmp: Path) -> dict:
    from desktop.core.feeds.schema import PatrolPosition
    from desktop.core.geo.crs import to_wgs84
    from desktop.core.patrol.service import PatrolService
    svc = PatrolService(tmp / "rank-patrol.sqlite", district, autoflush_s=0)
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = district.boundary.geom.bounds
    xs, ys = rng.uniform(minx, maxx, 200), rng.uniform(miny, maxy, 200)
    lon, lat = to_wgs84(xs, ys, district.info.crs)
    now = time.time()
    kinds = ("car", "ebike", "foot")
    svc.ingest([PatrolPosition(f"R{i:03d}", kinds[i % 3], "", now, float(lon[i]), float(lat[i]), "WGS84", 20.0, 0.0,
                               float(lon[i]), float(lat[i])) for i in range(200)])
    times = []
    alarm_lon, alarm_lat = rng.uniform(minx, maxx, 60), rng.uniform(miny, maxy, 60)
    a_lon, a_lat = to_wgs84(alarm_lon, alarm_lat, district.info.crs)
    methods = []
    for i in range(60):
        t = time.perf_counter()
        r = svc.rank(float(a_lon[i]), float(a_lat[i]), k=5)
        times.append((time.perf_counter() - t) * 1000.0)
        methods += [o.method for o in r.options]
    svc.close()
    return {"rank_units": 200, "rank_ms_p50": _pct(times, 50), "rank_ms_p95": _pct(times, 95),
            "rank_by_route_share": round(methods.count("route") / max(1, len(methods)), 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench patrol")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--units", type=int, default=500)
    ap.add_argument("--alarm-rate", type=float, default=100.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--hours", type=float, default=24.0, help="replay span")
    ap.add_argument("--replay-units", type=int, default=50)
    ap.add_argument("--frames", type=int, default=150, help="replay frames measured")
    ap.add_argument("--district", default=None)
    ap.add_argument("--skip-live", action="store_true", help="only the replay and ranking parts")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from desktop.bench.mosquitto import mosquitto_exe
    from desktop.bench.machine import machine_ref_ms
    from desktop.core.district.loader import load_district
    from desktop.core.district.resolve import resolve_district
    from desktop.qt.app import tune_runtime
    from desktop.qt.theme import apply_theme

    if not args.skip_live and mosquitto_exe() is None:
        print("mosquitto is not installed (apt-get install mosquitto)", file=sys.stderr)
        return 2
    tune_runtime()
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    district = load_district(resolve_district(args.district), district_projection())
    tmp = Path(tempfile.mkdtemp(prefix="pingan-bench-patrol-"))
    ref = machine_ref_ms()
    print(f"bench patrol: machine_ref_ms {ref}", file=sys.stderr)
    result = {"bench": "patrol", "machine_ref_ms": ref}
    if not args.skip_live:
        print(f"bench patrol: {args.units} units at 1 Hz + {args.alarm_rate:g} alarms/s for {args.seconds:g} s",
              file=sys.stderr)
        result.update(live(args, app, district, tmp))
    print(f"bench patrol: replay {args.hours:g} h × {args.replay_units} units", file=sys.stderr)
    result.update(replay(args, app, district, tmp))
    result["targets"] = {"lost": 0, "stall_ms_p99": 50, "position_to_screen_ms_p99": 500, "replay_load_s": 3,
                         "replay_seek_ms_p95": 200, "replay_frame_ms_p95": 33, "rank_ms_p95": 300}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
