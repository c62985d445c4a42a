"""Build the default demo / training scenario for a district dataset folder.

    python -m desktop.training.make_scenario [DATASET] [--out DIR] [--seed N] [--duration S]

Reads the dataset (cameras, patrol routes and posts, boundary) and writes
``DATASET/scenario/`` (or ``--out``): ``scenario.toml``, ``timeline.jsonl`` and
``expected.toml`` (format: :mod:`desktop.core.feeds.scenario`). About ten minutes of:

* every alarm type (one_key, perimeter, face_match, radar_target, fire, crowd,
  hazard_report), each placed *in front of a real camera* of a fitting kind — inside its
  range and field of view — so that linkage finds the camera; radar targets lie at sea
  (outside the land boundary) in front of a radar or coastal camera;
* alarms in mixed coordinate systems (WGS84 from phones and radar, GCJ-02 from platform
  integrations, EPSG:4490 from surveying-grade systems), converted exactly from the same
  WGS84 point, so all of them land where intended;
* a burst of 12 repeats from one fence sensor in 24 s (flood control folds them into one);
* patrol units moving along the dataset's routes (level 1 → cars, level 2 → e-bikes; a closed
  route is driven round, an open one to and fro) and a boat off the coast when the district
  has one;
* foot patrols visiting the posts per the dataset's schedule (``patrol_schedule.toml``): for
  every visit whose window falls inside the scenario, most check in on time, two late, one
  early and exactly one is missed (its walker's radio goes silent on the way, so it also goes
  stale and offline). The result is checked by playing the patrol timeline through the patrol
  core's tours, and written to ``expected.toml`` (``[visits."<post>@HH:MM"]``). Without a
  schedule, foot patrols walk small loops around posts;
* one camera failure (offline, back online three minutes later);
* the expected operator responses (the 60-second rapid response standard drives the
  dispatch deadlines of the urgent alarms).

Nothing is special to one district, and the output is reproducible (fixed seed, sorted
output, rounded coordinates).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop.core.clock import parse_iso
from desktop.core.district.loader import load_district

# The generator's pieces, re-exported here (``from desktop.training.make_scenario import ...``
# keeps working): the programme, the great-circle helpers, the builder and its post visits.
from desktop.training.demo_builder import _Builder
from desktop.training.demo_programme import (_BURST_EVERY, _BURST_N, _BURST_T, _FAIL_T,  # noqa: F401
                                            _PLAN, _RECOVER_T, ACK_WITHIN_S, _Plan, expected_header)
from desktop.training.demo_visits import _PostVisits  # noqa: F401
from desktop.training.great_circle import _R, _bearing, _destination  # noqa: F401

__all__ = ["build_scenario", "main", "DEFAULT_START"]

DEFAULT_START = "2024-06-01T09:00:00+08:00"


def build_scenario(dataset: Path | str, out: Path | str | None = None, *, seed: int = 20240601,
                   duration_s: float = 600.0, start: str = DEFAULT_START) -> Path:
    """Write the demo scenario of ``dataset`` to ``out`` (default ``dataset/scenario``); returns ``out``."""
    dataset = Path(dataset)
    out = Path(out) if out is not None else dataset / "scenario"
    district = load_district(dataset)
    if not len(district.cameras):
        raise ValueError(f"{dataset}: the dataset has no cameras (cameras.geojson)")
    b = _Builder(district, seed, duration_s, parse_iso(start))
    b.alarms()
    b.burst()
    b.camera_failure()
    b.patrols()
    toml, timeline, expected = b.files()
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.toml").write_text(toml, encoding="utf-8")
    (out / "timeline.jsonl").write_text(timeline, encoding="utf-8")
    (out / "expected.toml").write_text(expected, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    from desktop.paths import DEFAULT_DISTRICT

    ap = argparse.ArgumentParser(prog="python -m desktop.training.make_scenario", description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", default=str(DEFAULT_DISTRICT), help="district dataset folder")
    ap.add_argument("--out", help="output folder (default: DATASET/scenario)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of simulated time")
    ap.add_argument("--start", default=DEFAULT_START, help="ISO 8601 start time")
    args = ap.parse_args(argv)
    out = build_scenario(args.dataset, args.out, seed=args.seed, duration_s=args.duration, start=args.start)
    from desktop.core.feeds.scenario import load_scenario

    sc = load_scenario(out)
    print(f"wrote {out}: {len(sc.events)} events over {sc.duration_s:g} s; {sc.topics()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
