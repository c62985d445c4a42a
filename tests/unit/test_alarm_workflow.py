"""The workflow state machine: legal moves, clear errors for illegal ones, recorded history."""
import pytest

from desktop.core.alarms import workflow
from desktop.core.alarms.model import PRIORITY_STYLES, Alarm, AlarmState, priority_style, type_label
from desktop.core.alarms.workflow import IllegalTransition

S = AlarmState


def make(state=S.NEW) -> Alarm:
    return Alarm(id="A1", type="fire", priority=1, time="2024-06-01T09:00:00+08:00", epoch=0.0,
                 lon=120.0, lat=36.0, crs="WGS84", lon_wgs=120.0, lat_wgs=36.0, lon_gcj=120.0,
                 lat_gcj=36.0, source="s", state=state)


def test_happy_path_records_every_change():
    a = make()
    a, t1 = workflow.apply(a, S.ACKNOWLEDGED, "alice", 10.0, "t10", note="seen", origin="ws1")
    a, t2 = workflow.apply(a, "dispatched", "alice", 20.0, "t20", note="car 3", origin="ws1", unit="car-3")
    a, t3 = workflow.apply(a, S.RESOLVED, "bob", 30.0, "t30", note="done", origin="ws2")
    assert a.state == S.RESOLVED and not a.is_open
    assert a.assigned_unit == "car-3"
    assert [t.to_state for t in a.history] == [S.ACKNOWLEDGED, S.DISPATCHED, S.RESOLVED]
    assert [t.from_state for t in a.history] == [S.NEW, S.ACKNOWLEDGED, S.DISPATCHED]
    assert (t3.operator, t3.epoch, t3.note, t3.origin) == ("bob", 30.0, "done", "ws2")
    assert t2.to_payload() == {"id": "A1", "state": "dispatched", "from": "acknowledged",
                               "operator": "alice", "time": "t20", "note": "car 3",
                               "origin": "ws1", "unit": "car-3"}


@pytest.mark.parametrize("state", [S.NEW, S.ACKNOWLEDGED, S.DISPATCHED])
def test_false_alarm_from_any_open_state(state):
    a, t = workflow.apply(make(state), S.FALSE_ALARM, "op", 1.0, "t")
    assert a.state == S.FALSE_ALARM and t.from_state == state


@pytest.mark.parametrize("current,target", [
    (S.NEW, S.DISPATCHED), (S.NEW, S.RESOLVED), (S.ACKNOWLEDGED, S.RESOLVED),
    (S.ACKNOWLEDGED, S.NEW), (S.RESOLVED, S.ACKNOWLEDGED), (S.FALSE_ALARM, S.NEW),
    (S.RESOLVED, S.FALSE_ALARM), (S.NEW, S.NEW),
])
def test_illegal_transitions_raise_a_clear_error(current, target):
    with pytest.raises(IllegalTransition) as exc:
        workflow.apply(make(current), target, "op", 1.0, "t")
    msg = str(exc.value)
    assert "A1" in msg and current.label in msg and target.label in msg and "allowed" in msg
    assert exc.value.current == current and exc.value.target == target


def test_error_message_lists_the_allowed_moves():
    with pytest.raises(IllegalTransition, match="allowed: Dispatched, False alarm"):
        workflow.check("A1", S.ACKNOWLEDGED, "resolved")
    with pytest.raises(IllegalTransition, match="none"):
        workflow.check("A1", S.RESOLVED, "new")


def test_unknown_state_and_missing_operator():
    with pytest.raises(ValueError, match="Unknown alarm state"):
        workflow.apply(make(), "closed", "op", 1.0, "t")
    with pytest.raises(ValueError, match="operator"):
        workflow.apply(make(), S.ACKNOWLEDGED, "  ", 1.0, "t")


def test_skip_allows_only_forward_jumps():
    a, t = workflow.apply(make(), S.RESOLVED, "remote", 1.0, "t", skip=True)
    assert a.state == S.RESOLVED and t.from_state == S.NEW
    with pytest.raises(IllegalTransition):
        workflow.apply(make(S.DISPATCHED), S.ACKNOWLEDGED, "remote", 1.0, "t", skip=True)


def test_priorities_have_colour_sound_and_label():
    assert sorted(PRIORITY_STYLES) == [1, 2, 3, 4]
    sounds = set()
    for p, st in PRIORITY_STYLES.items():
        assert st.colour.startswith("#") and len(st.colour) == 7
        assert st.sound == f"alarm_p{p}.wav" and st.sound_path.name == st.sound
        sounds.add(st.sound)
        assert st.label
    assert len(sounds) == 4
    assert priority_style(9).priority == 4 and priority_style(0).priority == 1
    assert type_label("fire") == "Fire or smoke"
    assert type_label("drone_sighting") == "drone_sighting"  # the list is open


def test_labels_passed_to_tr_indirectly_have_chinese_entries():
    import json

    from desktop.core.alarms import model
    from desktop.core.feeds.schema import REASONS

    cat = json.loads((model.RESOURCES / "i18n" / "zh_CN.json").read_text(encoding="utf-8"))
    labels = (set(model._STATE_LABELS.values()) | {p.name for p in PRIORITY_STYLES.values()}
              | set(model.ALARM_TYPES.values()) | set(REASONS.values()))
    assert labels - set(cat) == set()
