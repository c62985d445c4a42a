"""The alarm service: worker-thread ingest, drainable outbox, panel API, bus bridging."""
import subprocess
import sys
import threading
import time

import pytest

from desktop.core.alarms.model import AlarmState, EventKind
from desktop.core.alarms.service import AlarmService, UnknownAlarm
from desktop.core.alarms.workflow import IllegalTransition
from desktop.core.clock import SimClock
from desktop.core.feeds.bus import REJECTED_TOPIC, EventBus
from tests.fixtures.mqtt import alarm_payload

T0 = 1717203600.0  # 2024-06-01 09:00 +08:00


@pytest.fixture
def bus():
    return EventBus()


@pytest.fixture
def svc(tmp_path, bus):
    s = AlarmService(tmp_path / "j.db", clock=SimClock(T0, paused=True), workstation="ws1", bus=bus,
                     locate=lambda lon, lat: "east" if lon > 120.383 else "west").start()
    yield s
    s.stop()


def test_flood_of_1000_alarms_costs_one_drain(svc, bus):
    t0 = time.perf_counter()
    for i in range(1000):  # 1,000 messages: 100 sources repeating 10 times
        bus.publish("pingan/alarm", alarm_payload(i, source=f"s{i % 100}", type="crowd"))
    assert svc.flush(10)
    took = time.perf_counter() - t0
    events = svc.drain()  # what one GUI frame gets
    assert svc.drain() == []
    assert len(events) == 100 and all(e.kind == EventKind.NEW for e in events)
    assert sum(e.alarm.count for e in events) == 1000
    c = svc.counters()
    assert (c["received"], c["new"], c["folded"]) == (1000, 100, 900)
    assert c["batches"] < 50  # batched: one transaction per batch, not per message
    assert svc.journal.count("occurrences") == 1000
    assert took < 5.0


def test_drain_limit_and_order(svc):
    for i in range(10):
        svc.submit("pingan/alarm", alarm_payload(i))
    svc.flush()
    first = svc.drain(3)
    rest = svc.drain()
    assert [e.alarm.id for e in first + rest] == [f"T-{i:05d}" for i in range(10)]
    assert len(first) == 3 and svc.pending() == 0


def test_panel_api_sort_and_filters(svc):
    svc.submit("pingan/alarm", alarm_payload(1, priority=2, type="fire", time="2024-06-01T09:00:00+08:00", lon=120.39))
    svc.submit("pingan/alarm", alarm_payload(2, priority=1, type="crowd", time="2024-06-01T09:01:00+08:00", lon=120.38))
    svc.submit("pingan/alarm", alarm_payload(3, priority=2, type="fire", time="2024-06-01T09:02:00+08:00", lon=120.38))
    svc.submit("pingan/alarm", alarm_payload(4, priority=4, type="hazard_report", lon=120.39))
    svc.flush()
    assert [a.id for a in svc.alarms()] == ["T-00002", "T-00003", "T-00001", "T-00004"]
    assert [a.id for a in svc.alarms(newest_first=False)][:3] == ["T-00002", "T-00001", "T-00003"]
    assert {a.id for a in svc.alarms(types=["fire"])} == {"T-00001", "T-00003"}
    assert {a.id for a in svc.alarms(subdistricts=["east"])} == {"T-00001", "T-00004"}
    svc.transition("T-00003", "acknowledged", "li").result(5)
    assert [a.id for a in svc.alarms(states=["acknowledged"])] == ["T-00003"]
    assert [a.id for a in svc.alarms(states=[AlarmState.NEW], priorities=[2])] == ["T-00001"]
    assert svc.types() == ["crowd", "fire", "hazard_report"]
    assert svc.subdistricts() == ["east", "west"]
    assert svc.allowed_transitions("T-00003") == (AlarmState.DISPATCHED, AlarmState.FALSE_ALARM)
    a = svc.get("T-00002")
    assert a.style.colour and a.type_label == "Crowd gathering" and a.state_label == "New"


