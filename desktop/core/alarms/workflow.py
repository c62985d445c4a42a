"""The alarm workflow: new → acknowledged → dispatched → resolved, or false alarm on the way.

Pure functions over :class:`~desktop.core.alarms.model.Alarm` records: they check a move,
build the :class:`~desktop.core.alarms.model.Transition` that records it (operator, time,
note, origin workstation) and return the updated record. The service decides when to call
them and journals the result.
"""
from __future__ import annotations

from dataclasses import replace

from desktop.core.i18n import tr

from .model import Alarm, AlarmState, Transition

__all__ = ["TRANSITIONS", "IllegalTransition", "allowed", "reachable", "check", "apply", "as_state"]

S = AlarmState

# The moves an operator may make. A false alarm can be declared at any point before the
# alarm is resolved; resolved and false alarm are final (a new occurrence opens a new alarm).
TRANSITIONS: dict[AlarmState, tuple[AlarmState, ...]] = {
    S.NEW: (S.ACKNOWLEDGED, S.FALSE_ALARM),
    S.ACKNOWLEDGED: (S.DISPATCHED, S.FALSE_ALARM),
    S.DISPATCHED: (S.RESOLVED, S.FALSE_ALARM),
    S.RESOLVED: (),
    S.FALSE_ALARM: (),
}


class IllegalTransition(ValueError):
    """A workflow move that is not allowed from the alarm's current state (the message says which are)."""

    def __init__(self, alarm_id: str, current: AlarmState, target: AlarmState | str):
        self.alarm_id = alarm_id
        self.current = current
        self.target = target
        options = ", ".join(s.label for s in TRANSITIONS.get(current, ())) or tr("none (final state)")
        target_label = target.label if isinstance(target, AlarmState) else str(target)
        super().__init__(tr("Alarm {id}: cannot change from {current} to {target}; allowed: {options}",
                            id=alarm_id, current=current.label, target=target_label, options=options))


def as_state(value: AlarmState | str) -> AlarmState:
    """``value`` as an :class:`AlarmState` (accepts the enum or its string value)."""
    if isinstance(value, AlarmState):
        return value
    try:
        return AlarmState(str(value).strip().lower())
    except ValueError:
        raise ValueError(tr("Unknown alarm state {state!r}; expected one of {states}",
                            state=value, states=", ".join(s.value for s in AlarmState))) from None


def allowed(state: AlarmState) -> tuple[AlarmState, ...]:
    """The states reachable in one move from ``state``."""
    return TRANSITIONS[state]


def reachable(current: AlarmState, target: AlarmState) -> bool:
    """True when ``target`` lies ahead of ``current`` (one or more moves)."""
    todo, seen = list(TRANSITIONS[current]), set()
    while todo:
        s = todo.pop()
        if s == target:
            return True
        if s not in seen:
            seen.add(s)
            todo.extend(TRANSITIONS[s])
    return False


def check(alarm_id: str, current: AlarmState, target: AlarmState | str, skip: bool = False) -> AlarmState:
    """Return ``target`` as a state, or raise :class:`IllegalTransition` (or ValueError for an unknown name).

    ``skip=True`` also accepts a state several moves ahead: a change reported by another
    workstation is applied even when an intermediate message was missed, so all
    workstations converge on the furthest state.
    """
    target_state = as_state(target)
    ok = reachable(current, target_state) if skip else target_state in TRANSITIONS[current]
    if not ok:
        raise IllegalTransition(alarm_id, current, target_state)
    return target_state


def apply(alarm: Alarm, target: AlarmState | str, operator: str, epoch: float, time: str,
          note: str = "", origin: str = "", unit: str = "", skip: bool = False) -> tuple[Alarm, Transition]:
    """Move ``alarm`` to ``target``; returns the new record and the transition to journal.

    ``unit`` (the patrol unit sent) is kept on the alarm when given with a dispatch.
    """
    if not isinstance(operator, str) or not operator.strip():
        raise ValueError(tr("Alarm {id}: an operator name is required for a workflow change", id=alarm.id))
    target_state = check(alarm.id, alarm.state, target, skip)
    t = Transition(alarm_id=alarm.id, from_state=alarm.state, to_state=target_state,
                   operator=operator.strip(), epoch=epoch, time=time, note=note or "",
                   origin=origin, unit=unit or "")
    updated = replace(alarm, state=target_state, history=alarm.history + (t,), updated=epoch,
                      assigned_unit=unit or alarm.assigned_unit)
    return updated, t
