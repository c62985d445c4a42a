"""The sea watch: a radar target entering the watched waters raises a ``radar_target`` alarm (Qt-free).

An *entry* is a target seen outside a group of watched zones (see
:mod:`desktop.core.radar.waters`) and then inside it — or inside it at its first sighting
(a boat that appears in the band was not seen coming, which is worse). After an alarm, the
same target and group raise nothing more for :data:`REARM_S` (a boat loitering on the edge
of the band must not ring every sweep).

The alarm is an ordinary ``pingan/alarm`` payload that the alarm service takes like any
other: its id is made of the radar, the target, the group and the report's time, so every
workstation watching the same radar raises the same alarm (and a redelivered report raises
nothing new). Its cameras are the radar's own video, then the PTZ lookouts and coastal cameras
within the radar's range that see the target, best first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

import numpy as np

from desktop.core.alarms.linkage import CameraArrays, cameras_covering
from desktop.core.geo.crs import haversine_m

from ._i18n import tr
from .tracks import TargetState
from .waters import WatchedWaters

__all__ = ["SeaWatch", "Entry", "ALARM_TYPE", "ALARM_PRIORITY", "REARM_S", "alarm_id", "RadarCameras"]

ALARM_TYPE = "radar_target"
ALARM_PRIORITY = 2  # urgent: a boat heading into the shore band is seen to within seconds
REARM_S = 300.0
MAX_CAMERAS = 4
_LINK_KINDS = ("ptz", "coastal")
_ID_SAFE = re.compile(r"[^A-Za-z0-9_.:-]+")


def alarm_id(radar: str, target: str, group: str, epoch: float) -> str:
    """``RADAR-<radar>-<target>-<group>-<YYYYMMDDTHHMMSS>`` (UTC), safe in a topic level."""
    stamp = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y%m%dT%H%M%S")
    parts = [_ID_SAFE.sub("_", p)[:40] for p in (radar, target, group)]
    return f"RADAR-{parts[0]}-{parts[1]}-{parts[2]}-{stamp}"


@dataclass(frozen=True)
class Entry:
    """A target that entered a watched zone group, with the alarm payload raised for it."""

    target: TargetState
    group: str
    zone_id: str
    zone_name: str
    payload: dict


class RadarCameras:
    """Which cameras go with a radar: its own video, then the lookouts in its range that see a point."""

    def __init__(self, district: Any):
        self.radars: dict[str, tuple[float, float, float]] = {}  # radar id -> (lon, lat, range_m)
        self.link: CameraArrays | None = None
        if district is None:
            return
        cams = district.cameras
        rows = []
        for row, cam in enumerate(cams.records):
            if cam.kind == "radar":
                self.radars[cam.id] = (float(cams.lon_wgs[row]), float(cams.lat_wgs[row]), float(cam.range_m))
            elif cam.kind in _LINK_KINDS:
                rows.append(row)
        if rows:
            r = np.asarray(rows)
            self.link = CameraArrays.from_columns(cams.ids[r], cams.lon_wgs[r], cams.lat_wgs[r], cams.heading[r],
                                                  cams.fov[r], cams.range_m[r])

    def for_target(self, radar: str, lon: float, lat: float, limit: int = MAX_CAMERAS) -> list[str]:
        out: list[str] = []
        own = self.radars.get(radar)
        if own is not None:
            out.append(radar)
        if self.link is not None:
            for cam, _score in cameras_covering(lon, lat, self.link):
                if len(out) >= limit:
                    break
                if own is not None:
                    i = int(np.flatnonzero(self.link.ids == cam)[0])
                    if float(haversine_m(own[0], own[1], self.link.lon[i], self.link.lat[i])) > own[2]:
                        continue  # another radar's station
                out.append(cam)
        return out


class SeaWatch:
    """Entries of targets into the watched waters, and the alarms they raise. Not thread-safe:
    one feed calls :meth:`observe` (the radar feed, under its own lock)."""

    def __init__(self, waters: WatchedWaters, cameras: RadarCameras | None = None, rearm_s: float = REARM_S,
                 radar_names: dict[str, str] | None = None):
        self.waters = waters
        self.cameras = cameras
        self.rearm_s = rearm_s
        self.radar_names = dict(radar_names or {})
        # key -> {group: epoch of the last fix inside}; key -> {group: epoch alarmed}
        self._inside: dict[str, dict[str, float]] = {}
        self._alarmed: dict[str, dict[str, float]] = {}

    def observe(self, targets: Sequence[TargetState]) -> list[Entry]:
        """Targets that moved (newest fix each); returns the entries, each with its alarm payload."""
        if not len(self.waters) or not targets:
            return []
        lon = np.fromiter((t.lon_wgs for t in targets), float, len(targets))
        lat = np.fromiter((t.lat_wgs for t in targets), float, len(targets))
        entries: list[Entry] = []
        for t, groups in zip(targets, self.waters.groups_many(lon, lat)):  # one tree query for the sweep
            was = self._inside.get(t.key, {})
            alarmed = self._alarmed.setdefault(t.key, {})
            for group, zone in groups.items():
                if group in was:
                    continue  # inside at its previous fix already: no entry
                last = alarmed.get(group)
                if last is not None and t.epoch - last < self.rearm_s:
                    continue  # back in soon after an alarm: loitering on the edge
                alarmed[group] = t.epoch
                entries.append(Entry(t, group, zone.id, zone.name, self._payload(t, group, zone)))
            self._inside[t.key] = {g: t.epoch for g in groups}
        return entries

    def forget(self, keys: Iterable[str]) -> None:
        for k in keys:
            self._inside.pop(k, None)
            self._alarmed.pop(k, None)

    def _payload(self, t: TargetState, group: str, zone) -> dict:
        cams = self.cameras.for_target(t.radar, t.lon_wgs, t.lat_wgs) if self.cameras is not None else []
        radar_name = self.radar_names.get(t.radar, t.radar)
        text = tr("Radar target {target} ({radar}) entered the watched waters {zone}: {speed:.1f} kn, "
                  "heading {heading:03.0f}°", target=t.id, radar=radar_name, zone=zone.name,
                  speed=t.speed_kn, heading=t.heading_deg)
        return {"id": alarm_id(t.radar, t.id, group, t.epoch), "type": ALARM_TYPE, "priority": ALARM_PRIORITY,
                "time": datetime.fromtimestamp(t.epoch, timezone.utc).isoformat(timespec="milliseconds"),
                "lon": round(t.lon_wgs, 7), "lat": round(t.lat_wgs, 7), "crs": "WGS84", "source": t.radar,
                "camera_ids": cams, "text": text,
                "radar": {"target": t.id, "zone": zone.id, "speed_kn": t.speed_kn,
                          "heading_deg": t.heading_deg}}
