"""Headless training runs, for CI and for checking a scenario:

    python -m desktop.training run SCENARIO --autopilot --speed 60 --json [--seed N] [--runs 2]

Opens the training window offscreen with the same code as ``--mode training``, plays the
scenario on a stepped simulated clock (paused; moved ``--step`` seconds at a time, after each
step every feed catches up and the window has seen everything, so two runs with one seed do
exactly the same), paced at ``--speed`` times real time, with the scripted trainee
(:class:`~desktop.training.qt.autopilot.Autopilot`) working the window. Prints the score sheet
summary; with ``--json`` the last line is one JSON object:

``score``, ``alarms``, ``alarms_handled``, ``alarm_to_video_ms_p50``/``p95`` (real ms from an
alarm played onto the bus to the first frame of one of its right cameras on the wall),
``clicks_to_dispatch`` (the most any dispatched alarm needed), ``digest`` (the recording's),
``deterministic`` (with ``--runs 2`` or more: every run had the same score and digest),
``wall_s`` (real seconds of the scenario run), ``machine_ref_ms``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["run_once", "main"]


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    return round(v[min(len(v) - 1, max(0, int(math.ceil(q / 100.0 * len(v))) - 1))], 1)


def _district_for(scenario: Path, district_arg: str | None):
    """The dataset a scenario belongs to: --district, else the folder around it (a dataset's
    ``scenario/``), else the ``dataset`` its scenario.toml names, else the bundled one."""
    import tomllib
    from desktop.core.district.resolve import resolve_district
    if district_arg:
        return resolve_district(district_arg)
    if (scenario.parent / "district.toml").is_file():
        return scenario.parent
    try:
        meta = tomllib.loads((scenario / "scenario.toml").read_text(encoding="utf-8"))
        if meta.get("dataset"):
            return resolve_district(str(meta["dataset"]))
    except (OSError, ValueError):
        pass
    return resolve_district(None)


def run_once(scenario: Path | str, *, speed: float = 60.0, seed: int = 1, step_s: float = 0.5,
             autopilot: bool = True, script: dict | None = None, district: str | None = None,
             root: Path | None = None, trainee: str = "autopilot", screenshot: str | None = None,
             until_s: float | None = None, keep_window: bool = False) -> dict:
    """One headless run; returns the figures (and, with ``keep_window``, the live objects under
    ``"_objects"`` for tests that look at the window afterwards)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    from desktop.core import i18n
    from desktop.core.config import Config
    from desktop.core.district.loader import load_district
    from desktop.core.geo.crs import MapProjection
    from desktop.core.localtime import set_district_zone
    from desktop.qt.app import tune_runtime
    from desktop.qt.theme import apply_theme
    from desktop.training.qt.app import open_training
    from desktop.training.qt.autopilot import Autopilot

    scenario = Path(scenario).resolve()
    app = QApplication.instance()
    if app is None:
        app = QApplication([])
        # themed here only when made here: restyling a running application under live widgets
        # (a test process, a second run) crashes Qt
        apply_theme(app)
    if not i18n.current_locale():
        i18n.set_locale(i18n.default_locale())
    tune_runtime()
    cfg = Config()
    cfg.mode = "training"
    cfg.scenario = str(scenario)
    folder = _district_for(scenario, district)
    dist = load_district(folder, MapProjection(cfg.map_datum))
    set_district_zone(dist.info.timezone)
    window, session, ctl = open_training(app, cfg, dist, trainee, stepped=True, root=root)
    window.resize(1600, 960)
    for _ in range(5):
        app.processEvents()
    pilot = Autopilot(window, ctl, seed=seed, script=script) if autopilot else None
    clock = session.clock
    duration = ctl.scenario.duration_s if until_s is None else min(until_s, ctl.scenario.duration_s)
    n = int(math.ceil(duration / step_s))
    real0 = time.perf_counter()
    late_steps = 0
    for k in range(1, n + 1):
        t = min(duration, k * step_s)
        clock.set_time(ctl.t0 + t)
        ok = session.step_feeds()
        if not ok:
            late_steps += 1
        window.stream_pump.tick()  # this step's events to every reader (plugins, the recorder)
        app.processEvents()
        if pilot is not None:
            pilot.act(t)
        ctl.clock_changed.emit()
        target = real0 + t / speed  # paced: the window keeps decoding and painting in between
        while True:
            app.processEvents()
            left = target - time.perf_counter()
            if left <= 0:
                break
            time.sleep(min(left, 0.004))
    wall_s = time.perf_counter() - real0
    # the last frames of video that were on their way
    deadline = time.monotonic() + 1.0
    while ctl._waiting_video and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if screenshot:
        window.grab().save(screenshot)
    sheet = ctl.end("scenario over" if until_s is None else f"stopped at {duration:g} s")
    rec = ctl.recorder.recording()
    to_video = list(ctl.alarm_to_video_ms().values())
    clicks = pilot.clicks_to_dispatch() if pilot is not None else []
    out = {"scenario": ctl.scenario.name, "seed": seed, "speed": speed, "score": sheet.score,
           "alarms": len(sheet.alarms), "alarms_handled": sheet.handled,
           "outcomes": {o: sheet.count(o) for o in ("on_time", "late", "missed", "wrong", "not_received")},
           "alarm_to_video_ms_p50": _pct(to_video, 50), "alarm_to_video_ms_p95": _pct(to_video, 95),
           "alarms_with_video": len(to_video),
           "clicks_to_dispatch": max(clicks) if clicks else None,
           "clicks_to_dispatch_p50": _pct([float(c) for c in clicks], 50),
           "digest": rec.digest(), "records": len(rec.records), "late_steps": late_steps,
           "wall_s": round(wall_s, 2), "scenario_s": duration, "folder": str(ctl.folder)}
    if keep_window:
        out["_objects"] = (app, window, session, ctl, pilot, sheet)
    else:
        close_training(app, window, session, ctl)
    return out


