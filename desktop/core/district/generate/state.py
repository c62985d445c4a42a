"""The state of one build, shared by its steps, and the random generator of each step.

:class:`_BuildState` holds the inputs, the attributes the steps set (listed on the class, by
the step that sets them) and the queries on them that several steps use: random points on
the land, the hotspot density, points along the shore and the region of a point. Each step
of ``generate/`` is a mixin on it; :class:`desktop.core.district.generate.build._Build`
puts them together.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from desktop.core.district.generate.counts import Counts, Hotspot

if TYPE_CHECKING:  # only for the attribute annotations below
    from shapely import STRtree
    from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

    from desktop.core.district.generate.frame import _Frame
    from desktop.core.district.generate.source import _Unit
    from desktop.core.district.generate.streets import _Streets

ProgressFn = Callable[[str, float], None]


def step_rng(seed: int, step: str) -> np.random.Generator:
    """The random generator of one build step (``"patrol"``, ``"schedule"`` …) for ``seed``.

    Derived from the seed and the step's name, so that changing how one layer is generated
    does not reshuffle every other layer, and a step can be re-run on its own.
    """
    key = [int(b) for b in step.encode("utf-8")]
    s = int(seed) % (1 << 64)
    return np.random.default_rng(np.random.SeedSequence([s & 0xFFFFFFFF, s >> 32, *key]))


class _BuildState:
    """One dataset build: the state shared by the generation steps (metric coordinates).

    The constructor keeps the inputs; each step sets the attributes annotated below under
    its name, and later steps read them, so the steps run in the order of :func:`build_dataset`.
    """

    # set by the land step (land.py): the source, the frame, the land, its shore, the counts
    source_version: str
    unit: _Unit
    parent: _Unit | None
    district_ll: MultiPolygon  # the boundary in GCJ-02 lon/lat, as the source has it
    frame: _Frame
    view_ll: tuple[float, float, float, float]
    context_ll: list[tuple[_Unit, MultiPolygon, bool]]  # (unit, lon/lat land, near the view)
    land: MultiPolygon  # from here on in zone metres
    inner: Polygon | MultiPolygon
    mask: Polygon | MultiPolygon  # all land in view, the neighbours' too
    coast_parts: list[LineString]
    coast: MultiLineString
    land_km2: float
    coast_km: float
    counts: Counts
    # by the streets step (hotspots.py)
    streets: _Streets
    hot: list[dict]
    hot_xy: np.ndarray
    pieces: list[tuple[int, LineString]]
    # by the grid step (grid.py)
    cell_m: float
    cells: list[Polygon]
    cell_tree: STRtree
    sub_idx: np.ndarray
    com_idx: np.ndarray
    subdistricts: list[str]
    communities: list[str]
    n_sub: int
    n_com: int
    # by the asset steps (cameras.py, zones.py, patrol.py, risk.py)
    cams_hd: list[dict]
    cams_k: list[dict]
    cams_s: list[dict]
    zones: list[dict]
    routes: list[dict]
    posts: list[dict]
    control_areas: list[dict]
    risks: list[dict]
    # by the write step (output.py): the counts written to district.toml
    generated: dict[str, int]

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

    # -- queries on the land and the grid, for several steps
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

    def region_of(self, x, y) -> tuple[list[str], list[str], np.ndarray]:
        """(sub-district names, community names, cell index) for points: the cell containing
        each point, or the nearest cell for points at sea or in a dropped sliver."""
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        _, cell = self.cell_tree.query_nearest(pts, all_matches=False)
        return ([self.subdistricts[self.sub_idx[c]] for c in cell],
                [self.communities[self.com_idx[c]] for c in cell], cell)
