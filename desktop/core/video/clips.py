"""Demo clips: camera-like H.264 streams generated on first use, never committed.

Each variant is a street/harbour scene drawn procedurally (buildings, a road, a pier, the sea:
:mod:`desktop.core.video.clip_scene`), with moving vehicles and pedestrians, temporal sensor noise (FFmpeg's ``noise`` filter), a
clock burn-in and the camera's name as an on-screen display, encoded like an IP camera:
H.264 main profile, constant 25 fps, a 2 s GOP without B-frames, a main stream of
1280×720 at ~2 Mbit/s and a sub stream of 640×360 at ~512 kbit/s (same picture, scaled).

Clips live in ``$PINGAN_CACHE/clips`` (default ``~/.cache/pingan-desk/clips``). Files are
written to a temporary name and renamed, so a crash never leaves a half clip that looks done.
All demo cameras share a small set of variants. Which camera plays which, and the threads that
make a missing pair before a player opens it, are the demo's
(:mod:`desktop.core.video.demo_cameras`); the video core (source, worker, player) knows
nothing of demo clips. :func:`ensure_demo_clips` fills the cache in one go (benchmarks,
tests, ``python -m desktop.core.video.clips``).
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable

from desktop.core.video.clip_scene import build_scene, burn_text, draw_movers
from desktop.core.video.source import CameraStreams, StreamSpec

log = logging.getLogger(__name__)

#: Bump when the generator changes so old caches are not reused.
CLIP_VERSION = 1
FPS = 25
GOP = 2 * FPS
MAIN_SIZE = (1280, 720)
SUB_SIZE = (640, 360)
MAIN_BITRATE = 2_000_000
SUB_BITRATE = 512_000
DEFAULT_SECONDS = 20.0
DEFAULT_COUNT = 8

VARIANT_NAMES = (
    "CAM-01 HARBOUR GATE",
    "CAM-02 ZHONGSHAN RD",
    "CAM-03 PLAZA NORTH",
    "CAM-04 BEACH WALK",
    "CAM-05 METRO EXIT B",
    "CAM-06 MARKET ST",
    "CAM-07 PIER 6",
    "CAM-08 SCHOOL GATE",
)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ClipPair:
    """One demo variant: its main (1280×720) and sub (640×360) clip files."""

    variant: int
    name: str
    main: Path
    sub: Path
    seconds: float = DEFAULT_SECONDS
    fps: int = FPS

    def exists(self) -> bool:
        return self.main.exists() and self.sub.exists()

    def streams(self, camera_id: str, name: str, ready: Future | None = None) -> CameraStreams:
        """CameraStreams playing this pair as pseudo-live files. Nothing is generated: a
        pair still being made is handed with the ``ready`` future of its making
        (``desktop.core.video.demo_cameras``), a missing one plays as an error."""
        return CameraStreams(
            camera_id, name,
            StreamSpec(str(self.main), MAIN_SIZE[0], MAIN_SIZE[1], "main", ready=ready),
            StreamSpec(str(self.sub), SUB_SIZE[0], SUB_SIZE[1], "sub", ready=ready),
            extra={"demo_variant": self.variant})


def clips_dir() -> Path:
    """Where generated clips are cached (created on demand; the first call in a process also
    removes the temporary files of generations that were cut off, see :func:`sweep_stale_temp_files`)."""
    from desktop.paths import cache_dir
    path = cache_dir() / "clips"
    path.mkdir(parents=True, exist_ok=True)
    if path not in _SWEPT:
        _SWEPT.add(path)
        sweep_stale_temp_files(path)
    return path


_SWEPT: set[Path] = set()


def sweep_stale_temp_files(folder: Path) -> int:
    """Remove ``*.tmp<pid>-<thread>`` files whose process is gone: a clip being made when the
    program quit (its generating threads are daemons and die with it) leaves them behind.
    Another running instance's files are left alone. Returns how many were removed."""
    n = 0
    if os.name == "nt":
        return 0  # os.kill(pid, 0) would end the process there, not ask about it
    for p in Path(folder).glob("*.tmp*-*"):
        tag = p.name.rsplit(".tmp", 1)[-1]
        try:
            pid = int(tag.split("-", 1)[0])
        except ValueError:
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
            continue  # still running: its generation may be under way
        except ProcessLookupError:
            pass
        except (PermissionError, OSError):
            continue  # someone else's, or no way to tell
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    if n:
        log.info("removed %d unfinished demo clip files in %s", n, folder)
    return n


