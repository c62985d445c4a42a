"""Video benchmark: ``python -m desktop.bench video [--json] [--quick]``.

Measures, on the demo clips (H.264 main 1280×720 ~2 Mbit/s and sub 640×360 ~512 kbit/s,
25 fps, 2 s GOP):

1. **CPU per frame against ffmpeg doing the same work** (compare like with
   like): ``ffmpeg -threads 1 -i CLIP -vf scale=480:270:flags=fast_bilinear,format=bgra -f null -``
   against our pipeline (a :class:`DecodeWorker` decoding and converting to a 480×270 BGRA
   tile as fast as it can). Also against ffmpeg decoding only. ``cpu_ratio_vs_ffmpeg`` is
   ours over ffmpeg's, summed over both clip sizes.
2. **Tiles sustained**: pseudo-live tiles at 25 fps (each on a demo clip, converted to
   480×270, the tile of a 16-tile wall on a 1920×1080 screen) are added step by step while a
   "GUI" thread takes the latest frame of every tile 60 times a second and paints it into a
   1920×1080 image with QPainter (offscreen), like the wall. A step passes when at least 99 %
   of the frames the sources offered (tiles × 25 × seconds, by the wall clock) were painted.
   Done for 640×360 and for 1280×720 streams. The overload scheduler is off: this is the raw
   capacity.
3. **Dropped frames** (``dropped_pct``): the share not painted on a 16-tile 360p wall.
   **Beyond the ceiling** (``keyframes_only_wall``): 128 tiles of 360p, every one on key
   frames only (the overload scheduler's fallback): tiles live, pictures a second per tile
   (0.5 with the clips' 2 s GOP) and how late the 60 Hz paint ticks were (``stall_ms_p99``).
5. **Share of the CPU ceiling** (``ceiling_share_360p``, ``ceiling_share_720p``): the tiles
   sustained over the tiles the machine's cores could decode if each frame cost what ffmpeg
   pays for the same work (``cores / (ffmpeg ms a frame × 25 fps)``, ``ceiling_tiles_*``).
   ffmpeg's figure is the mean of three samples: before the ramps and after each of them
   (``ffmpeg_ms_per_frame_*_samples``, ``ffmpeg_ms_per_frame_*_mean``), since a shared host's
   speed drifts within minutes and one sample taken before the ramps may not be the machine
   the ramps ran on.
   What is left between the two is our overhead: the GUI thread, the interpreter lock, copies,
   and the price of decoding at 25 fps rather than flat out (a core that idles between
   pictures and finds its caches cold). ``ffmpeg_paced_ms_per_frame_*`` is what ffmpeg itself
   pays a frame when it reads the clip at its frame rate (``-re``), and
   ``ceiling_share_paced_*`` the share against that ceiling: a yardstick beside the target.
4. **Time to first frame** from the GStreamer RTSP server (``desktop/bench/rtsp_server.py``):
   open → first converted picture, for new viewers of main and sub streams (p50, p90).

The last line of stdout is one JSON object, with ``machine_ref_ms`` (see
``desktop/bench/machine.py``); ``--hog N`` runs N busy processes meanwhile. Progress goes to stderr. A few minutes at most
(the first run also generates the demo clips, ~1 minute, reported as ``clip_generation_s``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TILE = (480, 270)
FPS = 25


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ceiling_tiles(cores: int, ffmpeg_ms_per_frame: float, fps: float = FPS) -> float:
    """Tiles at ``fps`` that ``cores`` could carry if every frame cost what ffmpeg pays for
    the same work (decode + scale to the tile) on one thread: the CPU ceiling."""
    if cores <= 0 or ffmpeg_ms_per_frame <= 0:
        raise ValueError(f"cores ({cores}) and ffmpeg ms a frame ({ffmpeg_ms_per_frame}) must be positive")
    return cores * 1000.0 / (ffmpeg_ms_per_frame * fps)


def _frames_in(path: Path) -> int:
    import av
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sum(1 for p in c.demux(s) if p.size)


def ffmpeg_cpu(path: Path, convert: bool, runs: int = 2) -> float:
    """CPU seconds of the best of ``runs`` ffmpeg runs (one thread) decoding ``path``."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(path)]
    if convert:
        cmd += ["-vf", f"scale={TILE[0]}:{TILE[1]}:flags=fast_bilinear,format=bgra"]
    cmd += ["-f", "null", "-"]
    best = None
    for _ in range(runs):
        c0 = _children_cpu()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        cpu = _children_cpu() - c0
        best = cpu if best is None else min(best, cpu)
    return best


