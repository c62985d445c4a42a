"""Build step *zones*: prevention zones, rectangles along the streets around hotspots and in
residential areas, each aimed at one case type."""
from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

from desktop.core.district.generate.geometry import _largest_part, _weighted_choice
from desktop.core.district.generate.state import _BuildState

_AREA_CASES = {  # which case types a prevention zone of each area kind targets, with weights
    "scenic": (("snatch_pickpocket", 0.6), ("street_theft", 0.4)),
    "commercial": (("street_theft", 0.5), ("snatch_pickpocket", 0.5)),
    "station": (("snatch_pickpocket", 0.7), ("street_theft", 0.3)),
    "residential": (("burglary", 0.85), ("street_theft", 0.15)),
}


class _ZonesStep(_BuildState):
    """Draws the prevention zones (:meth:`make_zones`)."""

    def make_zones(self) -> None:
        """Prevention zones: rectangles along the streets around hotspots (scenic, commercial,
        station) and in residential areas, each aimed at one case type."""
        self.progress("zones", 0.65)
        rng = self.rng("zones")
        st = self.streets
        kinds_present = sorted({h["kind"] for h in self.hot})
        area_kinds = ["scenic", "commercial", "station", "residential"]
        share = {"scenic": 0.22, "commercial": 0.25, "station": 0.08, "residential": 0.45}
        weights = [share[k] if (k == "residential" or k in kinds_present) else 0.0 for k in area_kinds]
        zones = []
        zb = np.zeros((0, 4))  # bounds of the zones so far, to measure overlap cheaply
        for i in range(self.counts.zones):
            kind = _weighted_choice(rng, area_kinds, weights)
            hot = None
            if kind != "residential":
                cand = [h for h in self.hot if h["kind"] == kind]
                hot = cand[int(rng.choice(len(cand), p=np.array([h["weight"] for h in cand]) /
                                                       sum(h["weight"] for h in cand)))]
            poly = None
            for attempt in range(25):
                if hot is not None:
                    c = self.near_inner(rng, hot["ax"], hot["ay"], hot["radius"] * 1.2)
                else:
                    c = self.random_inner(rng, 1)[0]
                    # residential zones keep off the busiest spots
                    if self.hot and self.hot_weight([c[0]], [c[1]])[0] > 3.0 and attempt < 10:
                        continue
                a, b = rng.uniform(60, 220), rng.uniform(50, 170)
                ang = st.theta + math.radians(rng.uniform(-8, 8))
                ca, sa = math.cos(ang), math.sin(ang)
                corners = [(c[0] + ux * a * ca - vy * b * sa, c[1] + ux * a * sa + vy * b * ca)
                           for ux, vy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
                rect = Polygon(corners)
                clipped = _largest_part(rect.intersection(self.land))
                if clipped is None:
                    continue
                b = clipped.bounds
                near = np.nonzero((zb[:, 0] < b[2]) & (zb[:, 2] > b[0]) & (zb[:, 1] < b[3]) & (zb[:, 3] > b[1]))[0]
                overlap = sum(clipped.intersection(zones[j]["geom"]).area for j in near) / clipped.area
                if (clipped.area >= 0.3 * rect.area and overlap < 0.5) or attempt == 24:
                    poly = clipped
                    break
            if poly is None:
                continue
            zb = np.vstack([zb, poly.bounds])
            case = _weighted_choice(rng, [c for c, _ in _AREA_CASES[kind]], [w for _, w in _AREA_CASES[kind]])
            c = poly.representative_point()
            if hot is not None:
                place = hot["name"]
            else:
                place = self.region_of([c.x], [c.y])[1][0]
            zones.append({"geom": poly, "case_type": case, "area_kind": kind, "place": place})
        self.zones = zones
