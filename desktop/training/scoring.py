"""Score a training session: did the trainee take each alarm where it should go, in time?

A scenario's ``expected.toml`` says, per alarm, the state it should reach and within how many
seconds of its arrival (:class:`~desktop.core.feeds.scenario.Expectation`). The journal's
transitions say what the trainee did. An expectation is met by the first transition into the
expected state *or a later one on the same path* (an alarm resolved within the dispatch
deadline was dispatched in time), never by a false alarm unless a false alarm was expected.

Points: 1 on time, 0.5 late, 0 missed or handled the wrong way; the score is their share, 0–100.

:func:`score` judges the alarm records of a service (the state reached, in time);
:func:`score_session` judges a recorded training session in full — acknowledgement, outcome,
the right camera, the right unit — into a :class:`ScoreSheet` per alarm and in total.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from desktop.core.alarms import workflow
from desktop.core.alarms.model import Alarm, AlarmState
from desktop.core.feeds.scenario import Expectation

__all__ = ["AlarmScore", "ScoreReport", "score", "Check", "AlarmSheet", "ScoreSheet", "score_session"]


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


# --- the score sheet of a recorded session -------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One judged part of an alarm's handling: ``points`` of ``1.0``, and what was seen."""

    name: str  # ack, outcome, camera, unit
    points: float
    detail: str


@dataclass(frozen=True)
class AlarmSheet:
    """How one expected alarm was handled (see :func:`score_session`)."""

    alarm_id: str
    type: str
    priority: int
    expected: str
    within_s: float
    received_t: float | None
    ack_s: float | None
    outcome: str  # on_time, late, missed, wrong, not_received
    took_s: float | None
    final_state: str
    camera: str  # the right camera seen, or ""
    unit: str  # the unit dispatched, or ""
    unit_rank: int | None  # 1 = the fastest free unit
    checks: tuple[Check, ...]

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def possible(self) -> float:
        return float(len(self.checks))

    @property
    def handled(self) -> bool:
        return self.outcome in ("on_time", "late")

    def as_dict(self) -> dict:
        return {"alarm": self.alarm_id, "type": self.type, "priority": self.priority, "expected": self.expected,
                "within_s": self.within_s, "received_t": self.received_t, "ack_s": self.ack_s,
                "outcome": self.outcome, "took_s": self.took_s, "final_state": self.final_state,
                "camera": self.camera, "unit": self.unit, "unit_rank": self.unit_rank,
                "points": round(self.points, 2), "possible": self.possible,
                "checks": [{"name": c.name, "points": c.points, "detail": c.detail} for c in self.checks]}


@dataclass(frozen=True)
class ScoreSheet:
    """The score of a session: per alarm and in total (0–100)."""

    trainee: str
    scenario: str
    alarms: tuple[AlarmSheet, ...]

    @property
    def score(self) -> float:
        possible = sum(a.possible for a in self.alarms)
        return 0.0 if not possible else round(100.0 * sum(a.points for a in self.alarms) / possible, 1)

    @property
    def handled(self) -> int:
        return sum(1 for a in self.alarms if a.handled)

    def count(self, outcome: str) -> int:
        return sum(1 for a in self.alarms if a.outcome == outcome)

    def false_recognised(self) -> tuple[int, int]:
        """(false alarms recognised, false alarms in the scenario)."""
        f = [a for a in self.alarms if a.expected == "false_alarm"]
        return sum(1 for a in f if a.handled), len(f)

    def as_dict(self) -> dict:
        fr, fn = self.false_recognised()
        return {"trainee": self.trainee, "scenario": self.scenario, "score": self.score,
                "alarms": len(self.alarms), "alarms_handled": self.handled,
                "outcomes": {o: self.count(o) for o in ("on_time", "late", "missed", "wrong", "not_received")},
                "false_alarms_recognised": fr, "false_alarms": fn,
                "items": [a.as_dict() for a in self.alarms]}


_CLOSED = ("resolved", "false_alarm")


def _reaches(expected: str, reached: str) -> bool:
    if expected == "false_alarm":
        return reached == "false_alarm"
    if reached == "false_alarm":
        return False
    return _meets(AlarmState(expected), AlarmState(reached))