def ffmpeg_paced_ms(path: Path, seconds: float = 8.0, fps: float = FPS) -> float:
    """ms of CPU a frame for ffmpeg doing the same work as :func:`ffmpeg_cpu` but reading the
    clip at its own frame rate (``-re``), as a live tile decodes, for ``seconds``. Its start-up
    (a run that stops after one frame) is taken off, so the figure is the paced frames alone."""
    base = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1"]
    tail = ["-vf", f"scale={TILE[0]}:{TILE[1]}:flags=fast_bilinear,format=bgra", "-f", "null", "-"]
    c0 = _children_cpu()
    subprocess.run(base + ["-i", str(path), "-frames:v", "1"] + tail, check=True, stdout=subprocess.DEVNULL)
    startup = _children_cpu() - c0
    c0 = _children_cpu()
    # looped, so a clip shorter than ``seconds`` still gives ``seconds`` of paced frames
    subprocess.run(base + ["-re", "-stream_loop", "-1", "-i", str(path), "-t", str(seconds)] + tail, check=True,
                   stdout=subprocess.DEVNULL)
    paced = _children_cpu() - c0
    return 1000.0 * max(0.0, paced - startup) / (seconds * fps)


def ours_cpu(path: Path, runs: int = 2) -> float:
    """CPU seconds of the best of ``runs`` passes of our worker over ``path`` (decode +
    conversion to the tile, everything the worker thread does, open included)."""
    from desktop.core.video.source import StreamSpec
    from desktop.core.video.worker import DecodeWorker
    best = None
    for _ in range(runs):
        w = DecodeWorker(StreamSpec(str(path)), TILE, realtime=False, loop=False)
        c0 = time.process_time()  # the main thread only waits in join()
        w.start()
        w.join()
        cpu = time.process_time() - c0
        best = cpu if best is None else min(best, cpu)
    return best


