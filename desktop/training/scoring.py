"""Score a training session: did the trainee take each alarm where it should go, in time?

A scenario's ``expected.toml`` says, per alarm, the state it should reach and within how many
seconds of its arrival (:class:`~desktop.core.feeds.scenario.Expectation`). The journal's
transitions say what the trainee did. An expectation is met by the first transition into the
expected state *or a later one on the same path* (an alarm resolved within the dispatch
deadline was dispatched in time), never by a false alarm unless a false alarm was expected.

Points: 1 on time, 0.5 late, 0 missed or handled the wrong way; the score is their share, 0–100.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from desktop.core.alarms import workflow
from desktop.core.alarms.model import Alarm, AlarmState
from desktop.core.feeds.scenario import Expectation

__all__ = ["AlarmScore", "ScoreReport", "score"]


@dataclass(frozen=True)
class AlarmScore:
    """How one expected response went. ``outcome``: on_time, late, missed, wrong or not_received."""

    alarm_id: str
    expected: str
    within_s: float
    outcome: str
    took_s: float | None  # from arrival to the transition that met the expectation
    final_state: str
    operator: str = ""

    @property
    def points(self) -> float:
        return {"on_time": 1.0, "late": 0.5}.get(self.outcome, 0.0)


@dataclass(frozen=True)
class ScoreReport:
    """All expectations of a session, and the score."""

    items: tuple[AlarmScore, ...]

    @property
    def score(self) -> float:
        return 0.0 if not self.items else round(100.0 * sum(i.points for i in self.items) / len(self.items), 1)

    def count(self, outcome: str) -> int:
        return sum(1 for i in self.items if i.outcome == outcome)

    def as_dict(self) -> dict:
        return {"score": self.score,
                "outcomes": {o: self.count(o) for o in ("on_time", "late", "missed", "wrong", "not_received")},
                "items": [{"alarm": i.alarm_id, "expected": i.expected, "within_s": i.within_s,
                           "outcome": i.outcome, "took_s": i.took_s, "final_state": i.final_state,
                           "operator": i.operator} for i in self.items]}


def _meets(expected: AlarmState, reached: AlarmState) -> bool:
    if reached == expected:
        return True
    if reached == AlarmState.FALSE_ALARM:
        return False
    return workflow.reachable(expected, reached)


def score(expectations: Iterable[Expectation], alarms: Mapping[str, Alarm] | Iterable[Alarm]) -> ScoreReport:
    """Score ``alarms`` (the service's records, with histories) against ``expectations``."""
    by_id = dict(alarms) if isinstance(alarms, Mapping) else {a.id: a for a in alarms}
    items = []
    for exp in expectations:
        target = workflow.as_state(exp.state)
        alarm = by_id.get(exp.alarm_id)
        if alarm is None:
            items.append(AlarmScore(exp.alarm_id, str(target), exp.within_s, "not_received", None, ""))
            continue
        hit = next((t for t in alarm.history if _meets(target, t.to_state)), None)
        if hit is not None:
            took = max(0.0, hit.epoch - alarm.received)
            outcome = "on_time" if took <= exp.within_s else "late"
            items.append(AlarmScore(exp.alarm_id, str(target), exp.within_s, outcome, round(took, 1),
                                    str(alarm.state), hit.operator))
        else:
            outcome = "wrong" if alarm.state.terminal else "missed"
            items.append(AlarmScore(exp.alarm_id, str(target), exp.within_s, outcome, None, str(alarm.state)))
    return ScoreReport(tuple(items))
