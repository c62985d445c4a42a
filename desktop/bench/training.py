"""``python -m desktop.bench training [--scenario DIR] [--speed 60] [--runs 2] --json``: the
headless training run (see :mod:`desktop.training.headless`) as a benchmark — the scenario
played through the training window offscreen by the scripted trainee. Targets: every alarm
handled, ``alarm_to_video_ms_p50`` ≤ 1000, ``clicks_to_dispatch`` ≤ 2, a ten-minute scenario in
≤ 60 s of ``wall_s`` at 60×, ``deterministic``. The last line is one JSON object with
``machine_ref_ms``."""
from __future__ import annotations

import argparse

from desktop.paths import DEFAULT_DISTRICT


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench training", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default=str(DEFAULT_DISTRICT / "scenario"))
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    import json
    import tempfile
    from pathlib import Path

    from desktop.bench.machine import machine_ref_ms
    from desktop.training.headless import run_many
    root = Path(tempfile.mkdtemp(prefix="pingan-bench-training-"))
    result, _runs = run_many(args.scenario, runs=args.runs, speed=args.speed, seed=args.seed, autopilot=True,
                             root=root)
    result.pop("folder", None)
    result["machine_ref_ms"] = machine_ref_ms()
    print(json.dumps(result, ensure_ascii=False) if args.json else
          f"score {result['score']} · {result['wall_s']} s · deterministic {result['deterministic']}")
    return 0
