"""The video wall: a grid of live tiles the operator fills by dropping cameras on it.

Layouts 1, 4, 9, 16, 25, 36 and the spans 1+5, 1+7, 1+12; drop cameras (mime type
``application/x-pingan-camera``, UTF-8 JSON ``{"ids": [...]}``) from the map or a list onto a
tile; drag a tile onto another to swap them; double-click to enlarge (the main stream) and
again to go back; tours cycle a camera group every N seconds; snapshots; named layouts.

Threads: decoding and conversion to the tile's size happen in the workers
(:mod:`desktop.core.video`); this widget only polls each tile's latest-frame slot from a timer
once per display frame and paints what is new, in one pass. Tiles that are not shown (outside
the layout, behind an enlarged tile, the wall hidden or minimised) are paused and decode
nothing. Once a second the overload scheduler looks at CPU, drops and lateness and may put the
smallest tiles on key frames only — shown on the tile — and bring them back when load allows.

Release: a wall tours and follows alarms for days, replacing tiles every few seconds. A tile
that changes camera or is cleared closes its player at once (its worker threads end, their
connections, scalers and frames go with them), and a layout that shrinks closes the players of
the tiles it no longer shows (their cameras stay assigned and start again with a larger
layout). Nothing here or in the player needs the cyclic collector to free a tile. A tile asked
to show the camera it already shows keeps its player: no reconnect, no black picture.

The parts: this module holds :class:`VideoWall` — its signals, opening and closing cameras,
selection, snapshots, show/hide — built from mixins on the same object, one a concern:
:mod:`.grid` (layout, placement, enlarge, hit tests), :mod:`.players` (the tiles' players,
the per-frame poll, states, overload scheduling), :mod:`.tours`, :mod:`.layout_states` (layout
states, saved layouts), :mod:`.dragdrop` (drops, tile drags and swaps). Widgets of their own:
:mod:`.view` (the painting and input surface), :mod:`.toolbar`; painting is :mod:`.paint`, a
tile's data and overlay :mod:`.tile`. Everything imported from here before stays importable.
"""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QRect, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.core.i18n import add_catalog, current_locale, tr
from desktop.core.video.layouts import AUTO_GROW_MAX, MAX_TILES, LayoutStore, get_layout
from desktop.core.video.memory import MemoryTrimmer
from desktop.core.video.player import decode_pool
from desktop.core.video.scheduler import OverloadScheduler
from desktop.core.video.source import CameraStreams
from desktop.core.video.wall_model import VideoWallModel
from desktop.core.video.worker import tune_interpreter_for_video

from .dragdrop import CAMERA_MIME, WallDragDrop  # noqa: F401  (CAMERA_MIME: importable from here as before)
from .grid import GAP, WallGrid  # noqa: F401  (GAP, WALL_BG, _friendly: likewise)
from .layout_states import WallLayoutStates
from .paint import WALL_BG, paint_wall  # noqa: F401
from .players import WallPlayers, _friendly  # noqa: F401
from .tile import Tile
from .toolbar import WallToolbar
from .tours import WallTours
from .view import WallView


def _cpu_with_decoders() -> float:
    """This process's CPU seconds plus the decoder processes' (when tiles decode in them)."""
    pool = decode_pool()
    return time.process_time() + (pool.cpu_s() if pool is not None else 0.0)

log = logging.getLogger(__name__)

_WallView = WallView  # its name when it lived here

Resolver = Callable[[str], "CameraStreams | None"]

_catalog_loaded = False


def _load_catalog() -> None:
    """Our Chinese strings, merged into the active catalog when the UI is in zh_CN."""
    global _catalog_loaded
    if _catalog_loaded or current_locale() != "zh_CN":
        return
    path = Path(__file__).with_name("i18n_zh.json")
    try:
        add_catalog(json.loads(path.read_text(encoding="utf-8")))
        _catalog_loaded = True
    except (OSError, ValueError):
        log.warning("video wall translations not loaded from %s", path)


