"""Filling in the sub-district of alarms that arrive without one, a batch of events at once.

Qt-free. Used where the events of the alarm feed process are placed: in that process before it
sends them (with the session's :class:`~desktop.core.district.locator.SubdistrictLocator`), or,
when it has none, on the GUI process's mirror thread.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Callable

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["fill_subdistricts"]


def fill_subdistricts(events: list, locate_many: Callable[..., list[str]] | None = None,
                      locate: Callable[[float, float], str] | None = None) -> list:
    """``events`` with each alarm that has no sub-district placed in its own: all of them in one
    ``locate_many(lons, lats)`` call (else one ``locate(lon, lat)`` each). Events that need
    nothing are the same objects; if locating fails, the events come back unplaced (logged)."""
    need = [i for i, e in enumerate(events) if e.alarm is not None and not e.alarm.subdistrict]
    if not need or (locate is None and locate_many is None):
        return events
    try:
        if locate_many is not None:
            subs = locate_many(np.array([events[i].alarm.lon_wgs for i in need], float),
                               np.array([events[i].alarm.lat_wgs for i in need], float))
        else:
            subs = [locate(events[i].alarm.lon_wgs, events[i].alarm.lat_wgs) for i in need]
    except Exception:  # noqa: BLE001 - the caller's loop must go on; the alarms stay unplaced
        log.exception("locating alarms in the sub-districts failed")
        return events
    out = list(events)
    for i, sub in zip(need, subs):
        if sub:
            e = out[i]
            out[i] = replace(e, alarm=replace(e.alarm, subdistrict=sub))
    return out
