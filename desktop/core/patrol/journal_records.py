"""Dispatches (and arrivals) and post visits in the patrol journal: the records, and the
journal's methods that write and read their small tables (written at once, not buffered).

:class:`_RecordTables` is mixed into :class:`~.journal.PositionJournal`; it uses the journal's
write transaction (``_txn``) and per-thread read connection (``_reader``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

__all__ = ["DispatchRecord", "VisitRecord"]


@dataclass(frozen=True)
class DispatchRecord:
    """A unit sent to an alarm: when it was sent, when it arrived (within the arrival radius
    of the alarm point) and when it was released; ``None`` for what has not happened yet.

    Response times follow: ``arrived - dispatched``. ``from_lon``/``from_lat``: where the
    unit was when it was sent; ``eta_s``: the estimate it was sent on (NaN if none).
    """

    id: int
    unit: str
    kind: str
    alarm_id: str
    lon: float
    lat: float
    dispatched: float
    arrived: float | None = None
    released: float | None = None
    from_lon: float = math.nan
    from_lat: float = math.nan
    eta_s: float = math.nan

    @property
    def response_s(self) -> float | None:
        """Seconds from dispatch to arrival, or None before the unit arrived."""
        return None if self.arrived is None else self.arrived - self.dispatched


@dataclass(frozen=True)
class VisitRecord:
    """One scheduled visit of a post, judged: ``state`` on_time/early/late/missed (or pending).

    ``scheduled`` is the scheduled time; ``opens``/``closes`` the whole window (early to late
    edge). For a made visit, ``unit``/``kind`` made it, ``arrival`` is when it came within the
    post's radius, ``checkin`` the moment its visit counted (it had stayed the dwell time and
    the window was open) and ``departure`` when it left (None: still there or unknown).
    ``alarm_id``: the ``patrol_missed`` alarm raised for a missed visit. ``final`` is False
    for a provisional state (an early check-in that an on-time one may still replace).
    """

    post: str
    scheduled: float
    state: str
    opens: float
    closes: float
    unit: str = ""
    kind: str = ""
    arrival: float | None = None
    checkin: float | None = None
    departure: float | None = None
    judged: float | None = None
    alarm_id: str = ""
    final: bool = True
    post_name: str = ""


class _RecordTables:
    """The dispatch and visit tables of :class:`~.journal.PositionJournal` (a mixin)."""

    # --- dispatches -------------------------------------------------------------------

    def add_dispatch(self, unit: str, kind: str, alarm_id: str, lon: float, lat: float, dispatched: float,
                     from_lon: float = math.nan, from_lat: float = math.nan, eta_s: float = math.nan) -> DispatchRecord:
        """Journal a dispatch (committed before it returns)."""
        with self._txn():
            cur = self._db.execute(
                "INSERT INTO dispatches(unit, kind, alarm_id, lon, lat, dispatched, from_lon, from_lat, eta_s) "
                "VALUES(?,?,?,?,?,?,?,?,?)",
                (unit, kind, alarm_id, lon, lat, dispatched, _nn(from_lon), _nn(from_lat), _nn(eta_s)))
        return DispatchRecord(int(cur.lastrowid), unit, kind, alarm_id, lon, lat, dispatched,
                              from_lon=from_lon, from_lat=from_lat, eta_s=eta_s)

    def set_arrived(self, dispatch_id: int, arrived: float) -> None:
        with self._txn():
            self._db.execute("UPDATE dispatches SET arrived=? WHERE id=? AND arrived IS NULL",
                             (arrived, dispatch_id))

    def set_released(self, dispatch_id: int, released: float) -> None:
        with self._txn():
            self._db.execute("UPDATE dispatches SET released=? WHERE id=? AND released IS NULL",
                             (released, dispatch_id))

    def dispatches(self, t0: float = -math.inf, t1: float = math.inf, *, open_only: bool = False,
                   unit: str | None = None, alarm_id: str | None = None,
                   by: str = "dispatched") -> list[DispatchRecord]:
        """Dispatches made in ``[t0, t1]`` (``by="arrived"``: that arrived in it), oldest first;
        ``open_only``: those not released yet."""
        if by not in ("dispatched", "arrived", "released"):
            raise ValueError(f"dispatches by {by!r}: expected dispatched, arrived or released")
        q = f"SELECT * FROM dispatches WHERE {by} >= ? AND {by} <= ?"
        args: list = [_finite(t0, -1e18), _finite(t1, 1e18)]
        if open_only:
            q += " AND released IS NULL"
        if unit is not None:
            q += " AND unit = ?"
            args.append(unit)
        if alarm_id is not None:
            q += " AND alarm_id = ?"
            args.append(alarm_id)
        rows = self._reader().execute(q + f" ORDER BY {by}, id", args).fetchall()
        return [DispatchRecord(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                               _nan(r[9]), _nan(r[10]), _nan(r[11])) for r in rows]

    # --- visits -----------------------------------------------------------------------

    def put_visits(self, visits: Iterable[VisitRecord]) -> None:
        """Journal judged visits (one per post and scheduled time; a re-judgement replaces)."""
        rows = [(v.post, v.scheduled, v.state, v.unit, v.kind, v.arrival, v.checkin, v.departure, v.opens,
                 v.closes, v.judged if v.judged is not None else v.closes, v.alarm_id) for v in visits]
        if not rows:
            return
        with self._txn():
            self._db.executemany("INSERT OR REPLACE INTO visits VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def visits(self, t0: float, t1: float, post: str | None = None, state: str | None = None) -> list[VisitRecord]:
        """Judged visits scheduled in ``[t0, t1]``, by scheduled time then post."""
        q = "SELECT * FROM visits WHERE scheduled >= ? AND scheduled <= ?"
        args: list = [_finite(t0, -1e18), _finite(t1, 1e18)]
        if post is not None:
            q += " AND post = ?"
            args.append(post)
        if state is not None:
            q += " AND state = ?"
            args.append(state)
        rows = self._reader().execute(q + " ORDER BY scheduled, post", args).fetchall()
        return [VisitRecord(post=r[0], scheduled=r[1], state=r[2], unit=r[3], kind=r[4], arrival=r[5],
                            checkin=r[6], departure=r[7], opens=r[8], closes=r[9], judged=r[10],
                            alarm_id=r[11]) for r in rows]


def _nn(v: float):
    """NaN as SQL NULL."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def _nan(v) -> float:
    return math.nan if v is None else float(v)


def _finite(v: float, default: float) -> float:
    return v if math.isfinite(v) else default