def clip_pair(variant: int, seconds: float = DEFAULT_SECONDS, folder: Path | None = None) -> ClipPair:
    """The (possibly not yet generated) files of a variant."""
    folder = Path(folder) if folder is not None else clips_dir()
    v = int(variant) % len(VARIANT_NAMES)
    stem = f"demo-v{CLIP_VERSION}-{v + 1:02d}-{float(seconds):g}s"
    return ClipPair(v, VARIANT_NAMES[v], folder / f"{stem}-main.mp4", folder / f"{stem}-sub.mp4", float(seconds))


def ensure_demo_clips(progress: Progress | None = None, count: int = DEFAULT_COUNT,
                      seconds: float = DEFAULT_SECONDS, folder: Path | None = None,
                      workers: int | None = None) -> list[ClipPair]:
    """Generate the missing demo clips and return all ``count`` pairs.

    ``progress(done, total)`` is called (from worker threads) as frames are encoded; ``total``
    counts frames of the clips still to make, so a warm cache reports ``(0, 0)`` once.
    Variants are made in parallel, one per core: libx264 and the noise filter release the GIL.
    """
    pairs = [clip_pair(i, seconds, folder) for i in range(max(1, min(count, len(VARIANT_NAMES))))]
    todo = [p for p in pairs if not p.exists()]
    frames_each = max(1, int(round(seconds * FPS)))
    total = len(todo) * frames_each
    done = [0]
    lock = threading.Lock()

    def tick(n: int) -> None:
        with lock:
            done[0] += n
            d = done[0]
        if progress is not None:
            progress(d, total)

    if not todo:
        if progress is not None:
            progress(0, 0)
        return pairs
    n_workers = workers or max(1, min(len(todo), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="clipgen") as pool:
        for fut in [pool.submit(ensure_pair, p, tick) for p in todo]:
            fut.result()
    return pairs


_pair_locks: dict[Path, threading.Lock] = {}
_pair_locks_guard = threading.Lock()


def ensure_pair(pair: ClipPair, tick: Callable[[int], None] | None = None) -> ClipPair:
    """Generate ``pair`` unless it exists (blocks for seconds: never on the GUI or a decode
    thread). One generator per pair per process; others wait for it and then find the files."""
    with _pair_locks_guard:
        lk = _pair_locks.setdefault(pair.main, threading.Lock())
    with lk:
        if not pair.exists():
            generate_pair(pair, tick)
    return pair


def annexb_copy(mp4: Path | str, out: Path | str | None = None) -> Path:
    """A raw Annex-B ``.h264`` copy of an MP4 clip (what the GStreamer RTSP server serves in a
    loop, docs/field.md, *Video decoding: network*); made once next to the clip, or at ``out``."""
    import av
    mp4 = Path(mp4)
    out = Path(out) if out is not None else mp4.with_suffix(".h264")
    if out.exists() and out.stat().st_mtime >= mp4.stat().st_mtime:
        return out
    tmp = out.with_name(out.name + f".tmp{os.getpid()}-{threading.get_ident()}")
    with av.open(str(mp4)) as src, av.open(str(tmp), "w", format="h264") as dst:
        ist = src.streams.video[0]
        ost = dst.add_stream_from_template(ist)
        for pkt in src.demux(ist):
            if pkt.dts is None:
                continue
            pkt.stream = ost
            dst.mux(pkt)  # the raw h264 muxer inserts h264_mp4toannexb by itself
    os.replace(tmp, out)
    return out


# --------------------------------------------------------------------------------------------
# generation (the picture itself is drawn by desktop.core.video.clip_scene)
# --------------------------------------------------------------------------------------------

def _encoder(container, size: tuple[int, int], bitrate: int):
    st = container.add_stream("libx264", rate=FPS)
    st.width, st.height = size
    st.pix_fmt = "yuv420p"
    st.bit_rate = bitrate
    st.codec_context.gop_size = GOP
    kbps = bitrate // 1000
    # camera-like: fixed 2 s GOP, no scene-cut key frames, no B-frames, CBR-ish VBV
    st.options = {
        "preset": "veryfast",
        "profile": "main",
        "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes=0:"
                       f"vbv-maxrate={kbps}:vbv-bufsize={kbps}:threads=1",
    }
    return st


def generate_pair(pair: ClipPair, tick: Callable[[int], None] | None = None) -> ClipPair:
    """Encode ``pair``'s main and sub clips (same picture) to temp files, then rename."""
    import av
    import av.filter

    pair.main.parent.mkdir(parents=True, exist_ok=True)
    log.info("generating demo clip %s (%s)", pair.main.name, pair.name)
    suffix = f".tmp{os.getpid()}-{threading.get_ident()}.mp4"
    tmp_main, tmp_sub = pair.main.with_name(pair.main.name + suffix), pair.sub.with_name(pair.sub.name + suffix)
    w, h = MAIN_SIZE
    bg, movers = build_scene(pair.variant, w, h)
    n_frames = max(1, int(round(pair.seconds * FPS)))
    tb = Fraction(1, FPS)
    graph = av.filter.Graph()
    src = graph.add_buffer(width=w, height=h, format="yuv420p", time_base=tb)
    # temporal sensor noise, plus a little more in dark scenes, in C (the slow part in numpy)
    noise = graph.add("noise", f"alls={14 if pair.variant == 5 else 9}:allf=t")
    sink = graph.add("buffersink")
    src.link_to(noise)
    noise.link_to(sink)
    graph.configure()
    try:
        with av.open(str(tmp_main), "w", format="mp4") as out_main, \
                av.open(str(tmp_sub), "w", format="mp4") as out_sub:
            st_main = _encoder(out_main, MAIN_SIZE, MAIN_BITRATE)
            st_sub = _encoder(out_sub, SUB_SIZE, SUB_BITRATE)
            # a fixed, plausible date; the clock advances with the clip and restarts on loop
            base_s = 8 * 3600 + 30 * 60 + pair.variant * 517
            pending = 0
            for i in range(n_frames):
                pl = bg.copy()
                draw_movers(pl, movers, i)
                frame = pl.to_frame()
                frame.pts, frame.time_base = i, tb
                graph.push(frame)
                noisy = graph.pull()
                secs = base_s + i // FPS
                clock = f"2025-06-18 {secs // 3600 % 24:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
                for st, out, size, scale in ((st_main, out_main, MAIN_SIZE, 3), (st_sub, out_sub, SUB_SIZE, 2)):
                    img = noisy if size == MAIN_SIZE else noisy.reformat(size[0], size[1], interpolation="BILINEAR")
                    arr = img.to_ndarray()  # (h*3/2, w) yuv420p, a private copy
                    yplane = arr[:size[1]]
                    m = max(8, size[1] // 40)
                    burn_text(yplane, clock, m, m, scale)
                    burn_text(yplane, pair.name, m, size[1] - m - 7 * scale, scale)
                    vf = av.VideoFrame.from_ndarray(arr, format="yuv420p")
                    vf.pts, vf.time_base = i, tb
                    for pkt in st.encode(vf):
                        out.mux(pkt)
                pending += 1
                if tick is not None and (pending >= 25 or i == n_frames - 1):
                    tick(pending)
                    pending = 0
            for st, out in ((st_main, out_main), (st_sub, out_sub)):
                for pkt in st.encode(None):
                    out.mux(pkt)
        os.replace(tmp_sub, pair.sub)
        os.replace(tmp_main, pair.main)
    finally:
        for tmp in (tmp_main, tmp_sub):
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
    return pair


def _main(argv: list[str] | None = None) -> int:
    """``python -m desktop.core.video.clips [--count N] [--seconds S]``: fill the cache."""
    import argparse
    import sys
    import time
    ap = argparse.ArgumentParser(description="Generate the demo camera clips into the cache.")
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT)
    ap.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    ap.add_argument("--folder", type=Path, default=None)
    args = ap.parse_args(argv)
    t0 = time.monotonic()

    def progress(done, total):
        if total:
            print(f"\r{done}/{total} frames", end="", file=sys.stderr, flush=True)

    pairs = ensure_demo_clips(progress, args.count, args.seconds, args.folder)
    print(file=sys.stderr)
    for p in pairs:
        print(p.main)
        print(p.sub)
    print(f"{len(pairs)} pairs in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
