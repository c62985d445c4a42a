"""The alarm benchmark itself, run short: a real broker, a publisher process, the offscreen window.

Checks what the benchmark reports, not how fast: every valid alarm shown (lost 0), every
malformed payload rejected, the plugin still enabled, and the JSON contract of the last line.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.bench.mosquitto import mosquitto_exe

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(mosquitto_exe() is None, reason="mosquitto is not installed")
def test_alarm_benchmark_short_run_reports_every_alarm(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_DATA=str(tmp_path / "data"),
               PINGAN_CACHE=str(tmp_path / "cache"))
    run = subprocess.run([sys.executable, "-m", "desktop.bench", "alarms", "--json", "--rate", "300", "--seconds", "2"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for key in ("stall_ms_p99", "latency_ms_p50", "latency_ms_p99", "lost", "rejected", "machine_ref_ms", "hog"):
        assert key in result, key
    assert result["plugin_state"] == "enabled"
    assert result["sent_valid"] == 594 and result["sent_malformed"] == 6
    assert result["lost"] == 0 and result["shown"] == result["sent_valid"]
    assert result["rejected"] == result["sent_malformed"]
    assert result["frames"] > 0 and result["latency_ms_p50"] > 0
    assert result["machine_ref_ms"] > 0 and result["hog"] == 0
