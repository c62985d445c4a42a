"""Wall benchmark: ``python -m desktop.bench wall [--json] [--soak-s N]``.

A wall process (``pingan-desk --mode wall``, offscreen) and this process as the workstation,
over a real mosquitto; every camera plays real H.264 over RTSP from the GStreamer server
(``desktop/bench/rtsp_server.py``), in a small district written for the run whose cameras carry
those stream URLs.

* ``layout_to_visible_ms_p50/p95``: a layout with four tiles of cameras the wall is not
  showing is published (retained, a new revision); the end is the wall's own report (its
  retained state) of the first frame painted with that layout and every tile live —
  ``visible_at`` on the wall's clock, the same machine's.
* ``alarm_to_wall_video_ms_p50/p95``: a priority-1 alarm on ``pingan/alarm`` (with its cameras)
  → the wall painted the alarm preset with its video live; the alarm is then resolved through
  its retained state and the wall must go back to its layout (``revert_ms_p50``).
* ``older_revision_ignored``: an older revision published after a newer one changes nothing.
* ``--soak-s N``: 16 live tiles for N seconds; ``rss_growth_pct`` of the wall process from the
  end of a warm-up (a fifth of the run, at most 5 minutes) to the end, ``tiles_live_end``.

The last line of stdout is one JSON object; progress goes to stderr. ``machine_ref_ms`` is
the machine's reference (``desktop/bench/machine.py``).

:func:`write_rtsp_district`, :class:`WallProcess` and :class:`WallWatcher` are shared with the
tests (a wall process driven over the broker).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LON0, LAT0 = 120.38, 36.06


def _log(msg: str) -> None:
    print(f"[wall {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))], 1)


def write_rtsp_district(folder: Path, streams: list[tuple[str, str]], n_cameras: int = 24) -> Path:
    """A small district (GCJ-02, a 2 × 2 km square) whose cameras play ``streams`` (main, sub)
    in turn; camera ``CAM000``… on a grid, each looking north-east over 120 m."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    d = 0.02
    (folder / "district.toml").write_text('name = "Wall bench"\nadcode = "999010"\ncrs = "GCJ02"\n', encoding="utf-8")
    square = [[LON0, LAT0], [LON0 + d, LAT0], [LON0 + d, LAT0 + d], [LON0, LAT0 + d], [LON0, LAT0]]

    def fc(features):
        return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    (folder / "district.geojson").write_text(fc([{"type": "Feature", "properties": {"name": "Wall bench"},
                                                  "geometry": {"type": "Polygon", "coordinates": [square]}}]))
    cams = []
    for i in range(n_cameras):
        main, sub = streams[i % len(streams)]
        lon = LON0 + 0.002 + (i % 6) * 0.003
        lat = LAT0 + 0.002 + (i // 6) * 0.003
        cams.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                     "properties": {"id": f"CAM{i:03d}", "name": f"Camera {i}", "kind": "hd", "main_url": main,
                                    "sub_url": sub, "heading_deg": 45, "fov_deg": 90, "range_m": 120}})
    (folder / "cameras.geojson").write_text(fc(cams))
    return folder


