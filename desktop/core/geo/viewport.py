"""The map viewport: which part of the map plane a window shows, and at what scale (Qt-free).

Map coordinates are Web Mercator metres (y up); screen pixels have y down. ``scale`` is
pixels per map unit. Keeping this pure makes pan/zoom/fit testable without a display.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .crs import mercator_to_lonlat, mercator_scale

MIN_SCALE = 1e-4  # whole provinces
MAX_SCALE = 20.0  # a few centimetres per pixel: street furniture


@dataclass
class Viewport:
    """Centre, scale and pixel size of the map window."""

    cx: float = 0.0
    cy: float = 0.0
    scale: float = 0.05
    width: int = 800
    height: int = 600

    def to_screen(self, x, y):
        """Map → screen pixels (arrays or scalars)."""
        sx = (np.asarray(x) - self.cx) * self.scale + self.width / 2.0
        sy = (self.cy - np.asarray(y)) * self.scale + self.height / 2.0
        return sx, sy

    def to_map(self, sx, sy):
        """Screen pixels → map."""
        x = (np.asarray(sx, float) - self.width / 2.0) / self.scale + self.cx
        y = self.cy - (np.asarray(sy, float) - self.height / 2.0) / self.scale
        return x, y

    def bounds(self, margin_px: float = 0.0) -> tuple[float, float, float, float]:
        """Visible map rectangle (minx, miny, maxx, maxy), grown by ``margin_px`` pixels."""
        hw = (self.width / 2.0 + margin_px) / self.scale
        hh = (self.height / 2.0 + margin_px) / self.scale
        return self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh

    def pan_pixels(self, dx: float, dy: float) -> None:
        """Move the content by (dx, dy) pixels, as a drag does."""
        self.cx -= dx / self.scale
        self.cy += dy / self.scale

    def zoom_at(self, factor: float, sx: float | None = None, sy: float | None = None) -> None:
        """Zoom by ``factor`` keeping the map point under pixel (sx, sy) fixed."""
        if sx is None:
            sx, sy = self.width / 2.0, self.height / 2.0
        mx, my = self.to_map(sx, sy)
        self.scale = float(min(MAX_SCALE, max(MIN_SCALE, self.scale * factor)))
        # put (mx, my) back under the cursor
        self.cx = float(mx - (sx - self.width / 2.0) / self.scale)
        self.cy = float(my + (sy - self.height / 2.0) / self.scale)

    def fit(self, minx: float, miny: float, maxx: float, maxy: float, padding: float = 0.05) -> None:
        """Show the rectangle whole, centred, with ``padding`` of the window around it."""
        w = max(maxx - minx, 1e-6)
        h = max(maxy - miny, 1e-6)
        usable = 1.0 - 2.0 * padding
        self.scale = float(min(self.width * usable / w, self.height * usable / h))
        self.scale = float(min(MAX_SCALE, max(MIN_SCALE, self.scale)))
        self.cx = (minx + maxx) / 2.0
        self.cy = (miny + maxy) / 2.0

    def ground_metres_per_pixel(self) -> float:
        """Real metres on the ground per screen pixel at the view centre."""
        _, lat = mercator_to_lonlat(self.cx, self.cy)
        return mercator_scale(lat) / self.scale

    def zoom_level(self) -> float:
        """The equivalent XYZ tile zoom (256-px tiles) at this scale."""
        world = 2.0 * math.pi * 6378137.0
        return math.log2(self.scale * world / 256.0)


def nice_scale_bar(metres_per_pixel: float, max_px: float = 160.0) -> tuple[float, float, str]:
    """A 1-2-5 scale-bar length ≤ ``max_px``: (pixels, metres, label)."""
    target = metres_per_pixel * max_px
    exp = math.floor(math.log10(max(target, 1e-9)))
    best = 10 ** exp
    for m in (1, 2, 5, 10):
        if m * 10 ** exp <= target:
            best = m * 10 ** exp
    px = best / metres_per_pixel
    label = f"{best / 1000:g} km" if best >= 1000 else f"{best:g} m"
    return px, best, label
