"""The instructor's replay of a recorded training session: the map and the wall as they were,
with play, pause, speed, seek, and the trainee's actions marked on the timeline.

The window folds the recording (:class:`~desktop.training.replay.SessionReplay`) to the
replayed moment each frame: alarms on the map in their workflow state, the patrol units where
they were, radar targets, and the cameras the trainee had on the wall (playing their clips; a
camera that was down shows as down). The timeline under it marks every workflow change (by
state colour), every camera opened and every clock action; a click or drag seeks, and the
list beside it jumps to an action on double-click.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QPushButton, QSplitter, QVBoxLayout, QWidget)

from desktop.core.alarms.model import priority_style
from desktop.core.localtime import format_local
from desktop.core.video.source import CameraStreams, StreamSpec
from desktop.qt.map.layer import MapLayer
from desktop.training._i18n import tr
from desktop.training.recording import load_recording
from desktop.training.replay import SessionReplay, action_label, state_label

log = logging.getLogger(__name__)

__all__ = ["ReplayWindow", "ReplayLayer", "TimelineBar", "open_replay", "sheet_for", "REPLAY_SPEEDS"]

REPLAY_SPEEDS = (1, 2, 4, 8, 16, 32, 60)
STATE_COLOURS = {"new": "#ffffff", "acknowledged": "#29b6f6", "dispatched": "#ab47bc", "resolved": "#66bb6a",
                 "false_alarm": "#8a9bab"}
MARK_COLOURS = {"camera": "#4dd0e1", "control": "#ffca28"}


class ReplayLayer(MapLayer):
    """Alarms, units and radar targets of the replayed moment (dynamic: painted every frame)."""

    id = "training-replay"
    title = "Training replay"
    static = False
    z = 90

    def __init__(self, projection):
        super().__init__()
        self.title = tr("Training replay")
        self.projection = projection
        self.state = None

    def set_state(self, state) -> None:
        self.state = state
        self.changed()

    def _xy(self, lon, lat, vp):
        x, y = self.projection.forward(lon, lat, "WGS84")
        sx, sy = vp.to_screen(x, y)
        return float(sx), float(sy)

    def paint(self, p: QPainter, vp) -> None:
        st = self.state
        if st is None:
            return
        p.setRenderHint(QPainter.Antialiasing, True)
        font = QFont()
        font.setPointSize(8)
        p.setFont(font)
        for u in st.units.values():
            sx, sy = self._xy(u.lon, u.lat, vp)
            p.setPen(QPen(QColor("#0b1a2a"), 1))
            p.setBrush(QColor("#81d4fa" if u.kind != "boat" else "#80cbc4"))
            p.drawEllipse(QPointF(sx, sy), 4, 4)
            p.setPen(QColor("#c7d3dd"))
            p.drawText(QPointF(sx + 6, sy - 4), u.unit)
        for key, (lon, lat) in st.radar.items():
            sx, sy = self._xy(lon, lat, vp)
            p.setPen(QPen(QColor("#f48fb1"), 2))
            p.setBrush(Qt.NoBrush)
            p.drawPolygon(QPolygonF([QPointF(sx, sy - 6), QPointF(sx + 6, sy), QPointF(sx, sy + 6), QPointF(sx - 6, sy)]))
        for a in st.alarms.values():
            sx, sy = self._xy(a.lon, a.lat, vp)
            style = priority_style(a.priority)
            closed = a.state in ("resolved", "false_alarm")
            p.setPen(QPen(QColor(STATE_COLOURS.get(a.state, "#ffffff")), 3))
            fill = QColor(style.colour)
            if closed:
                fill.setAlpha(90)
            p.setBrush(fill)
            p.drawEllipse(QPointF(sx, sy), 8, 8)
            p.setPen(QColor("#ffffff" if not closed else "#8a9bab"))
            p.drawText(QPointF(sx + 10, sy + 4), f"{a.id} · {state_label(a.state)}" + (f" · {a.unit}" if a.unit else ""))


class TimelineBar(QWidget):
    """The session's time line: actions marked, the cursor, click or drag to seek."""

    seeked = Signal(float)

    def __init__(self, replay: SessionReplay, parent=None):
        super().__init__(parent)
        self.replay = replay
        self.t = 0.0
        self.setMinimumHeight(46)
        self.setMouseTracking(True)
        self.arrivals = [r["t"] for r in replay.records if r["kind"] == "alarm"]

    def _x(self, t: float) -> float:
        d = max(1e-6, self.replay.duration_s)
        return 8 + (self.width() - 16) * min(1.0, max(0.0, t / d))

    def _t(self, x: float) -> float:
        return max(0.0, min(self.replay.duration_s, (x - 8) / max(1.0, self.width() - 16) * self.replay.duration_s))

    def set_time(self, t: float) -> None:
        self.t = t
        self.update()

    def paintEvent(self, _e) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#161d25"))
        h = self.height()
        p.fillRect(QRectF(8, h / 2 - 3, self.width() - 16, 6), QColor("#2a3541"))
        p.fillRect(QRectF(8, h / 2 - 3, self._x(self.t) - 8, 6), QColor("#29b6f6"))
        p.setPen(QPen(QColor("#e57373"), 1))
        for t in self.arrivals:  # alarms arriving, below the bar
            x = self._x(t)
            p.drawLine(QPointF(x, h / 2 + 6), QPointF(x, h - 4))
        for r in self.replay.actions:  # the trainee's actions, above it
            x = self._x(r["t"])
            colour = STATE_COLOURS.get(r.get("to", ""), MARK_COLOURS.get(r["kind"], "#ffffff"))
            p.setPen(QPen(QColor(colour), 2))
            p.drawLine(QPointF(x, 4), QPointF(x, h / 2 - 5))
        x = self._x(self.t)
        p.setPen(QPen(QColor("#ffffff"), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, h))

    def mousePressEvent(self, e) -> None:  # noqa: N802
        self.seeked.emit(self._t(e.position().x()))

    def mouseMoveEvent(self, e) -> None:  # noqa: N802
        if e.buttons() & Qt.LeftButton:
            self.seeked.emit(self._t(e.position().x()))
            return
        t = self._t(e.position().x())
        near = [r for r in self.replay.actions if abs(self._x(r["t"]) - e.position().x()) <= 3]
        self.setToolTip("\n".join(f"+{r['t']:.0f} s  {action_label(r)}" for r in near[:8]) or f"+{t:.0f} s")


