"""Segment coverage: the parts of each route driven in the last N minutes, by the right kinds."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from desktop.core.district.loader import load_district
from desktop.core.feeds.schema import PatrolPosition
from desktop.core.patrol.geometry import LocalFrame
from desktop.core.patrol.service import PatrolService

ROOT = Path(__file__).resolve().parents[2]
T0 = 1717203600.0
F = LocalFrame(120.0, 36.0)


def ll(x, y):
    lon, lat = F.inv(x, y)
    return [round(float(lon), 8), round(float(lat), 8)]


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cov") / "ds"
    folder.mkdir()
    (folder / "district.toml").write_text('name = "Lines"\nadcode = "999997"\ncrs = "WGS84"\n')
    land = [ll(-500, -500), ll(1500, -500), ll(1500, 1500), ll(-500, 1500), ll(-500, -500)]
    fc = (lambda feats: json.dumps({"type": "FeatureCollection", "features": feats}))
    (folder / "district.geojson").write_text(fc([{"type": "Feature", "properties": {},
                                                  "geometry": {"type": "Polygon", "coordinates": [land]}}]))
    routes = [("L1", 1, [ll(0, 0), ll(1000, 0)]), ("L2", 2, [ll(0, 500), ll(1000, 500)])]
    (folder / "patrol.geojson").write_text(fc([{"type": "Feature", "properties": {"id": i, "kind": "route", "level": lv},
                                                "geometry": {"type": "LineString", "coordinates": c}}
                                               for i, lv, c in routes]))
    return load_district(folder, strict=True)


def drive(unit, kind, t0, x0, x1, y, every=10.0, speed_ms=8.0):
    out = []
    n = int(abs(x1 - x0) / (speed_ms * every)) + 1
    for k in range(n):
        x = x0 + np.sign(x1 - x0) * k * speed_ms * every
        lon, lat = ll(x, y)
        out.append(PatrolPosition(unit=unit, kind=kind, time="", epoch=t0 + k * every, lon=lon, lat=lat, crs="WGS84",
                                  speed_kmh=speed_ms * 3.6, heading_deg=90.0, lon_wgs=lon, lat_wgs=lat))
    return out


def by_route(cov):
    return {c.route: c for c in cov}


def test_driven_parts_by_the_right_kinds_in_the_last_minutes(district, tmp_path):
    with PatrolService(tmp_path / "j.sqlite", district, clock=lambda: T0, autoflush_s=0) as svc:
        assert all(c.fraction == 0 and c.last_driven is None for c in svc.coverage(30, now=T0))
        old = drive("car-01", "car", T0 - 1200, 600, 1000, 5)  # 20 min ago: x 600 → 1000
        recent = drive("car-02", "car", T0 - 100, 0, 480, 5)   # just now: x 0 → 480 (fixes 80 m apart)
        bike_on_car_route = drive("ebike-01", "ebike", T0 - 100, 0, 1000, -3)
        svc.ingest(old + recent + bike_on_car_route)
        now = T0
        c10 = by_route(svc.coverage(10, now=now))
        l1 = c10["L1"]
        assert l1.length_m == pytest.approx(1000, abs=1) and l1.level == 1
        # 0 → 480 m driven, plus the 30 m buffer beyond the last fix (5 m off the line: 29.6 m)
        assert len(l1.intervals_m) == 1
        a, b = l1.intervals_m[0]
        assert a == 0 and b == pytest.approx(509.6, abs=5)
        assert l1.fraction == pytest.approx(0.51, abs=0.01) and l1.intervals[0][1] == pytest.approx(b / l1.length_m)
        assert l1.last_driven == recent[-1].epoch
        assert l1.parts[0].shape[1] == 2 and l1.parts[0][0].tolist() == pytest.approx(ll(0, 0), abs=1e-7)
        # the e-bike drove along L1 but counts only for level-2 routes; L2 is 500 m away
        assert c10["L2"].fraction == 0 and c10["L2"].last_driven is None
        c30 = by_route(svc.coverage(30, now=now))["L1"]
        assert [(round(a), round(b)) for a, b in c30.intervals_m] == [(0, pytest.approx(510, abs=5)),
                                                                     (pytest.approx(570, abs=5), 1000)]
        assert by_route(svc.coverage(1, now=now + 600))["L1"].fraction == 0


def test_gaps_and_jumps_draw_no_leg(district, tmp_path):
    with PatrolService(tmp_path / "j.sqlite", district, clock=lambda: T0, autoflush_s=0) as svc:
        a, b = ll(0, 495), ll(1000, 495)
        mk = (lambda t, p: PatrolPosition(unit="ebike-01", kind="ebike", time="", epoch=t, lon=p[0], lat=p[1], crs="WGS84",
                                          speed_kmh=15, heading_deg=90, lon_wgs=p[0], lat_wgs=p[1]))
        svc.ingest([mk(T0, a), mk(T0 + 120, b)])           # 1 km after 2 min without a fix: no leg
        svc.ingest([mk(T0 + 130, a), mk(T0 + 140, b)])     # 1 km in 10 s: a position jump, no leg
        l2 = by_route(svc.coverage(10, now=T0 + 150))["L2"]
        # only the buffers around the two ends are covered
        assert l2.fraction == pytest.approx(0.06, abs=0.015) and len(l2.intervals_m) == 2


def test_coverage_of_the_bundled_routes_is_cheap(tmp_path):
    d = load_district(ROOT / "maps" / "shinan")
    with PatrolService(tmp_path / "j.sqlite", d, clock=lambda: T0, autoflush_s=0) as svc:
        # 12 units driving their routes at 1 Hz for 10 minutes
        batch = []
        for i, r in enumerate(svc.routes[:12]):
            kind = "car" if r.level == 1 else "ebike"
            s = np.linspace(0, 1, 600)
            cum = np.concatenate([[0], np.cumsum(np.hypot(np.diff(r.x), np.diff(r.y)))])
            lon = np.interp(s * cum[-1] * 0.5, cum, r.lon)
            lat = np.interp(s * cum[-1] * 0.5, cum, r.lat)
            for k in range(600):
                batch.append(PatrolPosition(unit=f"u{i}", kind=kind, time="", epoch=T0 + k, lon=float(lon[k]),
                                            lat=float(lat[k]), crs="WGS84", speed_kmh=20, heading_deg=0,
                                            lon_wgs=float(lon[k]), lat_wgs=float(lat[k])))
        t = time.perf_counter()
        for k in range(0, len(batch), 12 * 10):
            svc.ingest(batch[k:k + 12 * 10])
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        cov = svc.coverage(30, now=T0 + 600)
        took = time.perf_counter() - t
        assert len(cov) == 29 and took < 0.1 and ingest_s < 5
        driven = [c for c in cov if c.fraction > 0]
        assert len(driven) >= 12 and all(0.3 < c.fraction <= 1.0 for c in driven[:12])
