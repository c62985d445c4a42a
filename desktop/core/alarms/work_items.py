"""The alarm service's work items — what the queue carries to the worker — and one batch's changes.

Feed messages (:class:`_Msg`), workflow changes made here (:class:`_Move`), audit entries,
patrol arrivals and flushes are queued by :class:`~.service.AlarmService`'s thread-safe
methods; the worker takes them off in batches and keeps what a batch changes in a
:class:`_Batch` until its journal transaction commits.
"""
from __future__ import annotations

import concurrent.futures
import threading
from dataclasses import dataclass, field
from typing import Any

from desktop.core.feeds.bus import Receipt
from desktop.core.feeds.schema import CameraStatus, PatrolPosition

from .model import Alarm, AlarmEvent, AlarmState, AuditEntry, Transition


# --- work items ---------------------------------------------------------------------------

@dataclass
class _Msg:
    topic: str
    payload: Any
    receipt: Receipt | None
    received: float
    parsed: Any = None


@dataclass
class _Move:
    alarm_id: str
    target: AlarmState
    operator: str
    note: str
    unit: str
    future: concurrent.futures.Future


@dataclass
class _Audit:
    entry: AuditEntry


@dataclass
class _Arrival:
    alarm_id: str
    unit: str
    dispatched: float
    arrived: float


@dataclass
class _Flush:
    done: threading.Event = field(default_factory=threading.Event)
    forget: bool = False  # also forget closed alarms past the retention (see forget_closed)


_STOP = object()


class _Batch:
    """What one batch changes, kept aside until its transaction commits."""

    def __init__(self):
        self.staged: dict[str, Alarm] = {}
        self.occurrences: list[tuple] = []
        self.transitions: list[Transition] = []
        self.audits: list[AuditEntry] = []
        self.events: list[AlarmEvent] = []
        self.receipts: list[Receipt] = []
        self.results: list[tuple[concurrent.futures.Future, Any]] = []
        self.publish: list[Transition] = []
        self.patrol: dict[str, PatrolPosition] = {}
        self.cameras: dict[str, CameraStatus] = {}
        self.camera_log: list[CameraStatus] = []  # every report, in order (the journal keeps the changes)
        self.arrivals: list[_Arrival] = []
        self.flushes: list[_Flush] = []

    @property
    def has_writes(self) -> bool:
        return bool(self.staged or self.occurrences or self.transitions or self.audits or self.camera_log
                    or self.arrivals)
