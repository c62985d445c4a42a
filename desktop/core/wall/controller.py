"""What a wall shows, decided without Qt: the layout it was sent, an alarm preset over it, the
alarms its ticker lists, and the state it reports back (Qt-free).

The wall's window calls :meth:`WallController.offer_layout` for every layout that arrives,
:meth:`alarm` / :meth:`alarm_state` for the alarm feeds, and :meth:`tick` from a timer; when
:meth:`tick` returns a layout, the window shows it. :meth:`state_payload` is what goes out on
``pingan/wall/<wall>/state``.
"""
from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

from .layout import WallLayout, default_layout
from .store import LastLayoutStore
from .takeover import Claim, Takeover, alarm_preset

log = logging.getLogger(__name__)

__all__ = ["TickerItem", "WallController", "PROGRAM_VERSION"]

PROGRAM_VERSION = "0.1.0"
TERMINAL = ("resolved", "false_alarm")
MAX_TICKER_MEMORY = 500  # alarms remembered for the ticker and late states


@dataclass
class TickerItem:
    """One alarm as the ticker lists it."""

    alarm_id: str
    priority: int
    type: str
    text: str
    epoch: float
    state: str = "new"
    subdistrict: str = ""


class WallController:
    """The wall's decisions (see the module docstring).

    ``cameras_for(alarm_id, lon, lat, named)`` gives the cameras an alarm links to, best first
    (the alarm's own list, then those whose view covers its point)."""

    def __init__(self, wall: str, store: LastLayoutStore | None = None, *,
                 takeover: Takeover | None = None, clock: Callable[[], float] = time.time,
                 cameras_for: Callable[..., list] | None = None):
        self.wall = wall
        self.store = store
        self.clock = clock
        self.takeover = takeover or Takeover()
        self.cameras_for = cameras_for or (lambda aid, lon, lat, named: list(named))
        self.base: WallLayout = default_layout(wall)
        self.started_from = "default"
        self.load_error = ""
        if store is not None:
            saved = store.load()
            self.load_error = store.error
            if saved is not None:
                self.base, self.started_from = saved, "disk"
        self.rejected = 0
        self.ignored_older = 0
        self.last_error = ""
        self.alarms: "OrderedDict[str, TickerItem]" = OrderedDict()
        self._early_states: "OrderedDict[str, str]" = OrderedDict()  # states of alarms not seen yet
        self.shown: WallLayout | None = None
        self.showing_alarm: str | None = None
        self.visible_revision = 0
        self.visible_at = 0.0
        self._dirty = True

    # -- layouts ----------------------------------------------------------------------------
    @property
    def applied_revision(self) -> int:
        return self.base.revision

    def offer_layout(self, layout: WallLayout) -> bool:
        """A layout arrived: applied (and kept on disk) only when newer than the one we have."""
        if layout.wall != self.wall:
            return False
        if layout.revision <= self.base.revision:
            if layout.revision < self.base.revision:
                self.ignored_older += 1
                log.info("wall %s: layout revision %d ignored (showing %d)", self.wall, layout.revision,
                         self.base.revision)
            return False
        self.base = layout
        self._dirty = True
        if self.store is not None:
            try:
                self.store.save(layout)
            except OSError as exc:
                self.last_error = f"{self.store.path}: {exc}"
                log.error("wall %s: could not keep the layout on disk: %s", self.wall, exc)
        return True

    def layout_rejected(self, error: str) -> None:
        self.rejected += 1
        self.last_error = error

    # -- alarms -----------------------------------------------------------------------------
    def alarm(self, alarm_id: str, priority: int, lon_wgs: float, lat_wgs: float, *, type: str = "",
              text: str = "", epoch: float | None = None, cameras: Iterable[str] = (), subdistrict: str = "",
              arrived: float | None = None) -> None:
        """A new alarm (or a repeat): listed on the ticker; an urgent one claims the wall.
        ``arrived``: when it happened, for one learnt late (from a retained state); default now."""
        now = self.clock()
        item = self.alarms.get(alarm_id)
        if item is None:
            state = self._early_states.pop(alarm_id, "new")
            item = TickerItem(alarm_id, int(priority), type, text, epoch or now, state, subdistrict)
            self.alarms[alarm_id] = item
            while len(self.alarms) > MAX_TICKER_MEMORY:
                self.alarms.popitem(last=False)
        else:
            self.alarms.move_to_end(alarm_id)
        self._dirty = True
        if item.state in TERMINAL or not (math.isfinite(lon_wgs) and math.isfinite(lat_wgs)):
            return
        if self.takeover.claims(priority):
            cams = list(self.cameras_for(alarm_id, lon_wgs, lat_wgs, list(cameras)))
            claim = Claim(alarm_id, int(priority), lon_wgs, lat_wgs, cams, text,
                          arrived=min(now, arrived) if arrived else 0.0)
            self.takeover.alarm(claim, now)

    def alarm_state(self, alarm_id: str, state: str) -> None:
        """A workflow change made on a workstation (live, or retained from before we started)."""
        item = self.alarms.get(alarm_id)
        if item is None:
            self._early_states[alarm_id] = state
            while len(self._early_states) > MAX_TICKER_MEMORY:
                self._early_states.popitem(last=False)
        else:
            item.state = state
        self._dirty = True
        if state in TERMINAL:
            self.takeover.closed(alarm_id, self.clock())

    def ticker(self, max_items: int = 6, priorities: Iterable[int] = (1, 2, 3, 4)) -> list[TickerItem]:
        """Open alarms first (most urgent, newest), then the latest closed ones."""
        pr = set(priorities)
        items = [a for a in self.alarms.values() if a.priority in pr]
        items.sort(key=lambda a: (a.state in TERMINAL, a.priority, -a.epoch))
        return items[:max_items]

    def ticker_changed(self) -> bool:
        d, self._dirty = self._dirty, False
        return d

    # -- what to show -----------------------------------------------------------------------
    def tick(self) -> WallLayout | None:
        """Advance the alarm rules; returns the layout to show when it changed, else None."""
        claim = self.takeover.tick(self.clock())
        alarm_id = claim.alarm_id if claim is not None else None
        target = self.base if claim is None else alarm_preset(
            self.base, claim, label=f"{claim.alarm_id}  {claim.text}".strip())
        if self.shown is not None and target == self.shown and alarm_id == self.showing_alarm:
            return None
        self.shown, self.showing_alarm = target, alarm_id
        return target

    def mark_visible(self, revision: int, at: float | None = None) -> None:
        """The window painted ``revision`` with its video live (the benchmark's end point)."""
        self.visible_revision, self.visible_at = revision, at if at is not None else time.time()

    def state_payload(self, tiles: list[dict], screens: int = 0, link: str = "") -> dict:
        return {"wall": self.wall, "online": True, "applied_revision": self.base.revision,
                "layout_name": self.base.name, "showing": "alarm" if self.showing_alarm else "layout",
                "alarm": self.showing_alarm, "visible_revision": self.visible_revision,
                "visible_at": self.visible_at, "tiles": tiles, "screens": screens,
                "started_from": self.started_from, "rejected": self.rejected,
                "ignored_older": self.ignored_older, "last_error": self.last_error,
                "ticker": [{"id": a.alarm_id, "priority": a.priority, "state": a.state} for a in self.ticker(10)],
                "version": PROGRAM_VERSION, "time": time.time()}
