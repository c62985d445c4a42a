"""kill -9 of a process running the alarm service: a restart shows every alarm and its last state.

The worker process (a small script run with this interpreter) owns the journal and an MQTT
session. It is killed with SIGKILL while alarms are still streaming in; a new process on
the same journal and client id must end with every alarm exactly once (the broker
redelivers what was not acknowledged, i.e. not yet committed) and with the workflow change
made before the crash, its history and its audit row intact.
"""
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from desktop.core.alarms.model import AlarmState
from desktop.core.alarms.service import AlarmService
from tests.fixtures.mqtt import Publisher, alarm_payload

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
N = 500

WORKER = r'''
import sys
from desktop.core.alarms.service import AlarmService
from desktop.core.feeds.bus import EventBus
from desktop.core.feeds.mqtt import MqttFeed

db, port = sys.argv[1], int(sys.argv[2])
bus = EventBus()
svc = AlarmService(db, bus=bus, workstation="ws-kill").start()
feed = MqttFeed(bus, "127.0.0.1", port, workstation="ws-kill", reconnect_min_s=0.1,
                reconnect_max_s=1.0).start()
if not feed.wait_connected(10):
    sys.exit("no broker")
print("READY", len(svc.alarms()), flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd and cmd[0] == "ack":
        t = svc.transition(cmd[1], "acknowledged", "op-kill", "before the crash").result(10)
        print("DONE", t.to_state, flush=True)
    elif cmd and cmd[0] == "quit":
        break
feed.stop()
svc.stop()
print("BYE", flush=True)
'''


class Worker:
    def __init__(self, script: Path, db: Path, port: int):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, str(script), str(db), str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env, cwd=str(ROOT))
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise AssertionError(f"worker exited ({self.proc.returncode}) before {prefix!r}")
                continue
            if line.startswith(prefix):
                return line
        raise AssertionError(f"worker did not say {prefix!r} in {timeout} s")

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def journal_count(db: Path, table: str = "alarms") -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def wait_count(db: Path, n: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    got = journal_count(db)
    while got < n and time.monotonic() < deadline:
        time.sleep(0.05)
        got = journal_count(db)
    return got


def test_kill9_and_restart_keeps_every_alarm_and_state(mqtt_broker, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    db = tmp_path / "journal.db"
    pub = Publisher(mqtt_broker)
    first = Worker(script, db, mqtt_broker.port)
    second = None
    try:
        assert first.expect("READY") == "READY 0"
        for i in range(100):
            pub.publish("pingan/alarm", alarm_payload(i))
        assert wait_count(db, 100) == 100
        first.send("ack T-00000")
        assert first.expect("DONE") == "DONE acknowledged"

        # Keep streaming, and kill the worker in the middle of it.
        sent = threading.Event()

        def stream():
            for i in range(100, N):
                pub.publish("pingan/alarm", alarm_payload(i))
                time.sleep(0.002)
            sent.set()

        th = threading.Thread(target=stream, daemon=True)  # never keeps pytest from exiting
        th.start()
        assert wait_count(db, 180) >= 180
        first.kill9()
        at_kill = journal_count(db)
        th.join(60)
        assert pub.wait_all_sent()
        assert at_kill < N, "the kill came too late to test anything"

        second = Worker(script, db, mqtt_broker.port)
        restored = int(second.expect("READY").split()[1])
        assert restored >= at_kill  # everything committed before the kill is there at once
        assert wait_count(db, N) == N
        time.sleep(0.3)  # let redeliveries of already-journaled messages arrive
        second.send("quit")
        second.expect("BYE")
        second.proc.wait(10)
    finally:
        pub.close()
        first.stop()
        if second is not None:
            second.stop()

    svc = AlarmService(db, workstation="ws-kill")
    try:
        alarms = svc.alarms()
        assert sorted(a.id for a in alarms) == [f"T-{i:05d}" for i in range(N)]
        assert all(a.count == 1 for a in alarms)  # no duplicate folded in
        assert svc.journal.count("occurrences") == N
        a0 = svc.get("T-00000")
        assert a0.state == AlarmState.ACKNOWLEDGED
        (t,) = a0.history
        assert (t.operator, t.note, t.origin) == ("op-kill", "before the crash", "ws-kill")
        assert [e.action for e in svc.audit_log()] == ["transition"]
        assert all(a.state == AlarmState.NEW for a in alarms if a.id != "T-00000")
    finally:
        svc.stop()
