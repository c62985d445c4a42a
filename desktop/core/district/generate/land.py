"""Build step *source* and *land*: read the district's boundary and its neighbours from the
source, project them, find the shore (boundary no neighbour's land runs along) and settle
the counts."""
from __future__ import annotations

import math

import shapely
from shapely.geometry import Polygon

from desktop.core.district.generate.counts import default_counts
from desktop.core.district.generate.errors import UnknownAdcode
from desktop.core.district.generate.frame import _Frame
from desktop.core.district.generate.geometry import _polygonal
from desktop.core.district.generate.source import _Source
from desktop.core.district.generate.state import _BuildState


class _LandStep(_BuildState):
    """Loads the boundary and its context (:meth:`load`)."""

    def load(self) -> None:
        """Read the boundary and the context, project them, find the shore, settle the counts."""
        self.progress("source", 0.0)
        src = _Source()
        self.source_version = src.version
        self.unit = src.unit(self.adcode)
        if self.unit.level == "country":
            raise UnknownAdcode(f"adcode {self.adcode} is the whole country; pick a province, city or county")
        self.parent = src.parent(self.unit)
        self.district_ll = src.geometry(self.unit)
        dll = self.district_ll
        minx, miny, maxx, maxy = dll.bounds
        lat0 = (miny + maxy) / 2
        self.frame = _Frame((minx + maxx) / 2)
        # The view: the district plus a margin that covers 1 km at sea and the neighbourhood.
        ext_m = max((maxx - minx) * 111320 * math.cos(math.radians(lat0)), (maxy - miny) * 110540)
        margin_m = max(3000.0, 0.3 * ext_m)
        mlon = margin_m / (111320 * math.cos(math.radians(lat0)))
        mlat = margin_m / 110540
        self.view_ll = (minx - mlon, miny - mlat, maxx + mlon, maxy + mlat)
        view_poly = shapely.box(*self.view_ll)
        self.progress("source", 0.05)

        sibs = src.siblings(self.unit)
        context = [(u, src.geometry(u)) for u in sibs]
        known = shapely.union_all([dll] + [g for _, g in context if g.intersects(view_poly)])
        context += self._discover(src, known, view_poly, {self.adcode} | {u.adcode for u in sibs}
                                  | ({self.parent.adcode} if self.parent else set()))
        # Near neighbours keep their detail; far ones are simplified (they are only backdrop).
        ext_deg = max(maxx - minx, maxy - miny)
        self.context_ll = []
        for u, g in sorted(context, key=lambda t: t[0].adcode):
            near = g.intersects(view_poly)
            tol = ext_deg / (5000 if near else 400)
            gs = _polygonal(shapely.simplify(g, tol, preserve_topology=True))
            if not gs.is_empty:
                self.context_ll.append((u, gs, near))
        self.progress("land", 0.1)

        f = self.frame
        self.land = shapely.make_valid(f.fwd(dll))
        self.land = _polygonal(self.land)
        self.inner = self.land.buffer(-8.0)  # keeps generated points off the boundary itself
        if self.inner.is_empty:
            self.inner = self.land
        others = [shapely.clip_by_rect(g, *self.view_ll) for _, g, near in self.context_ll if near]
        others_m = shapely.union_all([f.fwd(g) for g in others if not g.is_empty]) if others else Polygon()
        self.mask = shapely.union_all([self.land, others_m])  # all land in view
        shapely.prepare(self.land)
        shapely.prepare(self.inner)
        shapely.prepare(self.mask)
        # The shore: boundary of the district that no neighbour's land runs along.
        coast = self.land.boundary
        if not others_m.is_empty:
            coast = coast.difference(others_m.buffer(40.0))
        parts = [p for p in shapely.get_parts(shapely.line_merge(coast) if coast.geom_type ==
                                              "MultiLineString" else coast)
                 if p.geom_type == "LineString" and p.length >= 60.0]
        parts.sort(key=lambda p: (round(p.coords[0][0], 1), round(p.coords[0][1], 1)))
        self.coast_parts = parts
        self.coast = shapely.MultiLineString(parts) if parts else shapely.MultiLineString()
        self.land_km2 = self.land.area / 1e6
        self.coast_km = self.coast.length / 1000.0
        self.counts = self.req_counts or default_counts(self.land_km2, self.coast_km)

    def _discover(self, src: _Source, known, view_poly, exclude: set[str]) -> list:
        """Land in view the parent does not cover (a border with another city or province):
        find the units of the district's own level there, walking provinces → cities → counties."""
        country = src.country()
        if country is None:
            return []
        lat0 = (self.view_ll[1] + self.view_ll[3]) / 2
        km2 = 1.0 / (111.32 * 110.54 * math.cos(math.radians(lat0)))  # deg² per km²
        eps = 0.0005
        residual = shapely.clip_by_rect(src.geometry(country), *self.view_ll).difference(known)
        residual = residual.buffer(-eps).buffer(eps)  # drop slivers where the outlines differ

        def significant(g) -> bool:
            """Enough land to matter for the land/sea split."""
            return g.area > max(0.5 * km2, 0.002 * view_poly.area)

        if not significant(residual):
            return []
        found: list = []
        level = self.unit.level
        provinces = sorted((u for u in src.units if u.level == "province"),
                           key=lambda u: (u.province != self.unit.province, u.adcode))
        for prov in provinces:
            if not significant(residual):
                break
            pg = src.geometry(prov)
            if not pg.intersects(residual):
                continue
            if level == "province":
                if prov.adcode not in exclude:
                    found.append((prov, pg))
                    residual = residual.difference(shapely.clip_by_rect(pg, *self.view_ll))
                continue
            for city in src.children(prov, "city"):
                cg = src.geometry(city)
                if not cg.intersects(residual):
                    continue
                units = [city] if level == "city" else (src.children(city, "county") or [city])
                for u in units:
                    if u.adcode in exclude or any(u.adcode == f[0].adcode for f in found):
                        continue
                    g = src.geometry(u)
                    gv = shapely.clip_by_rect(g, *self.view_ll)  # only the part in view matters
                    if gv.intersects(residual):
                        found.append((u, g))
                        residual = residual.difference(gv)
        return found
