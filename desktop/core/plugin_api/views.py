"""Read-only service views handed to plugins beside the alarm and patrol services (Qt-free)."""
from __future__ import annotations

from typing import Any, Mapping

from desktop.core.camera_health import ONLINE_TARGET, CameraFault, CameraHealth

__all__ = ["CameraView"]


class CameraView:
    """The ``cameras`` service: the district's cameras and what is known of their state.

    The state joins the platform's status reports (the alarm service's ``camera_status()``,
    in-process or mirrored from the feed process, so the same in the offline demo and live)
    and what this workstation's video wall found by itself (a tile that cannot reach its
    camera, a stream that decodes to garbage): see :mod:`desktop.core.camera_health`. A
    camera nobody has spoken about counts as online (a center counts a camera offline when
    it is reported so, not before)."""

    TARGET = ONLINE_TARGET  # the field's target share of cameras online

    def __init__(self, district: Any, alarms: Any, health: CameraHealth | None = None):
        self.district = district
        self._alarms = alarms
        self.health = health if health is not None else CameraHealth(
            [str(i) for i in district.cameras.ids], feed=alarms.camera_status)

    def ids(self) -> list[str]:
        return list(self.health.ids)

    def statuses(self) -> Mapping[str, Any]:
        """The last status report of each camera that sent one (``CameraStatus``, feed only)."""
        return self._alarms.camera_status()

    def status(self, camera_id: str) -> str:
        """``online``, ``offline``, ``fault``, or ``unknown`` (nobody has spoken about it yet)."""
        self.health.refresh()
        return self.health.status(camera_id)

    def faulty(self) -> list[CameraFault]:
        """Cameras not online now, the longest out of service first (``since``, ``reason``, ``source``)."""
        self.health.refresh()
        return self.health.faulty()

    def online_rate(self) -> float:
        """Share of the district's cameras online now (compare with :attr:`TARGET`)."""
        self.health.refresh()
        return self.health.online_rate()
