"""Cameras dragged onto the video wall, and tiles dragged from one place on it to another.

The payload is ``application/x-pingan-camera``, UTF-8 JSON ``{"ids": [...]}`` (the map and
the camera lists drop that). A drag that starts on a tile adds ``from_tile`` and the wall it
came from, so dropping it on the same wall swaps the two tiles (players and all) instead of
opening the camera a second time. The view (:mod:`desktop.qt.video.view`) forwards Qt's drag
events here.
"""
from __future__ import annotations

import json
import logging

from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDrag, QPixmap

from desktop.core.i18n import tr
from desktop.core.video.layouts import MAX_TILES

# the wall's parts log as the wall did when it was one module: the same lines in the same logger
log = logging.getLogger("desktop.qt.video.wall")

CAMERA_MIME = "application/x-pingan-camera"


class WallDragDrop:
    """The :class:`~desktop.qt.video.wall.VideoWall`'s drops, tile drags and tile swaps (a mixin
    on the wall: it uses the wall's tiles, model and players)."""

    _drop_target: int | None

    def handle_drop(self, payload: bytes, pos: QPoint) -> bool:
        """A drop of ``application/x-pingan-camera`` data at ``pos``: the first camera goes to
        the tile under the cursor, the others to the following tiles. A tile dragged onto
        another swaps the two."""
        try:
            data = json.loads(payload.decode("utf-8"))
            ids = [str(i) for i in data.get("ids", [])]
        except (ValueError, AttributeError, UnicodeDecodeError):
            log.warning("dropped %s data is not a camera list: %r", CAMERA_MIME, payload[:200])
            return False
        target = self.tile_at(pos)
        if target is None:
            return False
        src = data.get("from_tile")
        if src is not None and data.get("wall") == id(self) and 0 <= int(src) < MAX_TILES:
            self.swap_tiles(int(src), target)
            return True
        if self.enlarged is not None:
            # dropping on an enlarged tile replaces its camera, keeps it enlarged
            ids = ids[:1]
        opened = 0
        k = target
        for cid in ids:
            streams = self.resolve(cid) if self.resolve else None
            if streams is None:
                self.notice.emit(tr("Unknown camera {id}", id=cid), "warning")
                continue
            self.open_camera(streams, k)
            opened += 1
            k = (k + 1) % self.tile_count
            if opened >= self.tile_count:
                break
        if opened:
            self.select(target)
        return opened > 0

    def swap_tiles(self, a: int, b: int) -> None:
        """Exchange two tiles' cameras (players keep running: no reconnect)."""
        if a == b:
            return
        self._exchange(a, b)
        self._relayout()
        self.select(b)

    def _set_drop_target(self, idx: int | None) -> None:
        """Outline tile ``idx`` as where a drag would land (None: no outline)."""
        if idx != self._drop_target:
            old, self._drop_target = self._drop_target, idx
            for i in (old, idx):
                if i is not None:
                    self.view.update(self.tiles[i].rect)

    def _start_drag(self, idx: int) -> None:
        """Drag tile ``idx``'s camera away (to another tile to swap, or to another wall)."""
        t = self.tiles[idx]
        if t.streams is None:
            return
        mime = QMimeData()
        mime.setData(CAMERA_MIME, json.dumps({"ids": [t.camera_id], "from_tile": idx, "wall": id(self)}).encode("utf-8"))
        mime.setText(t.camera_id)
        drag = QDrag(self.view)
        drag.setMimeData(mime)
        if t.qimage is not None:
            drag.setPixmap(QPixmap.fromImage(t.qimage.scaled(160, 90, Qt.KeepAspectRatio)))
        drag.exec(Qt.MoveAction | Qt.CopyAction)
