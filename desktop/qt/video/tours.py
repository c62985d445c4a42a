"""Tours of the video wall: a camera group cycled page by page or in one tile, or each open
camera enlarged in turn.

The plan — which camera goes where at each step, when a tour ends — is the Qt-free model's
(:meth:`desktop.core.video.wall_model.VideoWallModel.tour_step`); this mixin resolves the
group's cameras, runs the timer and carries each step out on the tiles.
"""
from __future__ import annotations

from desktop.core.i18n import tr
from desktop.core.video.source import CameraStreams


class WallTours:
    """Starting, stepping and stopping the :class:`~desktop.qt.video.wall.VideoWall`'s tours (a
    mixin on the wall: the wall's ``_tour_timer`` calls :meth:`_tour_step`)."""

    _tour_streams: dict[str, CameraStreams]  # the touring group, resolved

    def start_tour(self, group: list, interval_s: float = 10.0, tile_index: int | None = None) -> None:
        """Cycle ``group`` (CameraStreams or camera ids) every ``interval_s`` seconds: page by
        page over the whole wall, or one camera at a time in ``tile_index``."""
        resolved = []
        for g in group:
            if isinstance(g, CameraStreams):
                resolved.append(g)
            else:
                s = self.resolve(str(g)) if self.resolve else None
                if s is None:
                    self.notice.emit(tr("Unknown camera {id}", id=g), "warning")
                else:
                    resolved.append(s)
        group = resolved
        self.stop_tour()
        if not group:
            return
        self._tour_streams = {s.camera_id: s for s in group}
        self.model.start_tour([s.camera_id for s in group], interval_s, tile_index)
        self._begin_tour(interval_s)

    def start_enlarge_tour(self, interval_s: float = 10.0) -> None:
        """Show each open camera enlarged (main stream) in turn, every ``interval_s`` seconds."""
        self.stop_tour()
        if self.model.start_enlarge_tour(interval_s) is None:
            return
        self._begin_tour(interval_s)

    def _begin_tour(self, interval_s: float) -> None:
        """The first step of the tour the model has just planned now, the next ones by the timer."""
        self._tour_step()
        self._tour_timer.start(max(200, int(interval_s * 1000)))
        self.tour_changed.emit(True)
        self._update_toolbar()

    def stop_tour(self) -> None:
        """End a running tour (an enlarge tour puts its tile back); nothing when none runs."""
        was = self.model.stop_tour()
        if was is None:
            return
        self._end_tour(was.enlarge)

    def _end_tour(self, was_enlarge: bool) -> None:
        self._tour_streams = {}
        self._tour_timer.stop()
        if was_enlarge and self.enlarged is not None:
            self.toggle_enlarge(self.enlarged)
        for t in self.tiles:
            if t.tour_label:
                t.tour_label = ""
                self._dirty(t)
        self.tour_changed.emit(False)
        self._update_toolbar()

    @property
    def touring(self) -> bool:
        """A tour runs."""
        return self.model.tour is not None

    def _tour_step(self) -> None:
        """Carry out the model's next tour step on the tiles."""
        for a in self.model.tour_step(self.enlarged, tr("Tour")):
            if a.kind == "stop":
                self._end_tour(True)
            elif a.kind == "enlarge":
                if self.enlarged is not None:
                    self.toggle_enlarge(self.enlarged)
                self.toggle_enlarge(a.tile)
            elif a.kind == "open":
                self.open_camera(self._tour_streams[a.camera], a.tile)
                self.tiles[a.tile].tour_label = a.label
            elif a.kind == "close":
                self._close_tile(self.tiles[a.tile])
