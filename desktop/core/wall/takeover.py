"""Alarm presets: an urgent alarm takes part of the wall over, then gives it back (Qt-free).

Rules (all times from the caller's clock, so tests run on a simulated one):

* An alarm whose priority is in ``priorities`` (default: priority 1) *claims* the wall.
* The alarm shown stays at least ``dwell_s`` seconds: nothing replaces it sooner, not even a
  more urgent alarm, and an early resolve ends it only when the dwell is over. The wall's
  audience needs time to see what happened.
* After the dwell, a claim more urgent than the one shown (a lower priority number) pre-empts
  it; the pre-empted alarm goes back in the queue (if it is still open). Claims of the same or
  lower urgency queue behind it, most urgent first, then oldest first.
* The alarm shown ends when it is resolved (or closed as false), or ``timeout_s`` after it
  was first shown; then the next queued claim is shown, or the wall goes back to its layout.
  Queued claims older than ``timeout_s`` are dropped unseen (they are on the workstations).

:meth:`Takeover.current` is what the wall must show now; :func:`alarm_preset` turns the wall's
layout and that alarm into the layout to show: the largest video region gets the alarm's linked
cameras, every map region centres on the alarm, the rest (ticker, clock) is left as it is.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from desktop.core.video.layouts import LAYOUTS, layout_for_count

from .layout import MapView, Region, WallLayout

__all__ = ["Claim", "Takeover", "alarm_preset"]


@dataclass
class Claim:
    """An urgent alarm asking for the wall."""

    alarm_id: str
    priority: int
    lon: float  # WGS84
    lat: float
    cameras: list = field(default_factory=list)
    text: str = ""
    arrived: float = 0.0
    shown_at: float | None = None  # first time on the wall
    closed: bool = False


class Takeover:
    """Which alarm, if any, holds the wall (see the module docstring). Not thread-safe: call it
    from one thread (the wall's GUI thread)."""

    def __init__(self, priorities=(1,), dwell_s: float = 20.0, timeout_s: float = 600.0):
        self.priorities = frozenset(int(p) for p in priorities)
        self.dwell_s = float(dwell_s)
        self.timeout_s = float(timeout_s)
        self.active: Claim | None = None
        self.queue: list[Claim] = []
        self._since: float = 0.0  # when the active claim went (back) on the wall

    def claims(self, priority: int) -> bool:
        return int(priority) in self.priorities

    def alarm(self, claim: Claim, now: float) -> None:
        """An alarm arrived (or arrived again). Ignored when its priority does not take over."""
        if not self.claims(claim.priority):
            return
        claim.arrived = claim.arrived or now
        if self.active is not None and self.active.alarm_id == claim.alarm_id:
            self.active.cameras = claim.cameras or self.active.cameras
            return
        for q in self.queue:
            if q.alarm_id == claim.alarm_id:
                q.cameras = claim.cameras or q.cameras
                return
        self.queue.append(claim)
        self.tick(now)

    def closed(self, alarm_id: str, now: float) -> None:
        """The alarm was resolved or closed as false somewhere."""
        self.queue = [q for q in self.queue if q.alarm_id != alarm_id]
        if self.active is not None and self.active.alarm_id == alarm_id:
            self.active.closed = True
        self.tick(now)

    def _sort(self) -> None:
        self.queue.sort(key=lambda c: (c.priority, c.arrived))

    def tick(self, now: float) -> Claim | None:
        """Advance the rules to ``now``; returns the claim to show (None: the wall's layout)."""
        self.queue = [q for q in self.queue if now - q.arrived < self.timeout_s]
        self._sort()
        a = self.active
        if a is not None:
            dwelt = now - self._since >= self.dwell_s
            expired = a.shown_at is not None and now - a.shown_at >= self.timeout_s
            if dwelt and (a.closed or expired):
                self.active = None
            elif dwelt and self.queue and self.queue[0].priority < a.priority:
                self.queue.append(a)  # pre-empted: back in line, still open
                self.active = None
                self._sort()
        if self.active is None and self.queue:
            self.active = self.queue.pop(0)
            if self.active.shown_at is None:
                self.active.shown_at = now
            self._since = now
        return self.active

    def current(self) -> Claim | None:
        return self.active

    def next_change_in(self, now: float) -> float | None:
        """Seconds until :meth:`tick` may change its answer by time alone (for a timer)."""
        a = self.active
        if a is None:
            return None
        ends = [self._since + self.dwell_s]
        if a.shown_at is not None:
            ends.append(a.shown_at + self.timeout_s)
        later = [t - now for t in ends if t > now]
        return min(later) if later else 0.0


def alarm_preset(base: WallLayout, claim: Claim, metres_per_px: float = 1.5,
                 label: str = "") -> WallLayout:
    """``base`` with the alarm's cameras in its largest video region and every map centred on
    the alarm. A layout without a video region gives its largest non-map region to the video."""
    regions = list(base.regions)

    def area(r: Region) -> int:
        return r.colspan * r.rowspan

    videos = [r for r in regions if r.kind == "video"]
    target = max(videos, key=area) if videos else None
    if target is None:
        others = [r for r in regions if r.kind != "map"]
        target = max(others, key=area) if others else None
    cams = [c for c in dict.fromkeys(claim.cameras) if c]
    out = []
    for r in regions:
        if r is target:
            n = max(1, min(len(cams), max(l.count for l in LAYOUTS.values())))
            name = layout_for_count(n)
            tiles = cams[:LAYOUTS[name].count]
            tiles += [None] * (LAYOUTS[name].count - len(tiles))
            out.append(replace(r, kind="video", video={"layout": name, "tiles": tiles}, ticker=None,
                               label=label or claim.alarm_id))
        elif r.kind == "map":
            out.append(replace(r, view=MapView(claim.lon, claim.lat, "WGS84", metres_per_px),
                               label=label or claim.alarm_id))
        else:
            out.append(r)
    return replace(base, regions=tuple(out), name=f"alarm {claim.alarm_id}")
