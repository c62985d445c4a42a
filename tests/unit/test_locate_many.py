"""Alarms of a flood are placed in their sub-districts a batch at a time: the batch answer is
the one-by-one answer, for points inside, outside and on the district's cells."""
import pickle

import numpy as np
import pytest

from desktop.core.alarms.model import Alarm, AlarmEvent, EventKind
from desktop.core.alarms.remote import RemoteAlarmService
from desktop.core.district.loader import load_district
from desktop.core.district.locator import SubdistrictLocator
from desktop.core.geo.crs import MapProjection
from desktop.core.geo.spatial import PolygonIndex


def test_first_containing_matches_containing():
    import shapely
    squares = [shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10), shapely.box(20, 20, 30, 30)]
    idx = PolygonIndex(squares)
    x = np.array([1.0, 7.0, 12.0, 25.0, 100.0, 10.0])
    y = np.array([1.0, 5.0, 5.0, 25.0, 100.0, 5.0])
    got = idx.first_containing(x, y)
    want = [(idx.containing(a, b) or [-1])[0] for a, b in zip(x, y)]
    assert got.tolist() == want == [0, 0, 1, 2, -1, 0]
    assert PolygonIndex([]).first_containing(x, y).tolist() == [-1] * 6
    assert idx.first_containing([], []).tolist() == []


def test_locate_many_gives_what_locate_gives(tiny_district):
    d = load_district(tiny_district)
    s = SubdistrictLocator.from_district(d, MapProjection())
    minx, miny, maxx, maxy = d.boundary.map_geom.bounds
    rng = np.random.default_rng(3)
    from desktop.core.geo.crs import mercator_to_lonlat, to_wgs84
    mx = rng.uniform(minx - 500, maxx + 500, 400)
    my = rng.uniform(miny - 500, maxy + 500, 400)
    lon, lat = to_wgs84(*mercator_to_lonlat(mx, my), d.info.crs)
    batch = s.locate_many(lon, lat)
    one_by_one = [s.locate(a, b) for a, b in zip(lon, lat)]
    assert batch == one_by_one
    assert any(batch) and not all(batch)  # some inside a cell, some outside every cell
    # what the feed process gets: the same answers after a trip through pickle
    again = pickle.loads(pickle.dumps(s))
    assert len(again) == len(s) == len(d.grid) and again.projection == s.projection
    assert again.locate_many(lon, lat) == batch and [again.locate(a, b) for a, b in zip(lon, lat)] == batch
    assert SubdistrictLocator(MapProjection(), [], []).locate_many(lon[:3], lat[:3]) == ["", "", ""]
    assert pickle.loads(pickle.dumps(SubdistrictLocator(MapProjection(), [], []))).locate(120.0, 36.0) == ""


def test_a_locator_needs_a_name_for_every_cell():
    import shapely
    with pytest.raises(ValueError, match="2 cells but 1 sub-district names"):
        SubdistrictLocator(MapProjection(), [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], ["a"])


def _alarm(i: int, lat: float, subdistrict: str = "") -> Alarm:
    return Alarm(id=f"A{i}", type="fire", priority=1, time="2026-12-02T08:00:00+08:00", epoch=0.0,
                 lon=120.0, lat=lat, crs="WGS84", lon_wgs=120.0, lat_wgs=lat, lon_gcj=120.0, lat_gcj=lat,
                 source=f"s{i}", subdistrict=subdistrict)


def test_the_mirror_fills_in_missing_subdistricts_by_batch_and_survives_a_failing_locate():
    calls = []

    def many(lons, lats):
        calls.append(len(lons))
        return ["north" if lat > 0 else "" for lat in lats]

    svc = RemoteAlarmService.__new__(RemoteAlarmService)  # no child process: only the mirror's step
    svc.locate, svc.locate_many, svc.locator = None, many, None
    events = [AlarmEvent(EventKind.NEW, alarm=_alarm(0, 1.0)), AlarmEvent(EventKind.NEW, alarm=_alarm(1, -1.0)),
              AlarmEvent(EventKind.NEW, alarm=_alarm(2, 1.0, "south"))]
    out = svc._located_events(events)
    assert calls == [2]  # only the two without a sub-district, in one call
    assert [e.alarm.subdistrict for e in out] == ["north", "", "south"]
    assert out[1] is events[1] and out[2] is events[2]  # unchanged events are not copied

    def broken(lons, lats):
        raise ValueError("no grid")
    svc.locate_many = broken
    assert svc._located_events(events) == events
    # a child with the locator has placed them already: the mirror does nothing
    svc.locate_many, svc.locator = many, object()
    assert svc._located_events(events) is events and calls == [2]
