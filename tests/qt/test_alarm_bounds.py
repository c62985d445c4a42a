"""Per-alarm caches of the alarm panel stay bounded however many alarms a shift sees."""
from __future__ import annotations

import dataclasses

from desktop.core.alarms.model import Alarm, AlarmState
from desktop.core.geo.crs import MapProjection
from plugins.alarms.map_layers import AlarmLayer


def _alarm(i: int, state=AlarmState.NEW) -> Alarm:
    return Alarm(id=f"A{i}", type="fire", priority=1 + i % 4, time="2026-12-02T09:00:00+08:00",
                 epoch=1.8e9 + i, lon=120.38, lat=36.06, crs="WGS84", lon_wgs=120.38 + i * 1e-5,
                 lat_wgs=36.06, lon_gcj=120.385, lat_gcj=36.058, source=f"CAM{i}", state=state)


def test_map_positions_of_closed_alarms_are_let_go(qapp):
    layer = AlarmLayer(MapProjection())
    for start in range(0, 5000, 100):
        fresh = [_alarm(i) for i in range(start, start + 100)]
        layer.update_alarms(fresh)
        layer.update_alarms([dataclasses.replace(a, state=AlarmState.RESOLVED) for a in fresh[:95]])
    assert len(layer.open_ids()) == 250  # 5 of each hundred stay open
    assert len(layer.xy) <= 2 * 256 + 100  # not 5,000: one entry per alarm ever seen
    assert all(a.id in layer.xy for a in layer.alarms)
