"""The soak benchmark itself, run short on a small wall: real RTSP, the offscreen window, alarms
on the bus with linkage. Checks the JSON contract of its last line and that what it reports
is what a wall that keeps changing cameras must show: as many live players as tiles, no
threads gained, cameras really changed by the tour and by the alarms' linkage."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]
ROOT = Path(__file__).resolve().parents[2]

KEYS = ("minutes", "rss_mb_start", "rss_mb_end", "rss_growth_pct", "threads_start", "threads_end",
        "players_alive_end", "tiles", "camera_changes", "machine_ref_ms")


def test_soak_benchmark_short_run(gst_rtsp, video_clips, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_DATA=str(tmp_path / "data"))
    cmd = [sys.executable, "-m", "desktop.bench", "soak", "--json", "--minutes", "0.5", "--tiles", "4",
           "--tour-s", "2", "--warmup-s", "8", "--sample-s", "4", "--ack-after-s", "3", "--close-after-s", "6",
           "--clips", "2", "--clip-seconds", "6", "--clip-folder", str(video_clips["folder"])]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=140)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for key in KEYS:
        assert result.get(key) is not None, key
    assert result["bench"] == "soak" and result["tiles"] == 4
    assert result["plugin_states"]["alarms"] == "enabled"
    assert result["players_alive_end"] == result["tiles"]
    assert result["decode_threads_end"] <= result["tiles"] + 2  # a replaced tile may still be winding down
    assert result["threads_end"] <= result["threads_start"] + 4
    # the tour paged the wall (4 tiles every 2 s) and alarms moved it too
    assert result["camera_changes"] >= 40 and result["linkage_wall_changes"] >= 3
    assert result["alarms_sent"] >= 25 and result["alarms_new"] >= result["alarms_sent"] - 2
    assert result["alarms_closed"] >= 10
    assert result["machine_ref_ms"] > 0 and 0.45 <= result["minutes"] <= 0.7
