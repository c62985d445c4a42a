"""Dispatch: ranking along the route network (or in a straight line), boats at sea, busy units,
arrival detection and the journal of response times."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from desktop.core.district.loader import load_district
from desktop.core.feeds.schema import PatrolPosition
from desktop.core.geo.crs import haversine_m
from desktop.core.patrol.geometry import LocalFrame
from desktop.core.patrol.network import RouteNetwork
from desktop.core.patrol.service import PatrolService

ROOT = Path(__file__).resolve().parents[2]
T0 = 1717203600.0
F = LocalFrame(120.0, 36.0)  # the test district is drawn in metres around this point


def ll(x, y):
    lon, lat = F.inv(x, y)
    return [round(float(lon), 8), round(float(lat), 8)]


def _fc(features):
    return json.dumps({"type": "FeatureCollection", "features": features})


def make_dataset(folder: Path) -> Path:
    """Land from (-500, -500) to (1500, 1500) m; the sea beyond. One U-shaped car route:
    up the left arm x=0, across y=1000, down the right arm x=300."""
    folder.mkdir(parents=True)
    (folder / "district.toml").write_text('name = "U-town"\nadcode = "999998"\ncrs = "WGS84"\n')
    land = [ll(-500, -500), ll(1500, -500), ll(1500, 1500), ll(-500, 1500), ll(-500, -500)]
    (folder / "district.geojson").write_text(_fc([{"type": "Feature", "properties": {"name": "U-town"},
                                                   "geometry": {"type": "Polygon", "coordinates": [land]}}]))
    u = [ll(0, 0), ll(0, 500), ll(0, 1000), ll(300, 1000), ll(300, 500), ll(300, 0)]
    (folder / "patrol.geojson").write_text(_fc([{"type": "Feature",
                                                 "properties": {"id": "L1", "kind": "route", "level": 1, "name": "U"},
                                                 "geometry": {"type": "LineString", "coordinates": u}}]))
    return folder


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return load_district(make_dataset(tmp_path_factory.mktemp("disp") / "u"), strict=True)


def pos(unit, kind, t, x, y):
    lon, lat = ll(x, y)
    return PatrolPosition(unit=unit, kind=kind, time="", epoch=float(t), lon=lon, lat=lat, crs="WGS84",
                          speed_kmh=20.0, heading_deg=0.0, lon_wgs=lon, lat_wgs=lat)


ALARM = ll(-20, 0)  # 20 m west of the foot of the left arm


def test_nearer_in_a_straight_line_but_farther_by_route_ranks_second(district, tmp_path):
    with PatrolService(tmp_path / "j.sqlite", district, clock=lambda: T0, autoflush_s=0) as svc:
        svc.ingest([pos("car-near", "car", T0, 300, 0),   # 320 m away, but the route goes round the U
                    pos("car-far", "car", T0, 0, 700)])   # 700 m away, straight down the arm
        r = svc.rank(*ALARM, k=5)
        assert not r.at_sea and r.network_m == pytest.approx(20, abs=0.5) and r.considered == 2
        first, second = r.options
        assert (first.unit, second.unit) == ("car-far", "car-near")
        assert first.distance_m < second.distance_m * 3 and second.distance_m < first.distance_m
        assert second.distance_m == pytest.approx(320.6, abs=1)
        assert first.method == second.method == "route"
        assert first.path_m == pytest.approx(720, abs=1) and second.path_m == pytest.approx(2320, abs=2)
        assert first.speed_kmh == 30.0 and first.eta_s == pytest.approx(first.path_m / (30 / 3.6))
        # The path to draw runs from the unit along the network to the alarm, as long as path_m.
        for opt in (first, second):
            p = opt.path
            assert p.shape[1] == 2 and tuple(p[0]) == (opt.lon, opt.lat) and tuple(p[-1]) == tuple(ALARM)
            length = float(np.sum(haversine_m(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1])))
            assert length == pytest.approx(opt.path_m, rel=0.01)
        top_y = max(F.fwd(*pt)[1] for pt in second.path)
        assert top_y == pytest.approx(1000, abs=1)  # round the top of the U


def test_straight_line_where_there_is_no_network_and_boats_only_at_sea(district, tmp_path):
    with PatrolService(tmp_path / "j.sqlite", district, clock=lambda: T0, autoflush_s=0) as svc:
        svc.ingest([pos("car-far", "car", T0, 0, 700), pos("foot-off", "foot", T0, 1400, 700),
                    pos("boat-01", "boat", T0, 2500, 0)])
        land = {o.unit: o for o in svc.rank(*ll(1300, 700), k=0).options}
        assert set(land) == {"car-far", "foot-off"}  # no boat for an alarm on land
        assert land["foot-off"].method == "straight" and land["foot-off"].path.shape == (2, 2)
        assert land["foot-off"].path_m == pytest.approx(100, abs=1)
        assert land["car-far"].method == "straight"  # the alarm is 1 km from the network
        near_net = {o.unit: o for o in svc.rank(*ll(100, 500), k=0).options}
        assert near_net["car-far"].method == "route" and near_net["foot-off"].method == "straight"
        assert svc.at_sea(*ll(3000, 500)) and not svc.at_sea(*ll(0, 0))
        sea = svc.rank(*ll(3000, 500), k=5)
        assert sea.at_sea and [o.unit for o in sea.options] == ["boat-01"]
        assert sea.options[0].method == "straight" and sea.options[0].speed_kmh == 25.0
        # told it is on land, the same point gets land units: 3 km by car beats 1.6 km on foot
        assert [o.unit for o in svc.rank(*ll(3000, 500), at_sea=False).options] == ["car-far", "foot-off"]


def test_dispatch_marks_busy_detects_arrival_and_journals_response_times(district, tmp_path):
    clock = {"now": T0}
    path = tmp_path / "j.sqlite"
    with PatrolService(path, district, clock=lambda: clock["now"], autoflush_s=0) as svc:
        svc.ingest([pos("car-far", "car", T0, 0, 700), pos("car-near", "car", T0, 300, 0)])
        rec = svc.dispatch("car-far", "A-1", *ALARM, now=T0 + 5)
        assert rec.dispatched == T0 + 5 and rec.arrived is None and rec.eta_s == pytest.approx(720 / (30 / 3.6), rel=0.01)
        assert (rec.from_lon, rec.from_lat) == tuple(ll(0, 700))
        assert svc.busy() == {"car-far": "A-1"}
        st = {s.unit: s for s in svc.positions()}
        assert st["car-far"].busy and st["car-far"].alarm_id == "A-1" and not st["car-near"].busy
        assert st["car-far"].segment == "L1"
        assert [o.unit for o in svc.rank(*ALARM).options] == ["car-near"]  # a busy unit is not offered
        svc.ingest(pos("car-far", "car", T0 + 60, 0, 100))  # 102 m: not there yet
        assert svc.arrivals(T0, T0 + 1000) == ()
        svc.ingest(pos("car-far", "car", T0 + 70, 0, 40))   # 44.7 m: arrived
        svc.ingest(pos("car-far", "car", T0 + 80, -20, 0))  # later fixes do not move the arrival
        (arr,) = svc.arrivals(T0, T0 + 1000)
        assert arr.unit == "car-far" and arr.arrived == T0 + 70 and arr.response_s == 65
    # A restart: still busy, the arrival kept.
    with PatrolService(path, district, clock=lambda: T0 + 200, autoflush_s=0) as svc:
        assert svc.busy() == {"car-far": "A-1"}
        released = svc.release("car-far", now=T0 + 300)
        assert released.released == T0 + 300 and released.arrived == T0 + 70
        assert svc.release("car-far") is None and svc.busy() == {}
        (d,) = svc.dispatches(T0, T0 + 1000)
        assert (d.dispatched, d.arrived, d.released) == (T0 + 5, T0 + 70, T0 + 300)
        # both units free again; car-far's latest fix was restored from the journal
        assert {o.unit for o in svc.rank(*ALARM).options} == {"car-far", "car-near"}


def test_release_by_alarm_re_tasking_and_offline_units(district, tmp_path):
    clock = {"now": T0}
    with PatrolService(tmp_path / "j.sqlite", district, clock=lambda: clock["now"], autoflush_s=0) as svc:
        svc.ingest([pos("car-a", "car", T0, 0, 700), pos("car-b", "car", T0, 300, 0),
                    pos("foot-c", "foot", T0 - 400, 0, 10)])  # last heard 400 s ago: offline
        assert "foot-c" not in {o.unit for o in svc.rank(*ALARM, k=0).options}
        svc.dispatch("car-a", "A-1", *ALARM)
        svc.dispatch("car-b", "A-1", *ALARM)
        svc.dispatch("car-a", "A-2", *ll(100, 100))  # re-tasked: the first dispatch is closed
        assert svc.busy() == {"car-a": "A-2", "car-b": "A-1"}
        assert [d.unit for d in svc.release_alarm("A-1")] == ["car-b"]
        assert svc.busy() == {"car-a": "A-2"}
        ds = svc.dispatches(T0 - 1, T0 + 1)
        assert [(d.unit, d.alarm_id, d.released is not None) for d in ds] == [
            ("car-a", "A-1", True), ("car-b", "A-1", True), ("car-a", "A-2", False)]
        # a unit without a known position can be dispatched by call sign
        rec = svc.dispatch("ebike-99", "A-3", *ALARM, kind="ebike")
        assert rec.kind == "ebike" and math.isnan(rec.eta_s) and svc.busy()["ebike-99"] == "A-3"
        # a unit already at the alarm point when sent has arrived
        svc.ingest(pos("foot-d", "foot", T0, -10, 0))
        assert svc.dispatch("foot-d", "A-4", *ALARM).arrived == T0


def test_ranking_200_units_on_the_bundled_network_is_fast(tmp_path):
    d = load_district(ROOT / "maps" / "shinan")
    with PatrolService(tmp_path / "j.sqlite", d, clock=lambda: T0, autoflush_s=0) as svc:
        net = svc.network
        assert net is not None and len(net) > 300
        rng = np.random.default_rng(3)
        # units on the routes (a few metres off), kinds mixed
        pts = []
        for i in range(200):
            r = svc.routes[i % len(svc.routes)]
            k = int(rng.integers(0, len(r.x)))
            pts.append((r.x[k] + rng.normal(0, 10), r.y[k] + rng.normal(0, 10)))
        kinds = ["car", "ebike", "foot"]
        batch = []
        for i, (x, y) in enumerate(pts):
            lon, lat = svc.frame.inv(x, y)
            batch.append(PatrolPosition(unit=f"u{i:03d}", kind=kinds[i % 3], time="", epoch=T0, lon=float(lon),
                                        lat=float(lat), crs="WGS84", speed_kmh=10.0, heading_deg=0.0,
                                        lon_wgs=float(lon), lat_wgs=float(lat)))
        svc.ingest(batch)
        times = []
        for i in range(15):
            r = svc.routes[(i * 7) % len(svc.routes)]
            lon, lat = float(r.lon[len(r.lon) // 2]), float(r.lat[len(r.lat) // 2])
            t = time.perf_counter()
            ranking = svc.rank(lon, lat, k=5)
            times.append(time.perf_counter() - t)
            assert ranking.considered == 200 and len(ranking.options) == 5
            assert "route" in {o.method for o in ranking.options}
            etas = [o.eta_s for o in ranking.options]
            assert etas == sorted(etas)
        assert float(np.percentile(times, 95)) < 0.3


def test_network_joins_loose_ends_and_merges_shared_vertices():
    from desktop.core.patrol.network import Route

    def route(rid, xy):
        xy = np.array(xy, float)
        lon, lat = F.inv(xy[:, 0], xy[:, 1])
        return Route(rid, rid, 2, np.asarray(lon), np.asarray(lat), xy[:, 0], xy[:, 1])

    a = route("a", [(0, 0), (100, 0), (200, 0)])
    b = route("b", [(100, 0), (100, 100)])       # shares a's middle vertex
    c = route("c", [(220, 10), (400, 10)])       # ends 22 m from a's end: joined
    d = route("d", [(1000, 0), (1100, 0)])       # far away: its own component
    net = RouteNetwork([a, b, c, d], F)
    assert net.joins == 1 and net.components == 2
    assert len(net.graph) == 4 + 2 + 2 - 0  # (0,0),(100,0),(200,0),(100,100) + c's two + d's two
    dist, edge, frac = net.snap([150, 1050, 5000], [5, -3, 0])
    assert dist[:2].tolist() == pytest.approx([5, 3]) and net.edge_route[edge[1]] == 3
