"""Build steps *cameras* and *coastal*: HD cameras along the streets, checkpoints at the
district's entries and main intersections, coastal / PTZ / radar points along the shore and
out to 1 km at sea."""
from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Point

from desktop.core.district.generate.geometry import _azimuth, _spread
from desktop.core.district.generate.state import _BuildState


class _CamerasStep(_BuildState):
    """Places every camera (:meth:`make_cameras`)."""

    def make_cameras(self) -> None:
        """HD cameras along the streets (denser near hotspots), checkpoints on main roads,
        coastal / PTZ / radar points along the shore and out to 1 km at sea."""
        self.progress("cameras", 0.4)
        rng = self.rng("hd")
        st = self.streets
        n_hd = self.counts.hd
        total = sum(p.length for _, p in self.pieces)
        step = max(total / max(6 * n_hd, 1), 4.0) if total else 0.0
        cx, cy, croad, caz = [], [], [], []
        for ri, piece in self.pieces:
            d = np.arange(step / 2, piece.length, step) if step else np.zeros(0)
            if not len(d):
                continue
            d = np.clip(d + rng.uniform(-0.3, 0.3, len(d)) * step, 0, piece.length)
            pts = shapely.get_coordinates(shapely.line_interpolate_point(piece, d))
            road = st.roads[ri]
            az = st.road_azimuth(road.axis)
            # stand on the pavement: a few metres to one side of the centre line
            off = rng.choice([-1.0, 1.0], len(d)) * rng.uniform(3.0, 9.0, len(d))
            ang = math.radians(90.0 - az)
            px, py = pts[:, 0] - off * math.sin(ang), pts[:, 1] + off * math.cos(ang)
            cx.append(px)
            cy.append(py)
            croad.append(np.full(len(d), ri))
            caz.append(np.full(len(d), az))
        # some cameras stand off the streets (squares, parks, compounds)
        extra = self.random_inner(rng, max(int(0.12 * n_hd), 1))
        if len(extra):
            cx.append(extra[:, 0])
            cy.append(extra[:, 1])
            croad.append(st.nearest_road(extra[:, 0], extra[:, 1]))
            caz.append(rng.uniform(0, 360, len(extra)))
        x = np.concatenate(cx) if cx else np.zeros(0)
        y = np.concatenate(cy) if cy else np.zeros(0)
        road_i = np.concatenate(croad).astype(int) if croad else np.zeros(0, int)
        az = np.concatenate(caz) if caz else np.zeros(0)
        ok = shapely.contains_xy(self.inner, x, y)
        x, y, road_i, az = x[ok], y[ok], road_i[ok], az[ok]
        if len(x) < n_hd:  # a tiny district: top up with random points
            more = self.random_inner(rng, n_hd - len(x))
            x, y = np.concatenate([x, more[:, 0]]), np.concatenate([y, more[:, 1]])
            road_i = np.concatenate([road_i, st.nearest_road(more[:, 0], more[:, 1])]).astype(int)
            az = np.concatenate([az, rng.uniform(0, 360, len(more))])
        w = self.hot_weight(x, y)
        pick = np.sort(rng.choice(len(x), size=min(n_hd, len(x)), replace=False, p=w / w.sum()))
        x, y, road_i, az = x[pick], y[pick], road_i[pick], az[pick]
        # look along the street (either way), now and then across it
        turn = rng.choice([0.0, 180.0, 90.0, 270.0], len(x), p=[0.4, 0.4, 0.1, 0.1])
        heading = (az + turn + rng.uniform(-25, 25, len(x))) % 360.0
        cams = []
        for i in range(len(x)):
            cams.append({"kind": "hd", "x": x[i], "y": y[i], "place": st.roads[road_i[i]].name,
                         "heading_deg": heading[i], "fov_deg": int(rng.integers(60, 91)),
                         "range_m": int(rng.integers(60, 151))})
        self.cams_hd = cams
        self.progress("cameras", 0.5)
        self.cams_k = self._checkpoints(self.rng("checkpoints"))
        self.progress("coastal", 0.55)
        self.cams_s = self._coastal(self.rng("coastal"))

    def _checkpoints(self, rng: np.random.Generator) -> list[dict]:
        """``counts.checkpoint`` checkpoints: up to half at entries into the district on main
        roads, the rest at main intersections spread over it (denser near hotspots)."""
        n = self.counts.checkpoint
        st = self.streets
        cand = []  # (x, y, road index, heading, is_entry)
        others_border = self.land.boundary.difference(self.coast.buffer(60.0)) if self.coast_parts \
            else self.land.boundary
        for ri, piece in self.pieces:
            road = st.roads[ri]
            if not road.main:
                continue
            az = st.road_azimuth(road.axis)
            for end, sign in ((0.0, 1.0), (piece.length, -1.0)):
                p = piece.interpolate(end)
                if others_border.is_empty or p.distance(others_border) > 40.0:
                    continue
                # an entry into the district: 40 m in, facing the incoming traffic (outwards)
                q = piece.interpolate(min(max(end + sign * 40.0, 0.0), piece.length))
                out_az = (az + (180.0 if sign > 0 else 0.0)) % 360.0
                cand.append((q.x, q.y, ri, out_az, True))
        mains = np.nonzero(st.node_main)[0]
        for i in mains:
            ri = st.node_roads[i][int(rng.integers(2))]
            az = st.road_azimuth(st.roads[ri].axis) + float(rng.choice([0.0, 180.0]))
            cand.append((st.node_x[i] + rng.uniform(-15, 15), st.node_y[i] + rng.uniform(-15, 15), ri, az % 360, False))
        cand = [c for c in cand if shapely.contains_xy(self.inner, c[0], c[1])]
        entries = [c for c in cand if c[4]]
        inner = [c for c in cand if not c[4]]
        chosen: list[tuple] = []
        if entries:
            pts = np.array([[c[0], c[1]] for c in entries])
            chosen += [entries[i] for i in _spread(pts, min(len(entries), (n + 1) // 2))]
        if inner and len(chosen) < n:
            pts = np.array([[c[0], c[1]] for c in inner])
            have = np.array([[c[0], c[1]] for c in chosen]).reshape(-1, 2)
            chosen += [inner[i] for i in _spread(pts, n - len(chosen), self.hot_weight(pts[:, 0], pts[:, 1], 2.0),
                                                 chosen=have)]
        if len(chosen) < n:  # few main roads: any street point will do
            pts = self.random_inner(rng, n - len(chosen))
            ri = st.nearest_road(pts[:, 0], pts[:, 1]) if len(pts) else []
            chosen += [(p[0], p[1], int(r), st.road_azimuth(st.roads[int(r)].axis), False) for p, r in zip(pts, ri)]
        out = []
        for x, y, ri, az, _ in chosen[:n]:
            out.append({"kind": "checkpoint", "x": x, "y": y, "place": st.roads[ri].name,
                        "heading_deg": (az + rng.uniform(-5, 5)) % 360.0,
                        "fov_deg": int(rng.integers(30, 46)), "range_m": int(rng.integers(40, 81))})
        return out

    def _coastal(self, rng: np.random.Generator) -> list[dict]:
        """``counts.coastal`` points evenly along the shore: a few radars, about 15 % PTZ domes
        a little inland, the rest coastal cameras on the shore or (some 40 %) out at sea."""
        n = self.counts.coastal if self.coast_parts else 0
        if n <= 0:
            return []
        n_radar = max(1, round(n * 0.04)) if n >= 10 else (1 if n >= 3 else 0)
        n_ptz = round(n * 0.15) if n >= 4 else 0
        kinds = np.array(["coastal"] * n, dtype=object)
        radar_slots = [int((i + 0.5) * n / n_radar) for i in range(n_radar)]
        kinds[radar_slots] = "radar"
        free = np.array([i for i in range(n) if kinds[i] == "coastal"])
        kinds[rng.choice(free, size=min(n_ptz, len(free)), replace=False)] = "ptz"
        total = self.coast.length
        out = []
        for i in range(n):
            s = (i + 0.5 + rng.uniform(-0.35, 0.35)) * total / n
            px, py, nx, ny = self.coast_point(s)
            kind = kinds[i]
            sea_az = float(_azimuth(nx, ny))
            heading = (sea_az + rng.uniform(-20, 20)) % 360.0
            at_sea = kind == "coastal" and rng.random() < 0.4
            if at_sea:  # solar wireless cameras on buoys, piers and markers
                d = 40.0 + 910.0 * rng.random() ** 2
                for _ in range(6):
                    x, y = px + nx * d, py + ny * d
                    if not shapely.contains_xy(self.mask, x, y) and \
                            self.coast.distance(Point(x, y)) <= 990.0:
                        break
                    d *= 0.5
                else:
                    at_sea = False
            if not at_sea:
                # on the shore; PTZ domes on lookouts a little inland
                lo, hi = {"coastal": (2.0, 25.0), "ptz": (30.0, 150.0), "radar": (5.0, 40.0)}[kind]
                d = rng.uniform(lo, hi)
                for _ in range(6):
                    x, y = px - nx * d, py - ny * d
                    if shapely.contains_xy(self.inner, x, y):
                        break
                    d *= 0.6
                else:
                    x, y = px - nx * 2.0, py - ny * 2.0
            cam = {"kind": kind, "x": x, "y": y, "heading_deg": heading}
            if kind == "coastal":
                cam.update(fov_deg=int(rng.integers(40, 71)), range_m=int(rng.integers(30, 121)) * 10)
            elif kind == "ptz":
                cam.update(fov_deg=int(rng.choice([360, 60])), range_m=int(rng.integers(20, 61)) * 10)
            else:
                cam.update(fov_deg=360, range_m=int(rng.integers(15, 31)) * 100)
            out.append(cam)
        return out
