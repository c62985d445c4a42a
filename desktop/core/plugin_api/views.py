"""Read-only service views handed to plugins beside the alarm and patrol services (Qt-free)."""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["CameraView"]


class CameraView:
    """The ``cameras`` service: the district's cameras and the status each last reported.

    Reads the alarm service's ``camera_status()`` (in-process or mirrored from the feed
    process), so it is the same in the offline demo and live. A camera that never reported
    is ``unknown`` and counts as online in :meth:`online_rate` (a center counts a camera
    offline when it is reported so, not before it has spoken)."""

    def __init__(self, district: Any, alarms: Any):
        self.district = district
        self._alarms = alarms

    def ids(self) -> list[str]:
        return [str(i) for i in self.district.cameras.ids]

    def statuses(self) -> Mapping[str, Any]:
        return self._alarms.camera_status()

    def status(self, camera_id: str) -> str:
        st = self._alarms.camera_status().get(camera_id)
        return st.status if st is not None else "unknown"

    def faulty(self) -> list[Any]:
        """Cameras whose last report is not ``online``, newest report first."""
        bad = [s for s in self._alarms.camera_status().values() if s.status != "online"]
        return sorted(bad, key=lambda s: -s.epoch)

    def online_rate(self) -> float:
        total = len(self.district.cameras)
        if total == 0:
            return 1.0
        known = set(self.ids())
        down = sum(1 for cid, s in self._alarms.camera_status().items() if s.status != "online" and cid in known)
        return (total - down) / total
