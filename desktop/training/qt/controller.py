"""The training session in the operator window: clock, recording, clips, end and score.

:class:`TrainingController` is built on a :class:`~desktop.core.session.Session` in training
mode *before* it starts (so the recorder hears the scenario's first message) and attached to
the window once the plugins are up. It

* holds the simulated clock (paused until :meth:`begin`), and gives the instructor bar its
  pause, speeds and step;
* records every bus message the scenario plays, every alarm shown, every workflow change, the
  wall's cameras (opened, closed, first frame) and the instructor's clock actions — observed
  through the host's streams and the wall's signals, never inside a plugin;
* resolves cameras to clips (the scenario's or the generated demo clips), never to a live
  stream, and shows a camera the timeline takes down as down on the wall until it recovers;
* ends the session when the scenario is over (or the instructor ends it), scores it, saves
  the sheet in the session folder and shows it.
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.alarms.model import AlarmState, EventKind
from desktop.core.video.source import CameraStreams, StreamSpec
from desktop.training._i18n import tr
from desktop.training.history import save_sheet
from desktop.training.recording import Recorder
from desktop.training.scoring import score_session

log = logging.getLogger(__name__)

SPEEDS = (1, 2, 4, 8, 16)
STEP_S = 10.0  # one press of Step: this many simulated seconds


def _ms() -> float:
    return time.monotonic() * 1000.0


class TrainingController(QObject):
    """See the module text. ``stepped``: the headless driver moves the clock itself."""

    ended = Signal(object)  # the ScoreSheet
    clock_changed = Signal()

    def __init__(self, session, trainee: str, folder: Path, *, stepped: bool = False):
        super().__init__()
        self.session = session
        self.scenario = session.training_scenario
        self.clock = session.clock
        self.trainee = trainee
        self.folder = Path(folder)
        self.stepped = stepped
        self.window = None
        self.t0 = session.scenario.start.timestamp()
        self.clock.pause()
        self.clock.set_time(self.t0)
        sc = self.scenario
        self.recorder = Recorder(self.folder / "recording.jsonl", self.clock, self.t0, {
            "trainee": trainee, "scenario": sc.name, "scenario_path": str(sc.path or ""), "seed": sc.seed,
            "duration_s": sc.duration_s, "district": session.district.info.adcode or session.district.info.name,
            "start": session.scenario.start.isoformat()})
        self.sheet = None
        self.down: set[str] = set()
        self._alarm_ms: dict[str, float] = {}  # alarm id -> real ms it was played onto the bus
        self._to_video: dict[str, float] = {}  # alarm id -> real ms from play to its camera's first frame
        self._waiting_video: dict[str, set[str]] = {}  # alarm id -> right cameras not yet live
        self._sub = session.bus.subscribe("#", self._on_bus)
        self._timer = None

    # --- life cycle ------------------------------------------------------------------------
    def attach(self, window) -> None:
        """Wire the window: streams, wall, instructor bar, TRAINING everywhere, the menu."""
        from desktop.training.qt.controls import install_training_ui
        self.window = window
        hub = getattr(window, "stream_hub", None)
        if hub is not None:
            self._alarm_sub = hub.subscribe("alarms", self._on_alarm_events)
        window.resolve_camera = self.resolve_camera  # whoever asks the window for a camera's streams
        wall = getattr(window, "wall", None)
        if wall is not None:
            wall.resolve = self.resolve_camera  # clips only: training never opens a live stream
            wall.camera_opened.connect(lambda tile, cid: self._camera("opened", tile, cid))
            wall.camera_closed.connect(lambda tile, cid: self._camera("closed", tile, cid))
            wall.tile_state_changed.connect(self._tile_state)
        install_training_ui(window, self)
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def begin(self) -> None:
        """Start the scenario's time (the trainee has given a name, the window is up)."""
        if not self.stepped:
            self.clock.resume()
        self.clock_changed.emit()

    @property
    def elapsed_s(self) -> float:
        return max(0.0, self.clock.time() - self.t0)

    @property
    def finished(self) -> bool:
        return self.sheet is not None

    def end(self, reason: str = "scenario over"):
        """Stop the clock, close the recording, score the session and save the sheet."""
        if self.sheet is not None:
            return self.sheet
        self.clock.pause()
        if self._timer is not None:
            self._timer.stop()
        self.recorder.close(reason)
        rec = self.recorder.recording()
        self.sheet = score_session(self.scenario, rec, self.trainee)
        save_sheet(self.folder, self.sheet.as_dict(), {"digest": rec.digest(), "ended": reason,
                                                       "recording": str(self.recorder.path)})
        self.ended.emit(self.sheet)
        return self.sheet

    def close(self) -> None:
        """The program is closing: a session cut short still gets its (partial) sheet."""
        if not self.finished:
            self.end("closed before the scenario ended")
        self._sub.unsubscribe()

    # --- the instructor's clock ------------------------------------------------------------
    def pause(self) -> None:
        if not self.clock.paused:
            self.clock.pause()
            self.recorder.record("control", action="pause")
            self.clock_changed.emit()

    def resume(self) -> None:
        if self.clock.paused and not self.finished and not self.stepped:
            self.clock.resume()
            self.recorder.record("control", action="resume")
            self.clock_changed.emit()

    def set_speed(self, speed: float) -> None:
        if speed != self.clock.speed:
            self.clock.set_speed(speed)
            self.recorder.record("control", action="speed", value=speed)
            self.clock_changed.emit()

    def step(self, seconds: float = STEP_S) -> None:
        """Pause (if running) and move the scenario ``seconds`` on."""
        if self.finished:
            return
        if not self.clock.paused:
            self.pause()
        left = self.t0 + self.scenario.duration_s - self.clock.time()
        seconds = max(0.0, min(seconds, left))
        self.clock.advance(seconds)
        self.recorder.record("control", action="step", value=seconds)
        self.clock_changed.emit()

    # --- cameras: clips, never live streams -----------------------------------------------
    def resolve_camera(self, camera_id: str):
        """The clip a camera shows in this scenario; a camera the timeline took down shows as down."""
        cam = self.session.district.cameras.get(camera_id)
        if cam is None:
            return None
        name = str(getattr(cam, "name", "") or camera_id)
        if camera_id in self.down:
            # a file that is not there: the tile shows the camera as lost, like a dead stream
            gone = str(self.folder / "camera-down" / f"{camera_id}.mp4")
            return CameraStreams(camera_id, name, StreamSpec(gone, kind="main"), extra={"training_down": True})
        choice = self.scenario.clips.get(camera_id)
        if choice is not None and choice.path is not None:
            return CameraStreams(camera_id, name, StreamSpec(str(choice.path), kind="main"))
        from desktop.core.video.demo_cameras import demo_streams_for, variant_streams
        if choice is not None and choice.variant is not None:
            return variant_streams(choice.variant, camera_id, name)
        return demo_streams_for(camera_id, name)

    def _camera_status(self, camera_id: str, status: str) -> None:
        was_down = camera_id in self.down
        if status == "online":
            self.down.discard(camera_id)
        else:
            self.down.add(camera_id)
        wall = getattr(self.window, "wall", None)
        if wall is None or was_down == (camera_id in self.down):
            return
        for tile in wall.tiles[:wall.tile_count]:  # the wall's public tiles: re-open that camera's
            if tile.camera_id == camera_id:
                wall.open_camera(self.resolve_camera(camera_id), tile.index)

    # --- observing -------------------------------------------------------------------------
    def _on_bus(self, topic: str, payload: dict) -> None:
        """Every message on the session's bus (the scenario player's thread, or the GUI's)."""
        if topic.startswith("pingan/alarm/") and topic.endswith("/state"):
            return  # the workflow's own echo: recorded as a transition
        rec = self.recorder.record("bus", topic=topic, payload=payload, wall_ms=round(_ms(), 1))
        if topic == "pingan/alarm" and isinstance(payload.get("id"), str):
            self._alarm_ms.setdefault(payload["id"], rec["wall_ms"])

    def _on_alarm_events(self, events: list) -> None:
        for ev in events:
            if ev.kind == EventKind.NEW and ev.alarm is not None:
                a = ev.alarm
                self.recorder.record("alarm", t=round(a.received - self.t0, 3), id=a.id, type=a.type,
                                     priority=a.priority, lon=round(a.lon_wgs, 7), lat=round(a.lat_wgs, 7),
                                     source=a.source, text=a.text, wall_ms=round(_ms(), 1))
                self._watch_video(a.id)
            elif ev.kind == EventKind.STATE_CHANGED and ev.transition is not None:
                tr_ = ev.transition
                self.recorder.record("transition", t=round(tr_.epoch - self.t0, 3), alarm=tr_.alarm_id,
                                     **{"from": str(tr_.from_state), "to": str(tr_.to_state)},
                                     operator=tr_.operator, unit=tr_.unit, note=tr_.note)
                if tr_.to_state == AlarmState.DISPATCHED and tr_.unit and ev.alarm is not None:
                    self._check_dispatch(ev.alarm, tr_)
            elif ev.kind == EventKind.CAMERA_STATUS and ev.camera is not None:
                self._camera_status(ev.camera.camera_id, ev.camera.status)

    def _check_dispatch(self, alarm, transition) -> None:
        """Was the unit among the fastest? Ranked now, with the unit itself whether or not the
        patrol service has marked it busy yet."""
        patrol = self.session.patrol
        unit = transition.unit
        eta, faster, options = None, None, []
        if patrol is not None:
            try:
                options = list(patrol.rank(alarm.lon_wgs, alarm.lat_wgs, 0).options)
                mine = next((o for o in options if o.unit == unit), None)
                if mine is not None:
                    eta = mine.eta_s
                else:
                    recs = [d for d in patrol.dispatches(transition.epoch - 5, transition.epoch + 5)
                            if d.unit == unit and d.alarm_id == alarm.id]
                    if recs and not math.isnan(recs[-1].eta_s):
                        eta = recs[-1].eta_s
            except Exception:  # noqa: BLE001 - a failed ranking must not break the session
                log.exception("training: ranking for the dispatch check failed")
        if eta is not None:
            faster = sorted(o.unit for o in options if o.unit != unit and o.eta_s < eta - 1e-6)
        self.recorder.record("dispatch", t=round(transition.epoch - self.t0, 3), alarm=alarm.id, unit=unit,
                             eta_s=None if eta is None else round(eta, 1), faster=faster,
                             best=[o.unit for o in options[:5]])

    def _camera(self, action: str, tile: int, camera_id: str) -> None:
        self.recorder.record("camera", action=action, tile=int(tile), camera=camera_id, wall_ms=round(_ms(), 1))

    def _watch_video(self, alarm_id: str) -> None:
        right = self.scenario.right_cameras(alarm_id)
        if not right or alarm_id not in self._alarm_ms:
            return
        wall = getattr(self.window, "wall", None)
        if wall is not None:
            for tile in wall.tiles[:wall.tile_count]:
                if tile.camera_id in right and wall.tile_state(tile.index) == "live":
                    self._to_video[alarm_id] = round(_ms() - self._alarm_ms[alarm_id], 1)  # already showing
                    return
        self._waiting_video[alarm_id] = set(right)

    def _tile_state(self, tile: int, camera_id: str, state: str) -> None:
        if state != "live" or not camera_id:
            return
        now = _ms()
        self.recorder.record("camera", action="live", tile=int(tile), camera=camera_id, wall_ms=round(now, 1))
        for alarm_id, cams in list(self._waiting_video.items()):
            if camera_id in cams:
                self._to_video[alarm_id] = round(now - self._alarm_ms[alarm_id], 1)
                del self._waiting_video[alarm_id]

    def alarm_to_video_ms(self) -> dict[str, float]:
        """Real milliseconds from an alarm played onto the bus to the first frame of one of its
        right cameras on the wall, per alarm whose camera was shown."""
        return dict(self._to_video)

    def _sync_clips(self) -> None:
        """The wall's clips stand still while the instructor has the clock paused (and play
        again when it runs). Not for a stepped clock, which is paused between its steps."""
        wall = getattr(self.window, "wall", None)
        if wall is None or self.stepped:
            return
        hold = self.clock.paused and not self.finished
        held = getattr(self, "_held", set())
        for tile in wall.tiles[:wall.tile_count]:
            player = tile.player
            if player is None:
                held.discard(id(tile))
                continue
            if hold and not player.paused:
                player.pause()
                held.add(id(player))
            elif not hold and id(player) in held:
                held.discard(id(player))
                if player.paused:
                    player.resume()  # only what the clock paused: hidden tiles stay as the wall keeps them
        self._held = held

    def _poll(self) -> None:
        self._sync_clips()
        self.clock_changed.emit()
        if self.stepped or self.finished:
            return
        player = self.session.player
        if player is not None and player.finished.is_set() or self.elapsed_s >= self.scenario.duration_s:
            self.end()

