"""The patrol panel plugin (Qt): units on the map and in a list, post visits, dispatch, replay.

Talks only to the SDK. Live positions come from the ``alarms`` stream (the service's patrol
events, coalesced per unit and frame); unit states (stale, offline, busy, segment), visits
and the dispatch ranking from the ``patrol`` service, read off the GUI thread (live they
are answered by the feed process). A replay loads tracks from the patrol journal in the
background and then runs on a frame timer.
"""
from __future__ import annotations

import time
from pathlib import Path

from desktop.sdk import EventKind, Plugin, tr

from .core import UnitFilter, VisitFilter, state_label, unit_rows, visit_rows, visit_summary
from .dispatch import _DispatchControl
from .map_layers import CoverageLayer, ReplayLayer, RouteLayer, UnitLayer, kind_label
# The pieces of the panel, re-exported here (``from .panel import ...`` keeps working): the
# table, the tabs, the wording, and the plugin's dispatch and replay by what they do.
from .replay import TRAIL_POINTS, TRAIL_S, _ReplayControl  # noqa: F401
from .table import RowsModel, _fill, _table  # noqa: F401
from .tabs import STATE_COLORS, PatrolPanel  # noqa: F401
from .texts import _duration, explain  # noqa: F401

HERE = Path(__file__).resolve().parent


