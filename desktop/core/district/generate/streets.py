"""The invented street pattern: a jittered grid of named roads aligned with the district's
long axis (:class:`_Streets`), its intersections and segments as a routable graph, and
shortest paths over it for the patrol loops."""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString

from desktop.core.district.generate.geometry import _azimuth
from desktop.core.district.generate.names import _ROAD_BASES, _unique_names


@dataclass
class _Road:
    """One straight road of the grid: its name, which axis it runs along and its offset."""

    name: str
    axis: int  # 0: runs along the long axis (constant v), 1: across it (constant u)
    offset: float
    main: bool = False


class _Streets:
    """A jittered street grid aligned with the district's long axis, and its routable graph."""

    def __init__(self, land, inner, rng: np.random.Generator):
        self.land, self.inner = land, inner
        rect = shapely.oriented_envelope(land)
        rc = np.asarray(rect.exterior.coords)
        edges = np.diff(rc[:3], axis=0)
        e = edges[int(np.argmax(np.hypot(edges[:, 0], edges[:, 1])))]
        th = math.atan2(e[1], e[0])
        if th <= -math.pi / 2:
            th += math.pi
        elif th > math.pi / 2:
            th -= math.pi
        self.theta = th
        c = land.centroid
        self.cx, self.cy = c.x, c.y
        coords = shapely.get_coordinates(land)
        u, v = self.to_uv(coords[:, 0], coords[:, 1])
        self.umin, self.umax, self.vmin, self.vmax = u.min(), u.max(), v.min(), v.max()
        # Block size ~200 m in a 35 km² district, larger in big ones so the graph stays small.
        self.spacing = max(150.0, math.sqrt(land.area) / 30.0)
        self.roads: list[_Road] = []
        for axis, lo, hi in ((0, self.vmin, self.vmax), (1, self.umin, self.umax)):
            pos = lo + rng.uniform(0.2, 0.8) * self.spacing
            while pos < hi:
                self.roads.append(_Road("", axis, float(pos)))
                pos += self.spacing * rng.uniform(0.7, 1.3)
        names = _unique_names(_ROAD_BASES, len(self.roads), rng)
        for r, base in zip(self.roads, names):
            r.name = base + str(rng.choice(["路", "路", "路", "街", "支路"]))
        self.v_offsets = np.array([r.offset for r in self.roads if r.axis == 0])
        self.u_offsets = np.array([r.offset for r in self.roads if r.axis == 1])
        self.v_roads = [r for r in self.roads if r.axis == 0]
        self.u_roads = [r for r in self.roads if r.axis == 1]
        self.v_idx = np.array([i for i, r in enumerate(self.roads) if r.axis == 0], int)
        self.u_idx = np.array([i for i, r in enumerate(self.roads) if r.axis == 1], int)

    def to_uv(self, x, y):
        """Metric x/y → (u along the long axis, v across it), centred on the district."""
        ct, st = math.cos(self.theta), math.sin(self.theta)
        dx, dy = np.asarray(x) - self.cx, np.asarray(y) - self.cy
        return dx * ct + dy * st, -dx * st + dy * ct

    def to_xy(self, u, v):
        """Inverse of :meth:`to_uv`."""
        ct, st = math.cos(self.theta), math.sin(self.theta)
        u, v = np.asarray(u, float), np.asarray(v, float)
        return self.cx + u * ct - v * st, self.cy + u * st + v * ct

    def road_azimuth(self, axis: int) -> float:
        """Azimuth of a road of ``axis`` (one of its two directions)."""
        ang = self.theta if axis == 0 else self.theta + math.pi / 2
        return float(_azimuth(math.cos(ang), math.sin(ang)))

    def line(self, road: _Road) -> LineString:
        """The whole road as a straight line across the district's envelope (unclipped)."""
        m = self.spacing
        if road.axis == 0:
            x, y = self.to_xy([self.umin - m, self.umax + m], [road.offset] * 2)
        else:
            x, y = self.to_xy([road.offset] * 2, [self.vmin - m, self.vmax + m])
        return LineString(np.column_stack([x, y]))

    def mark_main(self, hot_xy: np.ndarray) -> None:
        """Make every ~4th road, and the roads nearest each hotspot, main roads."""
        for roads in (self.v_roads, self.u_roads):
            for i, r in enumerate(roads):
                r.main = i % 4 == 1
        if len(hot_xy):
            u, v = self.to_uv(hot_xy[:, 0], hot_xy[:, 1])
            for uu, vv in zip(u, v):
                if len(self.v_roads):
                    self.v_roads[int(np.argmin(np.abs(self.v_offsets - vv)))].main = True
                if len(self.u_roads):
                    self.u_roads[int(np.argmin(np.abs(self.u_offsets - uu)))].main = True
        for r in self.roads:
            if r.main and r.name.endswith(("街", "支路")):
                r.name = r.name[:-2 if r.name.endswith("支路") else -1] + "路"

    def nearest_road(self, x, y) -> np.ndarray:
        """Index (into ``roads``) of the road nearest each point."""
        u, v = self.to_uv(np.asarray(x, float), np.asarray(y, float))
        iv = np.abs(v[:, None] - self.v_offsets[None, :]).argmin(1) if len(self.v_offsets) else None
        iu = np.abs(u[:, None] - self.u_offsets[None, :]).argmin(1) if len(self.u_offsets) else None
        if iv is None:
            return self.u_idx[iu]
        if iu is None:
            return self.v_idx[iv]
        dv = np.abs(v - self.v_offsets[iv])
        du = np.abs(u - self.u_offsets[iu])
        return np.where(dv <= du, self.v_idx[iv], self.u_idx[iu])

    def pieces(self) -> list[tuple[int, LineString]]:
        """(road index, piece) of every road clipped to the inner land, longest first per road."""
        out = []
        lines = [self.line(r) for r in self.roads]
        clipped = shapely.intersection(np.array(lines, dtype=object), self.inner)
        for i, g in enumerate(clipped):
            for p in shapely.get_parts(shapely.line_merge(g) if g.geom_type == "MultiLineString" else g):
                if p.geom_type == "LineString" and p.length > 20.0:
                    out.append((i, p))
        return out

    def build_graph(self) -> None:
        """Intersections inside the land as nodes, road segments inside the land as edges."""
        vr, ur = self.v_roads, self.u_roads
        uu, vv = np.meshgrid(self.u_offsets, self.v_offsets)  # shape (len(vr), len(ur))
        x, y = self.to_xy(uu.ravel(), vv.ravel())
        ok = shapely.contains_xy(self.inner, x, y) if len(x) else np.zeros(0, bool)
        nid = -np.ones(len(x), int)
        nid[ok] = np.arange(int(ok.sum()))
        self.node_x, self.node_y = x[ok], y[ok]
        rows, cols = np.divmod(np.nonzero(ok)[0], max(len(ur), 1))
        self.node_roads = [(int(self.v_idx[r]), int(self.u_idx[c])) for r, c in zip(rows, cols)]
        self.node_main = np.array([vr[r].main and ur[c].main for r, c in zip(rows, cols)], bool)
        grid = nid.reshape(len(vr), len(ur)) if len(x) else nid.reshape(0, 0)
        cand = []
        for r in range(grid.shape[0]):
            for c in range(grid.shape[1]):
                a = grid[r, c]
                if a < 0:
                    continue
                if c + 1 < grid.shape[1] and grid[r, c + 1] >= 0:
                    cand.append((a, int(grid[r, c + 1]), vr[r].main))
                if r + 1 < grid.shape[0] and grid[r + 1, c] >= 0:
                    cand.append((a, int(grid[r + 1, c]), ur[c].main))
        self.adj: list[list[tuple[int, float]]] = [[] for _ in range(len(self.node_x))]
        if cand:
            segs = shapely.linestrings([[(self.node_x[a], self.node_y[a]), (self.node_x[b], self.node_y[b])]
                                        for a, b, _ in cand])
            inside = shapely.contains(self.land, segs)
            for (a, b, main), ins in zip(cand, inside):
                if not ins:
                    continue
                length = math.hypot(self.node_x[a] - self.node_x[b], self.node_y[a] - self.node_y[b])
                w = length * (0.6 if main else 1.0)  # patrols prefer main roads
                self.adj[a].append((b, w))
                self.adj[b].append((a, w))
        # The largest connected piece of the network is the routable one.
        comp = -np.ones(len(self.node_x), int)
        best, best_size = -1, 0
        for s in range(len(self.node_x)):
            if comp[s] >= 0:
                continue
            stack, size = [s], 0
            comp[s] = s
            while stack:
                a = stack.pop()
                size += 1
                for b, _ in self.adj[a]:
                    if comp[b] < 0:
                        comp[b] = s
                        stack.append(b)
            if size > best_size:
                best, best_size = s, size
        self.routable = np.nonzero(comp == best)[0] if best_size > 1 else np.zeros(0, int)

    def path(self, a: int, b: int) -> list[int]:
        """Shortest path of nodes from ``a`` to ``b`` (Dijkstra; ties broken by node index)."""
        if a == b:
            return [a]
        dist = {a: 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, a)]
        while heap:
            d, n = heapq.heappop(heap)
            if n == b:
                break
            if d > dist.get(n, math.inf):
                continue
            for m, w in self.adj[n]:
                nd = d + w
                if nd < dist.get(m, math.inf):
                    dist[m] = nd
                    prev[m] = n
                    heapq.heappush(heap, (nd, m))
        if b not in prev:
            return [a]
        out = [b]
        while out[-1] != a:
            out.append(prev[out[-1]])
        return out[::-1]
