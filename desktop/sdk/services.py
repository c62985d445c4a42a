"""The typed services a plugin reads (``host.service(name)``), as protocols.

Each protocol has two implementations — the in-process one (offline demo, training, tests)
and the mirror of the feed process (``--broker``) — and one test suite runs against both
(``tests/integration/test_sdk_services.py``), so a plugin behaves the same either way.
Every method here is safe to call from the GUI thread; the ones that read the journal or ask
the feed process (``query``, ``history`` of an old alarm, ``patrol.track``) may take tens of
milliseconds: call them through ``host.run_in_background`` for large ranges.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol, runtime_checkable

__all__ = ["AlarmsService", "CamerasService", "DistrictService", "PatrolService", "SERVICE_NAMES"]

SERVICE_NAMES = ("alarms", "patrol", "cameras", "district", "projection", "clock", "duty")


@runtime_checkable
class AlarmsService(Protocol):
    """Alarms: what is open now, the workflow, and the journal's whole record by time range."""

    def alarms(self, *, types: Iterable[str] | None = None, states: Iterable[Any] | None = None,
               subdistricts: Iterable[str] | None = None, priorities: Iterable[int] | None = None,
               open_only: bool = False, newest_first: bool = True, limit: int | None = None) -> list:
        """Alarms in memory (open ones and the last days of closed ones), priority then time."""

    def get(self, alarm_id: str) -> Any:
        """One alarm in memory, or None."""

    def history(self, alarm_id: str) -> tuple:
        """Its workflow changes, oldest first (from the journal if no longer in memory)."""

    def query(self, t0: float, t1: float, *, types: Iterable[str] | None = None,
              subdistricts: Iterable[str] | None = None, states: Iterable[Any] | None = None,
              with_history: bool = False, limit: int = 100_000) -> list:
        """Alarms with event time in [t0, t1) from the journal, oldest first."""

    def allowed_transitions(self, alarm_id: str) -> tuple:
        """The states an operator may move this alarm to now."""

    def transition(self, alarm_id: str, target: Any, operator: str, note: str = "", unit: str = "") -> Any:
        """The one write: a workflow change in ``operator``'s name; returns a future of the change."""

    def camera_status(self) -> Mapping[str, Any]:
        """camera id -> last CameraStatus reported."""

    def counters(self) -> Mapping[str, Any]:
        """Totals since start (received, new, folded, rejected …)."""


@runtime_checkable
class PatrolService(Protocol):
    """Patrol units, their tracks, post visits and dispatch (see the README's patrol section)."""

    def positions(self) -> Mapping[str, Any]:
        """unit -> its latest state (position, kind, speed, heading, state, busy, segment)."""

    def track(self, unit: str, t0: float, t1: float) -> Any:
        """One unit's recorded fixes in [t0, t1] (numpy columns)."""

    def visits(self, t0: float, t1: float, post: str | None = None, state: str | None = None) -> list:
        """Scheduled post visits whose window overlaps [t0, t1], with their state."""

    def rank(self, lon: float, lat: float, k: int = 5) -> list:
        """Free units ranked by travel time to a WGS84 point, each with its explanation."""

    def dispatch(self, unit: str, alarm_id: str, lon: float, lat: float) -> Any:
        """Mark a unit busy for an alarm; its arrival within 50 m is detected and journaled."""


@runtime_checkable
class CamerasService(Protocol):
    """The district's cameras and their state (status reports joined with the video wall's findings)."""

    def status(self, camera_id: str) -> str:
        """online | offline | fault | unknown (never reported)."""

    def statuses(self) -> Mapping[str, Any]:
        """camera id -> last CameraStatus (only cameras that reported)."""

    def faulty(self) -> list:
        """Cameras not online now (``CameraFault``: camera_id, status, since, reason, source
        "feed" or "video"), the longest out of service first."""

    def online_rate(self) -> float:
        """Share of the district's cameras not reported offline or faulty (by the feed or by
        this workstation's video wall), 0…1; the field's target is 0.98."""


@runtime_checkable
class DistrictService(Protocol):
    """The dataset: boundary, grid, cameras, patrol routes and posts, and where a point lies."""

    def subdistricts(self) -> list[str]:
        """The district's sub-districts (streets), in dataset order."""
