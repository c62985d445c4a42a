"""Build step *grid*: square cells over the land, grouped into contiguous sub-districts and,
within each, communities."""
from __future__ import annotations

import heapq
import math

import numpy as np
import shapely
from shapely import STRtree

from desktop.core.district.generate.geometry import _kmeans, _largest_part
from desktop.core.district.generate.names import _community_names
from desktop.core.district.generate.state import _BuildState


class _GridStep(_BuildState):
    """Makes the grid cells and their regions (:meth:`make_grid`)."""

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
