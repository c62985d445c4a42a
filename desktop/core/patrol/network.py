"""The patrol route network: routes of a dataset as a graph to travel on (networkx).

Nodes are the routes' vertices (vertices at the same spot are one node, so routes laid on
the same streets share their crossings); edges join consecutive vertices, weighted by
length in metres. A route's end within :data:`JOIN_M` of another route's vertex is joined
to it, because digitised routes often stop a few metres short of the street they meet.
Travel time is length / the unit kind's speed (one speed per kind, so the shortest path is
the fastest for every kind and one search serves all of them).

A point off the network reaches it by a straight **access leg** to the nearest point of the
nearest edge (:meth:`RouteNetwork.snap`, vectorised over many points).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from desktop.core.geo.crs import to_wgs84

from .geometry import LocalFrame, polyline_chainage, project_to_segments

__all__ = ["Route", "RouteNetwork", "routes_from_district", "JOIN_M"]

JOIN_M = 30.0
_NODE_Q = 0.05  # metres: vertices closer than this are one node (the same street crossing)
_SNAP_BLOCK = 256  # points per block when snapping, to bound the (points × edges) matrices


@dataclass(frozen=True, eq=False)
class Route:
    """A patrol route (segment): id, name, ``level`` (1 car, 2 e-bike), WGS84 and local vertices."""

    id: str
    name: str
    level: int
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @property
    def length_m(self) -> float:
        return float(polyline_chainage(self.x, self.y)[-1]) if len(self.x) > 1 else 0.0


def routes_from_district(district, frame: LocalFrame) -> list[Route]:
    """The district's patrol routes (LineStrings; the longest part of a MultiLineString) as :class:`Route`."""
    out = []
    crs = district.info.crs
    for f in district.patrol_routes:
        g = f.geom
        if g.geom_type == "MultiLineString":
            g = max(g.geoms, key=lambda p: p.length)
        xy = np.asarray(g.coords, float)[:, :2]
        if len(xy) < 2:
            continue
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], crs)
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        x, y = frame.fwd(lon, lat)
        try:
            level = int(f.props.get("level", 2))
        except (TypeError, ValueError):
            level = 2
        out.append(Route(f.id, f.name, level, lon, lat, np.asarray(x), np.asarray(y)))
    return out