def test_transitions_are_timestamped_with_the_service_clock(svc):
    svc.submit("pingan/alarm", alarm_payload(1))
    svc.flush()
    svc.clock.advance(42)
    t = svc.transition("T-00001", "acknowledged", "li", "ok").result(5)
    assert t.epoch == T0 + 42 and t.time.startswith("2024-06-01T") and t.origin == "ws1"


def test_illegal_and_unknown_transitions_raise_at_once(svc):
    svc.submit("pingan/alarm", alarm_payload(1))
    svc.flush()
    with pytest.raises(IllegalTransition, match="cannot change from New to Resolved"):
        svc.transition("T-00001", "resolved", "li")
    with pytest.raises(UnknownAlarm):
        svc.transition("nope", "acknowledged", "li")
    with pytest.raises(ValueError, match="operator"):
        svc.transition("T-00001", "acknowledged", "")
    # A race (two moves queued from the same state) fails the second one's future, not the caller.
    f1 = svc.transition("T-00001", "acknowledged", "li")
    f2 = svc.transition("T-00001", "acknowledged", "wang")
    assert f1.result(5).operator == "li"
    with pytest.raises(IllegalTransition):
        f2.result(5)


def test_local_changes_are_published_and_remote_ones_applied(svc, bus):
    out = []
    bus.subscribe("pingan/alarm/+/state", lambda t, p: out.append((t, p)))
    svc.submit("pingan/alarm", alarm_payload(1))
    svc.flush()
    svc.drain()
    svc.transition("T-00001", "acknowledged", "li", "seen").result(5)
    svc.flush()
    (topic, payload), = out
    assert topic == "pingan/alarm/T-00001/state"
    assert payload["origin"] == "ws1" and payload["state"] == "acknowledged" and payload["operator"] == "li"
    # Our own echo (back from a broker) is ignored; another workstation's change is applied.
    bus.publish(topic, payload)
    bus.publish(topic, dict(payload, state="dispatched", origin="ws2", operator="wang", unit="car-1"))
    svc.flush()
    a = svc.get("T-00001")
    assert a.state == AlarmState.DISPATCHED and a.history[-1].origin == "ws2" and a.assigned_unit == "car-1"
    c = svc.counters()
    assert c["echoes"] == 1 and c["state_applied"] == 1
    kinds = [e.kind for e in svc.drain()]
    assert kinds == [EventKind.STATE_CHANGED, EventKind.STATE_CHANGED]
    # A stale remote change (behind the current state) is ignored, not an error.
    bus.publish(topic, dict(payload, state="acknowledged", origin="ws3"))
    svc.flush()
    assert svc.get("T-00001").state == AlarmState.DISPATCHED and svc.counters().get("state_conflicts") == 1


def test_remote_state_before_its_alarm_is_applied_when_it_arrives(svc, bus):
    bus.publish("pingan/alarm/T-00007/state", {"state": "acknowledged", "operator": "wang",
                                                "origin": "ws2", "time": "2024-06-01T09:00:05+08:00"})
    svc.flush()
    bus.publish("pingan/alarm", alarm_payload(7))
    svc.flush()
    assert svc.get("T-00007").state == AlarmState.ACKNOWLEDGED


def test_rejections_are_counted_per_reason_and_valid_ones_pass(svc, bus):
    svc.submit("pingan/alarm", b"{oops")
    svc.submit("pingan/alarm", b"\xc3\x28")
    svc.submit("pingan/alarm", alarm_payload(1, priority=7))
    svc.submit("pingan/alarm", alarm_payload(2))
    svc.submit("pingan/nothing", {})
    bus.publish(REJECTED_TOPIC, {"topic": "pingan/alarm", "reason": "invalid_json", "field": "", "error": "x"})
    svc.flush()
    assert svc.rejections() == {"invalid_json": 2, "invalid_utf8": 1, "out_of_range": 1, "unknown_topic": 1}
    assert svc.counters()["rejected"] == 5
    events = svc.drain()
    rej = [e for e in events if e.kind == EventKind.REJECTED]
    assert len(rej) == 1  # coalesced: one slot with the totals
    assert rej[0].counters["invalid_json"] == 2
    assert [e.alarm.id for e in events if e.kind == EventKind.NEW] == ["T-00002"]


