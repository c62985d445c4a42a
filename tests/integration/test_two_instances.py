"""Two instances of the program on one PC, as the same user, against a real mosquitto: each
gets its own workstation id, MQTT client id and journal, they see each other's workflow
changes, neither takes the other's broker connection, and a killed instance's slot (with its
journal) goes to the next one started."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from desktop.core.instance import InstanceError, claim_instance
from tests.fixtures.mqtt import Publisher, alarm_payload

# One instance without a window: the same Session the program builds (feed process and all).
CHILD = r"""
import json, sys, time
from desktop.core.alarms.model import AlarmState
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session

district, broker, operator = sys.argv[1:4]
cfg = Config(broker=broker, operator=operator)
s = Session(cfg, load_district(district), MapProjection()).start()
ok = s.wait_connected(20)
print(json.dumps({"workstation": s.workstation, "journal": str(s.journal_path), "connected": ok,
                  "patrol_journal": str(s.patrol_journal_path), "label": s.instance.label}), flush=True)
for line in sys.stdin:
    cmd, *args = line.split()
    if cmd == "wait":  # until the alarm is in that state (or the time is up)
        aid, want, timeout = args[0], args[1], float(args[2])
        deadline = time.monotonic() + timeout
        a = s.alarms.get(aid)
        while (a is None or str(a.state) != want) and time.monotonic() < deadline:
            time.sleep(0.05)
            a = s.alarms.get(aid)
        last = a.history[-1] if a is not None and a.history else None
        print(json.dumps({"state": str(a.state) if a else None, "origin": last.origin if last else "",
                          "operator": last.operator if last else ""}), flush=True)
    elif cmd == "move":
        aid, state = args
        s.alarms.transition(aid, AlarmState(state), operator, "from " + operator).result(10)
        print(json.dumps({"moved": aid}), flush=True)
    elif cmd == "status":
        print(json.dumps({"feed": s.feed_status()}), flush=True)
    elif cmd == "quit":
        break
s.stop()
"""


class Instance:
    def __init__(self, district, broker, operator, data):
        env = dict(os.environ, PINGAN_DATA=str(data))
        env.pop("PINGAN_FEED_INPROCESS", None)  # the feed process, as the program runs live
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(district), broker.url, operator],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.hello = self.read()

    def read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"instance exited ({self.proc.poll()})"
        return json.loads(line)

    def ask(self, *words) -> dict:
        self.proc.stdin.write(" ".join(words) + "\n")
        self.proc.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)


@pytest.mark.integration
def test_two_instances_on_one_pc_coexist_against_the_broker(tiny_district, mqtt_broker, tmp_path):
    host = socket.gethostname()
    data = tmp_path / "data"  # one user's data folder, shared by both
    started = []
    try:
        a = Instance(tiny_district, mqtt_broker, "甲", data)
        started.append(a)
        b = Instance(tiny_district, mqtt_broker, "乙", data)
        started.append(b)
        assert a.hello["connected"] and b.hello["connected"]
        assert (a.hello["workstation"], b.hello["workstation"]) == (host, f"{host}-2")
        assert a.hello["journal"].endswith("alarms-999001.sqlite")
        assert b.hello["journal"].endswith("alarms-999001-2.sqlite")
        assert a.hello["patrol_journal"] != b.hello["patrol_journal"]

        pub = Publisher(mqtt_broker, client_id="test-two-instances")
        pub.publish("pingan/alarm", alarm_payload(1, id="TWO-1"))
        assert pub.wait_all_sent()
        assert a.ask("wait", "TWO-1", "new", "15")["state"] == "new"
        assert b.ask("wait", "TWO-1", "new", "15")["state"] == "new"
        # each sees the other's change: with one workstation id, each would skip it as its own echo
        a.ask("move", "TWO-1", "acknowledged")
        seen = b.ask("wait", "TWO-1", "acknowledged", "15")
        assert seen == {"state": "acknowledged", "origin": host, "operator": "甲"}
        b.ask("move", "TWO-1", "false_alarm")
        seen = a.ask("wait", "TWO-1", "false_alarm", "15")
        assert seen == {"state": "false_alarm", "origin": f"{host}-2", "operator": "乙"}
        assert a.ask("status")["feed"] == b.ask("status")["feed"] == "connected"
        pub.close()
        log = mqtt_broker.log_path.read_text(errors="replace")
        assert f"as pingan-desk-{host} " in log and f"as pingan-desk-{host}-2 " in log
        assert "already connected" not in log  # neither took the other's connection

        # killed without a word: the system drops its lock; the next start takes its slot, its
        # journal (the alarm in its last state) and its broker session
        os.kill(a.proc.pid, signal.SIGKILL)
        a.proc.wait(10)
        c = Instance(tiny_district, mqtt_broker, "丙", data)
        started.append(c)
        assert c.hello["workstation"] == host and c.hello["journal"] == a.hello["journal"]
        assert c.ask("wait", "TWO-1", "false_alarm", "10")["state"] == "false_alarm"
        assert b.ask("status")["feed"] == "connected"
    finally:
        for inst in started:
            inst.close()


def test_instance_slots_names_and_release(tmp_path):
    host = socket.gethostname()
    first = claim_instance(tmp_path)
    second = claim_instance(tmp_path)
    assert (first.label, first.workstation, first.file_name("alarms-1")) == ("", host, "alarms-1.sqlite")
    assert (second.label, second.workstation, second.file_name("alarms-1")) == ("2", f"{host}-2", "alarms-1-2.sqlite")
    trainee = claim_instance(tmp_path, name="trainee desk", workstation="ws-7")
    assert (trainee.label, trainee.workstation) == ("trainee_desk", "ws-7-trainee_desk")
    first.release()
    assert claim_instance(tmp_path).label == ""  # a freed slot is taken again, first
    with pytest.raises(InstanceError, match=r"all 2 instance slots are taken: .*main.lock \(pid \d+\)"):
        claim_instance(tmp_path, max_instances=2)


def test_the_instance_name_comes_from_the_command_line_or_the_config(tmp_path):
    from desktop.cli import build_parser, config_from_args
    assert config_from_args(build_parser().parse_args(["--instance", "wall"])).instance == "wall"
    conf = tmp_path / "c.toml"
    conf.write_text('instance = "trainee"\n', encoding="utf-8")
    assert config_from_args(build_parser().parse_args(["--config", str(conf)])).instance == "trainee"
