"""The picture of a demo clip: a street or harbour scene drawn in YUV 4:2:0 (buildings with lit
windows, a road with a crossing, a pier and the sea), its moving vehicles, pedestrians and
boats, and the camera-like on-screen display (a 5×7 bitmap font burnt into the luma plane).

Qt-free and deterministic: each variant's scene is seeded by its number, so a clip made on
another machine, or again after the cache was emptied, shows the same street. The encoding
(and the noise, the clock and the name burnt in per frame) is :func:`desktop.core.video.clips.generate_pair`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    """Something that crosses the picture: a car, a pedestrian, a boat."""

    x: float
    y: float
    w: float
    h: float
    vx: float
    rgb: tuple
    bob: float = 0.0  # walking pedestrians bob up and down


def build_scene(variant: int, w: int, h: int):
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


def draw_movers(pl: _Planes, movers: list[_Mover], t: int) -> None:
    for m in movers:
        span = pl.w + m.w
        x = (m.x + m.vx * t) % span - m.w
        y = m.y + (abs(((t // 3) % 4) - 2) - 1) * m.bob
        pl.rect(x, y, x + m.w, y + m.h, m.rgb)
        if m.bob == 0.0 and m.h > 20:  # vehicles: windows and wheels
            pl.rect(x + m.w * 0.2, y + m.h * 0.1, x + m.w * 0.75, y + m.h * 0.45, (70, 100, 120))
            pl.rect(x + m.w * 0.1, y + m.h * 0.85, x + m.w * 0.3, y + m.h * 1.05, (15, 15, 15))
            pl.rect(x + m.w * 0.7, y + m.h * 0.85, x + m.w * 0.9, y + m.h * 1.05, (15, 15, 15))
