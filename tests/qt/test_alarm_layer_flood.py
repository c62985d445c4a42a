"""A flood of open alarms on the alarm layer: dots hidden under a later dot are not drawn,
and the picture is the one drawing every dot gives."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.core.alarms.model import Alarm, AlarmState
from desktop.core.geo.crs import MapProjection
from desktop.core.geo.viewport import Viewport
from plugins.alarms import map_layers
from plugins.alarms.map_layers import AlarmLayer, topmost_per_cell


def _alarm(i: int) -> Alarm:
    # the alarm benchmark's pattern: 97 × 89 positions 1e-4° apart, all priorities
    lon, lat = 120.38 + (i % 97) * 1e-4, 36.06 + (i % 89) * 1e-4
    return Alarm(id=f"A{i}", type="fire", priority=1 + i % 4, time="2026-12-02T09:00:00+08:00",
                 epoch=1.8e9 + i, lon=lon, lat=lat, crs="WGS84", lon_wgs=lon, lat_wgs=lat,
                 lon_gcj=lon, lat_gcj=lat, source=f"CAM{i}", state=AlarmState.ACKNOWLEDGED)


def test_topmost_per_cell_keeps_the_last_of_each_cell_in_drawing_order():
    sx = np.array([0.5, 1.0, 5.0, 0.2, 10.0, 5.5])
    sy = np.array([0.5, 1.5, 5.0, 0.1, 10.0, 5.9])
    assert topmost_per_cell(sx, sy, 2.0).tolist() == [3, 4, 5]
    assert topmost_per_cell(sx, sy, 0.1).tolist() == [0, 1, 2, 3, 4, 5]
    assert topmost_per_cell(sx, sy, 8.0).tolist() == [4, 5]  # one cell holds all but (10, 10)


def _paint(layer, vp) -> QImage:
    img = QImage(vp.width, vp.height, QImage.Format_ARGB32_Premultiplied)
    img.fill(QColor("#10202c"))
    p = QPainter(img)
    layer.paint(p, vp)
    p.end()
    return img


def test_a_flood_draws_fewer_dots_and_the_same_picture(qapp, monkeypatch):
    layer = AlarmLayer(MapProjection())
    layer.update_alarms([_alarm(i) for i in range(9000)])
    x, y = layer._x, layer._y
    vp = Viewport(float(x.mean()), float(y.mean()), 1 / 7.0, 400, 300)  # about the district's zoom
    covered = _paint(layer, vp)
    drawn = layer.last_drawn
    monkeypatch.setattr(map_layers, "COVER_ABOVE", 10 ** 9)
    every = _paint(layer, vp)
    assert layer.last_drawn == 9000
    assert drawn < 9000 / 2
    a = np.frombuffer(covered.constBits(), np.uint8).reshape(300, 400, 4).astype(int)
    b = np.frombuffer(every.constBits(), np.uint8).reshape(300, 400, 4).astype(int)
    painted = (np.abs(b - b[0, 0]).max(axis=2) > 0).sum()  # pixels the dots cover
    assert painted > 2000
    differ = (np.abs(a - b).max(axis=2) > 40).sum()
    assert differ <= 0.03 * painted, (differ, painted)


def test_the_pulse_tick_does_not_repaint_a_frame_a_layer_change_just_painted(qapp, monkeypatch):
    # a flood repaints the map for every batch of alarms (30 a second); the 20 fps pulse timer
    # repainting on top of that nearly doubled the frames, for nothing the operator could see
    import time

    from desktop.qt.map.canvas import MapCanvas
    c = MapCanvas()
    layer = AlarmLayer(MapProjection())
    layer.update_alarms([_alarm(1)])
    c.add_layer(layer)
    updates = []
    monkeypatch.setattr(c, "update", lambda *a: updates.append(1))
    c._last_paint_end = time.perf_counter()  # a frame was just painted
    c._tick()
    assert updates == []
    c._last_paint_end = time.perf_counter() - 1.0  # nothing painted lately: the pulse needs a frame
    c._tick()
    assert updates == [1]
