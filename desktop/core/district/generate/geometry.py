"""Small numeric and shape helpers shared by the build steps: polygonal parts, azimuths,
weighted k-means, farthest-point spread and a weighted choice. Every random draw goes through
the generator passed in, so results are deterministic for a seed."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import shapely
from shapely.geometry import MultiPolygon


def _polygonal(g):
    """Only the polygonal parts of a geometry, as a MultiPolygon."""
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for p in parts:
        polys.extend(shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])
    return MultiPolygon([p for p in polys if not p.is_empty])


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
    """One of ``items``, drawn with probability proportional to ``weights``."""
    w = np.asarray(weights, float)
    return items[int(rng.choice(len(items), p=w / w.sum()))]
