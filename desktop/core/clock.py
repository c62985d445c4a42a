"""Time sources: the wall clock, or a simulated one for training and replays.

Everything that stamps or schedules (the alarm service, the scenario player, scoring) asks a
:class:`Clock` instead of calling :func:`time.time`, so a training session can run faster
than real time, pause, or be stepped by a test without touching the code that uses it.

A clock gives epoch seconds (:meth:`Clock.time`), an aware :class:`~datetime.datetime`
(:meth:`Clock.now`) and a cancellable wait for a moment *in its own time*
(:meth:`Clock.sleep_until`): on a :class:`SimClock` that wait follows the speed factor and
stands still while paused.
"""
from __future__ import annotations

import threading
import time as _time
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "RealClock", "SimClock", "iso", "parse_iso", "CHINA_TZ"]

# China Standard Time: the zone the field's devices stamp in when they omit an offset.
CHINA_TZ = timezone(timedelta(hours=8), "CST")

# Longest single wait inside sleep_until, so a cancel event or a clock change is noticed
# quickly (threading.Event and Condition cannot be waited on together).
_POLL_S = 0.05


def _local_tz() -> tzinfo:
    return datetime.now().astimezone().tzinfo or timezone.utc


def iso(epoch: float, tz: tzinfo | None = None) -> str:
    """ISO 8601 text of an epoch time, with its UTC offset and milliseconds."""
    return datetime.fromtimestamp(epoch, tz or _local_tz()).isoformat(timespec="milliseconds")


def parse_iso(text: str, default_tz: tzinfo = CHINA_TZ) -> datetime:
    """Parse ISO 8601 (``Z`` or an offset accepted); a time without offset is taken in ``default_tz``.

    Raises ValueError on anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty time")
    s = text.strip()
    if s.endswith(("z", "Z")):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    return dt


@runtime_checkable
class Clock(Protocol):
    """What code that needs the time asks for."""

    def time(self) -> float:
        """Seconds since the Unix epoch, in this clock's time."""

    def now(self) -> datetime:
        """This clock's time as an aware datetime."""

    def sleep_until(self, epoch: float, cancel: threading.Event | None = None) -> bool:
        """Block until this clock reaches ``epoch``; False when ``cancel`` was set first."""

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Block for ``seconds`` of this clock's time; False when cancelled."""


class RealClock:
    """The workstation's own clock (what live operation uses)."""

    def __init__(self, tz: tzinfo | None = None):
        self.tz = tz or _local_tz()

    def time(self) -> float:
        return _time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), self.tz)

    def sleep_until(self, epoch: float, cancel: threading.Event | None = None) -> bool:
        while True:
            remaining = epoch - self.time()
            if cancel is not None and cancel.is_set():
                return False
            if remaining <= 0:
                return True
            if cancel is not None:
                if cancel.wait(min(remaining, 1.0)):
                    return False
            else:
                _time.sleep(min(remaining, 1.0))

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        return self.sleep_until(self.time() + seconds, cancel)

    def __repr__(self) -> str:
        return "RealClock()"


class SimClock:
    """A simulated clock: starts at ``start``, runs ``speed`` times real time, can pause and jump.

    Thread-safe. Simulated time is anchored to the monotonic clock, so changing the
    workstation's wall clock never moves a training session. Waiters in :meth:`sleep_until`
    are woken whenever the speed, the pause state or the time itself changes.
    """

    def __init__(self, start: datetime | float | None = None, speed: float = 1.0,
                 paused: bool = False, tz: tzinfo | None = None):
        if isinstance(start, datetime):
            if start.tzinfo is None:
                start = start.replace(tzinfo=tz or _local_tz())
            self.tz = tz or start.tzinfo
            start_epoch = start.timestamp()
        else:
            self.tz = tz or _local_tz()
            start_epoch = _time.time() if start is None else float(start)
        self._check_speed(speed)
        self._cond = threading.Condition()
        self.start_epoch = start_epoch
        self._anchor_sim = start_epoch
        self._anchor_real = _time.monotonic()
        self._speed = float(speed)
        self._paused = bool(paused)

    @staticmethod
    def _check_speed(speed: float) -> None:
        if not (isinstance(speed, (int, float)) and speed > 0):
            raise ValueError(f"clock speed must be a positive number, got {speed!r}")

    def _time_locked(self) -> float:
        if self._paused:
            return self._anchor_sim
        return self._anchor_sim + (_time.monotonic() - self._anchor_real) * self._speed

    def _reanchor_locked(self, sim: float) -> None:
        self._anchor_sim = sim
        self._anchor_real = _time.monotonic()
        self._cond.notify_all()

    # --- reading ---------------------------------------------------------------------

    def time(self) -> float:
        with self._cond:
            return self._time_locked()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), self.tz)

    def elapsed(self) -> float:
        """Simulated seconds since the clock's start time."""
        return self.time() - self.start_epoch

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    # --- controlling -----------------------------------------------------------------

    def set_speed(self, speed: float) -> None:
        """Change the speed factor from now on (time already passed is kept)."""
        self._check_speed(speed)
        with self._cond:
            self._reanchor_locked(self._time_locked())
            self._speed = float(speed)

    def pause(self) -> None:
        with self._cond:
            if not self._paused:
                self._reanchor_locked(self._time_locked())
                self._paused = True

    def resume(self) -> None:
        with self._cond:
            if self._paused:
                self._paused = False
                self._reanchor_locked(self._anchor_sim)

    def advance(self, seconds: float) -> None:
        """Jump forward (or back, if negative) by ``seconds`` of simulated time; works while paused."""
        with self._cond:
            self._reanchor_locked(self._time_locked() + float(seconds))

    def set_time(self, when: datetime | float) -> None:
        """Jump to an absolute time."""
        epoch = when.timestamp() if isinstance(when, datetime) else float(when)
        with self._cond:
            self._reanchor_locked(epoch)

    # --- waiting ---------------------------------------------------------------------

    def sleep_until(self, epoch: float, cancel: threading.Event | None = None) -> bool:
        with self._cond:
            while True:
                if cancel is not None and cancel.is_set():
                    return False
                now = self._time_locked()
                if now >= epoch:
                    return True
                if self._paused:
                    wait = _POLL_S if cancel is not None else None
                else:
                    wait = (epoch - now) / self._speed
                    if cancel is not None:
                        wait = min(wait, _POLL_S)
                self._cond.wait(wait)

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        return self.sleep_until(self.time() + seconds, cancel)

    def __repr__(self) -> str:
        return (f"SimClock(now={iso(self.time(), self.tz)!r}, speed={self._speed}, "
                f"paused={self._paused})")
