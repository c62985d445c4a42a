"""The video wall's players: started for a tile's camera, paused when not shown, released at
once when a tile changes camera, and polled once per display frame.

Threads: decoding and conversion to the tile's size happen in the workers
(:mod:`desktop.core.video`); the poll only takes each tile's latest-frame slot and asks the
view to repaint what is new. Four times a second the tiles' states (signals on change), fps
and the clock are refreshed; once a second the overload scheduler looks at CPU, drops and
lateness and may put the smallest tiles on key frames only, and the memory trimmer gives back
what replaced tiles' threads freed.
"""
from __future__ import annotations

import logging
import re
import time

from desktop.core.video.player import StreamPlayer
from desktop.core.video.scheduler import TileLoad

from .tile import Tile

# the wall's parts log as the wall did when it was one module: the same lines in the same logger
log = logging.getLogger("desktop.qt.video.wall")


def _friendly(detail: str) -> str:
    """An FFmpeg error as an operator reads it: no errno, no exception class."""
    detail = re.sub(r"\[Errno -?\d+\]\s*", "", detail or "")
    detail = re.sub(r"^[A-Za-z]+Error:\s*", "", detail)
    return detail[:160]


class WallPlayers:
    """The players of the :class:`~desktop.qt.video.wall.VideoWall`'s tiles (a mixin on the
    wall: its ``_timer`` calls :meth:`_poll`)."""

    _paused_all: bool
    _status_at: float
    _sched_at: float

    def _start_player(self, t: Tile) -> None:
        """Start a player for the camera assigned to ``t`` (paused when the tile is not shown)."""
        t.state = "connecting"
        t.detail = ""
        t.opened_at = time.monotonic()
        t.player = StreamPlayer(t.streams, self._player_size(t), force_main=(self.enlarged == t.index),
                                start=False, **self.player_kwargs)
        t.player.start()
        if not self._tile_should_run(t):
            t.player.pause()

    def _release_player(self, t: Tile) -> None:
        """Close ``t``'s player and drop its picture; the camera stays assigned to the tile."""
        p, t.player = t.player, None
        if p is not None:
            p.close()
            self.trimmer.note_released()
        t.state = ""
        t.detail = ""
        t.clear_picture()
        t.overlay_key = None
        self.scheduler.forget(t.index)

    def _close_tile(self, t: Tile) -> None:
        """Release ``t``'s player and unassign its camera (``camera_closed`` when it had one)."""
        cid = t.camera_id
        self._release_player(t)
        t.streams = None
        self.model.clear(t.index)
        t.tour_label = ""
        if cid is not None:
            self.camera_closed.emit(t.index, cid)
        self._dirty(t)

    def _exchange(self, a: int, b: int) -> None:
        """Tiles ``a`` and ``b`` trade cameras, players and pictures (no reconnect)."""
        ta, tb = self.tiles[a], self.tiles[b]
        self.model.swap(a, b)
        for attr in ("streams", "player", "frame", "qimage", "state", "detail", "frame_clock", "opened_at",
                     "tour_label", "frames_shown"):
            va, vb = getattr(ta, attr), getattr(tb, attr)
            setattr(ta, attr, vb)
            setattr(tb, attr, va)
        self.scheduler.forget(a)
        self.scheduler.forget(b)
        for t in (ta, tb):
            t.overlay_key = None
            if t.player is not None:
                t.player.set_keyframes_only(False)

    def _tile_should_run(self, t: Tile) -> bool:
        return t.visible and not self._paused_all

    def _apply_run_state(self) -> None:
        """Pause the players of tiles not shown, resume the others (and start those a smaller
        layout had released)."""
        for t in self.tiles:
            p = t.player
            if p is None:
                if t.streams is not None and t.index < self.tile_count and self.enlarged is None:
                    # a camera kept while a smaller layout hid its tile: shown again
                    self._start_player(t)
                continue
            if self._tile_should_run(t):
                if p.paused:
                    p.resume()
            elif not p.paused:
                p.pause()

    def _wall_shown(self) -> bool:
        if not self.isVisible():
            return False
        win = self.window()
        if win is not None and win.isMinimized():
            return False
        return not self.view.visibleRegion().isEmpty()

    def _dirty(self, t: Tile) -> None:
        if t.visible:
            self.view.update(t.rect)

    def _poll(self) -> None:
        """Once per display frame: take what is new from each visible tile and repaint it."""
        c0 = time.thread_time()
        for t in self.tiles:
            if not t.visible or t.player is None:
                continue
            f = t.player.take()
            if f is not None:
                t.set_frame(f)
                self.view.update(t.rect)
        self.gui_video_s += time.thread_time() - c0
        now = time.monotonic()
        if now - self._status_at >= 0.25:
            self._status_at = now
            self._refresh_status()
        if now - self._sched_at >= 1.0:
            self._sched_at = now
            self.trimmer.maybe_trim()
            self._schedule()

    def _refresh_status(self) -> None:
        """States (signals on change), fps and the clock: overlays re-render when they change."""
        for t in self.tiles:
            p = t.player
            if p is None:
                continue
            state = p.state
            detail = _friendly(p.detail)
            if state != t.state or detail != t.detail:
                t.state, t.detail = state, detail
                if state != "live" and state != "connecting":
                    log.info("tile %d (%s): %s %s", t.index + 1, t.camera_id, state, detail)
                self.tile_state_changed.emit(t.index, t.camera_id or "", state)
                if state in ("error", "offline") and t.frame is None:
                    t.clear_picture()
            t.update_fps()
            if t.visible and t.overlay_state(False, self.font_scale) != t.overlay_key:
                self.view.update(t.rect)
        shown = self._wall_shown()
        if shown == self._paused_all:
            # minimised or covered without a hide event: pause/resume by what is on screen
            self._paused_all = not shown
            self._apply_run_state()

    def _schedule(self) -> None:
        """The overload scheduler's second: tiles put on key frames only or given back."""
        tiles = []
        for t in self.tiles:
            if t.visible and t.player is not None and not t.player.paused:
                tiles.append(TileLoad(t.index, t.player, t.rect.width() * t.rect.height(),
                                      pinned=(self.enlarged == t.index),
                                      age_s=time.monotonic() - t.opened_at))
        rep = self.scheduler.update(tiles)
        for k in rep.degraded + rep.restored:
            self._dirty(self.tiles[k])
        if rep.degraded:
            share = "?" if rep.video_share is None else f"{rep.video_share * 100:.0f}%"
            log.info("video overload (cpu %.0f%%, video %s of it, dropped %.1f%%, late %.0f ms): key frames only "
                     "on tiles %s", rep.cpu * 100, share, rep.drop_ratio * 100, rep.lateness_ms,
                     [k + 1 for k in rep.degraded])