class ReplayWindow(QMainWindow):
    """See the module text. ``district``: the loaded dataset the session ran on."""

    def __init__(self, recording, district, projection, clips: dict | None = None, parent=None,
                 wall_factory=None):
        super().__init__(parent)
        from desktop.qt.main_window import build_district_layers
        from desktop.qt.map.canvas import MapCanvas
        self.recording = recording
        self.replay = SessionReplay(recording)
        self.district = district
        self.projection = projection
        self.clips = clips or {}
        head = recording.header
        self.setWindowTitle(tr("[TRAINING REPLAY] {trainee} · {scenario}", trainee=head.get("trainee", ""),
                               scenario=head.get("scenario", "")))
        self.resize(1500, 900)
        self.t = 0.0
        self.speed = 8.0
        self.playing = False
        self._last_tick = time.monotonic()
        self._last_key = None

        self.canvas = MapCanvas()
        for layer in build_district_layers(district):
            if layer is not None:
                self.canvas.add_layer(layer)
        self.layer = ReplayLayer(projection)
        self.canvas.add_layer(self.layer)
        self.canvas.set_home(district.map_bounds())
        if wall_factory is not None:
            self.wall = wall_factory(self)
        else:
            from desktop.qt.video.wall import VideoWall
            import tempfile
            # a replay's layouts are its own, never the workstation's saved ones
            self.wall = VideoWall(resolve=self.resolve_camera, settings_dir=tempfile.mkdtemp(prefix="pingan-replay-"))
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.canvas)
        split.addWidget(self.wall)
        split.setSizes([900, 600])

        badge = QLabel(tr("TRAINING REPLAY"))
        from desktop.training.qt.controls import BADGE_STYLE
        badge.setStyleSheet(BADGE_STYLE)
        self.play_btn = QPushButton(tr("Play"))
        self.play_btn.clicked.connect(self.toggle)
        self.speed_box = QComboBox()
        for sp in REPLAY_SPEEDS:
            self.speed_box.addItem(f"{sp}×", float(sp))
        self.speed_box.setCurrentIndex(REPLAY_SPEEDS.index(8))
        self.speed_box.currentIndexChanged.connect(lambda _i: setattr(self, "speed", self.speed_box.currentData()))
        self.time_label = QLabel("")
        self.time_label.setStyleSheet("font-family: monospace; font-size: 12pt; padding: 0 8px;")
        self.timeline = TimelineBar(self.replay)
        self.timeline.seeked.connect(self.seek)
        controls = QHBoxLayout()
        for w in (badge, self.play_btn, self.speed_box, self.time_label):
            controls.addWidget(w)
        controls.addWidget(self.timeline, 1)

        self.actions_list = QListWidget()
        self.actions_list.setMaximumWidth(360)
        for r in self.replay.actions:
            it = QListWidgetItem(f"+{r['t']:6.1f} s  {action_label(r)}")
            it.setData(Qt.UserRole, float(r["t"]))
            it.setForeground(QColor(STATE_COLOURS.get(r.get("to", ""), MARK_COLOURS.get(r["kind"], "#ffffff"))))
            self.actions_list.addItem(it)
        self.actions_list.itemDoubleClicked.connect(lambda it: self.seek(it.data(Qt.UserRole)))
        body = QSplitter(Qt.Horizontal)
        body.addWidget(split)
        body.addWidget(self.actions_list)
        body.setSizes([1200, 300])
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(body, 1)
        lay.addLayout(controls)
        self.setCentralWidget(central)
        self.statusBar().showMessage(tr("{n} actions by {trainee}; started {start}", n=len(self.replay.actions),
                                        trainee=head.get("trainee", ""), start=head.get("start", "")))
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self.seek(0.0)

    # --- playback --------------------------------------------------------------------------
    def toggle(self) -> None:
        self.play() if not self.playing else self.pause()

    def play(self) -> None:
        if self.t >= self.replay.duration_s:
            self.t = 0.0
        self.playing = True
        self._last_tick = time.monotonic()
        self.play_btn.setText(tr("Pause"))

    def pause(self) -> None:
        self.playing = False
        self.play_btn.setText(tr("Play"))

    def set_speed(self, speed: float) -> None:
        i = self.speed_box.findData(float(speed))
        if i >= 0:
            self.speed_box.setCurrentIndex(i)
        self.speed = float(speed)

    def seek(self, t: float) -> None:
        self.t = max(0.0, min(float(t), self.replay.duration_s))
        self._show()

    def _tick(self) -> None:
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        if not self.playing:
            return
        self.t = min(self.replay.duration_s, self.t + dt * self.speed)
        if self.t >= self.replay.duration_s:
            self.pause()
        self._show()

    def _show(self) -> None:
        st = self.replay.state_at(self.t)
        self.state = st
        self.layer.set_state(st)
        self.timeline.set_time(self.t)
        t0 = float(self.recording.header.get("t0", 0.0))
        self.time_label.setText(f"+{int(self.t) // 60:02d}:{int(self.t) % 60:02d} · "
                                f"{format_local(t0 + self.t, date=False)}")
        self._sync_wall(st)

    def _sync_wall(self, st) -> None:
        """Put the recorded cameras on the wall, tile for tile (only what changed)."""
        key = (tuple(sorted(st.wall.items())), tuple(sorted(c for c in st.down if c in st.wall.values())))
        if key == self._last_key or self.wall is None:
            return
        self._last_key = key
        self.down = set(st.down)
        need = max(st.wall) + 1 if st.wall else 1
        if need > self.wall.tile_count:
            from desktop.core.video.layouts import layout_for_count
            self.wall.set_layout(layout_for_count(min(need, 36)))
        for tile in self.wall.tiles[:self.wall.tile_count]:
            cid = st.wall.get(tile.index)
            if cid is None:
                if tile.camera_id is not None:
                    self.wall.close_tile(tile.index)
                continue
            streams = self.resolve_camera(cid)
            if streams is not None and tile.streams != streams:
                self.wall.open_camera(streams, tile.index)

    def resolve_camera(self, camera_id: str):
        cam = self.district.cameras.get(camera_id)
        if cam is None:
            return None
        name = str(getattr(cam, "name", "") or camera_id)
        if camera_id in getattr(self, "down", ()):
            return CameraStreams(camera_id, name, StreamSpec(f"/nonexistent/camera-down/{camera_id}.mp4"))
        choice = self.clips.get(camera_id)
        from desktop.core.video.demo_cameras import demo_streams_for, variant_streams
        if choice is not None and choice.path is not None:
            return CameraStreams(camera_id, name, StreamSpec(str(choice.path)))
        if choice is not None and choice.variant is not None:
            return variant_streams(choice.variant, camera_id, name)
        return demo_streams_for(camera_id, name)

    def closeEvent(self, e) -> None:  # noqa: N802
        self._timer.stop()
        if self.wall is not None:
            self.wall.close_all()
        super().closeEvent(e)


