"""The training mode in the real window: the simulated clock drives the scenario, the alarm
panel's timers and the patrol units (pause, speeds, step); a scripted trainee gets the score
sheet its actions deserve, run after run the same; the replay shows what was recorded; and a
training session with a broker and live cameras configured connects to nothing."""
import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.paths import MAPS
from desktop.training.headless import close_training, run_once
from desktop.training.qt.app import TrainingSetupError, open_training
from tests.fixtures.district import LAT0, LON0

SHINAN = MAPS / "shinan"


def short_scenario(folder: Path, until: float = 130.0, units_best: int = 1) -> Path:
    """The bundled scenario's first two minutes: DEMO-001..004 (perimeter, one-key, face match, fire)."""
    folder.mkdir(parents=True)
    src = SHINAN / "scenario"
    meta = (src / "scenario.toml").read_text(encoding="utf-8").replace("duration_s = 600", f"duration_s = {until:g}")
    (folder / "scenario.toml").write_text(meta, encoding="utf-8")
    keep = [ln for ln in (src / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(ln)["t"] <= until]
    (folder / "timeline.jsonl").write_text("\n".join(keep) + "\n", encoding="utf-8")
    (folder / "expected.toml").write_text(
        f"[defaults]\nunits_best = {units_best}\n\n" + "".join(
            f'[alarms."DEMO-00{i}"]\nstate = "dispatched"\nwithin_s = 90\n\n' for i in (1, 2, 3, 4)),
        encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def shinan():
    return load_district(SHINAN)


def pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def wait(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if cond():
            return True
        time.sleep(0.005)
    return cond()


def test_the_clock_drives_the_scenario_timers_and_units(qtbot, shinan, tmp_path):
    cfg = Config()
    cfg.scenario = str(short_scenario(tmp_path / "sc"))
    app = QApplication.instance()
    window, session, ctl = open_training(app, cfg, shinan, "测试学员", root=tmp_path / "training")
    qtbot.addWidget(window)
    try:
        assert "TRAINING" in window.windowTitle() and window.training_badge.isVisible() is not None
        assert str(session.journal_path).startswith(str(tmp_path / "training"))
        alarms = window.plugin_manager.records["alarms"].instance
        assert ctl.clock.paused  # until begin(): the trainee has the window in front of them
        # paused: nothing is played, however long the window runs
        pump(0.4)
        assert session.player.progress().sent == 0 and not session.alarms.alarms()
        # step: ten simulated seconds at once, and the alarm due at 5 s arrives
        ctl.step()
        assert abs(ctl.elapsed_s - 10.0) < 1e-6
        assert wait(lambda: session.alarms.get("DEMO-001") is not None)
        a = session.alarms.get("DEMO-001")
        assert abs(a.received - (ctl.t0 + 10.0)) < 1e-6  # stamped on the simulated clock
        # the panel's escalation follows simulated time: not overdue at 10 s, overdue once the
        # clock is stepped past the 60 s target — with no real minute passing
        pump(1.2)
        assert not alarms.panel.overdue.isVisible()
        for _ in range(7):  # to 80 s: 70 s unacknowledged
            ctl.step()
        assert wait(lambda: alarms.panel.overdue.isVisible(), 10.0)
        assert "1:10" in alarms.panel.overdue.text()
        assert ctl.t0 + 60 <= alarms.escalation._last_ring <= ctl.clock.time()  # its repeat is on this clock
        # patrol units follow the clock: their latest fixes are from the simulated minute
        fixes = session.patrol.positions(now=ctl.clock.time())
        assert fixes and all(ctl.t0 <= u.epoch <= ctl.clock.time() + 1e-6 for u in fixes)
        assert max(u.epoch for u in fixes) >= ctl.t0 + 60  # a simulated minute of driving, in a real second
        assert sum(u.link == "live" for u in fixes) >= len(fixes) - 1  # ages on the simulated clock
        # speeds: 16x runs sixteen times faster than real time; a pause stops it again
        ctl.set_speed(16.0)
        ctl.resume()
        t_sim, t_real = ctl.elapsed_s, time.monotonic()
        pump(0.5)
        rate = (ctl.elapsed_s - t_sim) / (time.monotonic() - t_real)
        assert 8.0 < rate < 17.0
        ctl.pause()
        frozen = ctl.elapsed_s
        pump(0.3)
        assert ctl.elapsed_s == frozen
        # the wall only ever plays clips
        streams = window.wall.resolve("C370202-02888")
        assert streams.main.is_file and not streams.main.is_live
        # ...which stand still while the clock is paused, and play again when it runs
        window.open_camera_ids("C370202-02888")
        assert wait(lambda: window.wall.tiles[0].player is not None and window.wall.tiles[0].player.paused)
        ctl.resume()
        assert wait(lambda: not window.wall.tiles[0].player.paused)
        ctl.pause()
        assert wait(lambda: window.wall.tiles[0].player.paused)
        sheet = ctl.end("test")
        kinds = [r.get("action") for r in ctl.recorder.recording().records if r["kind"] == "control"]
        assert kinds.count("step") == 8 and "speed" in kinds and "pause" in kinds and "resume" in kinds
        saved = json.loads((ctl.folder / "score.json").read_text(encoding="utf-8"))
        assert saved["trainee"] == "测试学员" and saved["score"] == sheet.score
    finally:
        close_training(app, window, session, ctl)


def test_a_scripted_trainee_gets_its_score_sheet_and_the_replay_shows_it(qtbot, shinan, tmp_path):
    sc = short_scenario(tmp_path / "sc")
    script = {"DEMO-002": "ignore", "DEMO-003": "unit:2", "DEMO-004": "false"}
    res = run_once(sc, speed=400.0, seed=7, script=script, root=tmp_path / "training", keep_window=True)
    app, window, session, ctl, pilot, sheet = res.pop("_objects")
    try:
        by = {a.alarm_id: a for a in sheet.alarms}
        assert by["DEMO-001"].outcome == "on_time" and by["DEMO-001"].points == by["DEMO-001"].possible == 4
        assert by["DEMO-001"].unit_rank == 1
        assert by["DEMO-002"].outcome == "missed" and by["DEMO-002"].ack_s is None
        assert {c.name: c.points for c in by["DEMO-002"].checks} == {"ack": 0, "outcome": 0, "camera": 1, "unit": 0}
        assert by["DEMO-003"].outcome == "on_time" and by["DEMO-003"].unit_rank == 2
        assert {c.name: c.points for c in by["DEMO-003"].checks}["unit"] == 0.0  # right = the fastest only here
        assert by["DEMO-004"].outcome == "wrong" and by["DEMO-004"].final_state == "false_alarm"
        assert res["clicks_to_dispatch"] <= 3  # the second unit picked costs a click more
        assert res["alarms_handled"] == 2 and res["alarm_to_video_ms_p50"] is not None
        # what the service journaled is what the sheet says
        assert session.alarms.get("DEMO-001").state == "dispatched"
        assert session.alarms.get("DEMO-002").state == "new"

        from desktop.training.qt.replay_window import open_replay
        win = open_replay(Path(ctl.folder) / "recording.jsonl", window)
        qtbot.addWidget(win)
        rec = win.recording
        transitions = [r for r in rec.records if r["kind"] == "transition"]
        assert len(win.replay.actions) == len(transitions) + sum(
            1 for r in rec.records if r["kind"] == "camera" and r["action"] == "opened")
        assert win.actions_list.count() == len(win.replay.actions)
        win.seek(win.replay.duration_s)
        st = win.layer.state
        for aid in ("DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004"):
            assert st.alarms[aid].state == str(session.alarms.get(aid).state), aid
        assert st.alarms["DEMO-001"].unit == session.alarms.get("DEMO-001").assigned_unit
        on_wall = {t.index: t.camera_id for t in win.wall.tiles[:win.wall.tile_count] if t.camera_id}
        assert on_wall == st.wall and st.wall
        # seek back before the first dispatch: the alarm is new again, then plays forward
        first = next(r for r in transitions if r["alarm"] == "DEMO-001")
        win.seek(first["t"] - 0.5)
        assert win.layer.state.alarms["DEMO-001"].state == "new"
        win.set_speed(60)
        win.play()
        assert wait(lambda: win.layer.state.alarms["DEMO-001"].state != "new", 10.0)
        win.pause()
        win.close()
    finally:
        close_training(app, window, session, ctl)
    again = run_once(sc, speed=400.0, seed=7, script=script, root=tmp_path / "training")
    assert (again["score"], again["digest"]) == (res["score"], res["digest"])


def _listener():
    """A TCP server on 127.0.0.1 that counts who connects (a broker or a camera would be asked)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.1)
    hits = []
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                conn, addr = srv.accept()
                hits.append(addr)
                conn.close()
            except OSError:
                pass
    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1], hits, stop, srv


def test_training_with_a_broker_and_live_cameras_connects_to_nothing(qtbot, tiny_district, tmp_path, monkeypatch):
    port, hits, stop, srv = _listener()
    cams = json.loads((tiny_district / "cameras.geojson").read_text(encoding="utf-8"))
    for f in cams["features"]:
        f["properties"]["main_url"] = f"rtsp://127.0.0.1:{port}/{f['properties']['id']}"
    (tiny_district / "cameras.geojson").write_text(json.dumps(cams, ensure_ascii=False), encoding="utf-8")
    sc = tiny_district / "scenario"
    sc.mkdir()
    (sc / "scenario.toml").write_text('name = "tiny"\nduration_s = 30\nstart = "2024-06-01T09:00:00+08:00"\n',
                                      encoding="utf-8")
    alarm = {"id": "T-1", "type": "fire", "priority": 1, "time": "2024-06-01T09:00:02+08:00",
             "lon": LON0 + 0.002, "lat": LAT0 + 0.0026, "crs": "GCJ02", "source": "CAM000", "camera_ids": ["CAM000"]}
    (sc / "timeline.jsonl").write_text(json.dumps({"t": 2, "topic": "pingan/alarm", "payload": alarm}) + "\n",
                                       encoding="utf-8")
    (sc / "expected.toml").write_text('[alarms."T-1"]\nstate = "acknowledged"\nwithin_s = 60\n', encoding="utf-8")
    monkeypatch.delenv("PINGAN_FEED_INPROCESS", raising=False)
    cfg = Config()
    cfg.broker = f"mqtt://127.0.0.1:{port}"
    d = load_district(tiny_district)
    app = QApplication.instance()
    window, session, ctl = open_training(app, cfg, d, "学员", root=tmp_path / "training")
    qtbot.addWidget(window)
    try:
        assert session.feed is None and not session.remote and session.feed_status() == "training"
        ctl.begin()
        ctl.set_speed(8.0)
        assert wait(lambda: session.alarms.get("T-1") is not None, 5.0)
        window.open_camera_ids("CAM000", "CAM001")  # cameras with live URLs in the dataset
        assert wait(lambda: window.wall.tile_state(0) in ("live", "reconnecting", "offline", "error"), 8.0)
        pump(1.0)
        assert hits == []  # neither the broker nor a camera was asked
        assert all(t.streams is None or t.streams.main.is_file for t in window.wall.tiles)
        assert str(session.journal_path).startswith(str(tmp_path / "training"))
    finally:
        close_training(app, window, session, ctl)
        stop.set()
        srv.close()


def test_a_broken_scenario_is_refused_with_every_problem(qtbot, shinan, tmp_path):
    sc = short_scenario(tmp_path / "sc")
    (sc / "expected.toml").write_text('[alarms."DEMO-001"]\nstate = "sent"\nwithin_s = 90\n'
                                      '[alarms."DEMO-404"]\nstate = "acknowledged"\nwithin_s = 9\n', encoding="utf-8")
    cfg = Config()
    cfg.scenario = str(sc)
    with pytest.raises(TrainingSetupError) as e:
        open_training(QApplication.instance(), cfg, shinan, "x", root=tmp_path / "training")
    text = str(e.value)
    assert "expected.toml:2: alarms.DEMO-001.state" in text and "expected.toml:4: alarms.DEMO-404" in text


def test_the_trainee_is_asked_for_a_name(qtbot):
    from desktop.training.qt.dialogs import TraineeDialog
    d = TraineeDialog("市南区 demo")
    qtbot.addWidget(d)
    d._accept()  # no name: refused, said why
    assert d.result() == 0 and d.error.text()
    d.name.setText("  王芳 ")
    d._accept()
    assert d.result() == 1 and d.name.text().strip() == "王芳"
