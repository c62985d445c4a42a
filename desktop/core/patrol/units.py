"""Patrol unit kinds and the state of a unit as its fixes come in.

A unit is known only through its position fixes (``pingan/patrol/<unit>/position``). From
the latest fix and the clock we derive two independent states:

* **link**: ``live`` while fixes keep coming, ``stale`` after :data:`STALE_S` without one (the
  map greys it), ``offline`` after :data:`OFFLINE_S` (it is no longer offered for dispatch);
* **motion**: ``moving`` or ``stopped``, from the reported speed and, because some trackers
  report 0 km/h while moving, from the displacement since the previous fix.

``busy`` (dispatched to an alarm) is a third, operator-made state kept by
:mod:`desktop.core.patrol.dispatch`.
"""
from __future__ import annotations

from dataclasses import dataclass

from desktop.core.alarms.linkage import SPEED_KMH
from desktop.core.feeds.schema import PATROL_KINDS

__all__ = ["KindProfile", "PROFILES", "KINDS", "LAND_KINDS", "WATER_KINDS", "STALE_S", "OFFLINE_S",
           "profile", "kind_code", "link_state", "UnitStatus"]

STALE_S = 60.0  # no fix for this long: the position is shown as stale
OFFLINE_S = 300.0  # no fix for this long: the unit is offline (not offered for dispatch)

KINDS: tuple[str, ...] = PATROL_KINDS  # ("car", "ebike", "foot", "boat"): the feed's spelling
WATER_KINDS: tuple[str, ...] = ("boat",)
LAND_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k not in WATER_KINDS)


@dataclass(frozen=True)
class KindProfile:
    """What a kind of unit moves like: its travel speed and its trip/stop thresholds.

    ``speed_kmh`` is the planning speed for dispatch ETAs (the alarm linkage's
    :data:`~desktop.core.alarms.linkage.SPEED_KMH`, one table for both). A **stop** is a stay
    within ``stop_radius_m`` for at least ``stop_min_s``; a **trip** between two stops shorter
    than ``trip_min_m`` is not a trip (the unit shuffled about) and the two stops merge.
    ``moving_kmh`` is the speed above which a fix counts as moving.
    """

    kind: str
    speed_kmh: float
    stop_radius_m: float
    stop_min_s: float
    trip_min_m: float
    moving_kmh: float
    water: bool = False

    @property
    def speed_ms(self) -> float:
        return self.speed_kmh / 3.6


# Thresholds: a car is "stopped" when it stays within 50 m for two minutes (a red light is
# shorter, a check at a post longer); walkers wander less but linger longer before it means
# anything; a boat holding position drifts, so its radius is wide.
PROFILES: dict[str, KindProfile] = {
    "car": KindProfile("car", SPEED_KMH["car"], 50.0, 120.0, 200.0, 5.0),
    "ebike": KindProfile("ebike", SPEED_KMH["ebike"], 30.0, 120.0, 100.0, 4.0),
    "foot": KindProfile("foot", SPEED_KMH["foot"], 20.0, 180.0, 50.0, 1.5),
    "boat": KindProfile("boat", SPEED_KMH["boat"], 100.0, 300.0, 300.0, 3.0, water=True),
}

_CODES = {k: i for i, k in enumerate(KINDS)}


def profile(kind: str) -> KindProfile:
    """The profile of ``kind``; an unknown kind moves like a walker (the cautious guess)."""
    return PROFILES.get(kind, PROFILES["foot"])


def kind_code(kind: str) -> int:
    """A small integer for ``kind`` (its index in :data:`KINDS`), for numpy columns; -1 if unknown."""
    return _CODES.get(kind, -1)


def link_state(age_s: float, stale_s: float = STALE_S, offline_s: float = OFFLINE_S) -> str:
    """``live``, ``stale`` or ``offline`` for a last fix ``age_s`` seconds old."""
    if age_s > offline_s:
        return "offline"
    if age_s > stale_s:
        return "stale"
    return "live"


@dataclass(frozen=True)
class UnitStatus:
    """One unit's latest fix and what it means now (plain values: safe to pickle).

    ``lon``/``lat`` are WGS84, ``lon_gcj``/``lat_gcj`` the same point in GCJ-02 (the map's
    default datum). ``link``: live/stale/offline; ``motion``: moving/stopped; ``busy`` with
    the ``alarm_id`` it was dispatched to; ``segment``: the id of the patrol route it is on
    (within 60 m), or "".
    """

    unit: str
    kind: str
    epoch: float
    lon: float
    lat: float
    lon_gcj: float
    lat_gcj: float
    speed_kmh: float
    heading_deg: float
    age_s: float
    link: str
    motion: str
    busy: bool = False
    alarm_id: str = ""
    segment: str = ""
