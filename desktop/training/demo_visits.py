"""The demo scenario's foot patrols for the scheduled post visits: what happens to each visit
(most on time, two late, one early, one missed), the walk that makes it happen, and the check
that the patrol core's tours judge every visit as planned.

:class:`_PostVisits` is mixed into :class:`~.demo_builder._Builder`; it uses the builder's
district, clock, random generator and events (``d``, ``start``, ``duration``, ``rng``,
``emit``, ``time_at``, ``on_land``, ``in_crs``, ``events``, ``visits``).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from desktop.core.geo.crs import to_wgs84
from desktop.training.great_circle import _destination


class _PostVisits:
    """The post-visit part of :class:`~.demo_builder._Builder` (a mixin)."""

    # --- post visits (tours) ----------------------------------------------------------

    def _plan_outcomes(self, windows: list) -> list[str]:
        """What happens to each scheduled visit (sorted by time): most on time, two late, one
        early, exactly one missed — each where the scenario leaves room for it."""
        n = len(windows)
        start = self.start.timestamp()
        end = start + self.duration
        plan = ["on_time"] * n
        if n < 4:
            return plan
        plan[1] = "missed"  # early in the scenario, so its alarm comes while it runs
        free = [i for i in range(n) if plan[i] == "on_time"]
        # Early: walking in and checking in before the on-time part needs a few minutes.
        early = [i for i in free if windows[i].scheduled - start >= 240]
        if early:
            plan[self.rng.choice(early)] = "early"
        late = [i for i in range(n) if plan[i] == "on_time" and windows[i].on_until + 100 <= end]
        for i in self.rng.sample(late, min(2, len(late))):
            plan[i] = "late"
        return plan

    def _land_bearing(self, lon0: float, lat0: float, dist: float, avoid: float | None = None) -> float | None:
        """A bearing from (lon0, lat0) along which ``dist`` metres stay on land (WGS84 in)."""
        choices = [self.rng.uniform(0, 360) for _ in range(36)]
        if avoid is not None:  # leave the other way than one came, if the land allows
            choices.sort(key=lambda b: -abs(((b - avoid + 180) % 360) - 180))
        for b in choices:
            pts = [_destination(lon0, lat0, b, d) for d in np.linspace(0, dist, 6)]
            if all(self.on_land(lon, lat) for lon, lat in pts):
                return b
        return None

    def _emit_fix(self, unit: str, epoch: float, lon_w: float, lat_w: float, speed_kmh: float, heading: float) -> None:
        """A foot patrol's fix at ``epoch`` (absolute time), WGS84."""
        t_out = round(epoch - self.start.timestamp(), 1)
        lon, lat = self.in_crs(lon_w, lat_w, "WGS84")
        self.emit(t_out, f"pingan/patrol/{unit}/position", {
            "unit": unit, "kind": "foot", "time": self.time_at(t_out), "lon": lon, "lat": lat, "crs": "WGS84",
            "speed_kmh": round(speed_kmh, 1), "heading_deg": round(heading % 360.0, 1)})

    def _visitor(self, unit: str, post, ps, w, outcome: str) -> None:
        """A foot patrol that walks to ``post``, stays, and walks off: timed for ``outcome``.

        Fixes every 10 s while walking and at the post (every 30 s while standing off), so
        the check-in — the first fix ``dwell_s`` after coming within the radius — falls where
        the outcome needs it. For the missed visit the unit sets off and its radio goes
        silent half-way (it goes stale, then offline): nobody checks in.
        """
        start = self.start.timestamp()
        lon0, lat0 = to_wgs84(post.geom.x, post.geom.y, self.crs)
        lon0, lat0 = float(lon0), float(lat0)
        walk = 1.3  # m/s
        step = 10.0
        inside = min(40.0, ps.radius_m * 0.8)  # where the first fix within the radius is
        b_in = self._land_bearing(lon0, lat0, 220.0)
        if b_in is None:
            raise SystemExit(f"post {post.id}: no way to it on land for a foot patrol")
        b_out = self._land_bearing(lon0, lat0, 160.0, avoid=b_in) or b_in
        if outcome == "on_time":
            checkin = w.scheduled + self.rng.uniform(-35, 35)
            stay = self.rng.uniform(40, 150)
        elif outcome == "early":
            checkin = w.on_from - self.rng.uniform(45, 55)
            stay = 0.0  # leaves at once: out of the radius before the on-time part begins
        elif outcome == "late":
            checkin = w.on_until + self.rng.uniform(35, 60)
            stay = self.rng.uniform(30, 90)
        else:  # missed: sets off towards the post at the scheduled time, goes silent on the way
            checkin = w.scheduled + ps.dwell_s + 60.0
            stay = 0.0
        checkin = round(checkin, 1)
        arrival = checkin - ps.dwell_s
        # walking in: back from the arrival fix, 13 m every 10 s, as far as 220 m or t = 0.5
        k_max = int(min((220.0 - inside) / (walk * step), (arrival - start - 0.5) / step))
        t_walk0 = arrival - k_max * step
        a_lon, a_lat = _destination(lon0, lat0, b_in, inside + k_max * walk * step)
        t = 0.5 + self.rng.uniform(0, 20)
        while t < t_walk0 - start - 1:  # standing at the start of its walk, fixes every 30 s
            self._emit_fix(unit, start + t, a_lon, a_lat, 0.0, b_in + 180)
            t += 30.0
        silent_after = arrival - 8 * step if outcome == "missed" else math.inf
        for k in range(k_max, -1, -1):
            tt = arrival - k * step
            if tt > silent_after:
                return
            lon, lat = _destination(lon0, lat0, b_in, inside + k * walk * step)
            self._emit_fix(unit, tt, lon, lat, walk * 3.6, b_in + 180)
        tt = arrival + step
        while tt <= checkin + stay + 1e-6:  # at the post, within a few metres
            lon, lat = _destination(lon0, lat0, self.rng.uniform(0, 360), self.rng.uniform(0, 6))
            self._emit_fix(unit, tt, lon, lat, 0.0, b_out)
            tt += step
        k = 1
        while k * walk * step <= 160.0 and tt - start <= self.duration:
            lon, lat = _destination(lon0, lat0, b_out, k * walk * step)
            self._emit_fix(unit, tt, lon, lat, walk * 3.6, b_out)
            tt += step
            k += 1
        end_lon, end_lat = _destination(lon0, lat0, b_out, (k - 1) * walk * step)
        tt += 20.0
        while tt - start <= self.duration:  # standing off, fixes every 30 s
            self._emit_fix(unit, tt, end_lon, end_lat, 0.0, b_out)
            tt += 30.0

    def post_visits(self) -> bool:
        """Foot patrols for the scheduled visits whose windows fall inside the scenario.

        Every visit is planned (:meth:`_plan_outcomes`), walked (:meth:`_visitor`), and then
        checked by running the patrol core's tours over the whole patrol timeline, so the
        expected states written to ``expected.toml`` are what the program will show.
        Returns False when the dataset has no schedule or no window falls in the scenario.
        """
        sched = self.d.patrol_schedule
        if sched is None or not self.d.patrol_posts:
            return False
        start = self.start.timestamp()
        end = start + self.duration
        posts = {p.id: p for p in self.d.patrol_posts}
        windows = [w for w in sched.windows(start, end) if w.closes <= end and w.post in posts]
        windows.sort(key=lambda w: (w.scheduled, w.post))
        if not windows:
            return False
        plan = self._plan_outcomes(windows)
        self.visits = []
        for k, (w, outcome) in enumerate(zip(windows, plan)):
            unit = f"foot-{k + 1:02d}"
            self._visitor(unit, posts[w.post], sched.posts[w.post], w, outcome)
            self.visits.append({"window": w, "state": outcome, "unit": unit if outcome != "missed" else "",
                                "walker": unit, "name": posts[w.post].name})
        self._check_visits()
        return True

    def _check_visits(self) -> None:
        """Play the patrol fixes into the patrol core's tours; every visit must come out as planned."""
        import tempfile

        from desktop.core.feeds.schema import parse
        from desktop.core.patrol.service import PatrolService
        from desktop.core.patrol.tours import missed_alarm_id

        start = self.start.timestamp()
        events = sorted((e for e in self.events if e[2].startswith("pingan/patrol/")), key=lambda e: (e[0], e[1]))
        with tempfile.TemporaryDirectory() as tmp:
            alarms: list[dict] = []
            with PatrolService(Path(tmp) / "check.sqlite", self.d, clock=lambda: start, on_alarm=alarms.append,
                               autoflush_s=0) as svc:
                svc.watch(start, start + self.duration)
                i = 0
                for sec in range(int(self.duration) + 31):
                    now = start + sec
                    batch = []
                    while i < len(events) and start + events[i][0] <= now:
                        batch.append(parse(events[i][2], events[i][3]))
                        i += 1
                    if batch:
                        svc.ingest(batch)
                    svc.tick(now)
                got = {(v.post, v.scheduled): v for v in svc.visits(start, start + self.duration,
                                                                    now=start + self.duration + 30)}
        for v in self.visits:
            w = v["window"]
            seen = got.get((w.post, w.scheduled))
            state = seen.state if seen is not None else None
            unit = seen.unit if seen is not None else None
            if state != v["state"] or unit != v["unit"]:
                raise RuntimeError(f"scenario check: the {w.post} visit at {self.time_at(w.scheduled - start)} "
                                   f"was planned {v['state']} by {v['unit'] or 'nobody'}, "
                                   f"the tours say {state} by {unit or 'nobody'}")
            v["checkin"] = seen.checkin
            v["alarm"] = missed_alarm_id(w.post, w.scheduled, self.d.patrol_schedule) if v["state"] == "missed" else ""
        missed = [a["id"] for a in alarms]
        planned = [v["alarm"] for v in self.visits if v["alarm"]]
        if missed != planned:
            raise RuntimeError(f"scenario check: missed-visit alarms {missed}, planned {planned}")