def camera_point(i: int) -> tuple[float, float]:
    """Where camera ``CAM{i:03d}`` of :func:`write_rtsp_district` stands (GCJ-02)."""
    return LON0 + 0.002 + (i % 6) * 0.003, LAT0 + 0.002 + (i // 6) * 0.003


class WallProcess:
    """``python -m desktop --mode wall`` in its own process (offscreen unless told otherwise)."""

    def __init__(self, district: Path, broker_url: str | None, wall: str, data_dir: Path, *,
                 pictures_dir: Path | None = None, config: Path | None = None, log_path: Path | None = None,
                 env: dict | None = None):
        self.args = [sys.executable, "-m", "desktop", "--mode", "wall", "--district", str(district),
                     "--wall", wall, "--lang", "en"]
        if broker_url:
            self.args += ["--broker", broker_url]
        if config:
            self.args += ["--config", str(config)]
        self.env = dict(os.environ, PINGAN_DATA=str(data_dir), QT_QPA_PLATFORM=os.environ.get(
            "PINGAN_WALL_QPA", "offscreen"), PINGAN_AUDIO_DEVICE="null")
        if pictures_dir:
            self.env["PINGAN_WALL_PICTURES"] = str(pictures_dir)
        self.env.update(env or {})
        self.log_path = log_path or Path(data_dir) / "wall.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WallProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=Path(__file__).resolve().parents[2])
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return 0.0

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (Qt quits, the wall says goodbye), then SIGKILL; by pid."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


class WallWatcher:
    """A workstation-side link: every wall's retained state, and publishing layouts and feeds."""

    def __init__(self, host: str, port: int):
        from desktop.core.wall.link import MqttWallChannel
        self.states: dict[str, dict] = {}
        self.history: list[tuple[float, str, dict]] = []
        self._cond = threading.Condition()
        self.channel = MqttWallChannel(host, port, on_wall_state=self._on_state).start()
        if not self.channel.wait_connected(10):
            raise RuntimeError("wall watcher could not connect to the broker")

    def _on_state(self, wall: str, state: dict) -> None:
        with self._cond:
            self.states[wall] = state
            self.history.append((time.time(), wall, state))
            self._cond.notify_all()

    def wait(self, wall: str, pred, timeout: float = 20.0) -> dict | None:
        """The wall's first state (from now or the latest) for which ``pred(state)`` holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                st = self.states.get(wall)
                if st is not None and pred(st):
                    return st
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.2))

    def publish_layout(self, layout) -> None:
        self.channel.publish_layout(layout).wait_for_publish(5)

    def publish(self, topic: str, payload: dict, retain: bool = False) -> None:
        data = json.dumps(payload, ensure_ascii=False)
        self.channel.client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.channel.stop()


def video_layout(wall: str, revision: int, tiles: list, layout: str | None = None, name: str = "bench"):
    """A wall layout: the map on the left third, a video region of ``tiles``, ticker and clock."""
    from desktop.core.video.layouts import layout_for_count
    from desktop.core.wall.layout import parse_layout
    name_ = layout or layout_for_count(len(tiles))
    return parse_layout({
        "schema": "pingan.wall.layout", "version": 1, "wall": wall, "revision": revision, "name": name,
        "grid": {"cols": 3, "rows": 4},
        "regions": [
            {"id": "map", "kind": "map", "col": 0, "row": 0, "colspan": 1, "rowspan": 3,
             "view": {"lon": LON0 + 0.01, "lat": LAT0 + 0.01, "crs": "GCJ02", "metres_per_px": 4}},
            {"id": "video", "kind": "video", "col": 1, "row": 0, "colspan": 2, "rowspan": 3,
             "video": {"layout": name_, "tiles": list(tiles)}},
            {"id": "ticker", "kind": "ticker", "col": 0, "row": 3, "colspan": 2, "rowspan": 1},
            {"id": "clock", "kind": "clock", "col": 2, "row": 3, "colspan": 1, "rowspan": 1}]})


def _now_iso() -> str:
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def alarm(i: int, cam: int, priority: int = 1) -> dict:
    lon, lat = camera_point(cam)
    return {"id": f"WB-{i:04d}", "type": "one_key", "priority": priority,
            "time": _now_iso(), "lon": lon + 0.0003, "lat": lat + 0.0003, "crs": "GCJ02", "source": f"bench-{i}",
            "camera_ids": [f"CAM{cam:03d}", f"CAM{(cam + 1) % 24:03d}"], "text": f"bench alarm {i}"}


def resolved(alarm_id: str) -> dict:
    return {"id": alarm_id, "state": "resolved", "operator": "bench", "origin": "bench-ws",
            "time": _now_iso()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench wall", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="(the JSON line is always printed last)")
    ap.add_argument("--layouts", type=int, default=20, help="layouts published (default 20)")
    ap.add_argument("--alarms", type=int, default=8, help="urgent alarms (default 8)")
    ap.add_argument("--soak-s", type=float, default=0.0, help="seconds of 16 live tiles (default: no soak)")
    ap.add_argument("--sample-s", type=float, default=10.0)
    args = ap.parse_args(argv)

    from desktop.bench.machine import machine_ref_ms
    from desktop.bench.mosquitto import Broker, mosquitto_exe
    from desktop.bench.rtsp_server import RtspServer, gst_rtsp_available
    from desktop.core.video.clips import annexb_copy, ensure_demo_clips

    reason = gst_rtsp_available()
    exe = mosquitto_exe()
    if reason or exe is None:
        print(f"wall bench: needs the GStreamer RTSP server and mosquitto: {reason or 'no mosquitto'}", file=sys.stderr)
        return 2
    ref = machine_ref_ms()
    _log(f"machine_ref_ms {ref}")
    tmp = Path(tempfile.mkdtemp(prefix="pingan-bench-wall-"))
    pairs = ensure_demo_clips(count=8, seconds=20.0)
    # one mount per camera, as real cameras have their own streams: a camera closed by one tile
    # and another opened by the next never race on one mount of the server
    n_cams = 24
    mounts = {}
    for i in range(n_cams):
        p = pairs[i % len(pairs)]
        mounts[f"c{i}"], mounts[f"c{i}s"] = annexb_copy(p.main), annexb_copy(p.sub)
    server = RtspServer(mounts, log_path=tmp / "rtsp.log").start()
    broker = Broker(exe, tmp / "mosquitto")
    broker.start()
    url = f"mqtt://{broker.host}:{broker.port}"
    district = write_rtsp_district(tmp / "district", [(server.url(f"c{i}"), server.url(f"c{i}s"))
                                                      for i in range(n_cams)], n_cameras=n_cams)
    cfg = tmp / "wall.toml"
    cfg.write_text("[wall]\ndwell_s = 0\ntimeout_s = 600\n")
    wall = WallProcess(district, url, "bench", tmp / "data", config=cfg, log_path=tmp / "wall.log").start()
    watcher = WallWatcher(broker.host, broker.port)
    out: dict = {"machine_ref_ms": ref}
    try:
        if watcher.wait("bench", lambda s: s.get("online"), 60) is None:
            raise RuntimeError(f"the wall did not come online; its log:\n{wall.log_text()[-3000:]}")
        _log("wall online")
        from desktop.core.wall.layout import next_revision
        rev = next_revision(0)
        lat = []
        for k in range(args.layouts):
            rev += 1
            cams = [f"CAM{(4 * k + j) % 24:03d}" for j in range(4)]
            layout = video_layout("bench", rev, cams)
            t0 = time.time()
            watcher.publish_layout(layout)
            st = watcher.wait("bench", lambda s, r=rev: s.get("visible_revision") == r and not s.get("visible_alarm"), 20)
            if st is None:
                _log(f"layout {k}: not visible within 20 s")
                continue
            lat.append((st["visible_at"] - t0) * 1000.0)
            _log(f"layout {k}: {lat[-1]:.0f} ms")
        out["layout_to_visible_ms_p50"] = _pct(lat, 50)
        out["layout_to_visible_ms_p95"] = _pct(lat, 95)
        out["layouts_visible"] = f"{len(lat)}/{args.layouts}"
        # an older revision must change nothing
        watcher.publish_layout(video_layout("bench", rev - 5, ["CAM020"], name="older"))
        time.sleep(1.0)
        st = watcher.states.get("bench", {})
        out["older_revision_ignored"] = st.get("applied_revision") == rev and st.get("ignored_older", 0) >= 1

        alat, rlat = [], []
        for k in range(args.alarms):
            a = alarm(k, cam=(7 * k + 2) % 24)
            t0 = time.time()
            watcher.publish("pingan/alarm", a)
            st = watcher.wait("bench", lambda s, aid=a["id"]: s.get("visible_alarm") == aid, 20)
            if st is None:
                _log(f"alarm {k}: the wall did not show it within 20 s")
                continue
            alat.append((st["visible_at"] - t0) * 1000.0)
            t1 = time.time()
            watcher.publish(f"pingan/alarm/{a['id']}/state", resolved(a["id"]), retain=True)
            st = watcher.wait("bench", lambda s: s.get("showing") == "layout" and s.get("visible_at", 0) > t1, 20)
            if st is not None:
                rlat.append((st["visible_at"] - t1) * 1000.0)
            _log(f"alarm {k}: {alat[-1]:.0f} ms, back in {rlat[-1] if rlat else float('nan'):.0f} ms")
        out["alarm_to_wall_video_ms_p50"] = _pct(alat, 50)
        out["alarm_to_wall_video_ms_p95"] = _pct(alat, 95)
        out["revert_ms_p50"] = _pct(rlat, 50)
        out["alarms_shown"] = f"{len(alat)}/{args.alarms}"

        if args.soak_s > 0:
            rev += 1
            watcher.publish_layout(video_layout("bench", rev, [f"CAM{j:03d}" for j in range(16)], name="soak"))
            st = watcher.wait("bench", lambda s, r=rev: s.get("visible_revision") == r, 60)
            _log(f"soak: 16 tiles {'live' if st else 'NOT all live'}; {args.soak_s:.0f} s")
            warm = min(300.0, args.soak_s / 5)
            t_start = time.monotonic()
            base = None
            samples = []
            while time.monotonic() - t_start < args.soak_s:
                time.sleep(min(args.sample_s, max(0.5, args.soak_s - (time.monotonic() - t_start))))
                rss = wall.rss_mb()
                samples.append(round(rss, 1))
                if base is None and time.monotonic() - t_start >= warm:
                    base = rss
                if not wall.alive():
                    raise RuntimeError("the wall process died during the soak")
            end = wall.rss_mb()
            base = base or samples[0]
            st = watcher.states.get("bench", {})
            out["soak_s"] = args.soak_s
            out["rss_start_mb"] = round(base, 1)
            out["rss_end_mb"] = round(end, 1)
            out["rss_growth_pct"] = round(100.0 * (end - base) / base, 2) if base else None
            out["tiles_live_end"] = sum(1 for t in st.get("tiles", []) if t.get("state") == "live")
    finally:
        watcher.close()
        wall.stop()
        broker.stop()
        server.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
