"""Tours: check-ins at posts and the judgement of every scheduled visit.

**Check-in.** A unit of an allowed kind that comes within a post's ``radius_m`` starts a
stay (its *arrival* is that fix). Once it has stayed ``dwell_s`` — the first fix at least
that long after the arrival, still within the radius — it is *checked in*, and stays
checked in until it leaves (a fix outside the radius, or no fix for :data:`MAX_GAP_S`:
its *departure* is its last fix inside). A unit that passes by without stopping never
checks in.

**Judgement.** Each scheduled visit has a window (:class:`~.schedule.VisitWindow`). A
check-in interval (from check-in to departure) that meets the on-time part of the window
makes the visit *on time*; failing that, one in the early part makes it *early*, one in the
late part *late*; with none by the time the window closes it is *missed*. A unit standing
at a post through the scheduled time is therefore on time, whenever it arrived.

States become final as soon as nothing can change them: on time at once; early when the
on-time part has passed; late and missed when seen, after the on-time part (and the window)
has passed. Every edge waits :data:`GRACE_S` for fixes still on their way. A missed visit
raises a ``patrol_missed`` alarm, a valid ``pingan/alarm`` payload whose id is made from
the post and the scheduled time, so two workstations raising it fold into one alarm.

Only windows that open after watching began (:meth:`TourWatcher.watch`) are judged: for
an earlier one the check-in may have happened before we could see it.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

import numpy as np

from desktop.core.clock import iso

from .journal import VisitRecord
from .schedule import PatrolSchedule, VisitWindow
from .units import kind_code

__all__ = ["TourWatcher", "PostPoint", "CheckIn", "missed_alarm", "missed_alarm_id", "MAX_GAP_S", "GRACE_S",
           "MISSED_TYPE"]

MAX_GAP_S = 60.0  # a stay is broken by this long without a fix (the unit may have left unseen)
GRACE_S = 10.0  # a window edge is judged this long after it passes: fixes can arrive late
MISSED_TYPE = "patrol_missed"
MISSED_PRIORITY = 3  # a missed check is a lapse to follow up, not an emergency
_LOOKAHEAD_S = 3600.0  # windows are known this far ahead ("upcoming" in the visit list)


@dataclass(frozen=True)
class PostPoint:
    """A post where visits are scheduled: its id, name and position (WGS84 and local metres)."""

    post: str
    name: str
    lon: float
    lat: float
    x: float
    y: float


@dataclass
class CheckIn:
    """A stay of ``unit`` at ``post``: arrival, the check-in moment (None until the dwell is
    reached), the last fix inside (``last_in``) and whether it has ended (``left``)."""

    unit: str
    kind: str
    post: str
    arrival: float
    last_in: float
    checkin: float | None = None
    left: bool = False


@dataclass
class _Window:
    w: VisitWindow
    state: str = "open"  # open | early (provisional) | final states
    final: bool = False
    record: VisitRecord | None = None
    stay: CheckIn | None = None  # the check-in a final state was made by, until it has left


def missed_alarm_id(post: str, scheduled: float, schedule: PatrolSchedule) -> str:
    """The alarm id of a missed visit: the post and the scheduled local time, so every
    workstation makes the same one."""
    stamp = schedule.local_time(scheduled).strftime("%Y%m%dT%H%M%S")
    ident = f"PATROL-MISSED-{post}-{stamp}"
    if len(ident) > 120:  # the alarm schema caps ids at 128 characters
        ident = "PATROL-MISSED-" + hashlib.sha1(f"{post}|{stamp}".encode()).hexdigest()[:24] + f"-{stamp}"
    return ident


def missed_alarm(post: PostPoint, window: VisitWindow, schedule: PatrolSchedule,
                 priority: int = MISSED_PRIORITY) -> dict:
    """The ``pingan/alarm`` payload for a missed visit (deterministic: same input, same payload)."""
    due = schedule.local_time(window.scheduled).strftime("%H:%M")
    return {
        "id": missed_alarm_id(post.post, window.scheduled, schedule),
        "type": MISSED_TYPE,
        "priority": int(priority),
        "time": iso(window.closes, schedule.tz),
        "lon": round(post.lon, 7),
        "lat": round(post.lat, 7),
        "crs": "WGS84",
        "source": f"patrol-tour/{post.post}",
        # Bilingual like every feed text: the payload goes to workstations in either language.
        "text": f"巡逻必到点漏巡：{post.name}（应到 {due}）/ patrol post visit missed: {post.name} (due {due})",
    }


class TourWatcher:
    """Check-ins at the scheduled posts and the judgement of their visits. Not thread-safe:
    the patrol service calls it under its lock.

    ``posts``: the scheduled posts (others are ignored). ``observe`` takes fixes in local
    metres (one unit's fixes in time order); ``update(now)`` judges and returns what became
    final and the alarms to raise.
    """

    def __init__(self, schedule: PatrolSchedule, posts: Sequence[PostPoint], *, grace_s: float = GRACE_S,
                 max_gap_s: float = MAX_GAP_S, priority: int = MISSED_PRIORITY):
        self.schedule = schedule
        self.posts = [p for p in posts if p.post in schedule.posts]
        self.by_id = {p.post: p for p in self.posts}
        self.grace_s = grace_s
        self.max_gap_s = max_gap_s
        self.priority = priority
        self._px = np.array([p.x for p in self.posts], float)
        self._py = np.array([p.y for p in self.posts], float)
        ps = [schedule.posts[p.post] for p in self.posts]
        self._radius = np.array([s.radius_m for s in ps], float)
        self._dwell = np.array([s.dwell_s for s in ps], float)
        # allowed[kind_code, post]: which kinds can visit which post (-1 = unknown kind: none)
        self._allowed = np.zeros((5, len(ps)), bool)
        for j, s in enumerate(ps):
            for k in s.kinds:
                c = kind_code(k)
                if c >= 0:
                    self._allowed[c, j] = True
        self._stays: dict[str, dict[int, CheckIn]] = {}  # unit → post index → the stay in progress
        self._last_t: dict[str, float] = {}
        self._checked: dict[str, list[CheckIn]] = {p.post: [] for p in self.posts}
        self._windows: dict[tuple[str, float], _Window] = {}
        self.watch_from: float | None = None
        self.watch_until: float | None = None
        self.offset_s = 0.0
        self._generated_to: float | None = None

    # --- what is watched -----------------------------------------------------------------

    def watch(self, start: float, until: float | None = None, offset_s: float = 0.0) -> None:
        """Judge the windows that open at or after ``start`` (and close by ``until``, if given).

        ``offset_s`` shifts the schedule: a visit scheduled at local time *T* is expected at
        *T* + offset. The offline demo replays a scenario recorded at another time of day
        on the real clock; with the offset (real start − the scenario's start) its units
        keep their appointments. Called again (a new demo loop), it forgets the windows not
        judged yet.
        """
        self.watch_from = float(start)
        self.watch_until = None if until is None else float(until)
        self.offset_s = float(offset_s)
        self._windows = {k: v for k, v in self._windows.items() if v.final}
        self._generated_to = self.watch_from

    # --- fixes ---------------------------------------------------------------------------

    def observe(self, units: Sequence[str], kinds: Sequence[str], t: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Fixes in local metres; each unit's fixes must come in time order (older ones are ignored)."""
        if not self.posts or not len(t):
            return
        d2 = (x[:, None] - self._px[None, :]) ** 2 + (y[:, None] - self._py[None, :]) ** 2
        codes = np.array([kind_code(k) for k in kinds], int)
        inside = (d2 <= (self._radius ** 2)[None, :]) & self._allowed[np.where(codes < 0, 4, codes)]
        near = inside.any(axis=1)
        for i in range(len(t)):
            unit = units[i]
            stays = self._stays.get(unit)
            if not near[i] and not stays:
                self._last_t[unit] = max(self._last_t.get(unit, -math.inf), float(t[i]))
                continue
            ti = float(t[i])
            if ti <= self._last_t.get(unit, -math.inf):
                continue  # out of order or repeated: the stays have moved on
            self._last_t[unit] = ti
            now_in = set(np.flatnonzero(inside[i]).tolist())
            stays = self._stays.setdefault(unit, {})
            for j in list(stays):
                st = stays[j]
                if j not in now_in or ti - st.last_in > self.max_gap_s:
                    st.left = True  # departure = last_in
                    del stays[j]
            for j in now_in:
                st = stays.get(j)
                if st is None:
                    st = CheckIn(unit, kinds[i], self.posts[j].post, ti, ti)
                    stays[j] = st
                st.last_in = ti
                if st.checkin is None and ti - st.arrival >= self._dwell[j]:
                    st.checkin = ti
                    self._checked[st.post].append(st)
            if not stays:
                del self._stays[unit]

    # --- judging -------------------------------------------------------------------------

    def _generate(self, now: float) -> None:
        if self.watch_from is None:
            self.watch(now)
        start = self._generated_to
        if now + _LOOKAHEAD_S <= start:
            return
        end = now + 2 * _LOOKAHEAD_S  # an hour of windows at a time, not a second's each tick
        off = self.offset_s
        for w in self.schedule.windows(start - off, end - off, [p.post for p in self.posts]):
            if off:
                w = VisitWindow(w.post, w.scheduled + off, w.opens + off, w.on_from + off, w.on_until + off,
                                w.closes + off)
            if self.watch_until is not None and w.closes > self.watch_until:
                continue
            self._windows.setdefault((w.post, w.scheduled), _Window(w))
        self._generated_to = end

    @staticmethod
    def _best(w: VisitWindow, stays: Iterable[CheckIn]) -> tuple[str, float, CheckIn] | None:
        """(state, moment, stay) of the best check-in for window ``w``, or None."""
        best = None
        rank = {"on_time": 0, "early": 1, "late": 2}
        for st in stays:
            if st.checkin is None or st.checkin > w.closes or st.last_in < w.opens:
                continue
            a, b = st.checkin, st.last_in
            if a <= w.on_until and b >= w.on_from:
                cand = ("on_time", max(a, w.on_from))
            elif a < w.on_from:
                cand = ("early", max(a, w.opens))
            else:
                cand = ("late", a)
            key = (rank[cand[0]], cand[1])
            if best is None or key < best[0]:
                best = (key, cand[0], cand[1], st)
        return None if best is None else (best[1], best[2], best[3])

    def update(self, now: float) -> tuple[list[VisitRecord], list[dict]]:
        """Judge what can be judged at ``now``: (visits that became final or got their
        departure since, alarms to raise)."""
        self._generate(now)
        # A unit silent for longer than the gap has left as far as we can tell: its stay ends
        # at its last fix (a later fix inside starts a new stay).
        for unit in [u for u, stays in self._stays.items()
                     if any(now - st.last_in > self.max_gap_s for st in stays.values())]:
            stays = self._stays[unit]
            for j in [j for j, st in stays.items() if now - st.last_in > self.max_gap_s]:
                stays.pop(j).left = True
            if not stays:
                del self._stays[unit]
        done: list[VisitRecord] = []
        alarms: list[dict] = []
        g = self.grace_s
        for key, win in self._windows.items():
            if win.final:
                # A visit judged while the unit was still there: its departure, once it leaves.
                if win.stay is not None and win.stay.left and win.record is not None:
                    win.record = replace(win.record, departure=win.stay.last_in)
                    win.stay = None
                    done.append(win.record)
                continue
            if win.w.opens > now:
                continue
            w = win.w
            best = self._best(w, self._checked.get(w.post, ()))
            state = None
            if best is not None:
                kind, moment, st = best
                if kind == "on_time":
                    state = "on_time"
                elif kind == "early":
                    state = "early" if now >= w.on_until + g else None
                    win.state = "early"
                elif now >= w.on_until + g:
                    state = "late"
            elif now >= w.closes + g:
                state = "missed"
            if state is None:
                win.record = self._record(win, best, "early" if best and best[0] == "early" else "open", False, None)
                continue
            alarm_id = ""
            if state == "missed":
                payload = missed_alarm(self.by_id[w.post], w, self.schedule, self.priority)
                alarm_id = payload["id"]
                alarms.append(payload)
            win.final = True
            win.state = state
            win.record = self._record(win, best, state, True, now, alarm_id)
            if best is not None and not best[2].left:
                win.stay = best[2]
            done.append(win.record)
        self._prune(now)
        return done, alarms

    def _record(self, win: _Window, best, state: str, final: bool, judged: float | None,
                alarm_id: str = "") -> VisitRecord:
        w = win.w
        name = self.by_id[w.post].name if w.post in self.by_id else ""
        if best is None:
            return VisitRecord(w.post, w.scheduled, state, w.opens, w.closes, judged=judged, alarm_id=alarm_id,
                               final=final, post_name=name)
        _, moment, st = best
        return VisitRecord(w.post, w.scheduled, state, w.opens, w.closes, unit=st.unit, kind=st.kind,
                           arrival=st.arrival, checkin=moment, departure=st.last_in if st.left else None,
                           judged=judged, alarm_id=alarm_id, final=final, post_name=name)

    def _prune(self, now: float) -> None:
        """Forget final windows and old check-ins that can no longer matter."""
        span = max((s.before_s + s.after_s for s in self.schedule.posts.values()), default=0.0)
        horizon = now - span - 3600.0
        for post, lst in self._checked.items():
            if lst and lst[0].last_in < horizon:
                self._checked[post] = [s for s in lst if not (s.left and s.last_in < horizon)]
        old = [k for k, v in self._windows.items() if v.final and v.w.closes < horizon]
        for k in old:
            del self._windows[k]

    def open_visits(self, now: float) -> list[VisitRecord]:
        """Visits not judged yet: open windows (state ``open``, or a provisional ``early``) and
        the ``upcoming`` ones of the next hour."""
        out = []
        for win in self._windows.values():
            if win.final:
                continue
            if win.w.opens > now:
                name = self.by_id[win.w.post].name
                out.append(VisitRecord(win.w.post, win.w.scheduled, "upcoming", win.w.opens, win.w.closes,
                                       final=False, post_name=name))
            elif win.record is not None:
                out.append(win.record)
            else:
                out.append(self._record(win, None, "open", False, None))
        out.sort(key=lambda v: (v.scheduled, v.post))
        return out

    def stays(self) -> list[CheckIn]:
        """Check-ins in memory (recent ones), for display and tests."""
        return [s for lst in self._checked.values() for s in lst]

