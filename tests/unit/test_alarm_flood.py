"""Flood control: repeats of one source and type fold into one alarm with a count and last time."""
import pytest

from desktop.core.alarms.flood import FloodControl
from desktop.core.alarms.model import AlarmState, EventKind
from desktop.core.alarms.service import AlarmService
from desktop.core.clock import SimClock
from tests.fixtures.mqtt import alarm_payload


def test_flood_control_window_slides_and_forgets():
    f = FloodControl(window_s=60)
    assert f.match("cam1", "perimeter", 0.0) is None
    f.record("cam1", "perimeter", "A1", 0.0)
    assert f.match("cam1", "perimeter", 59.0) == "A1"
    assert f.match("cam1", "fire", 10.0) is None  # another type is another alarm
    assert f.match("cam2", "perimeter", 10.0) is None  # another source too
    f.record("cam1", "perimeter", "A1", 59.0)
    assert f.match("cam1", "perimeter", 110.0) == "A1"  # the window slides with each repeat
    assert f.match("cam1", "perimeter", 200.0) is None
    f.forget("A1")
    assert f.match("cam1", "perimeter", 60.0) is None
    f.record("cam1", "perimeter", "A2", 1000.0)
    assert f.prune(2000.0) == 1 and len(f) == 0
    assert FloodControl(0).match("x", "y", 0.0) is None  # 0 turns folding off
    with pytest.raises(ValueError):
        FloodControl(-1)


def _ts(sec: int) -> str:
    return f"2024-06-01T09:{sec // 60:02d}:{sec % 60:02d}+08:00"


@pytest.fixture
def svc(tmp_path):
    s = AlarmService(tmp_path / "j.db", clock=SimClock(1717203600.0), workstation="ws1",
                     flood_window_s=60).start()
    yield s
    s.stop()


def test_repeats_fold_with_count_and_last_time(svc):
    for i in range(20):
        svc.submit("pingan/alarm", alarm_payload(i, source="fence-7", type="perimeter", priority=3,
                                                 time=_ts(i * 2)))
    svc.submit("pingan/alarm", alarm_payload(99, source="fence-7", type="fire", time=_ts(10)))
    svc.flush()
    alarms = svc.alarms()
    assert len(alarms) == 2
    folded = next(a for a in alarms if a.type == "perimeter")
    assert folded.id == "T-00000" and folded.count == 20
    assert folded.last_time == _ts(38) and folded.time == _ts(0)
    assert svc.counters()["folded"] == 19 and svc.counters()["new"] == 2
    # Every repeat is journaled as an occurrence of the one alarm.
    assert len(svc.journal.occurrences("T-00000")) == 20


def test_repeat_after_window_or_after_closing_opens_a_new_alarm(svc):
    svc.submit("pingan/alarm", alarm_payload(1, source="s", time=_ts(0)))
    svc.submit("pingan/alarm", alarm_payload(2, source="s", time=_ts(61)))  # outside 60 s
    svc.flush()
    assert {a.id for a in svc.alarms()} == {"T-00001", "T-00002"}
    svc.transition("T-00002", AlarmState.FALSE_ALARM, "op", "wind").result(5)
    svc.submit("pingan/alarm", alarm_payload(3, source="s", time=_ts(70)))  # within window, but closed
    svc.flush()
    assert svc.get("T-00003") is not None and svc.get("T-00003").count == 1


def test_a_more_urgent_repeat_raises_priority(svc):
    svc.submit("pingan/alarm", alarm_payload(1, source="s", priority=3, time=_ts(0)))
    svc.flush()
    svc.drain()
    svc.submit("pingan/alarm", alarm_payload(2, source="s", priority=1, time=_ts(5)))
    svc.flush()
    (ev,) = svc.drain()
    assert ev.kind == EventKind.UPDATED and ev.alarm.priority == 1 and ev.alarm.count == 2


def test_window_is_configurable(tmp_path):
    with AlarmService(tmp_path / "j.db", flood_window_s=5, workstation="ws") as s:
        s.submit("pingan/alarm", alarm_payload(1, source="s", time=_ts(0)))
        s.submit("pingan/alarm", alarm_payload(2, source="s", time=_ts(10)))
        s.flush()
        assert len(s.alarms()) == 2
    with AlarmService(tmp_path / "k.db", flood_window_s=0, workstation="ws") as s:
        s.submit("pingan/alarm", alarm_payload(1, source="s", time=_ts(0)))
        s.submit("pingan/alarm", alarm_payload(2, source="s", time=_ts(0)))
        s.flush()
        assert len(s.alarms()) == 2


def test_folding_survives_a_restart(tmp_path):
    with AlarmService(tmp_path / "j.db", workstation="ws") as s:
        s.submit("pingan/alarm", alarm_payload(1, source="s", time=_ts(0)))
        s.flush()
    with AlarmService(tmp_path / "j.db", workstation="ws") as s:
        s.submit("pingan/alarm", alarm_payload(2, source="s", time=_ts(30)))
        s.flush()
        assert [(a.id, a.count) for a in s.alarms()] == [("T-00001", 2)]
