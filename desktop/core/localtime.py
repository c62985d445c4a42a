"""Times as the district reads them: its own clock zone, not the workstation's (Qt-free).

A command center's PCs are not always set to the district's zone (a PC installed in UTC, a
laptop brought from elsewhere), yet an alarm at 09:00 in Qingdao must read 09:00 on every
screen, in every table, detail and tile overlay. The zone is declared by the dataset
(``timezone`` in ``district.toml``, an IANA name, default ``Asia/Shanghai``) and set once per
process when the district is loaded (:func:`set_district_zone`); everything that shows a time
calls :func:`format_local` (or :func:`format_local_iso` for a payload's ISO text), which
writes the time of day for today and adds the date otherwise, so a table never needs a
separate date column to be unambiguous.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

__all__ = ["DEFAULT_ZONE", "ZoneError", "zone", "set_district_zone", "district_zone",
           "local_datetime", "format_local", "format_local_iso", "format_duration"]

DEFAULT_ZONE = "Asia/Shanghai"
# China has used one offset without summer time since 1991: a safe stand-in for the default
# zone on a system without the tz database (Windows without the tzdata package).
_SHANGHAI_FIXED = timezone(timedelta(hours=8), "CST")


class ZoneError(ValueError):
    """A time zone name that is not in the tz database (the message names it)."""


def zone(name: str) -> tzinfo:
    """The IANA zone ``name`` (e.g. ``Asia/Shanghai``, ``Asia/Urumqi``, ``UTC``)."""
    if not isinstance(name, str) or not name.strip():
        raise ZoneError("time zone must be a non-empty IANA name such as 'Asia/Shanghai'")
    name = name.strip()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == DEFAULT_ZONE:
            return _SHANGHAI_FIXED
        raise ZoneError(f"unknown time zone {name!r} (expected an IANA name such as 'Asia/Shanghai')") from None


_current: tzinfo = zone(DEFAULT_ZONE)


def set_district_zone(tz: tzinfo | str) -> tzinfo:
    """Make ``tz`` the zone every time is shown in (the loaded district's); returns it."""
    global _current
    _current = zone(tz) if isinstance(tz, str) else tz
    return _current


def district_zone() -> tzinfo:
    """The zone times are shown in (the district's; Asia/Shanghai until one is loaded)."""
    return _current


def local_datetime(epoch: float, tz: tzinfo | None = None) -> datetime:
    """``epoch`` as an aware datetime in the district's zone (or ``tz``)."""
    return datetime.fromtimestamp(epoch, tz or _current)


def format_local(epoch: float | None, tz: tzinfo | None = None, now: float | None = None,
                 seconds: bool = True, date: bool | None = None) -> str:
    """``09:00:12`` for a moment of today (in the district's zone), ``12-01 09:00:12`` for
    another day of this year, ``2025-12-01 09:00:12`` for another year; ``—`` for none.
    ``date=True`` always writes the full date (exports, audit trails); ``now`` is the
    reference moment (a simulated clock's)."""
    if epoch is None or epoch != epoch:
        return "—"
    import time as _time
    z = tz or _current
    dt = datetime.fromtimestamp(epoch, z)
    clock = "%H:%M:%S" if seconds else "%H:%M"
    if date:
        return dt.strftime("%Y-%m-%d " + clock)
    if date is None:  # date=False: the time of day only (a tile's overlay, 25 times a second)
        today = datetime.fromtimestamp(_time.time() if now is None else now, z)
        if dt.date() != today.date():
            return dt.strftime(("%m-%d " if dt.year == today.year else "%Y-%m-%d ") + clock)
    return dt.strftime(clock)


def format_local_iso(text: str, tz: tzinfo | None = None, now: float | None = None,
                     seconds: bool = True) -> str:
    """A payload's ISO-8601 time (any offset; none means the district's zone) as
    :func:`format_local` writes it; text that is not a time comes back unchanged."""
    if not text:
        return ""
    try:
        dt = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz or _current)
    return format_local(dt.timestamp(), tz, now, seconds)


def format_duration(seconds: float | None) -> str:
    """``45 s``, ``3 min 05 s``, ``2 h 07 min``; ``—`` for none."""
    if seconds is None or seconds != seconds:
        return "—"
    s = int(round(max(0.0, seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"
