"""Raster basemap layer: offline XYZ/MBTiles tiles under the vector layers.

Tiles are decoded once and kept in a small LRU cache; a tile missing at the current zoom
is drawn from its nearest parent (stretched), so the basemap never shows holes.
"""
from __future__ import annotations

import collections

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from desktop.core.geo.tiles import TileSource, tile_bounds, tiles_in_view
from desktop.core.geo.viewport import Viewport

from .layer import MapLayer


class TileLayer(MapLayer):
    """Paints the tiles of a :class:`TileSource` that cover the view."""

    id = "tiles"
    title = "Raster basemap"
    z = 1

    def __init__(self, source: TileSource, cache_size: int = 512):
        super().__init__()
        self.source = source
        self._cache: collections.OrderedDict = collections.OrderedDict()
        self.cache_size = cache_size
        self.last_drawn = 0

    def _image(self, z: int, x: int, y: int) -> QImage | None:
        key = (z, x, y)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        data = self.source.get(z, x, y)
        img = QImage.fromData(data) if data else None
        if img is not None and img.isNull():
            img = None
        self._cache[key] = img
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return img

    def paint(self, p: QPainter, vp: Viewport) -> None:
        z = int(round(vp.zoom_level()))
        z = max(self.source.minzoom, min(self.source.maxzoom, z))
        p.setRenderHint(QPainter.SmoothPixmapTransform, True)
        drawn = 0
        for x, y in tiles_in_view(*vp.bounds(), z):
            minx, miny, maxx, maxy = tile_bounds(z, x, y)
            sx0, sy0 = vp.to_screen(minx, maxy)
            sx1, sy1 = vp.to_screen(maxx, miny)
            target = QRectF(float(sx0), float(sy0), float(sx1 - sx0), float(sy1 - sy0))
            img, src = None, None
            # this tile, or a quarter/eighth/... of a parent tile
            for up in range(0, 4):
                zz = z - up
                if zz < self.source.minzoom:
                    break
                img = self._image(zz, x >> up, y >> up)
                if img is not None:
                    k = 1 << up
                    w, h = img.width() / k, img.height() / k
                    src = QRectF((x % k) * w, (y % k) * h, w, h)
                    break
            if img is not None:
                p.drawImage(target, img, src)
                drawn += 1
        self.last_drawn = drawn
