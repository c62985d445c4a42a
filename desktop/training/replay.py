"""What a recorded session looked like at any simulated moment (Qt-free).

:class:`SessionReplay` folds a :class:`~desktop.training.recording.Recording` up to a time:
the alarms shown and their workflow states, the patrol units' latest positions, the cameras on
the wall (tile by tile), the cameras that were down, and the trainee's actions so far. The
replay window asks it for a :class:`ReplayState` every frame; a seek anywhere (back too) is a
fold from the nearest checkpoint, so it costs the records of a few seconds, not the session.
"""
from __future__ import annotations

import bisect
import copy
from dataclasses import dataclass, field

from desktop.core.feeds.schema import PayloadError, parse, topic_kind

__all__ = ["ReplayAlarm", "ReplayUnit", "ReplayState", "SessionReplay", "action_label"]

_CHECKPOINT_S = 15.0


@dataclass
class ReplayAlarm:
    """An alarm as it stood at the replayed moment."""

    id: str
    type: str
    priority: int
    lon: float  # WGS84
    lat: float
    state: str = "new"
    unit: str = ""
    t: float = 0.0


@dataclass
class ReplayUnit:
    """A patrol unit's latest fix at the replayed moment."""

    unit: str
    kind: str
    lon: float  # WGS84
    lat: float
    heading: float
    t: float


@dataclass
class ReplayState:
    """The session at time ``t`` (simulated seconds since the start)."""

    t: float
    alarms: dict[str, ReplayAlarm] = field(default_factory=dict)
    units: dict[str, ReplayUnit] = field(default_factory=dict)
    wall: dict[int, str] = field(default_factory=dict)  # tile index -> camera id
    down: set[str] = field(default_factory=set)  # cameras offline or faulty
    radar: dict[str, tuple[float, float]] = field(default_factory=dict)  # target id -> WGS84
    actions: int = 0  # trainee actions so far


def state_label(state: str) -> str:
    """A workflow state as the operator reads it (translated)."""
    from desktop.core.alarms.model import AlarmState
    try:
        return AlarmState(state).label
    except ValueError:
        return state


def action_label(rec: dict) -> str:
    """One line for a trainee action on the timeline."""
    k = rec["kind"]
    if k == "transition":
        return f"{rec.get('alarm', '')}: {state_label(rec.get('from', ''))} → {state_label(rec.get('to', ''))}" + (
            f" ({rec['unit']})" if rec.get("unit") else "")
    if k == "camera":
        return f"{rec.get('camera', '')} → tile {int(rec.get('tile', 0)) + 1}"
    if k == "control":
        return f"clock: {rec.get('action', '')} {rec.get('value', '')}".strip()
    return k


class SessionReplay:
    """Replays a recording: :meth:`state_at` for any ``t`` in ``[0, duration_s]``."""

    def __init__(self, recording):
        self.recording = recording
        self.records = recording.records
        self.times = [r["t"] for r in self.records]
        self.duration_s = recording.duration_s
        self.actions = [r for r in self.records if r["kind"] in ("transition", "control")
                        or (r["kind"] == "camera" and r.get("action") == "opened")]
        self._checkpoints: list[tuple[int, ReplayState]] = []  # (records applied, state)
        st = ReplayState(0.0)
        self._checkpoints.append((0, copy.deepcopy(st)))
        next_cp = _CHECKPOINT_S
        for i, r in enumerate(self.records):
            while r["t"] >= next_cp:
                self._checkpoints.append((i, copy.deepcopy(st)))
                next_cp += _CHECKPOINT_S
            self._apply(st, r)

    def state_at(self, t: float) -> ReplayState:
        """The session as it was at ``t`` (records at exactly ``t`` included)."""
        end = bisect.bisect_right(self.times, t)
        k = bisect.bisect_right([c[0] for c in self._checkpoints], end) - 1
        start, base = self._checkpoints[max(0, k)]
        st = copy.deepcopy(base)
        for r in self.records[start:end]:
            self._apply(st, r)
        st.t = t
        return st

    @staticmethod
    def _apply(st: ReplayState, r: dict) -> None:
        k = r["kind"]
        if k == "alarm":
            st.alarms.setdefault(r["id"], ReplayAlarm(r["id"], r.get("type", ""), int(r.get("priority", 4)),
                                                      float(r.get("lon", 0.0)), float(r.get("lat", 0.0)), t=r["t"]))
        elif k == "transition":
            a = st.alarms.get(r.get("alarm", ""))
            if a is not None:
                a.state = r.get("to", a.state)
                if r.get("unit"):
                    a.unit = r["unit"]
            st.actions += 1
        elif k == "camera":
            tile = int(r.get("tile", 0))
            if r.get("action") == "opened":
                st.wall[tile] = r.get("camera", "")
                st.actions += 1
            elif r.get("action") == "closed" and st.wall.get(tile) == r.get("camera"):
                del st.wall[tile]
        elif k == "control":
            st.actions += 1
        elif k == "bus":
            topic = r.get("topic", "")
            kind = topic_kind(topic)
            if kind is None:
                return
            if kind[0] == "patrol":
                try:
                    p = parse(topic, r.get("payload", {}))
                except PayloadError:
                    return
                st.units[p.unit] = ReplayUnit(p.unit, p.kind, p.lon_wgs, p.lat_wgs, p.heading_deg, r["t"])
            elif kind[0] == "camera_status":
                status = (r.get("payload") or {}).get("status")
                if status == "online":
                    st.down.discard(kind[1])
                else:
                    st.down.add(kind[1])
            elif kind[0] == "radar":
                try:
                    rep = parse(topic, r.get("payload", {}))
                except PayloadError:
                    return
                st.radar = {f"{rep.radar}/{tg.id}": (tg.lon_wgs, tg.lat_wgs) for tg in rep.targets}
