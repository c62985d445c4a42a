"""The headless training run CI relies on: the bundled scenario played start to finish through
the training window offscreen by the scripted trainee, as ``python -m desktop.training run``."""
import json
import os
import subprocess
import sys

from desktop.paths import MAPS, ROOT


def test_headless_run_of_the_bundled_scenario_meets_its_targets(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_DATA=str(tmp_path / "data"), PINGAN_LOG="INFO")
    out = subprocess.run([sys.executable, "-m", "desktop.training", "run", str(MAPS / "shinan" / "scenario"),
                          "--autopilot", "--speed", "60", "--json", "--runs", "2"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    # a failure shows the run's log (tiles that failed to play are logged there)
    why = out.stderr[-4000:]
    assert res["alarms"] == 16 and res["alarms_handled"] == res["alarms"], why
    assert res["score"] == 100.0, why
    assert res["clicks_to_dispatch"] <= 2, why
    assert res["alarm_to_video_ms_p50"] is not None and res["alarm_to_video_ms_p50"] <= 1000, why
    assert res["deterministic"] is True and res["runs"] == 2
    assert res["late_steps"] == 0
    assert "machine_ref_ms" in res
    # the sessions went to a throwaway folder, never into the data folder
    assert not (tmp_path / "data" / "training").exists() or not any((tmp_path / "data" / "training").iterdir())