def close_training(app, window, session, ctl) -> None:
    """Tear a headless run down (plugins, wall, session) without quitting the application."""
    ctl.close()
    mgr = getattr(window, "plugin_manager", None)
    if mgr is not None:
        mgr.unload_all()
    if getattr(window, "wall", None) is not None:
        window.wall.close_all()
    session.stop()
    window.close()
    window.deleteLater()
    app.processEvents()


def run_many(scenario, runs: int = 2, **kw) -> tuple[dict, list[dict]]:
    """``runs`` runs with the same seed: the first run's figures with ``runs``,
    ``deterministic`` and the slowest ``wall_s``; and every run's."""
    results = [run_once(scenario, **kw) for _ in range(max(1, runs))]
    first = dict(results[0])
    first["runs"] = len(results)
    first["deterministic"] = (len(results) > 1 and all(r["score"] == first["score"] and r["digest"] == first["digest"]
                                                        for r in results))
    first["wall_s"] = max(r["wall_s"] for r in results)
    return first, results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.training", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="play a scenario headless with the scripted trainee")
    r.add_argument("scenario", help="scenario folder")
    r.add_argument("--autopilot", action="store_true", help="the scripted trainee works the window")
    r.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--step", type=float, default=0.5, help="simulated seconds per clock step (default 0.5)")
    r.add_argument("--runs", type=int, default=2, help="runs with the same seed, to check determinism (default 2)")
    r.add_argument("--district", help="dataset folder or adcode (default: the scenario's)")
    r.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    r.add_argument("--keep", action="store_true", help="keep the sessions in the data folder (default: a temporary one)")
    args = ap.parse_args(argv)
    import logging
    # warnings (and, with PINGAN_LOG=INFO, every tile that fails to play) go to stderr, so a
    # slow alarm-to-video figure comes with the reason
    logging.basicConfig(level=os.environ.get("PINGAN_LOG", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from desktop.bench.machine import machine_ref_ms
    from desktop.core.feeds.scenario import ScenarioError
    from desktop.training.qt.app import TrainingSetupError
    root = None if args.keep else Path(tempfile.mkdtemp(prefix="pingan-training-"))
    try:
        first, results = run_many(args.scenario, runs=args.runs, speed=args.speed, seed=args.seed, step_s=args.step,
                                  autopilot=args.autopilot, district=args.district, root=root)
    except (TrainingSetupError, ScenarioError) as exc:
        print(f"python -m desktop.training: the scenario cannot be used:\n{exc}", file=sys.stderr)
        return 2
    first["machine_ref_ms"] = machine_ref_ms()
    if not args.keep:
        first.pop("folder", None)
    for r in results:
        print(f"run: score {r['score']}, handled {r['alarms_handled']}/{r['alarms']}, "
              f"alarm→video p50 {r['alarm_to_video_ms_p50']} ms, clicks to dispatch {r['clicks_to_dispatch']}, "
              f"{r['wall_s']} s, digest {r['digest'][:12]}", file=sys.stderr)
    print(json.dumps(first, ensure_ascii=False) if args.json else
          f"score {first['score']} · handled {first['alarms_handled']}/{first['alarms']} · "
          f"deterministic {first['deterministic']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