class RouteNetwork:
    """The graph of the patrol routes, with vectorised snapping of points onto its edges."""

    def __init__(self, routes: list[Route], frame: LocalFrame, join_m: float = JOIN_M):
        self.frame = frame
        self.routes = routes
        self.graph = nx.Graph()
        keys: dict[tuple[int, int], int] = {}
        xs: list[float] = []
        ys: list[float] = []
        route_nodes: list[list[int]] = []

        def node(x: float, y: float) -> int:
            k = (int(round(x / _NODE_Q)), int(round(y / _NODE_Q)))
            n = keys.get(k)
            if n is None:
                n = keys[k] = len(xs)
                xs.append(x)
                ys.append(y)
                self.graph.add_node(n)
            return n

        edge_route: dict[tuple[int, int], list[int]] = {}  # an edge on shared streets has several
        for ri, r in enumerate(routes):
            ids = [node(float(x), float(y)) for x, y in zip(r.x, r.y)]
            route_nodes.append(ids)
            for a, b in zip(ids, ids[1:]):
                if a == b:
                    continue
                w = math.hypot(xs[a] - xs[b], ys[a] - ys[b])
                self.graph.add_edge(a, b, weight=w)
                routes_here = edge_route.setdefault((min(a, b), max(a, b)), [])
                if ri not in routes_here:
                    routes_here.append(ri)
        self.node_x = np.array(xs, float)
        self.node_y = np.array(ys, float)
        # Join loose route ends to the nearest vertex of another route within join_m.
        self.joins = 0
        if len(xs) > 1:
            for ri, ids in enumerate(route_nodes):
                own = set(ids)
                for end in {ids[0], ids[-1]}:
                    d = np.hypot(self.node_x - xs[end], self.node_y - ys[end])
                    d[list(own)] = np.inf
                    j = int(np.argmin(d))
                    if d[j] <= join_m and not self.graph.has_edge(end, j):
                        self.graph.add_edge(end, j, weight=float(d[j]))
                        edge_route.setdefault((min(end, j), max(end, j)), [ri])
                        self.joins += 1
        edges = list(self.graph.edges(data="weight"))
        self.edge_u = np.array([e[0] for e in edges], np.int64)
        self.edge_v = np.array([e[1] for e in edges], np.int64)
        self.edge_len = np.array([e[2] for e in edges], float)
        # edge_routes[k]: the routes edge k belongs to; edge_route[k]: the first of them
        self.edge_routes = [tuple(edge_route.get((min(e[0], e[1]), max(e[0], e[1])), ())) for e in edges]
        self.edge_route = np.array([rs[0] if rs else -1 for rs in self.edge_routes], np.int64)
        self._ax, self._ay = self.node_x[self.edge_u], self.node_y[self.edge_u]
        self._bx, self._by = self.node_x[self.edge_v], self.node_y[self.edge_v]

    def __len__(self) -> int:
        return len(self.edge_u)

    @property
    def components(self) -> int:
        return nx.number_connected_components(self.graph) if len(self.graph) else 0

    def snap(self, x, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest edge of each point: ``(distance_m, edge_index, frac)`` arrays (frac 0 at the
        edge's ``u`` end, 1 at ``v``). Empty network: distance inf, edge -1."""
        x = np.asarray(x, float).reshape(-1)
        y = np.asarray(y, float).reshape(-1)
        n = len(x)
        dist = np.full(n, np.inf)
        edge = np.full(n, -1, np.int64)
        frac = np.zeros(n)
        if not len(self.edge_u) or not n:
            return dist, edge, frac
        for s in range(0, n, _SNAP_BLOCK):
            px, py = x[s:s + _SNAP_BLOCK], y[s:s + _SNAP_BLOCK]
            d, f = project_to_segments(px, py, self._ax, self._ay, self._bx, self._by)
            j = np.argmin(d, axis=1)
            rows = np.arange(len(px))
            dist[s:s + len(px)] = d[rows, j]
            edge[s:s + len(px)] = j
            frac[s:s + len(px)] = f[rows, j]
        return dist, edge, frac

    def point_on_edge(self, edge: int, frac: float) -> tuple[float, float]:
        return (float(self._ax[edge] + frac * (self._bx[edge] - self._ax[edge])),
                float(self._ay[edge] + frac * (self._by[edge] - self._ay[edge])))

    def search_from(self, edge: int, frac: float):
        """One Dijkstra from a point on ``edge``: ``(dist, pred, source)`` where ``dist[node]``
        is metres along the network and ``pred`` gives the path back to ``source`` (a
        temporary node, removed again before this returns)."""
        g = self.graph
        src = -1
        u, v, length = int(self.edge_u[edge]), int(self.edge_v[edge]), float(self.edge_len[edge])
        g.add_edge(src, u, weight=frac * length)
        g.add_edge(src, v, weight=(1.0 - frac) * length)
        try:
            pred, dist = nx.dijkstra_predecessor_and_distance(g, src, weight="weight")
        finally:
            g.remove_node(src)
        return dist, pred, src

    def path_xy(self, pred: dict, node: int, src: int) -> list[tuple[float, float]]:
        """Vertices (local metres) from ``node`` back to the search's source, source excluded."""
        out = []
        n = node
        guard = 0
        while n != src and guard <= len(self.node_x) + 1:
            out.append((float(self.node_x[n]), float(self.node_y[n])))
            ps = pred.get(n)
            if not ps:
                break
            n = ps[0]
            guard += 1
        return out
