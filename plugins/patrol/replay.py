"""The patrol plugin's replay: tracks loaded from the patrol journal in the background, then
played on a frame timer (play, pause, step, seek, speed, follow a unit, the stops).

:class:`_ReplayControl` is mixed into :class:`~.panel.PatrolPlugin`.
"""
from __future__ import annotations

import time

from desktop.sdk import tr

from .core import clock
from .table import _fill
from .texts import _duration

TRAIL_S = 600.0  # the replay draws each unit's last ten minutes behind it
TRAIL_POINTS = 120  # …thinned to at most this many points (a frame must stay under 33 ms)


class _ReplayControl:
    """The replay half of :class:`~.panel.PatrolPlugin` (a mixin)."""

    # --- replay ----------------------------------------------------------------------------
    def replay_unit(self, unit: str) -> None:
        p = self.panel
        p.setCurrentIndex(3)
        p.replay_units.clearSelection()
        for i in range(p.replay_units.count()):
            if p.replay_units.item(i).text() == unit:
                p.replay_units.item(i).setSelected(True)
        p.span.setCurrentIndex(0)
        self.load_replay(follow=unit)

    def load_replay(self, follow: str = "") -> None:
        p = self.panel
        units = [i.text() for i in p.replay_units.selectedItems()] or None
        t1 = self.now()
        t0 = t1 - p.span.currentData() * 3600
        p.replay_status.setText(tr("Loading tracks…"))
        p.load_btn.setEnabled(False)
        started = time.perf_counter()

        def load():
            model = self.patrol.replay(units, t0, t1)
            stops = sorted((s for u in model.units for s in model.stops(u)), key=lambda s: s.arrival)
            return model, stops

        def done(result):
            model, stops = result
            p.load_btn.setEnabled(True)
            self._start_replay(model, stops, time.perf_counter() - started, follow)

        def failed(exc):
            p.load_btn.setEnabled(True)
            p.replay_status.setText(tr("The replay could not be loaded: {err}", err=exc))
            self.host.show_notice(tr("The replay could not be loaded: {err}", err=exc), "error")
        self.host.run_in_background(load, done, failed, what="replay load")

    def _start_replay(self, model, stops: list, load_s: float, follow: str) -> None:
        p = self.panel
        if not len(model):
            p.replay_status.setText(tr("Nothing was recorded for these units in this span"))
            return
        model.set_speed(float(p.speed.currentData()))
        self.replay = model
        self.replay_stops = stops
        self._last_frame = time.monotonic()
        self.replay_layer.kinds = dict(zip(model.units, model.kinds))
        p.follow.blockSignals(True)
        p.follow.clear()
        p.follow.addItem(tr("Follow no unit"), "")
        for u in model.units:
            p.follow.addItem(u, u)
        p.follow.setCurrentIndex(max(0, p.follow.findData(follow)))
        p.follow.blockSignals(False)
        model.follow(follow or None)
        _fill(p.stops, [(s.unit, clock(s.arrival), clock(s.departure), _duration(s.departure - s.arrival))
                        for s in stops])
        p.replay_status.setText(tr("{units} units, {n} fixes loaded in {s:.1f} s", units=len(model),
                                   n=model.fixes, s=load_s))
        p.set_replay_enabled(True)
        self.layer.set_visible(False)  # the live units would mix with the past
        first = min(tr_.t0 for tr_ in model.tracks.values())
        if first > model.t:
            model.seek(first)  # nothing to see before the first recorded fix
        model.play()
        p.show_playing(True)
        self.replay_frame(force=True)

    def close_replay(self) -> None:
        self.replay = None
        self.replay_layer.clear()
        self.layer.set_visible(True)
        p = self.panel
        p.set_replay_enabled(False)
        p.replay_time.setText("—")
        p.show_playing(False)
        p.replay_status.setText(tr("Pick units (none: all) and a span, then Load replay"))

    def toggle_play(self) -> None:
        if self.replay is None:
            return
        self.replay.toggle()
        self._last_frame = time.monotonic()
        self.panel.show_playing(self.replay.playing)

    def set_speed(self, speed) -> None:
        if self.replay is not None and speed:
            self.replay.set_speed(float(speed))

    def set_follow(self, unit: str) -> None:
        if self.replay is not None:
            self.replay.follow(unit or None)
            self.replay_frame(force=True)

    def step(self, n: int) -> None:
        if self.replay is not None:
            self.replay.step(n * self.STEP_S)
            self.panel.show_playing(False)
            self.replay_frame(force=True)

    def seek_fraction(self, f: float) -> None:
        if self.replay is not None:
            self.replay.seek_fraction(f)
            self.replay_frame(force=True)

    def seek_stop(self, row: int) -> None:
        if self.replay is not None and 0 <= row < len(self.replay_stops):
            s = self.replay_stops[row]
            self.replay.seek(s.arrival)
            self.replay_frame(force=True)

    def replay_frame(self, force: bool = False) -> None:
        model = self.replay
        if model is None:
            return
        now = time.monotonic()
        dt, self._last_frame = now - self._last_frame, now
        if not model.playing and not force:
            return
        fr = model.advance(dt) if model.playing else model.frame()
        t = fr.t
        trails = {}
        for u in model.units:
            tr_ = model.trail(u, TRAIL_S, t)
            step = max(1, len(tr_) // TRAIL_POINTS)
            trails[u] = (tr_[::step, 0], tr_[::step, 1])
        shown = [(s.unit, s.lon, s.lat, f"{s.unit} {clock(s.arrival, seconds=False)}–"
                                        f"{clock(s.departure, seconds=False)}")
                 for s in self.replay_stops if s.arrival <= t]
        self.replay_layer.show_frame(fr.units, fr.lon, fr.lat, fr.heading_deg, fr.visible, trails, shown)
        p = self.panel
        p.replay_time.setText(clock(t))
        if not p.slider.isSliderDown():
            p.slider.setValue(int(model.fraction * 10000))
        if not model.playing:
            p.show_playing(False)
        if fr.followed in fr.units:
            i = fr.units.index(fr.followed)
            if fr.visible[i]:
                x, y = self.projection.forward(float(fr.lon[i]), float(fr.lat[i]), "WGS84")
                self.host.ensure_visible(float(x), float(y), inner=0.5)
