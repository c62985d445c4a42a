"""The map layer protocol: what the canvas asks of every layer, built-in or from a plugin."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtGui import QPainter

from desktop.core.geo.viewport import Viewport


@dataclass
class Hit:
    """Something under the cursor: which layer, which feature, what to show about it."""

    layer_id: str
    kind: str
    id: str
    title: str
    x: float
    y: float
    props: dict = field(default_factory=dict)
    priority: int = 0  # higher wins when several layers answer


class MapLayer:
    """Base class of a map layer.

    ``static`` layers change rarely (the basemap, grid, cameras) and are painted into the
    canvas's backing cache, so a pan costs one blit; dynamic layers (alarms, patrol units)
    paint every frame. Call :meth:`changed` after changing data so the canvas repaints
    (and, for static layers, rebuilds its cache).
    """

    id: str = "layer"
    title: str = "Layer"
    static: bool = True
    z: int = 0

    def __init__(self) -> None:
        self.visible = True
        self.version = 0
        self._listeners: list[Callable[[MapLayer], None]] = []

    def on_change(self, callback: Callable[["MapLayer"], None]) -> None:
        self._listeners.append(callback)

    def changed(self) -> None:
        self.version += 1
        for cb in list(self._listeners):
            cb(self)

    def set_visible(self, visible: bool) -> None:
        if visible != self.visible:
            self.visible = visible
            self.changed()

    def paint(self, p: QPainter, vp: Viewport) -> None:  # pragma: no cover - interface
        """Paint in screen pixels; ``vp`` converts map coordinates."""

    def hit_test(self, x: float, y: float, vp: Viewport) -> Hit | None:
        """The feature at map point (x, y), within a few pixels, or None."""
        return None

    def animating(self) -> bool:
        """True while the layer wants frames (flashing alarms); the canvas keeps a timer running."""
        return False
