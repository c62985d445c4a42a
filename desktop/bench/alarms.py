"""Alarm flood benchmark: 1,000 alarms/s for 10 s through a real mosquitto into the running UI.

A separate publisher process (so it does not share our GIL) sends QoS 1 alarms at a fixed
rate, with 1 % malformed payloads mixed in. The workstation runs offscreen exactly as in
production: MQTT feed → alarm service (journal) → alarm panel plugin → table and map.
Measured: event-loop stall (a 10 ms timer's lateness), publish → visible latency (the send
time carried in the payload against the end of the first map frame painted with the alarm
on it), lost alarms (sent valid, never shown) and rejected payloads. Also the CPU the flood
costs, in % of one core over its duration (``gui_thread_cpu_pct``, ``gui_process_cpu_pct``,
``feed_process_cpu_pct``): unlike the times, these hardly change with what else the machine
runs, so they say how much headroom is left. ``--hog N`` runs N busy processes meanwhile (a
core taken by another program); ``--slow-to MS`` runs it as on a slower machine whose
``machine_ref_ms`` is MS (realtime processes take that share of every core);
``machine_ref_ms`` and both options: ``desktop/bench/machine.py``.

Where the latency goes: ``to_service_ms`` (publisher → broker → our MQTT client's receive
stamp) and ``in_program_ms`` (from there to the painted frame), which ``stages_ms`` splits
into ``feed_process`` (service, journal commit, the pipe to the GUI process), ``to_pump``
(waiting for the GUI's 30 Hz stream pump) and ``pump_to_visible`` (panel, map layer, paint).
The publisher and the broker run on this PC too, which in the field they do not: the
publisher writes what is due every 5 ms as raw MQTT packets (no client library: paho's
per-message Python took a quarter of a core on a slower PC, 6–8 % this way) and its CPU is
reported (``publisher_cpu_pct``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.core.runtime import process_cpu_s

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PINGAN_NO_DEMO_FEED", "1")

PUBLISHER = r"""
# The load: QoS-1 PUBLISH packets written straight to the broker's socket (MQTT 3.1.1), what is
# due every 5 ms in one write, PUBACKs counted as they come back. The program under test gets
# exactly what a paho publisher gave it; this process, which in the field is a server
# elsewhere and here shares the PC with the program measured, costs a fraction of paho's CPU
# (whose per-message Python took a quarter of a core on a slower PC).
import json, socket, struct, sys, time
host, port, rate, seconds, lon0, lat0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])

def varint(n):
    out = bytearray()
    while True:
        n, b = n >> 7, n & 0x7F
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def packet(kind, body):
    return bytes([kind]) + varint(len(body)) + body

