"""The program as a user starts it with a live broker: it connects, shows the feed state, and the
audit log records the operator's session from start to end."""
import os
import subprocess
import sys

import pytest

from desktop.core.alarms.service import AlarmService

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_a_live_session_is_audited_from_start_to_end(tiny_district, mqtt_broker, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_DATA=str(tmp_path / "data"))
    out = tmp_path / "shot.png"
    res = subprocess.run([sys.executable, "-m", "desktop", "--district", str(tiny_district), "--broker", mqtt_broker.url,
                          "--screenshot", str(out), "--after", "2", "--lang", "en"],
                         capture_output=True, text=True, timeout=100, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert out.exists()
    journal = tmp_path / "data" / "alarms-999001.sqlite"
    svc = AlarmService(journal)
    try:
        actions = [(e.action, e.target) for e in reversed(svc.audit_log(20))]
        assert actions[0] == ("session_started", "999001") and actions[-1] == ("session_ended", "999001")
        started = svc.audit_log(20)[-1]
        assert started.detail["mode"] == "operator" and started.operator
    finally:
        svc.stop()


def test_a_damaged_journal_does_not_keep_the_workstation_from_starting(tiny_district, mqtt_broker, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "alarms-999001.sqlite").write_bytes(b"\x00garbage" * 1000)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_DATA=str(data))
    res = subprocess.run([sys.executable, "-m", "desktop", "--district", str(tiny_district), "--broker", mqtt_broker.url,
                          "--screenshot", str(tmp_path / "s.png"), "--after", "2", "--lang", "en"],
                         capture_output=True, text=True, timeout=100, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "could not be read" in res.stderr  # told in the status bar (and the log)
    kept = list(data.glob("alarms-999001.sqlite.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"\x00garbage" * 1000
