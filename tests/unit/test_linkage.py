"""Linkage: cameras covering a point (vectorised, 25,000 cameras ≪ 10 ms) and nearest patrol units."""
import math
import time

import numpy as np
import pytest

from desktop.core.alarms.linkage import SPEED_KMH, CameraArrays, cameras_covering, nearest_units
from desktop.core.district.model import Camera, CameraTable
from desktop.core.geo.crs import haversine_m

LON, LAT = 120.38, 36.06
M_LAT = 1 / 111_195.0  # degrees of latitude per metre (mean radius)
M_LON = M_LAT / math.cos(math.radians(LAT))


def offset(east_m, north_m):
    return LON + east_m * M_LON, LAT + north_m * M_LAT


def table(rows):
    ids, lon, lat, hd, fov, rng = zip(*rows)
    return {"ids": list(ids), "lon": lon, "lat": lat, "heading_deg": hd, "fov_deg": fov, "range_m": rng}


def test_direction_range_and_fov():
    cams = table([
        ("east", LON, LAT, 90.0, 60.0, 100.0),
        ("north", LON, LAT, 0.0, 60.0, 100.0),
        ("omni", LON, LAT, 0.0, 360.0, 100.0),
        ("short", LON, LAT, 90.0, 60.0, 30.0),
    ])
    got = dict(cameras_covering(*offset(50, 0), cams))
    assert set(got) == {"east", "omni"}
    assert set(dict(cameras_covering(*offset(0, 50), cams))) == {"north", "omni"}
    assert cameras_covering(*offset(150, 0), cams) == []
    assert set(dict(cameras_covering(*offset(-50, 0), cams))) == {"omni"}  # behind the east camera


def test_heading_wraps_around_north():
    cams = table([("c", LON, LAT, 350.0, 40.0, 200.0)])
    p = offset(100 * math.sin(math.radians(5)), 100 * math.cos(math.radians(5)))  # bearing 5°
    assert [c for c, _ in cameras_covering(*p, cams)] == ["c"]
    p = offset(100 * math.sin(math.radians(15)), 100 * math.cos(math.radians(15)))  # 25° off axis
    assert cameras_covering(*p, cams) == []


def test_score_prefers_near_and_centred():
    a_lon, a_lat = offset(-40, 0)
    b_lon, b_lat = offset(-90, 0)
    c_lon, c_lat = offset(-40, -20)  # as near as a, but the point is off its axis
    cams = table([
        ("far", b_lon, b_lat, 90.0, 60.0, 100.0),
        ("near", a_lon, a_lat, 90.0, 60.0, 100.0),
        ("oblique", c_lon, c_lat, 90.0, 90.0, 100.0),
    ])
    got = cameras_covering(LON, LAT, cams)
    assert [c for c, _ in got] == ["near", "oblique", "far"]
    assert all(0 <= s <= 1 for _, s in got)
    assert got[0][1] > got[1][1] > got[2][1]
    assert cameras_covering(LON, LAT, cams, limit=1)[0][0] == "near"


def _brute(lon, lat, t: CameraArrays):
    out = set()
    for i in range(len(t)):
        d = haversine_m(t.lon[i], t.lat[i], lon, lat)
        if d > t.range_m[i]:
            continue
        p1, p2 = math.radians(t.lat[i]), math.radians(lat)
        dl = math.radians(lon - t.lon[i])
        brg = math.degrees(math.atan2(math.sin(dl) * math.cos(p2),
                                      math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl))) % 360
        off = abs((brg - t.heading_deg[i] + 180) % 360 - 180)
        if t.fov_deg[i] >= 360 or off <= t.fov_deg[i] / 2:
            out.add(t.ids[i])
    return out


def test_25000_cameras_well_under_10_ms_and_matches_brute_force():
    rng = np.random.default_rng(1)
    n = 25_000
    lon = LON + rng.uniform(-0.06, 0.06, n)  # ~11 × 13 km, like a district
    lat = LAT + rng.uniform(-0.05, 0.05, n)
    fov = np.where(rng.random(n) < 0.1, 360.0, rng.uniform(30, 120, n))
    cams = CameraArrays.from_columns([f"C{i}" for i in range(n)], lon, lat, rng.uniform(0, 360, n),
                                     fov, rng.uniform(30, 300, n))
    points = [(LON + dx, LAT + dy) for dx, dy in rng.uniform(-0.04, 0.04, (20, 2))]
    timings = []
    for k, p in enumerate(points):
        t0 = time.perf_counter()
        got = cameras_covering(*p, cams)
        timings.append(time.perf_counter() - t0)
        if k < 2:  # the pure-Python reference is slow: check a few points
            assert {c for c, _ in got} == _brute(*p, cams)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert np.median(timings) < 0.010, f"median {np.median(timings) * 1e3:.2f} ms"


def test_accepts_the_district_camera_table():
    cams = [Camera(id="K1", name="k1", kind="hd", lon=LON, lat=LAT, x=0, y=0, heading_deg=90,
                   fov_deg=60, range_m=100)]
    t = CameraTable(cams, np.array([LON]), np.array([LAT]))
    assert [c for c, _ in cameras_covering(*offset(40, 0), t)] == ["K1"]
    assert cameras_covering(LON, LAT, table([("x", LON, LAT, 0, 0, 0)])) == []  # zero range sees nothing


def test_nearest_units_by_eta_and_free_only():
    positions = {
        "foot-1": (*offset(400, 0), "foot", 0.0, False),   # 400 m at 5 km/h: 288 s
        "car-1": (*offset(1500, 0), "car", 0.0, False),    # 1.5 km at 30 km/h: 180 s
        "car-2": (*offset(100, 0), "car", 0.0, True),      # nearest, but busy
        "ebike-1": (*offset(0, 800), "ebike", 0.0, False),  # 800 m at 18 km/h: 160 s
    }
    got = nearest_units(LON, LAT, positions, k=3)
    assert [u.unit for u in got] == ["ebike-1", "car-1", "foot-1"]
    assert got[0].eta_s == pytest.approx(800 / (SPEED_KMH["ebike"] / 3.6), rel=0.01)
    assert got[0].distance_m == pytest.approx(800, rel=0.01)
    assert nearest_units(LON, LAT, positions, free_only=False, k=1)[0].unit == "car-2"
    assert [u.unit for u in nearest_units(LON, LAT, positions, kinds=["foot"])] == ["foot-1"]
    assert nearest_units(LON, LAT, {}, k=3) == []
