"""Dispatch: free units ranked by travel time to an alarm, and the book of who is sent where.

**Ranking.** Land units for an alarm on land, boats for one at sea (land is the district and
its neighbours, as in the alarm linkage). A land unit's time is along the patrol route
network when both it and the alarm are within :data:`MAX_ACCESS_M` of one connected part
of it: a straight access leg from the unit to the network, the network path, a straight leg
from the network to the alarm, all at the kind's speed. Otherwise — no network there, a
boat at sea — it is the straight line at the kind's speed. One Dijkstra from the alarm's
point on the network gives the network distance of every node, so ranking 200 units costs
one search plus a vectorised snap, not 200 searches. Every option says how it was
estimated (:class:`UnitOption`: method, distances, speed, the path to draw).

**Book.** A dispatch marks the unit busy until it is released (the alarm resolved); the
first fix within :data:`ARRIVAL_M` of the alarm point is its arrival. Both are journaled, so
response times (dispatch → arrival) can be computed later.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry import Point

from desktop.core.geo.crs import WGS84, haversine_m, transform

from .geometry import LocalFrame
from .journal import DispatchRecord, PositionJournal
from .network import RouteNetwork
from .units import LAND_KINDS, WATER_KINDS, profile

__all__ = ["UnitOption", "Ranking", "Land", "rank_units", "DispatchBook", "MAX_ACCESS_M", "ARRIVAL_M"]

MAX_ACCESS_M = 500.0  # farther than this from the network, travel is estimated in a straight line
ARRIVAL_M = 50.0  # a dispatched unit this close to the alarm point has arrived


@dataclass(frozen=True, eq=False)
class UnitOption:
    """One unit offered for an alarm, and how its time was estimated.

    ``eta_s`` = ``path_m`` / ``speed_kmh``. ``distance_m``: straight line to the alarm;
    ``path_m``: the distance travelled (access leg + network path + last leg for
    ``method == "route"``, the straight line for ``"straight"``); ``access_m``/``egress_m``
    the two straight legs of a route. ``path``: (N, 2) WGS84 lon/lat from the unit to the
    alarm, for drawing. ``epoch``: time of the fix it was ranked from.
    """

    unit: str
    kind: str
    eta_s: float
    distance_m: float
    path_m: float
    speed_kmh: float
    method: str
    path: np.ndarray
    lon: float
    lat: float
    epoch: float
    access_m: float = 0.0
    egress_m: float = 0.0


@dataclass(frozen=True, eq=False)
class Ranking:
    """The ranked options for an alarm at (``lon``, ``lat``) WGS84, fastest first.

    ``at_sea``: boats were ranked, else land units. ``network_m``: distance from the alarm to
    the route network (inf without one). ``considered``: units that were eligible.
    ``ms``: how long the ranking took.
    """

    lon: float
    lat: float
    at_sea: bool
    options: tuple[UnitOption, ...]
    network_m: float
    considered: int
    ms: float


class Land:
    """Where land is: the district and its neighbours (the dataset's context), in its CRS."""

    def __init__(self, district):
        self.crs = district.info.crs if district is not None else WGS84
        geoms = []
        if district is not None:
            geoms.append(district.boundary.geom)
            geoms += [f.geom for f in district.context if f.geom.geom_type in ("Polygon", "MultiPolygon")]
        self.geom = shapely.union_all(geoms) if geoms else None
        if self.geom is not None:
            shapely.prepare(self.geom)

    def contains(self, lon_wgs: float, lat_wgs: float) -> bool:
        """True on land (and everywhere when no land is known: no sea then)."""
        if self.geom is None:
            return True
        x, y = transform(lon_wgs, lat_wgs, WGS84, self.crs)
        return bool(self.geom.contains(Point(float(x), float(y))))


def rank_units(lon: float, lat: float, candidates: list[tuple], network: RouteNetwork | None,
               frame: LocalFrame, at_sea: bool, k: int = 5, max_access_m: float = MAX_ACCESS_M) -> Ranking:
    """Rank ``candidates`` ``(unit, kind, lon, lat, epoch)`` (WGS84) for an alarm at (lon, lat).

    Kinds are filtered here: boats at sea, land units on land. ``k`` ≤ 0: all of them.
    """
    t_start = time.perf_counter()
    kinds = WATER_KINDS if at_sea else LAND_KINDS
    cands = [c for c in candidates if c[1] in kinds]
    n = len(cands)
    if not n:
        return Ranking(lon, lat, at_sea, (), math.inf, 0, (time.perf_counter() - t_start) * 1000)
    u_lon = np.array([c[2] for c in cands], float)
    u_lat = np.array([c[3] for c in cands], float)
    speed = np.array([profile(c[1]).speed_kmh for c in cands], float)
    straight = np.asarray(haversine_m(u_lon, u_lat, lon, lat), float).reshape(-1)
    path_m = straight.copy()
    method = np.array(["straight"] * n, dtype=object)
    access = np.zeros(n)
    egress = np.zeros(n)
    ux, uy = frame.fwd(u_lon, u_lat)
    ax, ay = frame.fwd(lon, lat)
    ax, ay = float(ax), float(ay)
    net_m = math.inf
    route_info = None
    if network is not None and len(network) and not at_sea:
        a_dist, a_edge, a_frac = network.snap([ax], [ay])
        net_m = float(a_dist[0])
        if net_m <= max_access_m:
            e = int(a_edge[0])
            f = float(a_frac[0])
            dist, pred, src = network.search_from(e, f)
            d, ue, uf = network.snap(ux, uy)
            L = network.edge_len[ue]
            nu, nv = network.edge_u[ue], network.edge_v[ue]
            big = math.inf
            du = np.array([dist.get(int(x), big) for x in nu]) + uf * L
            dv = np.array([dist.get(int(x), big) for x in nv]) + (1.0 - uf) * L
            # The unit and the alarm on one edge: straight along it, no detour via a node.
            same = ue == e
            direct = np.where(same, np.abs(uf - f) * L, big)
            net_path = np.minimum(np.minimum(du, dv), direct)
            ok = (d <= max_access_m) & np.isfinite(net_path)
            path_m = np.where(ok, d + net_path + net_m, straight)
            method = np.where(ok, "route", "straight").astype(object)
            access = np.where(ok, d, 0.0)
            egress = np.where(ok, net_m, 0.0)
            route_info = (dist, pred, src, d, ue, uf, du, dv, direct, e, f)
    eta = path_m / (speed / 3.6)
    order = np.lexsort((straight, eta))
    if k > 0:
        order = order[:k]
    options = []
    for i in order.tolist():
        unit, kind, lo, la, epoch = cands[i][:5]
        if method[i] == "route" and route_info is not None:
            dist, pred, src, d, ue, uf, du, dv, direct, e, f = route_info
            pts = [(float(ux[i]), float(uy[i])), network.point_on_edge(int(ue[i]), float(uf[i]))]
            if direct[i] > min(du[i], dv[i]):  # else: along the shared edge to the alarm's foot
                via = int(network.edge_u[ue[i]]) if du[i] <= dv[i] else int(network.edge_v[ue[i]])
                pts += network.path_xy(pred, via, src)
            pts += [network.point_on_edge(e, f), (ax, ay)]
            xy = np.array(pts, float)
            plon, plat = frame.inv(xy[:, 0], xy[:, 1])
            path = np.column_stack([plon, plat])
            path[0] = (lo, la)  # exact ends, not round-tripped through the local frame
            path[-1] = (lon, lat)
        else:
            path = np.array([[lo, la], [lon, lat]], float)
        options.append(UnitOption(unit=unit, kind=kind, eta_s=float(eta[i]), distance_m=float(straight[i]),
                                  path_m=float(path_m[i]), speed_kmh=float(speed[i]), method=str(method[i]),
                                  path=path, lon=float(lo), lat=float(la), epoch=float(epoch),
                                  access_m=float(access[i]), egress_m=float(egress[i])))
    return Ranking(lon, lat, at_sea, tuple(options), net_m, n, (time.perf_counter() - t_start) * 1000)


class DispatchBook:
    """Who is dispatched where: open dispatches by unit, arrivals detected from fixes.

    Backed by the journal: the open dispatches are read back at start (a unit stays busy
    across a restart), and every dispatch, arrival and release is committed at once. Not
    thread-safe: the patrol service calls it under its lock.
    """

    def __init__(self, journal: PositionJournal, arrival_m: float = ARRIVAL_M):
        self.journal = journal
        self.arrival_m = arrival_m
        self.open: dict[str, DispatchRecord] = {d.unit: d for d in journal.dispatches(open_only=True)}

    def busy(self, unit: str) -> bool:
        return unit in self.open

    def alarm_of(self, unit: str) -> str:
        d = self.open.get(unit)
        return d.alarm_id if d else ""

    def dispatch(self, unit: str, kind: str, alarm_id: str, lon: float, lat: float, when: float,
                 from_lon: float = math.nan, from_lat: float = math.nan, eta_s: float = math.nan) -> DispatchRecord:
        """Send ``unit`` to ``alarm_id`` at (lon, lat) WGS84; a unit already sent elsewhere is
        released from that dispatch first (it has been re-tasked)."""
        old = self.open.pop(unit, None)
        if old is not None:
            self.journal.set_released(old.id, when)
        rec = self.journal.add_dispatch(unit, kind, alarm_id, lon, lat, when, from_lon, from_lat, eta_s)
        self.open[unit] = rec
        return rec

    def release(self, unit: str, when: float) -> DispatchRecord | None:
        """Free ``unit``; returns its closed dispatch (None if it was not dispatched)."""
        rec = self.open.pop(unit, None)
        if rec is None:
            return None
        self.journal.set_released(rec.id, when)
        return replace(rec, released=when)

    def release_alarm(self, alarm_id: str, when: float) -> list[DispatchRecord]:
        """Free every unit sent to ``alarm_id`` (the alarm was resolved or closed)."""
        return [r for r in (self.release(u, when) for u, d in list(self.open.items()) if d.alarm_id == alarm_id)
                if r is not None]

    def observe(self, unit: str, t: float, lon: float, lat: float) -> DispatchRecord | None:
        """A fix of ``unit``: its dispatch if this fix is its arrival (journaled), else None."""
        rec = self.open.get(unit)
        if rec is None or rec.arrived is not None or t < rec.dispatched:
            return None
        if float(haversine_m(lon, lat, rec.lon, rec.lat)) > self.arrival_m:
            return None
        self.journal.set_arrived(rec.id, t)
        rec = replace(rec, arrived=t)
        self.open[unit] = rec
        return rec
