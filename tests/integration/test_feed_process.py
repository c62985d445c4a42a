"""The out-of-process alarm feed: alarms from a real broker reach the GUI-side mirror, a workflow
change goes through the child to the journal, and the child exits when asked or orphaned."""
import time

import pytest

from desktop.core.alarms.model import AlarmState, EventKind
from desktop.core.alarms.remote import RemoteAlarmService
from desktop.core.alarms.service import AlarmService
from desktop.core.alarms.workflow import IllegalTransition
from tests.fixtures.mqtt import Publisher, alarm_payload

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def test_remote_service_mirrors_the_child_and_journals_there(mqtt_broker, tmp_path):
    journal = tmp_path / "remote.sqlite"
    svc = RemoteAlarmService(journal, broker_url=mqtt_broker.url, workstation="ws-r",
                             locate=lambda lon, lat: "测试街道").start()
    pub = Publisher(mqtt_broker, client_id="remote-pub")
    try:
        assert svc.wait_connected(10)
        for i in range(50):
            pub.publish("pingan/alarm", alarm_payload(i))
        pub.publish("pingan/alarm", b"{broken")
        deadline = time.monotonic() + 15
        seen = []
        while time.monotonic() < deadline and len({e.alarm.id for e in seen if e.kind == EventKind.NEW}) < 50:
            seen += svc.drain()
            time.sleep(0.05)
        assert len({e.alarm.id for e in seen if e.kind == EventKind.NEW}) == 50
        assert all(e.alarm.subdistrict == "测试街道" for e in seen if e.alarm is not None)  # located here
        deadline = time.monotonic() + 5
        while svc.counters().get("rejected", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.counters()["rejected"] == 1
        first = svc.alarms()[0]
        with pytest.raises(IllegalTransition):
            svc.transition(first.id, AlarmState.RESOLVED, "op")  # checked at once, as in-process
        t = svc.transition(first.id, AlarmState.ACKNOWLEDGED, "op", "ok").result(10)
        assert t.to_state == AlarmState.ACKNOWLEDGED
    finally:
        pub.close()
        svc.stop()
    assert svc._proc is None
    again = AlarmService(journal)  # the child wrote the journal
    try:
        assert len(again.alarms()) == 50
        assert again.get(first.id).state == AlarmState.ACKNOWLEDGED
    finally:
        again.stop()


def test_the_feed_process_places_the_alarms_in_their_subdistricts_with_the_sessions_locator(
        mqtt_broker, tmp_path, tiny_district):
    """With a locator the child places the alarms before it sends them: the GUI side has no
    locate of its own here, so every sub-district seen came from the child."""
    import numpy as np

    from desktop.core.district.loader import load_district
    from desktop.core.district.locator import SubdistrictLocator
    from desktop.core.geo.crs import MapProjection
    locator = SubdistrictLocator.from_district(load_district(tiny_district), MapProjection())
    svc = RemoteAlarmService(tmp_path / "placed.sqlite", broker_url=mqtt_broker.url, workstation="ws-p",
                             locator=locator).start()
    pub = Publisher(mqtt_broker, client_id="placed-pub")
    try:
        assert svc.wait_connected(10)
        # a row of alarms across the district's edge: some in a cell, some outside every cell
        for i in range(40):
            pub.publish("pingan/alarm", alarm_payload(i, lon=120.37 + i * 0.001, crs="WGS84"))
        deadline = time.monotonic() + 15
        seen = {}
        while time.monotonic() < deadline and len(seen) < 40:
            seen.update({e.alarm.id: e.alarm for e in svc.drain() if e.kind == EventKind.NEW})
            time.sleep(0.05)
        assert len(seen) == 40
        alarms = sorted(seen.values(), key=lambda a: a.id)
        want = locator.locate_many(np.array([a.lon_wgs for a in alarms]), np.array([a.lat_wgs for a in alarms]))
        assert [a.subdistrict for a in alarms] == want
        assert any(want) and not all(want)
    finally:
        pub.close()
        svc.stop()


def test_the_feed_process_ends_when_the_gui_process_is_killed(mqtt_broker, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    code = ("import sys, time\n"
            "from desktop.core.alarms.remote import RemoteAlarmService\n"
            f"s = RemoteAlarmService({str(tmp_path / 'k.sqlite')!r}, broker_url={mqtt_broker.url!r}, workstation='k').start()\n"
            "print(s._proc.pid, flush=True)\n"
            "time.sleep(60)\n")
    gui = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(gui.stdout.readline())
        os.kill(gui.pid, signal.SIGKILL)
        gui.wait(10)
        deadline = time.monotonic() + 10
        alive = True
        while time.monotonic() < deadline and alive:
            try:
                os.kill(child, 0)
                with open(f"/proc/{child}/stat") as f:
                    alive = f.read().split()[2] != "Z"
            except (ProcessLookupError, FileNotFoundError):
                alive = False
            time.sleep(0.1)
        assert not alive, "the feed process outlived the GUI"
    finally:
        if gui.poll() is None:
            gui.kill()


def _drain_new(svc, want: set, timeout: float) -> set:
    seen: set = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not want <= seen:
        seen |= {e.alarm.id for e in svc.drain() if e.alarm is not None and e.kind == EventKind.NEW}
        time.sleep(0.05)
    return seen


def test_a_killed_feed_process_is_restarted_and_nothing_is_lost(mqtt_broker, tmp_path):
    import os
    import signal
    svc = RemoteAlarmService(tmp_path / "sup.sqlite", broker_url=mqtt_broker.url, workstation="ws-sup")
    svc.BACKOFF_FIRST_S = 0.2
    svc.start()
    pub = Publisher(mqtt_broker, client_id="sup-pub")
    try:
        assert svc.wait_connected(10)
        for i in range(20):
            pub.publish("pingan/alarm", alarm_payload(i))
        assert len(_drain_new(svc, {f"T-{i:05d}" for i in range(20)}, 15)) == 20
        pub.publish("pingan/alarm", b"{broken")
        deadline = time.monotonic() + 5
        while svc.counters().get("rejected", 0) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        old_pid = svc.pid
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while svc.feed_status != "restarting" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert svc.feed_status == "restarting" and svc.restarts == 1
        # a workflow change asked while the child is down fails at once, with a reason, never hangs
        fut = svc.transition("T-00000", AlarmState.ACKNOWLEDGED, "op")
        with pytest.raises(RuntimeError, match="feed process"):
            fut.result(5)
        # alarms published meanwhile wait in the broker for our persistent session
        for i in range(20, 40):
            pub.publish("pingan/alarm", alarm_payload(i))
        assert svc.wait_connected(20), svc.feed_status
        assert svc.pid not in (None, old_pid)
        assert len(_drain_new(svc, {f"T-{i:05d}" for i in range(20, 40)}, 15)) == 20
        assert len(svc.alarms()) == 40
        c = svc.counters()
        assert c["rejected"] == 1 and c["received"] >= 41  # totals carry over the restart
        t = svc.transition("T-00000", AlarmState.ACKNOWLEDGED, "op", "after restart").result(10)
        assert t.to_state == AlarmState.ACKNOWLEDGED
    finally:
        pub.close()
        svc.stop()
    again = AlarmService(tmp_path / "sup.sqlite")
    try:
        assert len(again.alarms()) == 40 and again.get("T-00000").state == AlarmState.ACKNOWLEDGED
    finally:
        again.stop()


def test_a_hung_feed_process_is_killed_and_restarted(mqtt_broker, tmp_path):
    import os
    import signal
    svc = RemoteAlarmService(tmp_path / "hung.sqlite", broker_url=mqtt_broker.url, workstation="ws-hung")
    svc.STALL_S, svc.BACKOFF_FIRST_S = 2.5, 0.2  # the child says "alive" every second
    svc.start()
    pub = Publisher(mqtt_broker, client_id="hung-pub")
    try:
        assert svc.wait_connected(10)
        old_pid = svc.pid
        os.kill(old_pid, signal.SIGSTOP)  # alive but silent: a deadlock looks like this
        pub.publish("pingan/alarm", alarm_payload(7))
        deadline = time.monotonic() + 15
        while svc.restarts == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.restarts == 1
        assert svc.wait_connected(20) and svc.pid != old_pid
        assert _drain_new(svc, {"T-00007"}, 15) == {"T-00007"}  # redelivered to the new child
    finally:
        pub.close()
        svc.stop()


def test_a_feed_process_that_cannot_start_says_why_at_once(tmp_path):
    svc = RemoteAlarmService(tmp_path / "x.sqlite", broker_url="mqtt://", workstation="ws-bad")
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="no host"):
        svc.start(timeout=30)
    assert time.monotonic() - t0 < 15  # the child's own reason, not a 30 s time-out
    assert svc.restarts == 0 and svc.pid is None