def test_patrol_and_camera_status(svc, bus):
    pos = {"kind": "car", "time": "2024-06-01T09:00:00+08:00", "lon": 120.38, "lat": 36.06,
           "crs": "GCJ02", "speed_kmh": 30, "heading_deg": 90}
    for i in range(5):  # five moves of one unit: the UI gets the latest only
        bus.publish("pingan/patrol/car-1/position", dict(pos, unit="car-1", lon=120.38 + i * 1e-4))
    bus.publish("pingan/patrol/foot-1/position", dict(pos, unit="foot-1", kind="foot"))
    bus.publish("pingan/camera/C-9/status", {"status": "offline", "time": "2024-06-01T09:00:00+08:00"})
    svc.submit("pingan/alarm", alarm_payload(1))
    svc.flush()
    svc.transition("T-00001", "acknowledged", "li").result(5)
    svc.transition("T-00001", "dispatched", "li", unit="car-1").result(5)
    ev = svc.drain()
    patrol = [e for e in ev if e.kind == EventKind.PATROL]
    assert [e.patrol.unit for e in patrol] == ["car-1", "foot-1"]
    assert patrol[0].patrol.lon == pytest.approx(120.3804)
    assert [e.camera.status for e in ev if e.kind == EventKind.CAMERA_STATUS] == ["offline"]
    units = svc.unit_positions()
    assert units["car-1"][2:] == ("car", units["car-1"][3], True)  # busy: dispatched
    assert units["foot-1"][4] is False
    assert svc.camera_status()["C-9"].status == "offline"
    # resolved: no longer busy; a second alarm dispatched to foot-1 makes it busy
    svc.transition("T-00001", "resolved", "li").result(5)
    svc.submit("pingan/alarm", alarm_payload(2))
    svc.flush()
    svc.transition("T-00002", "acknowledged", "li").result(5)
    svc.transition("T-00002", "dispatched", "li", unit="foot-1").result(5)
    units = svc.unit_positions()
    assert units["car-1"][4] is False and units["foot-1"][4] is True


def test_notify_is_called_once_per_empty_to_non_empty(svc):
    calls = []
    svc.set_notify(lambda: calls.append(threading.current_thread().name))
    for i in range(50):
        svc.submit("pingan/alarm", alarm_payload(i))
    svc.flush()
    assert 1 <= len(calls) <= 50 and calls[0] == "alarm-service"
    svc.drain()
    n = len(calls)
    svc.submit("pingan/alarm", alarm_payload(99))
    svc.flush()
    assert len(calls) == n + 1


def test_core_never_imports_qt():
    code = ("import sys; import desktop.core.alarms.service, desktop.core.alarms.linkage, "
            "desktop.core.feeds.mqtt, desktop.core.feeds.scenario, desktop.core.clock, "
            "desktop.training.make_scenario; "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_closed_alarms_past_the_retention_leave_memory_not_the_journal(tmp_path):
    clock = SimClock(T0, paused=True)
    with AlarmService(tmp_path / "r.db", clock=clock, workstation="ws", closed_retention_s=3600) as s:
        for i in range(3):
            s.submit("pingan/alarm", alarm_payload(i, time="2024-06-01T09:00:00+08:00"))
        s.flush()
        s.transition("T-00000", "false_alarm", "op").result(5)
        s.transition("T-00001", "acknowledged", "op").result(5)
        s.drain()
        clock.advance(1800)
        s.forget_closed()
        assert len(s.alarms()) == 3 and s.drain() == []  # closed, but not long enough
        clock.advance(1900)
        s.forget_closed()
        assert sorted(a.id for a in s.alarms()) == ["T-00001", "T-00002"]  # open ones stay, however old
        events = s.drain()
        assert [(e.kind, e.alarm.id) for e in events] == [(EventKind.FORGOTTEN, "T-00000")]
        assert s.counters()["forgotten"] == 1
    with AlarmService(tmp_path / "r.db", clock=clock, closed_retention_s=None) as again:
        assert again.get("T-00000") is not None  # the journal keeps everything
