"""Build step *streets*: the street grid, the hotspots (given, or invented for a district
nobody described), the main roads and the street graph."""
from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from desktop.core.district.generate.counts import SHINAN_LAND_KM2
from desktop.core.district.generate.names import _HOT_LABEL
from desktop.core.district.generate.state import _BuildState
from desktop.core.district.generate.streets import _Streets


class _StreetsStep(_BuildState):
    """Lays out the streets and the hotspots (:meth:`make_streets_and_hotspots`)."""

    def make_streets_and_hotspots(self) -> None:
        """The street grid, the hotspots (given or invented), main roads and the street graph."""
        self.progress("streets", 0.15)
        rng = self.rng("streets")
        self.streets = _Streets(self.land, self.inner, rng)
        self.hot = []
        if self.given_hotspots:
            hx, hy = self.frame.fwd_xy([h.lon for h in self.given_hotspots],
                                       [h.lat for h in self.given_hotspots])
            for h, x, y in zip(self.given_hotspots, hx, hy):
                self.hot.append({"name": h.name, "kind": h.kind, "x": float(x), "y": float(y),
                                 "weight": float(h.weight), "radius": float(h.radius_m)})
        else:
            self.hot = self._invent_hotspots(self.rng("hotspots"))
        self.hot_xy = np.array([[h["x"], h["y"]] for h in self.hot]).reshape(-1, 2)
        self.streets.mark_main(self.hot_xy)
        self.streets.build_graph()
        self.pieces = self.streets.pieces()
        for h in self.hot:  # where posts and zones anchor: the hotspot moved onto land if needed
            if shapely.contains_xy(self.inner, h["x"], h["y"]):
                h["ax"], h["ay"] = h["x"], h["y"]
            else:
                p = nearest_points(self.inner.buffer(-5.0) if not self.inner.buffer(-5.0).is_empty
                                               else self.inner, Point(h["x"], h["y"]))[0]
                h["ax"], h["ay"] = p.x, p.y

    def _invent_hotspots(self, rng: np.random.Generator) -> list[dict]:
        """Hotspots for a district nobody described: a station and shopping areas near the
        centre, scenic spots near the shore (or anywhere when there is none)."""
        a = max(self.land_km2 / SHINAN_LAND_KM2, 0.05)
        n = int(min(max(round(8 * math.sqrt(a)), 3), 24))
        pts = self.random_inner(rng, 3000)
        if not len(pts):
            return []
        c = self.land.centroid
        r = math.sqrt(self.land.area / math.pi)
        dc = np.hypot(pts[:, 0] - c.x, pts[:, 1] - c.y)
        central = np.exp(-(dc / (0.45 * r)) ** 2) + 1e-6
        if self.coast_parts:
            dcoast = shapely.distance(self.coast, shapely.points(pts))
            shore = np.exp(-(dcoast / 300.0) ** 2) + 1e-6
        else:
            shore = rng.uniform(0.2, 1.0, len(pts))
        kinds = ["station"] + [("commercial" if i % 2 else "scenic") for i in range(1, n)]
        out, chosen = [], np.zeros((0, 2))
        for kind in kinds:
            w = shore if kind == "scenic" else central
            # spread hotspots apart: weight × distance to those already chosen
            if len(chosen):
                d = np.min(np.hypot(pts[:, 0, None] - chosen[None, :, 0], pts[:, 1, None] - chosen[None, :, 1]), 1)
                w = w * np.minimum(d / max(r * 0.35, 300.0), 1.0) ** 2
            i = int(rng.choice(len(pts), p=w / w.sum()))
            chosen = np.vstack([chosen, pts[i]])
            road = self.streets.roads[int(self.streets.nearest_road([pts[i, 0]], [pts[i, 1]])[0])].name
            out.append({"name": road + _HOT_LABEL[kind], "kind": kind, "x": float(pts[i, 0]),
                        "y": float(pts[i, 1]), "weight": float(rng.uniform(0.6, 1.2)), "radius": 350.0})
        names = set()
        for h in out:  # two hotspots on one road: number them
            base, k = h["name"], 2
            while h["name"] in names:
                h["name"] = f"{base}{k}"
                k += 1
            names.add(h["name"])
        return out