class PatrolPlugin(_DispatchControl, _ReplayControl, Plugin):
    """Units on the map and in a list, post visits, dispatch ranking, replay."""

    REFRESH_MS = 1000  # unit states (stale after 60 s) and the list follow at this pace
    VISITS_S = 5.0  # the visit table is re-read this often
    FRAME_MS = 40  # replay frames
    STEP_S = 10.0  # one step of the replay, in replayed seconds

    def register(self) -> None:
        self.host.load_translations(HERE / "i18n")
        self.patrol = self.host.service("patrol")
        self.alarms = self.host.service("alarms")
        if self.patrol is None:
            raise RuntimeError("no patrol service in this host")
        self.projection = self.host.service("projection")
        self.clock = self.host.service("clock")
        self.duty = self.host.service("duty")
        st = self.host.settings()
        self.visit_hours = st["visit_hours"]
        self.rank_k = st["rank_units"]
        self.coverage_min = st["coverage_minutes"]
        self._last_coverage = -1e9
        self.statuses: dict = {}
        self.visits: list = []
        self.ranking: list = []
        self.alarm_id = ""
        self.replay = None  # the ReplayModel while a replay is loaded
        self.replay_stops: list = []
        self._last_frame = time.monotonic()
        self._busy_reads: set[str] = set()
        self._listed: set[str] = set()  # units in the replay picker  # background reads in flight (one of each at a time)
        self._last_visits = -1e9
        self.panel = PatrolPanel(self)
        self.host.add_panel("patrol", tr("Patrol"), self.panel, area="right")
        self.layer = UnitLayer(self.projection)
        self.route = RouteLayer(self.projection)
        self.replay_layer = ReplayLayer(self.projection)
        self.coverage_layer = CoverageLayer(self.projection)
        self.coverage_layer.visible = False
        for layer in (self.coverage_layer, self.route, self.layer, self.replay_layer):
            self.host.add_map_layer(layer)
        self.host.add_feature_action("dispatch_here", tr("Rank patrol units for this alarm"),
                                     lambda hit: self.rank_for(hit.id), kinds=["alarm"])
        self.host.add_feature_action("replay_unit", tr("Replay this unit's last hour"),
                                     lambda hit: self.replay_unit(hit.id), kinds=["patrol_unit"])
        self.host.add_action("next_missed", tr("Show the latest missed post visit"), self.show_missed, "Ctrl+M")
        self.host.on_map_selected(self._map_selected)
        self.host.stream("alarms", self.on_events)
        self.host.timer(self.REFRESH_MS, self.refresh)
        self._replay_timer = self.host.timer(self.FRAME_MS, self.replay_frame)
        self.refresh()

    def unregister(self) -> None:
        self.replay = None

    def now(self) -> float:
        return self.clock.time() if self.clock is not None else time.time()

    @property
    def operator(self) -> str:
        return self.duty.name if self.duty is not None else "operator"

    # --- live ------------------------------------------------------------------------------
    def on_events(self, events: list) -> None:
        fixes = [e.patrol for e in events if e.kind == EventKind.PATROL and e.patrol is not None]
        if fixes:
            self.layer.update_positions(fixes)
        if self.alarm_id and any(e.alarm is not None and e.alarm.id == self.alarm_id
                                 and e.kind == EventKind.STATE_CHANGED for e in events):
            self.rank_for(self.alarm_id)  # dispatched or closed elsewhere: the offer follows

    def _read(self, name: str, fn, done) -> None:
        """One background read of each kind at a time (a slow feed process never piles them up)."""
        if name in self._busy_reads:
            return
        self._busy_reads.add(name)

        def finish(result):
            self._busy_reads.discard(name)
            done(result)

        def failed(exc):
            self._busy_reads.discard(name)
            self.panel.units_summary.setText(tr("Patrol service: {err}", err=exc))
        self.host.run_in_background(fn, finish, failed, what=name)

    def refresh(self) -> None:
        self._read("unit states", self.patrol.positions, self._got_states)
        if self.coverage_layer.visible and time.monotonic() - self._last_coverage > self.VISITS_S:
            self._last_coverage = time.monotonic()
            self._read("segment coverage", lambda: self.patrol.coverage(self.coverage_min), self._got_coverage)
        if time.monotonic() - self._last_visits > self.VISITS_S:
            self._last_visits = time.monotonic()
            now = self.now()
            self._read("post visits", lambda: self.patrol.visits(now - self.visit_hours * 3600, now + 3600),
                       self._got_visits)

    def show_coverage(self, on: bool) -> None:
        self.coverage_layer.set_visible(on)
        if on:
            self._last_coverage = -1e9
            self.refresh()
        else:
            self.panel.coverage_summary.setText("")

    def _got_coverage(self, coverage) -> None:
        self.coverage_layer.set_coverage(coverage)
        if coverage:
            mean = sum(c.fraction for c in coverage) / len(coverage)
            weakest = min(coverage, key=lambda c: c.fraction)
            self.panel.coverage_summary.setText(tr(
                "Segments driven in the last {m} min: {pct:.0f} % on average; least: {name} {low:.0f} %",
                m=self.coverage_min, pct=100 * mean, name=weakest.name or weakest.route, low=100 * weakest.fraction))

    def _got_states(self, statuses) -> None:
        self.statuses = {s.unit: s for s in statuses}
        statuses = self.statuses
        self.layer.set_states({u: (s.link, s.busy) for u, s in statuses.items()})
        self.refresh_units()
        new = sorted(set(statuses) - self._listed)
        if new:
            self._listed.update(new)
            self.panel.replay_units.addItems(new)

    def refresh_units(self) -> None:
        p = self.panel
        flt = UnitFilter(kind=p.kind_filter.currentData(), link=p.link_filter.currentData(),
                         busy=True if p.busy_only.isChecked() else None)
        rows = unit_rows(self.statuses, flt)
        rows = [(u, kind_label(k), *rest) for u, k, *rest in rows]
        _fill(p.units, rows)
        links = [s.link for s in self.statuses.values()]
        p.units_summary.setText(tr("{n} units: {live} live, {stale} stale, {off} offline, {busy} busy",
                                   n=len(links), live=links.count("live"), stale=links.count("stale"),
                                   off=links.count("offline"),
                                   busy=sum(1 for s in self.statuses.values() if s.busy)))

    def _got_visits(self, visits: list) -> None:
        self.visits = visits
        self.refresh_visits_view()

    def refresh_visits_view(self) -> None:
        p = self.panel
        flt = VisitFilter(state=p.visit_state.currentData(), text=p.visit_text.text())
        self._visit_rows = [v for v in sorted(self.visits, key=lambda v: -v.scheduled) if flt.keep(v)]
        rows = visit_rows(self.visits, flt)
        _fill(p.visits, [(*r[:5], state_label(r[5])) for r in rows])
        s = visit_summary(self.visits)
        p.visit_summary.setText(tr("{on} on time · {early} early · {late} late · {missed} missed",
                                   on=s["on_time"], early=s["early"], late=s["late"], missed=s["missed"]))

    def focus_unit(self, unit: str) -> None:
        st = self.statuses.get(unit)
        if st is None:
            return
        self.layer.selected = unit
        x, y = self.projection.forward(st.lon, st.lat, "WGS84")
        self.host.center_map(float(x), float(y))
        self.layer.changed()

    def focus_visit(self, row: int) -> None:
        rows = getattr(self, "_visit_rows", [])
        if 0 <= row < len(rows):
            v = rows[row]
            post = self._post_xy(v.post)
            if post is not None:
                self.host.center_map(*post)

    def _post_xy(self, post_id: str):
        district = self.host.service("district")
        for f in getattr(district, "patrol_posts", []):
            if f.id == post_id:
                c = f.map_geom.centroid
                return float(c.x), float(c.y)
        return None

    def show_missed(self) -> None:
        missed = [v for v in self.visits if v.state == "missed"]
        if not missed:
            self.host.show_notice(tr("No missed post visit in the last {h} hours", h=self.visit_hours), "info")
            return
        self.panel.setCurrentIndex(1)
        self.panel.visit_state.setCurrentIndex(self.panel.visit_state.findData("missed"))
        latest = max(missed, key=lambda v: v.scheduled)
        xy = self._post_xy(latest.post)
        if xy is not None:
            self.host.center_map(*xy)
