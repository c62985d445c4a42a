"""Demo clips: camera-like H.264 streams generated on first use, never committed.

Each variant is a street/harbour scene drawn procedurally (buildings, a road, a pier, the sea),
with moving vehicles and pedestrians, temporal sensor noise (FFmpeg's ``noise`` filter), a
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

import numpy as np

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
    """Where generated clips are cached (created on demand)."""
    from desktop.paths import cache_dir
    path = cache_dir() / "clips"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
# generation
# --------------------------------------------------------------------------------------------

def _rgb_to_yuv(r: float, g: float, b: float) -> tuple[int, int, int]:
    """BT.601 limited range (what libx264 signals by default for yuv420p)."""
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return int(round(y)), int(round(u)), int(round(v))


class _Planes:
    """Y, U, V planes of a 4:2:0 picture, drawn on in luma coordinates."""

    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        self.y = np.zeros((h, w), np.uint8)
        self.u = np.full((h // 2, w // 2), 128, np.uint8)
        self.v = np.full((h // 2, w // 2), 128, np.uint8)

    def copy(self) -> "_Planes":
        out = _Planes.__new__(_Planes)
        out.w, out.h = self.w, self.h
        out.y, out.u, out.v = self.y.copy(), self.u.copy(), self.v.copy()
        return out

    def rect(self, x0: float, y0: float, x1: float, y1: float, rgb) -> None:
        x0, x1 = max(0, int(x0)) & ~1, min(self.w, int(x1)) & ~1
        y0, y1 = max(0, int(y0)) & ~1, min(self.h, int(y1)) & ~1
        if x1 <= x0 or y1 <= y0:
            return
        yy, uu, vv = _rgb_to_yuv(*rgb)
        self.y[y0:y1, x0:x1] = yy
        self.u[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = uu
        self.v[y0 // 2:y1 // 2, x0 // 2:x1 // 2] = vv

    def vgradient(self, y0: int, y1: int, top_rgb, bottom_rgb) -> None:
        for yy in range(y0 & ~1, y1 & ~1, 2):
            t = (yy - y0) / max(1, y1 - y0)
            rgb = [a + (b - a) * t for a, b in zip(top_rgb, bottom_rgb)]
            self.rect(0, yy, self.w, yy + 2, rgb)

    def to_frame(self):
        import av
        arr = np.concatenate([self.y, self.u.reshape(-1, self.w), self.v.reshape(-1, self.w)])
        return av.VideoFrame.from_ndarray(arr, format="yuv420p")


# 5×7 bitmap font for the on-screen display (no font files or PIL needed, deterministic).
_GLYPHS = {
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001", "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110", "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111", "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111", "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110", "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001", "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001", "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101", "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110", "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110", "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010", "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100", "Z": "11111 00001 00010 00100 01000 10000 11111",
    " ": "00000 00000 00000 00000 00000 00000 00000", ":": "00000 01100 01100 00000 01100 01100 00000",
    "-": "00000 00000 00000 11111 00000 00000 00000", ".": "00000 00000 00000 00000 00000 01100 01100",
    "/": "00001 00001 00010 00100 01000 10000 10000", "#": "01010 01010 11111 01010 11111 01010 01010",
    "_": "00000 00000 00000 00000 00000 00000 11111",
}
_GLYPH_BITS = {c: np.array([[ch == "1" for ch in row] for row in rows.split()], bool) for c, rows in _GLYPHS.items()}


def text_mask(text: str, scale: int) -> np.ndarray:
    """Boolean mask of ``text`` in the bitmap font, each pixel ``scale``×``scale``."""
    cells = [_GLYPH_BITS.get(ch, _GLYPH_BITS[" "]) for ch in text.upper()]
    gap = np.zeros((7, 1), bool)
    row = np.hstack([np.hstack([c, gap]) for c in cells]) if cells else np.zeros((7, 1), bool)
    return np.kron(row, np.ones((scale, scale), bool)).astype(bool)


def burn_text(y_plane: np.ndarray, text: str, x: int, y: int, scale: int) -> None:
    """White text with a dark outline on the luma plane (an IP camera's OSD look)."""
    mask = text_mask(text, scale)
    h, w = mask.shape
    H, W = y_plane.shape
    if x >= W or y >= H:
        return
    h, w = min(h, H - y - 1), min(w, W - x - 1)
    mask = mask[:h, :w]
    # outline: the mask dilated by one font pixel, painted dark first
    pad = max(1, scale // 2)
    region = y_plane[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
    dil = np.zeros(region.shape, bool)
    oy, ox = y - max(0, y - pad), x - max(0, x - pad)
    for dy in (-pad, 0, pad):
        for dx in (-pad, 0, pad):
            ys, xs = oy + dy, ox + dx
            sub = dil[max(0, ys):ys + h, max(0, xs):xs + w]
            sub |= mask[max(0, -ys):max(0, -ys) + sub.shape[0], max(0, -xs):max(0, -xs) + sub.shape[1]]
    region[dil] = 20
    region[oy:oy + h, ox:ox + w][mask] = 235


@dataclass
class _Mover:
    x: float
    y: float
    w: float
    h: float
    vx: float
    rgb: tuple
    bob: float = 0.0  # walking pedestrians bob up and down


def _build_scene(variant: int, w: int, h: int):
    """Static background and moving objects of a variant (seeded, so always the same)."""
    rng = np.random.default_rng(1000 + variant)
    bg = _Planes(w, h)
    coastal = variant in (0, 3, 6)
    night = variant in (5,)
    sky_top = (30, 40, 70) if night else (120, 160, 210)
    sky_bot = (60, 60, 90) if night else (190, 210, 230)
    horizon = int(h * rng.uniform(0.28, 0.38))
    bg.vgradient(0, horizon, sky_top, sky_bot)
    if coastal:  # sea between the horizon and the promenade
        bg.vgradient(horizon, int(h * 0.55), (40, 90, 120), (20, 60, 90))
        ground0 = int(h * 0.55)
    else:
        ground0 = horizon
        x = 0
        while x < w:  # buildings along the horizon with lit windows
            bw = int(rng.uniform(0.06, 0.16) * w)
            bh = int(rng.uniform(0.12, 0.32) * h)
            shade = rng.uniform(70, 150)
            tint = rng.uniform(-20, 20, 3)
            col = tuple(np.clip(shade + tint, 30, 220))
            bg.rect(x, horizon - bh, x + bw - 4, horizon + 20, col)
            for wy in range(horizon - bh + 10, horizon, 22):
                for wx in range(x + 8, x + bw - 16, 18):
                    if rng.random() < 0.55:
                        lit = (230, 210, 120) if night or rng.random() < 0.3 else (60, 80, 100)
                        bg.rect(wx, wy, wx + 8, wy + 10, lit)
            x += bw
    # pavement, road with lane markings, kerb
    road0, road1 = int(h * 0.62), int(h * 0.86)
    bg.vgradient(ground0, road0, (150, 145, 135), (120, 118, 110))
    bg.rect(0, road0, w, road1, (62, 64, 68))
    for lane_y in (road0 + (road1 - road0) // 2,):
        for x in range(0, w, 80):
            bg.rect(x, lane_y - 2, x + 44, lane_y + 2, (230, 230, 210))
    bg.rect(0, road0 - 6, w, road0, (190, 190, 180))
    bg.vgradient(road1, h, (130, 128, 120), (100, 98, 92))
    # crossing stripes
    cx = int(w * rng.uniform(0.25, 0.7))
    for yy in range(road0 + 6, road1 - 6, 16):
        bg.rect(cx, yy, cx + int(w * 0.08), yy + 8, (220, 220, 215))
    # trees/poles for parallax-free texture
    for _ in range(int(rng.integers(4, 9))):
        px = rng.uniform(0, w)
        bg.rect(px, ground0 - h * 0.12, px + 6, road0 - 6, (70, 60, 50))
        bg.rect(px - 18, ground0 - h * 0.18, px + 24, ground0 - h * 0.09, (40, 100, 50))

    movers: list[_Mover] = []
    n_cars = int(rng.integers(3, 7))
    palette = [(200, 30, 30), (230, 230, 230), (20, 20, 25), (40, 80, 180), (200, 180, 40), (120, 120, 130)]
    for i in range(n_cars):
        lane_top = i % 2 == 0
        ch = (road1 - road0) * rng.uniform(0.22, 0.32)
        cy = road0 + (road1 - road0) * (0.08 if lane_top else 0.55)
        speed = rng.uniform(2.5, 7.0) * w / 1280 * (1 if lane_top else -1)
        movers.append(_Mover(rng.uniform(0, w), cy, ch * rng.uniform(1.8, 2.6), ch, speed,
                             palette[int(rng.integers(len(palette)))]))
    for i in range(int(rng.integers(4, 10))):
        ph = h * rng.uniform(0.07, 0.1)
        top = rng.random() < 0.5
        py = (road0 - ph - 8) if top else (road1 + 6)
        movers.append(_Mover(rng.uniform(0, w), py, ph * 0.35, ph, rng.uniform(-1.6, 1.6) * w / 1280,
                             tuple(int(c) for c in rng.integers(30, 230, 3)), bob=2.0))
    if coastal:
        for i in range(2):  # boats on the sea
            by = horizon + (ground0 - horizon) * rng.uniform(0.2, 0.6)
            movers.append(_Mover(rng.uniform(0, w), by, w * 0.06, h * 0.025, rng.uniform(0.3, 0.9) * w / 1280,
                                 (235, 235, 235)))
    return bg, movers


def _draw_movers(pl: _Planes, movers: list[_Mover], t: int) -> None:
    for m in movers:
        span = pl.w + m.w
        x = (m.x + m.vx * t) % span - m.w
        y = m.y + (abs(((t // 3) % 4) - 2) - 1) * m.bob
        pl.rect(x, y, x + m.w, y + m.h, m.rgb)
        if m.bob == 0.0 and m.h > 20:  # vehicles: windows and wheels
            pl.rect(x + m.w * 0.2, y + m.h * 0.1, x + m.w * 0.75, y + m.h * 0.45, (70, 100, 120))
            pl.rect(x + m.w * 0.1, y + m.h * 0.85, x + m.w * 0.3, y + m.h * 1.05, (15, 15, 15))
            pl.rect(x + m.w * 0.7, y + m.h * 0.85, x + m.w * 0.9, y + m.h * 1.05, (15, 15, 15))


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
    bg, movers = _build_scene(pair.variant, w, h)
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
                _draw_movers(pl, movers, i)
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