class _Painter:
    """The GUI side of the wall: take each tile's newest frame and paint it (QPainter on a
    1920×1080 QImage, offscreen), or just touch the pixels when Qt is not available."""

    def __init__(self):
        try:
            from PySide6.QtGui import QImage, QPainter
            from PySide6.QtWidgets import QApplication
            self.app = QApplication.instance() or QApplication([])
            self.QImage, self.QPainter = QImage, QPainter
            self.canvas = QImage(1920, 1080, QImage.Format_RGB32)
            self.canvas.fill(0)
        except ImportError:
            self.QImage = None

    def paint(self, frames) -> None:
        if self.QImage is None:
            for _i, f in frames:
                f.image[0, 0, 0]
            return
        QImage = self.QImage
        p = self.QPainter(self.canvas)
        try:
            for i, f in frames:
                x, y = (i % 4) * TILE[0], (i // 4 % 4) * TILE[1]
                img = QImage(f.image.data, f.width, f.height, f.bytes_per_line, QImage.Format_RGB32)
                p.drawImage(x, y, img)
        finally:
            p.end()


def _decoder_cpu_s(pool) -> float:
    """CPU seconds used so far by the decoder processes of ``pool``, 0 without one."""
    return pool.cpu_s() if pool is not None else 0.0


def _measure_wall(workers, painter: _Painter, seconds: float, pool=None,
                  late: list | None = None) -> tuple[float, float]:
    """Paint at 60 Hz for ``seconds``; returns (shown fraction of the frames due, CPU fraction
    of all cores, the decoder processes' included). ``late`` gets each tick's lateness (ms)."""
    shown = 0
    ncores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    t0 = time.monotonic()
    c0 = time.process_time() + _decoder_cpu_s(pool)
    next_tick = t0
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        if late is not None:
            late.append(max(0.0, now - next_tick) * 1000.0)
        batch = []
        for i, w in enumerate(workers):
            f = w.slot.take() if w.slot is not None else None
            if f is not None:
                batch.append((i, f))
        if batch:
            painter.paint(batch)
            shown += len(batch)
        next_tick += 1 / 60
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick = time.monotonic()
    elapsed = time.monotonic() - t0
    cpu = (time.process_time() + _decoder_cpu_s(pool) - c0) / (elapsed * ncores)
    due = len(workers) * FPS * elapsed
    return (shown / due if due else 1.0), cpu


def keyframe_wall(paths: list[Path], painter: _Painter, n: int, seconds: float, warmup: float,
                  pool=None) -> dict:
    """``n`` tiles past the CPU ceiling, every one on key frames only (what the overload
    scheduler falls back to): is every tile live, do its pictures come (one per GOP), and
    does the GUI's 60 Hz paint keep its beat (``stall_ms_p99``: how late its ticks were)?"""
    from desktop.core.video.source import StreamSpec
    from desktop.core.video.worker import DecodeWorker

    workers = []
    for i in range(n):
        spec = StreamSpec(str(paths[i % len(paths)]))
        w = (pool.worker(spec, TILE, name=f"kf-{i}") if pool is not None
             else DecodeWorker(spec, TILE, name=f"kf-{i}"))
        w.set_keyframes_only(True)
        workers.append(w.start())
    try:
        _measure_wall(workers, painter, warmup, pool)
        late: list[float] = []
        shown, cpu = _measure_wall(workers, painter, seconds, pool, late)
        late.sort()
        return {"tiles": n, "live": sum(1 for w in workers if w.state == "live"),
                "pictures_per_tile_s": round(shown * FPS, 3),  # shown is a share of 25 frames a second
                "stall_ms_p99": round(late[min(len(late) - 1, int(0.99 * len(late)))], 1),
                "stall_ms_max": round(late[-1], 1), "cpu_pct": round(100 * cpu, 1)}
    finally:
        for w in workers:
            w.stop()
        for w in workers:
            w.stop(timeout=5)


def ramp(paths: list[Path], painter: _Painter, start: int, step: int, limit: int, window: float,
         warmup: float, time_budget: float, label: str, pool=None) -> tuple[int, list[dict]]:
    """Add tiles ``step`` at a time until a step shows < 99 % of its frames (or the budget is
    spent); then halve the gap between the last pass and the failure down to 2 tiles. Returns the largest
    passing count and the steps. With a decode ``pool`` the tiles decode in its processes."""
    from desktop.core.video.source import StreamSpec
    from desktop.core.video.worker import DecodeWorker

    workers: list = []
    steps: list[dict] = []
    best = 0
    failed_at = None
    t_begin = time.monotonic()

    def set_count(n: int) -> None:
        while len(workers) < n:
            i = len(workers)
            spec = StreamSpec(str(paths[i % len(paths)]))
            w = (pool.worker(spec, TILE, name=f"{label}-{i}") if pool is not None
                 else DecodeWorker(spec, TILE, name=f"{label}-{i}"))
            workers.append(w.start())
        while len(workers) > n:
            workers.pop().stop()

    def run_step(n: int) -> bool:
        set_count(n)
        # warm up: let new tiles open and settle; take frames meanwhile like the GUI does
        _measure_wall(workers, painter, warmup, pool)
        shown, cpu = _measure_wall(workers, painter, window, pool)
        ok = shown >= 0.99 and all(w.state == "live" for w in workers)
        steps.append({"tiles": n, "shown_pct": round(100 * shown, 2), "cpu_pct": round(100 * cpu, 1), "ok": ok})
        _log(f"  {label}: {n:3d} tiles  shown {100 * shown:6.2f} %  cpu {100 * cpu:5.1f} %  {'ok' if ok else 'FAIL'}")
        return ok

    try:
        n = start
        while n <= limit and time.monotonic() - t_begin < time_budget:
            if run_step(n):
                best = n
                if step <= 0:
                    break
                n += step
            else:
                failed_at = n
                break
        # then halve the gap between the last pass and the first failure (8 → 4 → 2 tiles),
        # so the figure is not a multiple of the coarse step
        while (failed_at is not None and step > 1 and failed_at - best > 2
               and time.monotonic() - t_begin < time_budget):
            mid = (best + failed_at) // 2
            set_count(min(best, mid))  # drop the failing extra tiles and let the rest catch up
            time.sleep(1.0)
            if run_step(mid):
                best = mid
            else:
                failed_at = mid
    finally:
        for w in workers:
            w.stop()
        for w in workers:
            w.stop(timeout=5)
    return best, steps


def measure_ttff(pairs, samples: int) -> list[float]:
    """Open → first picture (ms) from the RTSP server, each sample a new viewer."""
    from desktop.bench.rtsp_server import RtspServer, gst_rtsp_available
    from desktop.core.video.clips import annexb_copy
    from desktop.core.video.source import StreamSpec
    from desktop.core.video.worker import DecodeWorker

    reason = gst_rtsp_available()
    if reason:
        _log(f"  ttff: skipped ({reason})")
        return []
    mounts = {}
    for i, p in enumerate(pairs[:4]):
        mounts[f"cam{i}"] = annexb_copy(p.main)
        mounts[f"cam{i}s"] = annexb_copy(p.sub)
    out = []
    with RtspServer(mounts) as server:
        names = list(mounts)
        for k in range(samples):
            name = names[k % len(names)]
            w = DecodeWorker(StreamSpec(server.url(name)), TILE)
            t0 = time.monotonic()
            w.start()
            while time.monotonic() - t0 < 10:
                if w.slot.take() is not None:
                    out.append((time.monotonic() - t0) * 1000)
                    break
                time.sleep(0.002)
            w.stop(timeout=5)
            time.sleep(0.2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench video", description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true", help="(the JSON line is always printed last)")
    ap.add_argument("--quick", action="store_true", help="shorter windows and coarser ramps (a smoke run)")
    ap.add_argument("--window", type=float, default=None, help="seconds measured per ramp step")
    ap.add_argument("--hog", type=int, default=0, help="N busy processes taking cores while it runs")
    ap.add_argument("--procs", type=int, default=2, metavar="N",
                    help="decode the tiles in N decoder processes (shared memory to the painter), as the "
                         "program does by default ([video] decode_processes = 2); 0: threads of this process")
    args = ap.parse_args(argv)
    from desktop.bench.machine import Hogs, machine_ref_ms
    ref = machine_ref_ms()
    _log(f"video bench: machine_ref_ms {ref}")
    with Hogs(args.hog):
        result = run(args)
    result["machine_ref_ms"] = ref
    result["hog"] = args.hog
    print(json.dumps(result))
    return 0


def run(args) -> dict:

    from desktop.core.video.clips import ensure_demo_clips

    t_start = time.monotonic()
    result: dict = {"cpu_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}

    _log("video bench: demo clips")
    t0 = time.monotonic()
    last = [0.0]

    def progress(done, total):
        if total and time.monotonic() - last[0] > 2:
            last[0] = time.monotonic()
            _log(f"  generating clips: {done}/{total} frames")

    pairs = ensure_demo_clips(progress)
    result["clip_generation_s"] = round(time.monotonic() - t0, 1)

    # 1. CPU per frame against ffmpeg ------------------------------------------------------
    _log("video bench: CPU per frame, ours vs ffmpeg (decode + scale to 480x270 BGRA)")
    have_ffmpeg = shutil.which("ffmpeg") is not None
    runs = 1 if args.quick else 2
    totals = {"ours": 0.0, "ffmpeg": 0.0, "frames": 0}
    for label, path in (("720p", pairs[0].main), ("360p", pairs[0].sub)):
        n = _frames_in(path)
        ours = ours_cpu(path, runs)
        result[f"ours_ms_per_frame_{label}"] = round(1000 * ours / n, 3)
        if have_ffmpeg:
            ff = ffmpeg_cpu(path, True, runs)
            ff_dec = ffmpeg_cpu(path, False, runs)
            result[f"ffmpeg_ms_per_frame_{label}"] = round(1000 * ff / n, 3)
            result[f"ffmpeg_decode_only_ms_per_frame_{label}"] = round(1000 * ff_dec / n, 3)
            result[f"cpu_ratio_vs_ffmpeg_{label}"] = round(ours / ff, 3)
            result[f"cpu_ratio_vs_decode_only_{label}"] = round(ours / ff_dec, 3)
            if not args.quick:
                result[f"ffmpeg_paced_ms_per_frame_{label}"] = round(ffmpeg_paced_ms(path), 3)
                _log(f"  {label}: ffmpeg paced at {FPS} fps (-re): {result[f'ffmpeg_paced_ms_per_frame_{label}']} ms/frame")
            totals["ffmpeg"] += ff
            _log(f"  {label}: ours {1000 * ours / n:.3f} ms/frame, ffmpeg {1000 * ff / n:.3f} "
                 f"(decode only {1000 * ff_dec / n:.3f}) -> ratio {ours / ff:.3f}")
        totals["ours"] += ours
        totals["frames"] += n
    result["cpu_ratio_vs_ffmpeg"] = round(totals["ours"] / totals["ffmpeg"], 3) if totals["ffmpeg"] else None

    # ffmpeg's cost for the same work, sampled again after each ramp: on a shared host the
    # machine's speed drifts by 10-20 % within minutes (ffmpeg's 360p figure was 0.89 ms in one
    # run and 1.14 in another on the same machine), so the ceiling comes from the mean of the
    # samples taken over the ramps' time, not from one taken before them
    ff_samples = {label: [result[f"ffmpeg_ms_per_frame_{label}"]] for label in ("720p", "360p")
                  if f"ffmpeg_ms_per_frame_{label}" in result}

    def resample_ffmpeg() -> None:
        for label, path in (("720p", pairs[0].main), ("360p", pairs[0].sub)):
            if label in ff_samples:
                ff_samples[label].append(round(1000 * ffmpeg_cpu(path, True, runs) / _frames_in(path), 3))

    # 2. tiles sustained --------------------------------------------------------------------
    from desktop.core.video.worker import tune_interpreter_for_video
    tune_interpreter_for_video()  # as the wall does
    painter = _Painter()
    pool = None
    if args.procs:
        from desktop.core.video.procpool import DecodePool
        pool = DecodePool(args.procs)
    result["decode_processes"] = args.procs
    window = args.window or (3.0 if args.quick else 5.0)
    warmup = 1.5 if args.quick else 2.0
    _log("video bench: 640x360@25 tiles sustained (>= 99 % of frames painted)")
    subs = [p.sub for p in pairs]
    mains = [p.main for p in pairs]
    # ramp up to past the CPU ceiling (see 5. below), so a share near 1 can be seen
    def limit(label: str, floor: int) -> int:
        ff = result.get(f"ffmpeg_ms_per_frame_{label}")
        return max(floor, int(1.1 * ceiling_tiles(result["cpu_cores"], ff)) + 1) if ff else floor
    n360, steps360 = ramp(subs, painter, start=8, step=8, limit=limit("360p", 96), window=window, warmup=warmup,
                          time_budget=60 if args.quick else 110, label="360p", pool=pool)
    resample_ffmpeg()  # the machine as it was during the ramp (see 5.)
    _log("video bench: 1280x720@25 tiles sustained")
    n720, steps720 = ramp(mains, painter, start=2, step=2, limit=limit("720p", 40), window=window,
                          warmup=warmup, time_budget=45 if args.quick else 90, label="720p", pool=pool)
    resample_ffmpeg()
    result["tiles_360p_sustained"] = n360
    result["tiles_720p_sustained"] = n720
    result["ramp_360p"] = steps360
    result["ramp_720p"] = steps720

    # 3. dropped frames on a standard 16-tile wall -----------------------------------------
    step16 = next((s for s in steps360 if s["tiles"] == 16), None)
    if step16 is None:
        _, extra = ramp(subs, painter, start=16, step=0, limit=16, window=window, warmup=warmup,
                        time_budget=30, label="360p", pool=pool)
        step16 = extra[0] if extra else None
    result["dropped_pct"] = round(max(0.0, 100.0 - step16["shown_pct"]), 2) if step16 else None
    result["dropped_pct_wall"] = "16 tiles of 640x360@25 at 480x270"

    # 3b. beyond the ceiling: 128 tiles on key frames only (a 2 s GOP: half a picture a second each)
    kf_n = 32 if args.quick else 128
    _log(f"video bench: {kf_n} tiles of 640x360 on key frames only")
    kf = keyframe_wall(subs, painter, kf_n, 4.0 if args.quick else 8.0, warmup, pool)
    _log(f"  {kf['live']}/{kf_n} live, {kf['pictures_per_tile_s']} pictures a second each, "
         f"paint ticks late p99 {kf['stall_ms_p99']} ms, cpu {kf['cpu_pct']} %")
    result["keyframes_only_wall"] = kf

    if pool is not None:
        pool.close()

    # 4. time to first frame ----------------------------------------------------------------
    _log("video bench: time to first frame from the RTSP server")
    ttff = measure_ttff(pairs, 6 if args.quick else 12)
    if ttff:
        ttff.sort()
        result["ttff_ms_p50"] = round(statistics.median(ttff), 1)
        result["ttff_ms_p90"] = round(ttff[min(len(ttff) - 1, int(0.9 * len(ttff)))], 1)
        result["ttff_ms_samples"] = [round(x) for x in ttff]
        _log(f"  ttff p50 {result['ttff_ms_p50']} ms, p90 {result['ttff_ms_p90']} ms")
    else:
        result["ttff_ms_p50"] = None

    # 5. share of the CPU ceiling: the tiles the cores could decode at ffmpeg's cost for the
    # same work (decode + scale to the tile), cores / (ffmpeg ms a frame × 25 fps)
    for label, n in (("360p", n360), ("720p", n720)):
        samples = ff_samples.get(label)
        ff = round(statistics.fmean(samples), 3) if samples else None
        result[f"ffmpeg_ms_per_frame_{label}_samples"] = samples
        result[f"ffmpeg_ms_per_frame_{label}_mean"] = ff
        ceiling = ceiling_tiles(result["cpu_cores"], ff) if ff else None
        result[f"ceiling_tiles_{label}"] = None if ceiling is None else round(ceiling, 1)
        result[f"ceiling_share_{label}"] = None if ceiling is None else round(n / ceiling, 3)
        # the same share against ffmpeg paced at 25 fps (-re): what a live tile's decoding
        # costs the reference tool itself (a yardstick beside the target, not instead of it)
        paced = result.get(f"ffmpeg_paced_ms_per_frame_{label}")
        if paced:
            result[f"ceiling_share_paced_{label}"] = round(n / ceiling_tiles(result["cpu_cores"], paced), 3)

    result["targets"] = {"keyframes_only_wall": {"live": kf_n, "stall_ms_p99": 50}, "cpu_ratio_vs_ffmpeg": 1.1, "tiles_360p_sustained": 16, "tiles_720p_sustained": 4,
                         "ttff_ms_p50": 1500, "ceiling_share_360p": 0.75, "ceiling_share_720p": 0.75}
    result["elapsed_s"] = round(time.monotonic() - t_start, 1)
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
