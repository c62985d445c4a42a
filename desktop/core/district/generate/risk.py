"""Build step *risk*: graded risk sources of several categories, each placed where such a
source would be (gas stations on main roads, crowded venues near hotspots, ...)."""
from __future__ import annotations

import numpy as np
import shapely

from desktop.core.district.generate.state import _BuildState

_RISK = {  # category: (label, share, grade weights for 1..4)
    "gas_station": ("加油站", 0.08, (0.2, 0.4, 0.3, 0.1)),
    "hazardous_chemicals": ("危化品储存点", 0.05, (0.5, 0.3, 0.2, 0.0)),
    "construction_site": ("建筑工地", 0.15, (0.05, 0.25, 0.4, 0.3)),
    "crowded_venue": ("人员密集场所", 0.20, (0.15, 0.3, 0.35, 0.2)),
    "old_building": ("老旧楼院", 0.22, (0.05, 0.15, 0.4, 0.4)),
    "waterfront": ("涉水危险区域", 0.12, (0.1, 0.3, 0.35, 0.25)),
    "high_rise": ("高层建筑", 0.10, (0.1, 0.3, 0.4, 0.2)),
    "school": ("校园周边", 0.08, (0.05, 0.25, 0.4, 0.3)),
}


class _RiskStep(_BuildState):
    """Places the risk sources (:meth:`make_risk`)."""

    def make_risk(self) -> None:
        """Graded risk sources of several categories, each placed where it would be."""
        self.progress("risk", 0.85)
        rng = self.rng("risk")
        st = self.streets
        cats = [c for c in _RISK if c != "waterfront" or self.coast_parts]
        shares = np.array([_RISK[c][1] for c in cats])
        n = self.counts.risk
        quota = shares / shares.sum() * n
        alloc = np.floor(quota).astype(int)
        for k in np.argsort(-(quota - alloc), kind="stable")[: n - alloc.sum()]:
            alloc[k] += 1
        mains = [(ri, p) for ri, p in self.pieces if st.roads[ri].main] or self.pieces
        out = []
        for cat, m in zip(cats, alloc):
            for _ in range(int(m)):
                place = None
                if cat == "gas_station" and mains:
                    lens = np.array([p.length for _, p in mains])
                    ri, piece = mains[int(rng.choice(len(mains), p=lens / lens.sum()))]
                    q = piece.interpolate(rng.uniform(0, piece.length))
                    xy = np.array([q.x, q.y])
                    place = st.roads[ri].name
                elif cat in ("crowded_venue", "high_rise") and self.hot:
                    pool = [h for h in self.hot if cat == "crowded_venue" or h["kind"] == "commercial"] or self.hot
                    h = pool[int(rng.integers(len(pool)))]
                    xy = self.near_inner(rng, h["ax"], h["ay"], h["radius"])
                    place = h["name"]
                elif cat == "waterfront":
                    px, py, nx, ny = self.coast_point(rng.uniform(0, self.coast.length))
                    d = rng.uniform(10, 80)
                    xy = np.array([px - nx * d, py - ny * d])
                    if not shapely.contains_xy(self.inner, *xy):
                        xy = self.near_inner(rng, px, py, 60.0)
                elif cat == "hazardous_chemicals":
                    # away from the crowds: the least busy of a few random candidates
                    cand = self.random_inner(rng, 8)
                    xy = cand[int(np.argmin(self.hot_weight(cand[:, 0], cand[:, 1])))]
                else:
                    xy = self.random_inner(rng, 1)[0]
                if place is None:
                    if cat in ("old_building", "waterfront", "school", "construction_site"):
                        place = self.region_of([xy[0]], [xy[1]])[1][0]
                    else:
                        place = st.roads[int(st.nearest_road([xy[0]], [xy[1]])[0])].name
                grade = int(rng.choice([1, 2, 3, 4], p=_RISK[cat][2]))
                out.append({"x": float(xy[0]), "y": float(xy[1]), "category": cat, "grade": grade,
                            "place": place})
        self.risks = out
