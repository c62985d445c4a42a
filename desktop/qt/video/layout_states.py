"""What the video wall shows as a layout state — ``{"layout": name, "tiles": [camera id or
None, ...]}`` — taken, shown, and saved under a name.

The same state is saved by the operator (``video_layouts.json``, :class:`LayoutStore`), pushed
to the wall display and sent with "Send to wall". Showing one keeps what it can: a camera
already on the wall keeps its player, moved to its new tile if need be.
"""
from __future__ import annotations

from desktop.core.i18n import tr
from desktop.core.video.layouts import validate_state


class WallLayoutStates:
    """The :class:`~desktop.qt.video.wall.VideoWall`'s layout states and named layouts (a mixin
    on the wall: it uses the wall's tiles, model, players and ``store``)."""

    def layout_state(self) -> dict:
        """What the wall shows: ``{"layout": name, "tiles": [camera id or None, ...]}``."""
        return self.model.state()

    def apply_layout_state(self, state: dict) -> int:
        """Show a layout state (saved, or pushed to the wall display); returns cameras opened.
        Unknown camera ids leave their tile empty and raise a notice."""
        state = validate_state(state)
        self.stop_tour()
        if self.enlarged is not None:
            self.toggle_enlarge(self.enlarged)
        self._move_players_to(state["tiles"])
        self.set_layout(state["layout"])
        opened = 0
        for i, cid in enumerate(state["tiles"]):
            t = self.tiles[i]
            if cid is None:
                self._close_tile(t)
                continue
            if t.camera_id == cid and t.player is not None:
                opened += 1
                continue
            streams = self.resolve(cid) if self.resolve else None
            if streams is None:
                self._close_tile(t)
                self.notice.emit(tr("Unknown camera {id}", id=cid), "warning")
                continue
            self.open_camera(streams, i)
            opened += 1
        for t in self.tiles[self.tile_count:]:
            self._close_tile(t)
        return opened

    def _move_players_to(self, targets: list) -> None:
        """Before a new layout state: a camera that is on the wall already and goes to another
        tile takes its player along (no reconnect, no black tile while the stream starts
        again) — an alarm preset over a wall showing the alarm's cameras, and back."""
        where = {t.camera_id: t.index for t in self.tiles if t.camera_id is not None and t.player is not None}
        for i, cid in enumerate(targets):
            if cid is None or self.tiles[i].camera_id == cid:
                continue
            j = where.get(cid)
            if j is None or j == i or (j < len(targets) and targets[j] == cid):
                continue
            self._exchange(i, j)
            for k in (i, j):
                if self.tiles[k].camera_id is not None:
                    where[self.tiles[k].camera_id] = k

    def saved_layouts(self) -> list[str]:
        """Names of the saved layouts."""
        return self.store.names()

    def save_layout_as(self, name: str) -> None:
        """Save the current layout and cameras under ``name``."""
        self.store.save(name, self.layout_state())
        self._update_toolbar()

    save_layout = save_layout_as

    def restore_layout(self, name: str) -> bool:
        """Restore a saved layout; False when there is none of that name."""
        state = self.store.load(name)
        if state is None:
            return False
        self.apply_layout_state(state)
        return True

    def delete_saved_layout(self, name: str) -> bool:
        """Delete a saved layout; False when there was none of that name."""
        ok = self.store.delete(name)
        self._update_toolbar()
        return ok
