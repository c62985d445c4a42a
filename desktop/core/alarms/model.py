"""Alarm data: states, priorities (colour + sound), types, the alarm record and its events.

Every record here is a frozen dataclass whose fields are immutable (tuples, strings,
numbers): the alarm service replaces a record on each change, so a snapshot handed to the
GUI thread can never change under it, and no copy is needed to share it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Mapping

from desktop.core.i18n import tr
from desktop.paths import RESOURCES

__all__ = ["AlarmState", "PriorityStyle", "PRIORITY_STYLES", "priority_style", "ALARM_TYPES",
           "type_label", "Transition", "Alarm", "EventKind", "AlarmEvent", "Rejection",
           "AuditEntry"]


class AlarmState(StrEnum):
    """Workflow states (see :mod:`desktop.core.alarms.workflow` for the allowed moves)."""

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    FALSE_ALARM = "false_alarm"

    @property
    def label(self) -> str:
        """The operator-facing name, translated."""
        return tr(_STATE_LABELS[self])

    @property
    def terminal(self) -> bool:
        return self in (AlarmState.RESOLVED, AlarmState.FALSE_ALARM)


# English sources for tr(); the zh_CN entries are in resources/i18n/zh_CN.json.
_STATE_LABELS = {
    AlarmState.NEW: "New",
    AlarmState.ACKNOWLEDGED: "Acknowledged",
    AlarmState.DISPATCHED: "Dispatched",
    AlarmState.RESOLVED: "Resolved",
    AlarmState.FALSE_ALARM: "False alarm",
}


@dataclass(frozen=True)
class PriorityStyle:
    """How a priority looks and sounds. 1 is the highest."""

    priority: int
    colour: str  # "#RRGGBB"
    sound: str  # file name under resources/sounds/
    name: str  # English source of the label
    repeat_s: float  # how often the sound repeats while an alarm of this priority is new (0 = once)

    @property
    def label(self) -> str:
        return tr(self.name)

    @property
    def sound_path(self) -> Path:
        return RESOURCES / "sounds" / self.sound


PRIORITY_STYLES: dict[int, PriorityStyle] = {
    # Colours follow the usual red/orange/yellow/blue early-warning scale of Chinese
    # emergency response (I–IV), so an operator reads them without a legend.
    1: PriorityStyle(1, "#E53935", "alarm_p1.wav", "Critical", 5.0),
    2: PriorityStyle(2, "#FB8C00", "alarm_p2.wav", "High", 15.0),
    3: PriorityStyle(3, "#FDD835", "alarm_p3.wav", "Medium", 0.0),
    4: PriorityStyle(4, "#1E88E5", "alarm_p4.wav", "Low", 0.0),
}


def priority_style(priority: int) -> PriorityStyle:
    """The style of ``priority`` (clamped into 1..4, so a bad value still gets a style)."""
    return PRIORITY_STYLES[min(4, max(1, int(priority)))]


# Known alarm types and their English labels. The list is open: any non-empty type string
# is accepted and shown as it is.
ALARM_TYPES: dict[str, str] = {
    "one_key": "One-key alarm",
    "perimeter": "Perimeter intrusion",
    "face_match": "Face match",
    "radar_target": "Radar target at sea",
    "fire": "Fire or smoke",
    "crowd": "Crowd gathering",
    "hazard_report": "Hazard report",
    "patrol_missed": "Patrol post visit missed",  # raised by the patrol core's tours
}


def type_label(alarm_type: str) -> str:
    """Translated label of an alarm type; unknown types are shown as they came."""
    src = ALARM_TYPES.get(alarm_type)
    return tr(src) if src else alarm_type


@dataclass(frozen=True)
class Transition:
    """One workflow change, as recorded in the journal and published to other workstations."""

    alarm_id: str
    from_state: AlarmState
    to_state: AlarmState
    operator: str
    epoch: float  # when (clock of the workstation that made the change)
    time: str  # the same, ISO 8601
    note: str = ""
    origin: str = ""  # workstation id that made the change
    unit: str = ""  # patrol unit assigned (dispatch)

    def to_payload(self) -> dict:
        """The ``pingan/alarm/<id>/state`` message for this change."""
        out = {"id": self.alarm_id, "state": str(self.to_state), "from": str(self.from_state),
               "operator": self.operator, "time": self.time, "note": self.note,
               "origin": self.origin}
        if self.unit:
            out["unit"] = self.unit
        return out


@dataclass(frozen=True)
class Alarm:
    """An alarm as the operator sees it: the first message, folded repeats, its workflow state."""

    id: str
    type: str
    priority: int
    time: str  # event time as the source sent it (ISO 8601)
    epoch: float  # the same, as epoch seconds
    lon: float  # position as sent, in ``crs``
    lat: float
    crs: str
    lon_wgs: float
    lat_wgs: float
    lon_gcj: float
    lat_gcj: float
    source: str
    camera_ids: tuple[str, ...] = ()
    text: str = ""
    state: AlarmState = AlarmState.NEW
    received: float = 0.0  # when this workstation first got it (service clock)
    count: int = 1  # messages folded into this alarm (flood control), this one included
    last_time: str = ""  # event time of the latest folded repeat
    last_epoch: float = 0.0
    last_received: float = 0.0
    assigned_unit: str = ""
    subdistrict: str = ""
    updated: float = 0.0  # last change of any kind (service clock)
    history: tuple[Transition, ...] = ()

    @property
    def style(self) -> PriorityStyle:
        return priority_style(self.priority)

    @property
    def type_label(self) -> str:
        return type_label(self.type)

    @property
    def state_label(self) -> str:
        return self.state.label

    @property
    def is_open(self) -> bool:
        return not self.state.terminal

    def sort_key(self, newest_first: bool = True) -> tuple:
        """Priority first (1 on top), then time (newest first unless told otherwise)."""
        t = self.last_epoch or self.epoch
        return (self.priority, -t if newest_first else t, self.id)


class EventKind(StrEnum):
    """What an :class:`AlarmEvent` reports."""

    NEW = "new"  # an alarm the UI has not seen
    FOLDED = "folded"  # a repeat was folded into an alarm (count/last time changed)
    UPDATED = "updated"  # other fields changed (priority raised by a repeat, assignment)
    STATE_CHANGED = "state_changed"  # a workflow transition (local or from another workstation)
    REJECTED = "rejected"  # a payload was rejected; ``counters`` has the totals per reason
    PATROL = "patrol"  # a patrol unit moved
    CAMERA_STATUS = "camera_status"  # a camera reported a status (online/offline/fault)
    JOURNAL_ERROR = "journal_error"  # the journal could not be written (disk?): show a banner
    FORGOTTEN = "forgotten"  # closed longer ago than the retention: leaves memory (not the journal)


@dataclass(frozen=True)
class Rejection:
    """A payload that was refused, and why. ``reason`` is a counter key, ``field`` the culprit."""

    topic: str
    reason: str
    field: str
    message: str
    epoch: float = 0.0


@dataclass(frozen=True)
class AlarmEvent:
    """One thing for the UI to show, drained from :meth:`AlarmService.drain`.

    Only the attributes that go with ``kind`` are set: ``alarm`` (new, folded, updated,
    state_changed), ``transition`` (state_changed), ``rejection`` and ``counters``
    (rejected), ``patrol`` (patrol), ``camera`` (camera_status), ``message`` (journal_error).
    Repeated folds of one alarm, moves of one unit and rejections are coalesced while
    they wait, so the queue stays short under a flood.
    """

    kind: EventKind
    alarm: Alarm | None = None
    transition: Transition | None = None
    rejection: Rejection | None = None
    counters: Mapping[str, int] | None = None
    patrol: Any = None  # desktop.core.feeds.schema.PatrolPosition
    camera: Any = None  # desktop.core.feeds.schema.CameraStatus
    message: str = ""


@dataclass(frozen=True)
class AuditEntry:
    """An operator action on this workstation (the ``audit`` journal table)."""

    epoch: float
    time: str
    operator: str
    workstation: str
    action: str
    target: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)