def score_session(scenario, recording, trainee: str = "") -> ScoreSheet:
    """Judge a recorded session (:class:`~desktop.training.recording.Recording`) against the
    scenario's expected responses (:class:`~desktop.training.scenario.TrainingScenario`).

    Per expected alarm, each check is worth one point (half when late):

    * **ack** — acknowledged (any move out of *new*, a false-alarm mark included) within
      ``ack_within_s`` of its arrival;
    * **outcome** — the expected state (or one after it on the workflow's path) within
      ``within_s``; a real alarm marked false, or a false one handled as real, is *wrong*;
    * **camera** — one of the right cameras (whose view covers the point, or listed) was put on
      the wall after the alarm came and before it was closed — by the trainee or by the
      alarm's own linkage: either way the operator had the picture;
    * **unit** (alarms to dispatch) — the unit sent was among the ``units_best`` fastest free
      units by travel time at that moment.
    """
    recs = recording.records
    arrivals: dict[str, dict] = {}
    moves: dict[str, list[dict]] = {}
    checks: dict[str, list[dict]] = {}
    opened: list[dict] = []
    for r in recs:
        k = r["kind"]
        if k == "alarm":
            arrivals.setdefault(r["id"], r)
        elif k == "transition":
            moves.setdefault(r["alarm"], []).append(r)
        elif k == "dispatch":
            checks.setdefault(r["alarm"], []).append(r)
        elif k == "camera" and r.get("action") == "opened":
            opened.append(r)
    end_t = recording.duration_s
    sheets = []
    for exp in scenario.expectations:
        arr = arrivals.get(exp.alarm_id)
        typ = arr.get("type", "") if arr else ""
        prio = int(arr.get("priority", 0)) if arr else 0
        if arr is None:
            cks = [Check("ack", 0.0, "not received"), Check("outcome", 0.0, "not received"),
                   Check("camera", 0.0, "not received")]
            if exp.needs_dispatch:
                cks.append(Check("unit", 0.0, "not received"))
            sheets.append(AlarmSheet(exp.alarm_id, typ, prio, exp.state, exp.within_s, None, None, "not_received",
                                     None, "", "", "", None, tuple(cks)))
            continue
        t_in = float(arr["t"])
        mv = moves.get(exp.alarm_id, [])
        final = mv[-1]["to"] if mv else "new"
        ack = next((m for m in mv if m.get("from") == "new"), None)
        ack_s = None if ack is None else round(max(0.0, ack["t"] - t_in), 1)
        if ack_s is None:
            ack_check = Check("ack", 0.0, "never acknowledged")
        elif ack_s <= exp.ack_within_s:
            ack_check = Check("ack", 1.0, f"{ack_s:g} s ≤ {exp.ack_within_s:g} s")
        else:
            ack_check = Check("ack", 0.5, f"{ack_s:g} s > {exp.ack_within_s:g} s")
        hit = next((m for m in mv if _reaches(exp.state, m["to"])), None)
        took = None
        if hit is not None:
            took = round(max(0.0, hit["t"] - t_in), 1)
            outcome = "on_time" if took <= exp.within_s else "late"
        elif final in _CLOSED or (exp.false_alarm and final != "new" and final != "acknowledged"):
            outcome = "wrong"
        else:
            outcome = "missed"
        out_check = Check("outcome", {"on_time": 1.0, "late": 0.5}.get(outcome, 0.0),
                          f"{outcome}: {final}" + (f" after {took:g} s (≤ {exp.within_s:g} s)" if took is not None else ""))
        closed_t = next((m["t"] for m in mv if m["to"] in _CLOSED), end_t)
        right = scenario.right_cameras(exp.alarm_id)
        seen = next((o for o in opened if o.get("camera") in right and t_in <= o["t"] <= closed_t), None)
        cam_check = Check("camera", 1.0 if seen else 0.0,
                          f"{seen['camera']} at +{seen['t'] - t_in:.0f} s" if seen else
                          f"none of {len(right)} right cameras opened")
        cks = [ack_check, out_check, cam_check]
        unit, unit_rank = "", None
        if exp.needs_dispatch:
            d = (checks.get(exp.alarm_id) or [None])[0]
            if d is None:
                cks.append(Check("unit", 0.0, "no unit dispatched"))
            else:
                unit = d.get("unit", "")
                faster = d.get("faster")
                if faster is None:
                    cks.append(Check("unit", 0.0, f"{unit}: its travel time is unknown (no position)"))
                else:
                    unit_rank = len(faster) + 1
                    ok = unit_rank <= exp.units_best
                    cks.append(Check("unit", 1.0 if ok else 0.0,
                                     f"{unit}: #{unit_rank} by travel time (right: top {exp.units_best})"))
        sheets.append(AlarmSheet(exp.alarm_id, typ, prio, exp.state, exp.within_s, round(t_in, 1), ack_s, outcome,
                                 took, final, seen["camera"] if seen else "", unit, unit_rank, tuple(cks)))
    return ScoreSheet(trainee or str(recording.header.get("trainee", "")), scenario.name, tuple(sheets))


def sheet_from_dict(d: dict) -> ScoreSheet:
    """A :class:`ScoreSheet` back from its :meth:`ScoreSheet.as_dict` (a saved ``score.json``)."""
    items = []
    for i in d.get("items", []):
        checks = tuple(Check(c["name"], float(c["points"]), str(c.get("detail", ""))) for c in i.get("checks", []))
        items.append(AlarmSheet(i["alarm"], i.get("type", ""), int(i.get("priority", 0)), i["expected"],
                                float(i["within_s"]), i.get("received_t"), i.get("ack_s"), i["outcome"],
                                i.get("took_s"), i.get("final_state", ""), i.get("camera", ""), i.get("unit", ""),
                                i.get("unit_rank"), checks))
    return ScoreSheet(str(d.get("trainee", "")), str(d.get("scenario", "")), tuple(items))