class VideoWall(WallGrid, WallPlayers, WallTours, WallLayoutStates, WallDragDrop, QWidget):
    """The video wall widget (see the module docstring).

    ``resolve(camera_id)`` turns a dropped or saved camera id into its :class:`CameraStreams`
    (None when unknown). ``settings_dir`` holds ``video_layouts.json`` (default: the per-user
    data folder). ``show_toolbar=False`` for the unattended wall display.
    """

    tile_state_changed = Signal(int, str, str)  # tile index, camera id, state
    camera_opened = Signal(int, str)  # tile index, camera id
    camera_closed = Signal(int, str)
    layout_changed = Signal(str)
    tile_selected = Signal(int)
    tour_changed = Signal(bool)  # running
    snapshot_saved = Signal(str)  # path
    notice = Signal(str, str)  # text, level (info | warning | error)

    def __init__(self, resolve: Resolver | None = None, parent: QWidget | None = None, *,
                 settings_dir: Path | str | None = None, show_toolbar: bool = True, layout: str = "4",
                 poll_ms: int = 15, scheduler: bool = True, font_scale: float = 1.0,
                 player_kwargs: dict | None = None, settings_path: Path | str | None = None,
                 empty_hint: bool = True):
        super().__init__(parent)
        _load_catalog()
        tune_interpreter_for_video()
        self.resolve = resolve
        self.font_scale = font_scale
        self.player_kwargs = dict(player_kwargs or {})
        if settings_path is None:
            if settings_dir is None:
                from desktop.paths import data_dir
                settings_dir = data_dir()
            settings_path = Path(settings_dir) / "video_layouts.json"
        self.store = LayoutStore(settings_path)
        self.tiles = [Tile(i) for i in range(MAX_TILES)]
        for t in self.tiles:
            t.empty_hint = empty_hint  # "drop a camera here": not on the unattended wall display
        #: which camera in which tile, the layout and the tour (Qt-free, shared with the wall
        #: display and published layouts); the tiles' players follow it
        self.model = VideoWallModel()
        self._laid_out = False
        self.selected: int | None = None
        self.enlarged: int | None = None
        self._drop_target: int | None = None
        self._paused_all = False
        #: GUI-thread CPU seconds spent on video so far (taking pictures, painting tiles): the
        #: scheduler tells drops the wall causes from drops other work causes
        self.gui_video_s = 0.0
        self.scheduler = OverloadScheduler(cpu_clock=_cpu_with_decoders, video_clock=lambda: self.gui_video_s)
        self.scheduler.enabled = scheduler
        #: gives back to the system what replaced tiles' threads freed (see desktop.core.video.memory)
        self.trimmer = MemoryTrimmer()
        self.painted_frames = 0  # frames that reached the screen (tests, diagnostics)

        self.setStyleSheet("VideoWall { background: #030507; }")
        self.view = WallView(self)
        self.toolbar = WallToolbar(self) if show_toolbar else None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        if self.toolbar is not None:
            lay.addWidget(self.toolbar)
        lay.addWidget(self.view, 1)

        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(200)  # choose streams once the resize settles
        self._resize_timer.timeout.connect(self._apply_sizes)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.PreciseTimer)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)
        self._status_at = 0.0
        self._sched_at = 0.0
        self._tour_timer = QTimer(self)
        self._tour_timer.timeout.connect(self._tour_step)
        self._tour_streams: dict[str, CameraStreams] = {}  # the touring group, resolved
        self.set_layout(layout)
        self._timer.start()

    # -- cameras in and out -------------------------------------------------------------------
    def open_camera(self, streams: CameraStreams, tile_index: int | None = None) -> int:
        """Show ``streams`` in tile ``tile_index``, or (None) where it already is, else the next
        free tile, else the selected one, else the tiles in turn. Returns the tile index."""
        if tile_index is None:
            already = self.model.index_of(streams.camera_id)
            if already is not None:
                return already
            tile_index = self.model.free_tile(self.selected)
        if not 0 <= tile_index < MAX_TILES:
            raise IndexError(f"tile {tile_index} outside 0..{MAX_TILES - 1}")
        t = self.tiles[tile_index]
        if t.streams == streams and (t.player is not None or tile_index >= self.tile_count):
            # the camera this tile already shows (a tour page or an alarm's linkage naming it
            # again): keep the player, its connection and its picture
            return t.index
        self._close_tile(t)
        t.streams = streams
        self.model.assign(tile_index, streams.camera_id)
        if tile_index < self.tile_count:
            self._start_player(t)
        self.camera_opened.emit(t.index, streams.camera_id)
        self.tile_state_changed.emit(t.index, streams.camera_id, t.state)
        self._dirty(t)
        return t.index

    def open_cameras(self, streams_list: list[CameraStreams], start: int | None = None) -> list[int]:
        """Open several cameras; with ``start`` into consecutive tiles from there, else each into
        the next free tile. Grows a square layout when they do not fit (up to 36)."""
        streams_list = list(streams_list)
        if start is None:
            needed = sum(1 for t in self.tiles[:self.tile_count] if t.streams is not None) + len(streams_list)
            if needed > self.tile_count and self.tile_count < AUTO_GROW_MAX:
                from desktop.core.video.layouts import layout_for_count
                bigger = layout_for_count(min(needed, AUTO_GROW_MAX))
                if get_layout(bigger).count > self.tile_count:
                    self.set_layout(bigger)
            return [self.open_camera(s) for s in streams_list]
        out = []
        for k, s in enumerate(streams_list):
            out.append(self.open_camera(s, (start + k) % self.tile_count))
        return out

    def open_camera_ids(self, ids: list[str], start: int | None = None) -> int:
        """Resolve camera ids and open them (see :meth:`open_cameras`); unknown ids raise a
        notice. Returns how many were opened. Alarm linkage calls this with ``start=0``."""
        found = []
        for cid in ids:
            streams = self.resolve(str(cid)) if self.resolve else None
            if streams is None:
                self.notice.emit(tr("Unknown camera {id}", id=cid), "warning")
                continue
            found.append(streams)
        if start is not None and len(found) > self.tile_count and self.tile_count < AUTO_GROW_MAX:
            from desktop.core.video.layouts import layout_for_count
            self.set_layout(layout_for_count(min(len(found), AUTO_GROW_MAX)))
        return len(self.open_cameras(found[:max(self.tile_count, AUTO_GROW_MAX)], start))

    def close_tile(self, index: int) -> None:
        """Stop and empty one tile."""
        self._close_tile(self.tiles[index])
        if self.enlarged == index:
            self.toggle_enlarge(index)

    def close_all(self) -> None:
        """Stop every tile (and any tour)."""
        self.stop_tour()
        if self.enlarged is not None:
            self.toggle_enlarge(self.enlarged)
        for t in self.tiles:
            self._close_tile(t)
        self.scheduler.reset()
        self.view.update()

    def stop(self) -> None:
        """Shut the wall down (window closing): every worker stopped, timers off."""
        self.close_all()
        self._timer.stop()
        self._tour_timer.stop()

    # -- tiles ----------------------------------------------------------------------------------
    def select(self, index: int | None) -> None:
        """Make tile ``index`` the selected one (framed; None: none); ``tile_selected`` on a change."""
        if index == self.selected:
            return
        old = self.selected
        self.selected = index
        for i in (old, index):
            if i is not None:
                self._dirty(self.tiles[i])
        if index is not None:
            self.tile_selected.emit(index)

    def tile_state(self, index: int) -> str:
        """The state of the tile's player ("connecting", "live", …; "" without one)."""
        t = self.tiles[index]
        return t.player.state if t.player is not None else ""

    def snapshot(self, tile_index: int, path: str | Path | None = None) -> Path | None:
        """Save the tile's current picture (as decoded for the tile, without overlay) as PNG,
        at ``path`` or in the snapshots folder. Returns the path, or None (and a notice) when
        the tile has no picture."""
        t = self.tiles[tile_index]
        if t.qimage is None:
            self.notice.emit(tr("Nothing to snapshot in this tile"), "warning")
            return None
        path = Path(path) if path is not None else self.default_snapshot_path(tile_index)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not t.qimage.copy().save(str(path), "PNG"):
            self.notice.emit(tr("Could not save the snapshot to {path}", path=str(path)), "error")
            return None
        self.snapshot_saved.emit(str(path))
        return path

    def default_snapshot_path(self, index: int) -> Path:
        """Where a snapshot from the context menu goes: the data folder, by camera and time."""
        from desktop.paths import data_dir
        cid = re.sub(r"[^\w.-]+", "_", self.tiles[index].camera_id or f"tile{index + 1}")
        return data_dir() / "snapshots" / f"{cid}_{time.strftime('%Y%m%d-%H%M%S')}.png"

    # -- painting -------------------------------------------------------------------------------
    def _paint(self, p: QPainter, clip: QRect) -> None:
        c0 = time.thread_time()
        self.painted_frames += paint_wall(p, clip, self.tiles, self.selected, self._drop_target, self.font_scale)
        self.gui_video_s += time.thread_time() - c0

    def render_to_image(self) -> QImage:
        """The wall as it is now, painted into an image (screenshots, tests)."""
        img = QImage(self.view.size(), QImage.Format_RGB32)
        p = QPainter(img)
        try:
            self._paint(p, img.rect())
        finally:
            p.end()
        return img

    def _update_toolbar(self) -> None:
        if self.toolbar is not None:
            self.toolbar.show_touring(self.touring)

    # -- shown, hidden, closed ------------------------------------------------------------------
    def showEvent(self, e) -> None:  # noqa: N802
        super().showEvent(e)
        self._paused_all = False
        self._apply_run_state()
        if not self._timer.isActive():
            self._timer.start()

    def hideEvent(self, e) -> None:  # noqa: N802
        super().hideEvent(e)
        # nothing decoded for a hidden wall (another tab, a closed dock, a minimised window)
        self._paused_all = True
        self._apply_run_state()

    def closeEvent(self, e) -> None:  # noqa: N802
        self.close_all()
        super().closeEvent(e)
