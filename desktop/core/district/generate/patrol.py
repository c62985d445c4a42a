"""Build step *patrol*: car and e-bike patrol loops on the street graph, patrol posts and the
key control areas."""
from __future__ import annotations

import math

import numpy as np
from shapely.geometry import LineString, Polygon
from shapely.ops import substring

from desktop.core.district.generate.geometry import _kmeans, _largest_part, _spread
from desktop.core.district.generate.state import _BuildState


class _PatrolStep(_BuildState):
    """Lays out routes, posts and control areas (:meth:`make_patrol`)."""

    def make_patrol(self) -> None:
        """Car (level 1) and e-bike (level 2) loops on the street network, posts, control areas."""
        self.progress("patrol", 0.75)
        rng = self.rng("patrol")
        st = self.streets
        nodes = st.routable
        pts = np.column_stack([st.node_x[nodes], st.node_y[nodes]]) if len(nodes) else np.zeros((0, 2))
        routes = []
        for level, n, nway in ((1, self.counts.patrol_car, 4), (2, self.counts.patrol_ebike, 3)):
            if n <= 0:
                continue
            if len(nodes) >= 2:
                w = self.hot_weight(pts[:, 0], pts[:, 1], 1.0 if level == 1 else 4.0)
                centers, lab = _kmeans(pts, n, rng, weights=w)
                order = sorted(range(len(centers)), key=lambda j: (round(float(centers[j, 0]), 1), j))
            else:
                order, lab = list(range(n)), np.zeros(0, int)
            for k in range(n):
                j = order[k % len(order)]
                sector = np.nonzero(lab == j)[0] if len(lab) else np.zeros(0, int)
                line = None
                if len(sector) >= 2:
                    sp = pts[sector]
                    ww = self.hot_weight(sp[:, 0], sp[:, 1])
                    way = [int(nodes[sector[i]]) for i in _spread(sp, nway, ww)]
                    if len(way) >= 2:
                        path: list[int] = []
                        for a, b in zip(way, way[1:] + way[:1]):
                            leg = st.path(a, b)
                            path += leg if not path else leg[1:]
                        xy = np.column_stack([st.node_x[path], st.node_y[path]])
                        keep = np.ones(len(xy), bool)
                        keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)
                        xy = xy[keep]
                        if len(xy) >= 2:
                            line = LineString(xy)
                if line is None:
                    line = self._fallback_route(rng, 600.0 if level == 1 else 300.0)
                if line is None:
                    continue
                mid = line.interpolate(0.5, normalized=True)
                routes.append({"geom": line, "level": level, "sub": self.region_of([mid.x], [mid.y])[0][0]})
        self.routes = routes
        # posts: every hotspot first, then main intersections spread over the district
        n_posts = self.counts.posts
        posts = []
        for h in sorted(self.hot, key=lambda h: -h["weight"])[:n_posts]:
            posts.append({"x": h["ax"], "y": h["ay"], "name": h["name"] + "警务站"})
        if len(posts) < n_posts:
            cand = np.nonzero(st.node_main)[0]
            if len(cand) < n_posts - len(posts):
                cand = np.arange(len(st.node_x))
            if len(cand):
                cp = np.column_stack([st.node_x[cand], st.node_y[cand]])
                have = np.array([[p["x"], p["y"]] for p in posts]).reshape(-1, 2)
                for i in _spread(cp, n_posts - len(posts), self.hot_weight(cp[:, 0], cp[:, 1], 1.5), chosen=have):
                    a, b = st.node_roads[cand[i]]
                    posts.append({"x": cp[i, 0], "y": cp[i, 1],
                                  "name": f"{st.roads[a].name}·{st.roads[b].name} 岗亭"})
        if len(posts) < n_posts:
            for p in self.random_inner(rng, n_posts - len(posts)):
                r = st.roads[int(st.nearest_road([p[0]], [p[1]])[0])].name
                posts.append({"x": p[0], "y": p[1], "name": f"{r} 岗亭"})
        names: dict[str, int] = {}
        for p in posts:
            if p["name"] in names:
                names[p["name"]] += 1
                p["name"] = f"{p['name']} {names[p['name']]}"
            else:
                names[p["name"]] = 1
        self.posts = posts
        # key control areas around the weightiest hotspots, apart from each other
        areas = []
        anchors = sorted(self.hot, key=lambda h: -h["weight"])
        if not anchors:
            c = self.land.representative_point()
            anchors = [{"name": self.region_of([c.x], [c.y])[1][0], "ax": c.x, "ay": c.y, "weight": 1.0}]
        used: list[dict] = []
        for _ in range(self.counts.control_areas):
            far = [h for h in anchors if h not in used and all(
                math.hypot(h["ax"] - u["ax"], h["ay"] - u["ay"]) > 1200.0 for u in used)]
            pool = far or [h for h in anchors if h not in used] or anchors
            h = pool[0]
            used.append(h)
            a, b = rng.uniform(450, 650), rng.uniform(300, 450)
            ca, sa = math.cos(st.theta), math.sin(st.theta)
            rect = Polygon([(h["ax"] + ux * a * ca - vy * b * sa, h["ay"] + ux * a * sa + vy * b * ca)
                            for ux, vy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])
            poly = _largest_part(rect.intersection(self.land))
            if poly is not None:
                areas.append({"geom": poly, "name": h["name"] + "重点管控区"})
        self.control_areas = areas

    def _fallback_route(self, rng: np.random.Generator, length: float):
        """A stretch of one street, for districts too small for a street network."""
        if not self.pieces:
            return None
        lens = np.array([p.length for _, p in self.pieces])
        ri, piece = self.pieces[int(rng.choice(len(lens), p=lens / lens.sum()))]
        if piece.length <= length:
            return piece
        s = rng.uniform(0, piece.length - length)
        return substring(piece, s, s + length)