def sheet_for(folder: Path):
    """The saved score sheet of a session folder, or None."""
    from desktop.training.scoring import sheet_from_dict
    p = Path(folder) / "score.json"
    try:
        return sheet_from_dict(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def open_replay(path: Path | str, parent=None, district=None, projection=None):
    """Open the replay window on a recording file; the district is the parent window's, or
    the one the recording names. Errors are shown in the parent's status bar."""
    from desktop.training.recording import RecordingError
    try:
        rec = load_recording(path)
    except RecordingError as exc:
        if parent is not None and hasattr(parent, "show_notice"):
            parent.show_notice(str(exc), "error")
        raise
    district = district or getattr(parent, "district", None)
    projection = projection or getattr(parent, "projection", None)
    if district is None:
        from desktop.core.district.loader import load_district
        from desktop.core.district.resolve import resolve_district
        from desktop.core.geo.crs import MapProjection
        projection = projection or MapProjection("GCJ02")
        district = load_district(resolve_district(str(rec.header.get("district", "")) or None), projection)
    clips = {}
    sp = rec.header.get("scenario_path")
    if sp and Path(sp).is_dir():
        try:
            from desktop.training.scenario import load_training_scenario
            clips = load_training_scenario(sp, district).clips
        except Exception as exc:  # noqa: BLE001 - the replay works with demo clips
            log.warning("replay: the scenario's clips are not available: %s", exc)
    win = ReplayWindow(rec, district, projection, clips, parent=None)
    win.show()
    if parent is not None:
        parent._training_replays = getattr(parent, "_training_replays", []) + [win]  # kept alive
    return win