def text(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b

sock = socket.create_connection((host, port))
sock.sendall(packet(0x10, text("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + text("bench-publisher")))
ack = b""
while len(ack) < 4:
    chunk = sock.recv(4 - len(ack))
    if not chunk:
        sys.exit("the broker closed the connection")
    ack += chunk
if ack[0] != 0x20 or ack[3] != 0:
    sys.exit(f"the broker refused the connection: {ack!r}")
sock.setblocking(False)
TOPIC = text("pingan/alarm")
types = ["one_key", "perimeter", "face_match", "fire", "crowd", "hazard_report", "radar_target"]
n = int(rate * seconds)
pending = b""  # a PUBACK split across reads
acked = 0

def read_acks():
    global pending, acked
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                sys.exit("the broker closed the connection")
            pending += chunk
    except BlockingIOError:
        pass
    whole = len(pending) // 4  # PUBACKs only: 0x40 0x02 and the packet id
    acked += whole
    pending = pending[whole * 4:]

def publish(i, payload):
    return packet(0x32, TOPIC + struct.pack("!H", i % 65535 + 1) + payload)

bad = 0
valid = 0
def message(i):
    global bad, valid
    if i % 100 == 99:
        bad += 1
        return publish(i, b'{"id": "broken-' + str(i).encode() + b'", "priority": 9')
    valid += 1
    p = {"id": f"B{i:06d}", "type": types[i % len(types)], "priority": 1 + i % 4,
         "time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "lon": lon0 + (i % 97) * 1e-4,
         "lat": lat0 + (i % 89) * 1e-4, "crs": "GCJ02", "source": f"src-{i}",
         "text": f"sent={time.time():.6f}"}
    return publish(i, json.dumps(p).encode())

# every 5 ms, what is due by then (a server's feed arrives in bursts too)
TICK = 0.005
t0 = time.monotonic()
i = 0
next_tick = t0
out = bytearray()
while i < n:
    now = time.monotonic()
    while i < n and t0 + i / rate <= now:
        out += message(i)
        i += 1
    if out:
        sock.setblocking(True)
        sock.sendall(out)
        sock.setblocking(False)
        out.clear()
    read_acks()
    next_tick += TICK
    d = next_tick - time.monotonic()
    if d > 0:
        time.sleep(d)
deadline = time.monotonic() + 30
while acked < n and time.monotonic() < deadline:
    time.sleep(0.01)
    read_acks()
print(json.dumps({"sent_valid": valid, "sent_bad": bad, "acked": acked, "elapsed": time.monotonic() - t0}), flush=True)
sock.setblocking(True)
sock.sendall(bytes([0xE0, 0]))
sock.close()
"""


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _pct(values, q):
    return round(float(np.percentile(np.asarray(values, float), q)), 2) if len(values) else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench alarms")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--district", default=None)
    ap.add_argument("--wall", action="store_true",
                    help="with the video wall: the linked cameras open and decode (demo clips) during the flood")
    ap.add_argument("--stats", type=float, default=0.0, metavar="S",
                    help="with the statistics panel on screen, refreshing its figures every S seconds")
    ap.add_argument("--hog", type=int, default=0,
                    help="N busy processes taking cores during the flood (another program on the PC)")
    ap.add_argument("--slow-to", type=float, default=None, metavar="MS",
                    help="run as on a slower machine whose machine_ref_ms is MS (realtime processes take a share "
                         "of every core; see desktop/bench/machine.py)")
    args = ap.parse_args(argv)
    from desktop.bench.machine import machine_ref_ms, run_loaded
    ref = machine_ref_ms()
    print(f"bench alarms: machine_ref_ms {ref}", file=sys.stderr)
    result = run_loaded("alarms", args, ref, run)
    if isinstance(result, int):
        return result
    result["machine_ref_ms"] = ref
    result["hog"] = args.hog
    print(json.dumps(result))
    return 0


def run(args):

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDockWidget

    from desktop.bench.mosquitto import Broker, mosquitto_exe
    from desktop.core.config import Config
    from desktop.core.district.loader import load_district
    from desktop.core.district.resolve import resolve_district
    from desktop.core.geo.crs import MapProjection
    from desktop.core.session import Session
    from desktop.qt import app as _app
    start_plugins = _app.start_plugins
    from desktop.qt.main_window import MainWindow
    from desktop.qt.theme import apply_theme

    from desktop.qt.app import freeze_heap, tune_runtime
    tune_runtime()  # as desktop.qt.app.run does
    exe = mosquitto_exe()
    if exe is None:
        print("mosquitto is not installed (apt-get install mosquitto)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="pingan-bench-alarms-"))
    broker = Broker(exe, tmp / "broker").start()
    app = QApplication.instance() or QApplication([])
    apply_theme(app)
    district = load_district(resolve_district(args.district), MapProjection())
    cfg = Config(broker=broker.url, operator="bench", workstation="bench-ws",
                 extra={"statistics": {"refresh_s": float(args.stats)}} if args.stats else {})
    window = MainWindow(district, MapProjection(), wall_factory=_app._wall_factory() if args.wall else None)
    window.resize(1920, 1080)
    session = Session(cfg, district, window.projection, journal_path=tmp / "journal.sqlite")
    session.start()
    services = {"alarms": session.alarms, "operator": "bench", "clock": session.clock}
    if args.stats:
        services["statistics"] = session.statistics  # the bench journal's own figures (no bundled history)
    manager = start_plugins(window, cfg, district, bus=session.bus, services=services)
    plugin = manager.records["alarms"].instance
    plugin.sound.enabled = False
    window.show()
    stats_refreshes: list[float] = []
    stats_gui_ms: list[float] = []  # GUI-thread time of each refresh's results (charts, table, map)
    if args.stats:
        stats = manager.records["statistics"].instance
        dock = stats.panel
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parentWidget()
        dock.show()
        dock.raise_()  # on top of its tab group: on screen, so its timer refreshes it
        original_got = stats._got

        def counted(result):
            t = time.perf_counter()
            original_got(result)
            stats_refreshes.append(time.monotonic())
            stats_gui_ms.append((time.perf_counter() - t) * 1000.0)
        stats._got = counted
    # settle the start-up (first map render, dock layout) before the flood: it is not what we measure
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    freeze_heap()
    if not session.wait_connected(10):
        print("could not connect to the broker", file=sys.stderr)
        return 3

    # publish → visible: an alarm is visible at the end of the first map frame painted after
    # the panel put it on the alarm layer (what the operator sees, not merely what the model holds)
    visible_at: dict[str, float] = {}
    on_layer: list[str] = []
    paint_ms: list[float] = []
    original_refresh = plugin.refresh_queue

    def timed_refresh(*a, **k):
        original_refresh(*a, **k)
        on_layer.extend(plugin.last_shown)
    plugin.refresh_queue = timed_refresh

    def frame_painted():
        paint_ms.append(window.canvas.frame_times[-1])
        if on_layer:
            now = time.time()
            for aid in on_layer:
                visible_at.setdefault(aid, now)
            on_layer.clear()
    window.canvas.frame_callbacks.append(frame_painted)

    # stage stamps (wall clock, like the payload's send time): the events reach this process
    # (the mirror thread's hand-over from the feed process) and are drained by the GUI's pump
    arrived_at: dict[str, float] = {}
    drained_at: dict[str, float] = {}
    svc = session.alarms
    if hasattr(svc, "_located_events"):
        located = svc._located_events

        def stamped_located(events):
            now = time.time()
            for e in events:
                if e.alarm is not None:
                    arrived_at.setdefault(e.alarm.id, now)
            return located(events)
        svc._located_events = stamped_located
    drain = svc.drain

    def stamped_drain(*a, **k):
        out = drain(*a, **k)
        now = time.time()
        for e in out:
            if e.alarm is not None:
                drained_at.setdefault(e.alarm.id, now)
        return out
    svc.drain = stamped_drain

    # event-loop stall: lateness of a 10 ms timer
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

    lon0, lat0 = district.cameras.records[0].lon, district.cameras.records[0].lat
    # CPU during the flood, whatever else the machine runs: the GUI thread, this process, the feed process
    feed_pid = getattr(session.alarms, "pid", None)
    cpu0 = (time.monotonic(), time.thread_time(), time.process_time(), process_cpu_s(feed_pid))
    children0 = _children_cpu_s()
    pub = subprocess.Popen([sys.executable, "-c", PUBLISHER, "127.0.0.1", str(broker.port), str(args.rate),
                            str(args.seconds), str(lon0), str(lat0)], stdout=subprocess.PIPE, text=True)
    # Qt's own event loop, as in production (a processEvents()/sleep() loop here polled 500
    # times a second, cost the GUI thread CPU and delayed every event by up to its sleep)
    from PySide6.QtCore import QEventLoop
    loop = QEventLoop()
    deadline = time.monotonic() + args.seconds + 60
    state = {"line": None, "sent": None, "cpu_s": 0.0, "end": None}

    def watch():
        now = time.monotonic()
        if state["line"] is None and pub.poll() is not None:
            state["line"] = pub.stdout.read().strip().splitlines()[-1]
            state["cpu_s"] = _children_cpu_s() - children0  # reaped by poll(): its CPU is counted now
            state["sent"] = json.loads(state["line"])
        if state["end"] is None and (now > deadline or (
                state["sent"] is not None and len(visible_at) >= state["sent"]["sent_valid"])):
            state["end"] = now + 0.5  # let the last refresh through
        if state["end"] is not None and now >= state["end"]:
            loop.quit()
    watcher = QTimer()
    watcher.setInterval(20)
    watcher.timeout.connect(watch)
    watcher.start()
    loop.exec()
    watcher.stop()
    result_line, publisher_cpu_s = state["line"], state["cpu_s"]
    timer.stop()
    wall_s = time.monotonic() - cpu0[0]
    cpu = {"gui_thread_cpu_pct": round(100 * (time.thread_time() - cpu0[1]) / wall_s, 1),
           "gui_process_cpu_pct": round(100 * (time.process_time() - cpu0[2]) / wall_s, 1)}
    if result_line is not None:
        # the load generator runs on this PC too (in the field the alarms come from a server
        # elsewhere): what it takes is CPU our processes could not have
        cpu["publisher_cpu_pct"] = round(100 * publisher_cpu_s / wall_s, 1)
    feed_cpu = process_cpu_s(feed_pid)
    cpu["feed_process_cpu_pct"] = (round(100 * (feed_cpu - cpu0[3]) / wall_s, 1)
                                   if feed_cpu is not None and cpu0[3] is not None else None)

    sent_times = {}
    received_at = {}
    for al in session.alarms.alarms(limit=None):
        if al.text.startswith("sent="):
            sent_times[al.id] = float(al.text[5:])
            received_at[al.id] = al.received
    lat = [(visible_at[i] - t) * 1000.0 for i, t in sent_times.items() if i in visible_at]
    # where the time goes: publisher → broker → our MQTT client (the service's receive stamp),
    # then our pipeline to the painted frame (service, journal, hand-over to the GUI, panel, map)
    to_service = [(received_at[i] - t) * 1000.0 for i, t in sent_times.items() if i in visible_at]
    in_program = [(visible_at[i] - received_at[i]) * 1000.0 for i in sent_times if i in visible_at]
    shown_ids = [i for i in sent_times if i in visible_at and i in drained_at]
    stages = {}
    if arrived_at:
        ids = [i for i in shown_ids if i in arrived_at]
        stages["feed_process"] = [(arrived_at[i] - received_at[i]) * 1000.0 for i in ids]
        stages["to_pump"] = [(drained_at[i] - arrived_at[i]) * 1000.0 for i in ids]
    stages["pump_to_visible"] = [(visible_at[i] - drained_at[i]) * 1000.0 for i in shown_ids]
    sent = json.loads(result_line) if result_line else {"sent_valid": 0, "sent_bad": 0}
    counters = session.alarms.counters()
    shown = sum(1 for i in sent_times if i in visible_at)
    result = {
        "bench": "alarms",
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "sent_valid": sent["sent_valid"],
        "sent_malformed": sent["sent_bad"],
        "received": counters.get("received", 0),
        "shown": shown,
        "lost": sent["sent_valid"] - shown,
        "rejected": counters.get("rejected", 0),
        "stall_ms_p50": _pct(stalls, 50),
        "stall_ms_p99": _pct(stalls, 99),
        "stall_ms_max": _pct(stalls, 100),
        "latency_ms_p50": _pct(lat, 50),
        "latency_ms_p99": _pct(lat, 99),
        "latency_ms_max": _pct(lat, 100),
        "to_service_ms_p50": _pct(to_service, 50),
        "to_service_ms_p99": _pct(to_service, 99),
        "in_program_ms_p50": _pct(in_program, 50),
        "in_program_ms_p99": _pct(in_program, 99),
        "stages_ms": {k: {"p50": _pct(v, 50), "p99": _pct(v, 99)} for k, v in stages.items()},
        "frames": len(paint_ms),
        "paint_ms_p50": _pct(paint_ms, 50),
        "paint_ms_p99": _pct(paint_ms, 99),
        "journal_batches": counters.get("batches", 0),
        **cpu,
        "gui_rss_mb_max": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "wall": bool(args.wall and window.wall is not None),
        "plugin_state": manager.records["alarms"].state,  # anything but "enabled" voids the run
        "stats_refresh_s": args.stats,
        "stats_refreshes": sum(1 for t in stats_refreshes if t >= cpu0[0]),
        "stats_gui_ms_p50": _pct(stats_gui_ms, 50),
        "stats_gui_ms_max": _pct(stats_gui_ms, 100),
        "stats_state": manager.records["statistics"].state if args.stats else None,
        "targets": {"lost": 0, "stall_ms_p99": 50, "latency_ms_p99": 150},
    }
    manager.unload_all()
    session.stop()
    broker.stop()
    return result


if __name__ == "__main__":
    sys.exit(main())
