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
"""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QMimeData, QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QDrag, QImage, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QInputDialog, QLabel, QMenu, QToolButton,
                               QVBoxLayout, QWidget)

from desktop.core.i18n import add_catalog, current_locale, tr
from desktop.core.video.layouts import LAYOUT_NAMES, MAX_TILES, LayoutStore, get_layout, validate_state
from desktop.core.video.memory import MemoryTrimmer
from desktop.core.video.player import StreamPlayer
from desktop.core.video.scheduler import OverloadScheduler, TileLoad
from desktop.core.video.source import CameraStreams
from desktop.core.video.wall_model import VideoWallModel
from desktop.core.video.worker import tune_interpreter_for_video

from .tile import ACCENT, EMPTY_BG, TILE_BG, Tile, clock_image

log = logging.getLogger(__name__)

CAMERA_MIME = "application/x-pingan-camera"
GAP = 2
WALL_BG = QColor("#030507")

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


def _friendly(detail: str) -> str:
    """An FFmpeg error as an operator reads it: no errno, no exception class."""
    detail = re.sub(r"\[Errno -?\d+\]\s*", "", detail or "")
    detail = re.sub(r"^[A-Za-z]+Error:\s*", "", detail)
    return detail[:160]


class _WallView(QWidget):
    """The painting and input surface of the wall; all logic is in :class:`VideoWall`."""

    def __init__(self, wall: "VideoWall"):
        super().__init__(wall)
        self.wall = wall
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMouseTracking(False)
        self.setMinimumSize(160, 90)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(960, 540)

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            self.wall._paint(p, e.rect())
        finally:
            p.end()

    def resizeEvent(self, e) -> None:  # noqa: N802
        self.wall._relayout()

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.wall._mouse_press(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.wall._mouse_move(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self.wall._press = None

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        idx = self.wall.tile_at(e.position().toPoint())
        if idx is not None and e.button() == Qt.LeftButton:
            self.wall.toggle_enlarge(idx)

    def contextMenuEvent(self, e) -> None:  # noqa: N802
        self.wall._context_menu(e.pos(), e.globalPos())

    def keyPressEvent(self, e: QKeyEvent) -> None:  # noqa: N802
        self.wall._key(e)

    def dragEnterEvent(self, e) -> None:  # noqa: N802
        if e.mimeData().hasFormat(CAMERA_MIME):
            e.acceptProposedAction()
            self.wall._set_drop_target(self.wall.tile_at(e.position().toPoint()))
        else:
            e.ignore()

    def dragMoveEvent(self, e) -> None:  # noqa: N802
        if e.mimeData().hasFormat(CAMERA_MIME):
            e.acceptProposedAction()
            self.wall._set_drop_target(self.wall.tile_at(e.position().toPoint()))
        else:
            e.ignore()

    def dragLeaveEvent(self, e) -> None:  # noqa: N802
        self.wall._set_drop_target(None)

    def dropEvent(self, e) -> None:  # noqa: N802
        self.wall._set_drop_target(None)
        if not e.mimeData().hasFormat(CAMERA_MIME):
            e.ignore()
            return
        if self.wall.handle_drop(bytes(e.mimeData().data(CAMERA_MIME)), e.position().toPoint()):
            e.acceptProposedAction()
        else:
            e.ignore()


class VideoWall(QWidget):
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
        self._press: tuple[QPoint, int] | None = None
        self._paused_all = False
        self.scheduler = OverloadScheduler()
        self.scheduler.enabled = scheduler
        #: gives back to the system what replaced tiles' threads freed (see desktop.core.video.memory)
        self.trimmer = MemoryTrimmer()
        self.painted_frames = 0  # frames that reached the screen (tests, diagnostics)

        self.setStyleSheet("VideoWall { background: #030507; }")
        self.view = _WallView(self)
        self.toolbar = self._build_toolbar() if show_toolbar else None
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

    # ======================================================================================
    # public API
    # ======================================================================================
    def set_layout(self, name: str) -> None:
        """Switch to layout ``name`` (1, 4, 9, 16, 25, 36, 1+5, 1+7, 1+12). Tiles beyond the
        new count close their players (no thread, connection or frame is kept for a tile
        nobody sees) but keep their cameras: those start again with a larger layout."""
        lay = get_layout(name)
        if lay.name == self.layout_name and self._laid_out:
            return
        self._laid_out = True
        self.model.set_layout(lay.name)
        if self.enlarged is not None and self.enlarged >= lay.count:
            self.enlarged = None
        if self.selected is not None and self.selected >= lay.count:
            self.selected = None
        for t in self.tiles[lay.count:]:
            self._release_player(t)
        self._relayout()
        if self.toolbar is not None:
            i = self.layout_box.findData(lay.name)
            if i >= 0 and i != self.layout_box.currentIndex():
                self.layout_box.blockSignals(True)
                self.layout_box.setCurrentIndex(i)
                self.layout_box.blockSignals(False)
        self.layout_changed.emit(lay.name)

    @property
    def layout_name(self) -> str:
        return self.model.layout_name

    @property
    def tile_count(self) -> int:
        return self.model.tile_count

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
            if needed > self.tile_count and self.tile_count < MAX_TILES:
                from desktop.core.video.layouts import layout_for_count
                bigger = layout_for_count(min(needed, MAX_TILES))
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
        if start is not None and len(found) > self.tile_count and self.tile_count < MAX_TILES:
            from desktop.core.video.layouts import layout_for_count
            self.set_layout(layout_for_count(min(len(found), MAX_TILES)))
        return len(self.open_cameras(found[:MAX_TILES], start))

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

    def stop(self) -> None:
        """Shut the wall down (window closing): every worker stopped, timers off."""
        self.close_all()
        self._timer.stop()
        self._tour_timer.stop()

    def toggle_enlarge(self, index: int) -> None:
        """Double-click: show tile ``index`` over the whole wall on its main stream; again to
        return. The other tiles pause meanwhile."""
        if not 0 <= index < self.tile_count:
            return
        if self.enlarged == index:
            self.enlarged = None
            t = self.tiles[index]
            if t.player is not None:
                t.player.set_force_main(False)
        else:
            if self.tiles[index].streams is None:
                return
            self.enlarged = index
            self.tiles[index].player.set_force_main(True)
            self.select(index)
        self._relayout()

    def select(self, index: int | None) -> None:
        if index == self.selected:
            return
        old = self.selected
        self.selected = index
        for i in (old, index):
            if i is not None:
                self._dirty(self.tiles[i])
        if index is not None:
            self.tile_selected.emit(index)

    def tile_at(self, pos: QPoint) -> int | None:
        """The index of the visible tile under ``pos`` (view coordinates)."""
        for t in self._visible_tiles():
            if t.rect.contains(pos):
                return t.index
        return None

    def tile_rect(self, index: int) -> QRect:
        """A tile's rectangle in view coordinates (empty when not visible)."""
        t = self.tiles[index]
        return QRect(t.rect) if t.visible else QRect()

    def tile_state(self, index: int) -> str:
        t = self.tiles[index]
        return t.player.state if t.player is not None else ""

    # -- tours ------------------------------------------------------------------------------
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
        self._tour_step()
        self._tour_timer.start(max(200, int(interval_s * 1000)))
        self.tour_changed.emit(True)
        self._update_toolbar()

    def start_enlarge_tour(self, interval_s: float = 10.0) -> None:
        """Show each open camera enlarged (main stream) in turn, every ``interval_s`` seconds."""
        self.stop_tour()
        if self.model.start_enlarge_tour(interval_s) is None:
            return
        self._tour_step()
        self._tour_timer.start(max(200, int(interval_s * 1000)))
        self.tour_changed.emit(True)
        self._update_toolbar()

    def stop_tour(self) -> None:
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

    # -- layout states ------------------------------------------------------------------------
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
        ok = self.store.delete(name)
        self._update_toolbar()
        return ok

    # -- drops --------------------------------------------------------------------------------
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

    def swap_tiles(self, a: int, b: int) -> None:
        """Exchange two tiles' cameras (players keep running: no reconnect)."""
        if a == b:
            return
        self._exchange(a, b)
        self._relayout()
        self.select(b)

    def _exchange(self, a: int, b: int) -> None:
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

    # ======================================================================================
    # internals
    # ======================================================================================
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
        cid = t.camera_id
        self._release_player(t)
        t.streams = None
        self.model.clear(t.index)
        t.tour_label = ""
        if cid is not None:
            self.camera_closed.emit(t.index, cid)
        self._dirty(t)

    def _visible_tiles(self) -> list[Tile]:
        return [t for t in self.tiles if t.visible]

    def _relayout(self) -> None:
        """Place tiles for the layout and the view's size; pause what is not shown."""
        if not self.layout_name:
            return
        w, h = max(1, self.view.width()), max(1, self.view.height())
        lay = get_layout(self.layout_name)
        for t in self.tiles:
            t.visible = False
            t.overlay_key = None
        if self.enlarged is not None:
            t = self.tiles[self.enlarged]
            t.rect = QRect(0, 0, w, h)
            t.visible = True
        else:
            for t, (x, y, tw, th) in zip(self.tiles, lay.rects(w, h, GAP)):
                t.rect = QRect(x, y, tw, th)
                t.visible = True
        self._apply_run_state()
        self._resize_timer.start()
        self.view.update()

    def _player_size(self, t: Tile) -> tuple[int, int]:
        r = t.rect
        dpr = self.view.devicePixelRatioF() or 1.0
        return max(16, int(r.width() * dpr)), max(16, int(r.height() * dpr))

    def _apply_sizes(self) -> None:
        """After a resize settles: tell players their size (conversion, and main/sub choice)."""
        for t in self.tiles:
            if t.player is not None and t.visible:
                t.player.resize(*self._player_size(t))

    def _tile_should_run(self, t: Tile) -> bool:
        return t.visible and not self._paused_all

    def _apply_run_state(self) -> None:
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

    def _dirty(self, t: Tile) -> None:
        if t.visible:
            self.view.update(t.rect)

    def _poll(self) -> None:
        """Once per display frame: take what is new from each visible tile and repaint it."""
        for t in self.tiles:
            if not t.visible or t.player is None:
                continue
            f = t.player.take()
            if f is not None:
                t.set_frame(f)
                self.view.update(t.rect)
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
            log.info("video overload (cpu %.0f%%, dropped %.1f%%, late %.0f ms): key frames only on tiles %s",
                     rep.cpu * 100, rep.drop_ratio * 100, rep.lateness_ms, [k + 1 for k in rep.degraded])

    # -- painting ---------------------------------------------------------------------------
    def _paint(self, p: QPainter, clip: QRect) -> None:
        p.fillRect(clip, WALL_BG)
        for t in self.tiles:
            if not t.visible or not t.rect.intersects(clip):
                continue
            r = t.rect
            if t.qimage is not None:
                ir = t.image_rect()
                if ir != r:
                    p.fillRect(r, TILE_BG)
                if ir.size() == t.qimage.size():
                    p.drawImage(ir.topLeft(), t.qimage)
                else:
                    # the worker has not caught up with a resize yet: scale this once
                    p.drawImage(ir, t.qimage)
                self.painted_frames += 1
            else:
                p.fillRect(r, TILE_BG if t.streams is not None else EMPTY_BG)
            ov = t.render_overlay(False, self.font_scale)
            if ov is not None:
                for part in t.overlay_parts:
                    p.drawImage(r.topLeft() + part.topLeft(), ov, part)
                if t.clock_rect is not None and t.frame_clock:
                    px, small, _pad = t.fonts(self.font_scale)
                    cr = t.clock_rect
                    ck = clock_image(t.frame_clock, small, cr.height())
                    p.drawImage(r.left() + cr.right() + 1 - ck.width(), r.top() + cr.top(), ck)
            if self.selected == t.index:
                pen = QPen(ACCENT)
                pen.setWidth(3)
                p.setPen(pen)
                p.setBrush(Qt.NoBrush)
                p.drawRect(r.adjusted(1, 1, -2, -2))
            if self._drop_target == t.index:
                pen = QPen(ACCENT)
                pen.setWidth(3)
                pen.setStyle(Qt.DashLine)
                p.setPen(pen)
                p.setBrush(Qt.NoBrush)
                p.drawRect(r.adjusted(1, 1, -2, -2))

    def render_to_image(self) -> QImage:
        """The wall as it is now, painted into an image (screenshots, tests)."""
        img = QImage(self.view.size(), QImage.Format_RGB32)
        p = QPainter(img)
        try:
            self._paint(p, img.rect())
        finally:
            p.end()
        return img

    # -- input ------------------------------------------------------------------------------
    def _set_drop_target(self, idx: int | None) -> None:
        if idx != self._drop_target:
            old, self._drop_target = self._drop_target, idx
            for i in (old, idx):
                if i is not None:
                    self.view.update(self.tiles[i].rect)

    def _mouse_press(self, e: QMouseEvent) -> None:
        idx = self.tile_at(e.position().toPoint())
        if idx is None:
            return
        self.select(idx)
        self.view.setFocus()
        if e.button() == Qt.LeftButton and self.tiles[idx].streams is not None:
            self._press = (e.position().toPoint(), idx)

    def _mouse_move(self, e: QMouseEvent) -> None:
        if self._press is None or not (e.buttons() & Qt.LeftButton):
            return
        start, idx = self._press
        from PySide6.QtWidgets import QApplication
        if (e.position().toPoint() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        t = self.tiles[idx]
        if t.streams is None:
            return
        mime = QMimeData()
        mime.setData(CAMERA_MIME, json.dumps({"ids": [t.camera_id], "from_tile": idx, "wall": id(self)}).encode("utf-8"))
        mime.setText(t.camera_id)
        drag = QDrag(self.view)
        drag.setMimeData(mime)
        if t.qimage is not None:
            drag.setPixmap(__import__("PySide6.QtGui", fromlist=["QPixmap"]).QPixmap.fromImage(
                t.qimage.scaled(160, 90, Qt.KeepAspectRatio)))
        drag.exec(Qt.MoveAction | Qt.CopyAction)

    def _key(self, e: QKeyEvent) -> None:
        if e.key() == Qt.Key_Escape and self.enlarged is not None:
            self.toggle_enlarge(self.enlarged)
        elif e.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.selected is not None:
            self.close_tile(self.selected)
        elif e.key() in (Qt.Key_Return, Qt.Key_Enter) and self.selected is not None:
            self.toggle_enlarge(self.selected)

    def default_snapshot_path(self, index: int) -> Path:
        """Where a snapshot from the context menu goes: the data folder, by camera and time."""
        from desktop.paths import data_dir
        cid = re.sub(r"[^\w.-]+", "_", self.tiles[index].camera_id or f"tile{index + 1}")
        return data_dir() / "snapshots" / f"{cid}_{time.strftime('%Y%m%d-%H%M%S')}.png"

    def _context_menu(self, pos: QPoint, global_pos: QPoint) -> None:
        idx = self.tile_at(pos)
        if idx is None:
            return
        self.select(idx)
        t = self.tiles[idx]
        menu = QMenu(self)
        if t.streams is not None:
            menu.addAction(tr("Enlarge / restore"), lambda: self.toggle_enlarge(idx))

            def snap():
                path = self.snapshot(idx)
                if path is not None:
                    self.notice.emit(tr("Snapshot saved: {path}", path=str(path)), "info")
            menu.addAction(tr("Snapshot"), snap)
            menu.addSeparator()
            menu.addAction(tr("Close"), lambda: self.close_tile(idx))
        menu.addAction(tr("Clear"), self.close_all)
        menu.exec(global_pos)

    # -- toolbar ----------------------------------------------------------------------------
    def _build_toolbar(self) -> QWidget:
        bar = QWidget(self)
        bar.setObjectName("videoWallToolbar")
        bar.setStyleSheet("#videoWallToolbar { background: #0d1217; border-bottom: 1px solid #2a3541; }"
                          "QLabel { color: #8a9bab; }")
        h = QHBoxLayout(bar)
        h.setContentsMargins(6, 3, 6, 3)
        h.setSpacing(6)
        h.addWidget(QLabel(tr("Layout")))
        self.layout_box = QComboBox(bar)
        for name in LAYOUT_NAMES:
            self.layout_box.addItem(name, name)
        self.layout_box.currentIndexChanged.connect(lambda _i: self.set_layout(self.layout_box.currentData()))
        h.addWidget(self.layout_box)
        self.saved_btn = QToolButton(bar)
        self.saved_btn.setText(tr("Saved layouts…"))
        self.saved_btn.setPopupMode(QToolButton.InstantPopup)
        self.saved_menu = QMenu(self.saved_btn)
        self.saved_menu.aboutToShow.connect(self._fill_saved_menu)
        self.saved_btn.setMenu(self.saved_menu)
        h.addWidget(self.saved_btn)
        self.tour_btn = QToolButton(bar)
        self.tour_btn.setText(tr("Tour"))
        self.tour_btn.setCheckable(True)
        self.tour_btn.clicked.connect(self._tour_clicked)
        h.addWidget(self.tour_btn)
        h.addStretch(1)
        close_btn = QToolButton(bar)
        close_btn.setText(tr("Clear"))
        close_btn.clicked.connect(self.close_all)
        h.addWidget(close_btn)
        return bar

    def _fill_saved_menu(self) -> None:
        m = self.saved_menu
        m.clear()
        save = QAction(tr("Save layout"), m)
        save.triggered.connect(self._ask_save)
        m.addAction(save)
        names = self.saved_layouts()
        if names:
            m.addSeparator()
            for n in names:
                m.addAction(n, lambda n=n: self.restore_layout(n))
            m.addSeparator()
            dm = m.addMenu(tr("Delete layout"))
            for n in names:
                dm.addAction(n, lambda n=n: self.delete_saved_layout(n))

    def _ask_save(self) -> None:
        name, ok = QInputDialog.getText(self, tr("Save layout"), tr("Name"))
        if ok and name.strip():
            self.save_layout_as(name.strip())

    def _tour_clicked(self) -> None:
        """The toolbar's tour button: stop a running tour, or enlarge each open camera in turn."""
        if self.touring:
            self.stop_tour()
            return
        if not any(t.streams is not None for t in self.tiles[:self.tile_count]):
            self.notice.emit(tr("Open some cameras first: the tour cycles them"), "info")
            self._update_toolbar()
            return
        self.start_enlarge_tour()

    def _update_toolbar(self) -> None:
        if self.toolbar is not None:
            self.tour_btn.setChecked(self.touring)
