"""Training core without a display: the scenario check (file, line, field), the score sheet of a
recorded session, the recording's digest, the replay state at any time, the trainee history."""
import json
import shutil
from pathlib import Path

import pytest

from desktop.core.clock import SimClock
from desktop.core.district.loader import load_district
from desktop.paths import MAPS
from desktop.training.history import history, new_session_dir, save_sheet
from desktop.training.recording import Recorder, RecordingError, load_recording
from desktop.training.replay import SessionReplay
from desktop.training.scenario import ScenarioInvalid, load_training_scenario
from desktop.training.scoring import score_session, sheet_from_dict

SHINAN = MAPS / "shinan"


@pytest.fixture(scope="module")
def shinan():
    return load_district(SHINAN)


@pytest.fixture
def scen(tmp_path):
    """A copy of the bundled scenario to break."""
    out = tmp_path / "sc"
    shutil.copytree(SHINAN / "scenario", out)
    return out


def problems_of(folder, district):
    with pytest.raises(ScenarioInvalid) as e:
        load_training_scenario(folder, district)
    return e.value.problems


def line_no(path: Path, needle: str) -> int:
    return next(i for i, ln in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in ln)


def test_bundled_scenarios_load_with_every_alarm_type(shinan):
    sc = load_training_scenario(SHINAN / "scenario", shinan)
    types = {e.payload["type"] for e in sc.base.events if e.topic == "pingan/alarm"}
    assert {"one_key", "perimeter", "face_match", "radar_target", "fire", "crowd", "hazard_report"} <= types
    assert any(e.false_alarm for e in sc.expectations)
    assert sc.camera_events() and {s for _, _, s in sc.camera_events()} == {"offline", "online"}
    for e in sc.expectations:  # every expected alarm has right cameras: its point is covered
        assert sc.right_cameras(e.alarm_id), e.alarm_id
    sea = load_training_scenario(SHINAN / "scenario-sea", shinan)
    assert any(e.topic.startswith("pingan/radar/") for e in sea.base.events)
    assert {e.state for e in sea.expectations} == {"dispatched", "false_alarm"}
    assert all(e.alarm_id.startswith("RADAR-") for e in sea.expectations)  # raised by the sea watch
    assert sea.clips and all(c.variant is not None for c in sea.clips.values())
    assert {s for _, _, s in sea.camera_events()} == {"offline", "online"}


def test_expected_errors_name_file_line_and_field(scen, shinan):
    exp = scen / "expected.toml"
    text = exp.read_text(encoding="utf-8")
    text = text.replace('[alarms."DEMO-003"]\nstate = "dispatched"', '[alarms."DEMO-003"]\nstate = "sent"', 1)
    text = text.replace('[alarms."DEMO-005"]\n', '[alarms."DEMO-005"]\ncolour = "red"\n', 1)
    text += '\n[alarms."NOPE-1"]\nstate = "acknowledged"\nwithin_s = 10\n'
    exp.write_text(text, encoding="utf-8")
    got = {(p.file, p.field): p for p in problems_of(scen, shinan)}
    p = got[("expected.toml", "alarms.DEMO-003.state")]
    assert p.line == line_no(exp, 'state = "sent"') and "sent" in p.message
    p = got[("expected.toml", "alarms.DEMO-005.colour")]
    assert p.line == line_no(exp, 'colour = "red"') and "unknown key" in p.message
    p = got[("expected.toml", "alarms.NOPE-1")]
    assert p.line == line_no(exp, '[alarms."NOPE-1"]') and "timeline" in p.message
    assert str(p).startswith(f"expected.toml:{p.line}: alarms.NOPE-1: ")


def test_timeline_and_clips_errors_name_line_and_field(scen, shinan):
    tl = scen / "timeline.jsonl"
    lines = tl.read_text(encoding="utf-8").splitlines()
    i = next(k for k, ln in enumerate(lines) if '"DEMO-004"' in ln)
    ev = json.loads(lines[i])
    ev["payload"]["priority"] = 9
    lines[i] = json.dumps(ev, ensure_ascii=False)
    j = next(k for k, ln in enumerate(lines) if "/status" in ln)
    ev = json.loads(lines[j])
    ev["topic"] = "pingan/camera/NO-SUCH-CAM/status"
    lines[j] = json.dumps(ev, ensure_ascii=False)
    tl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (scen / "clips.toml").write_text('[cameras."C370202-02888"]\nclip = "missing.mp4"\n\n'
                                     '[cameras."C370202-00592"]\nvariant = -1\n', encoding="utf-8")
    got = {(p.file, p.field): p for p in problems_of(scen, shinan)}
    assert got[("timeline.jsonl", "payload.priority")].line == i + 1
    assert got[("timeline.jsonl", "topic")].line == j + 1 and "NO-SUCH-CAM" in got[("timeline.jsonl", "topic")].message
    assert got[("clips.toml", "cameras.C370202-02888.clip")].line == 2
    assert got[("clips.toml", "cameras.C370202-00592.variant")].line == 5
    # the refused alarm is then missing for its expected response; nothing else is reported
    assert set(got) - {("timeline.jsonl", "payload.priority"), ("timeline.jsonl", "topic"),
                       ("clips.toml", "cameras.C370202-02888.clip"),
                       ("clips.toml", "cameras.C370202-00592.variant")} == {("expected.toml", "alarms.DEMO-004")}


def _session(tmp_path, shinan, actions):
    """A recording made by hand: alarms arriving and the trainee's actions."""
    sc = load_training_scenario(SHINAN / "scenario", shinan)
    clock = SimClock(sc.base.start, paused=True)
    t0 = sc.base.start.timestamp()
    rec = Recorder(tmp_path / "recording.jsonl", clock, t0, {"trainee": "李娜", "scenario": sc.name,
                                                              "duration_s": sc.duration_s})
    arrivals = {e.payload["id"]: e for e in sc.base.events if e.topic == "pingan/alarm"}
    for aid, steps in actions.items():
        ev = arrivals[aid]
        rec.record("alarm", t=ev.t, id=aid, type=ev.payload["type"], priority=ev.payload["priority"],
                   lon=0.0, lat=0.0, wall_ms=1.0)
        state = "new"
        for kind, dt, value in steps:
            t = ev.t + dt
            if kind == "camera":
                rec.record("camera", t=t, action="opened", tile=0, camera=value, wall_ms=2.0)
            elif kind == "move":
                rec.record("transition", t=t, alarm=aid, **{"from": state, "to": value}, operator="李娜",
                           unit="", note="")
                state = value
            elif kind == "dispatch":
                unit, faster = value
                rec.record("transition", t=t, alarm=aid, **{"from": state, "to": "dispatched"}, operator="李娜",
                           unit=unit, note="")
                rec.record("dispatch", t=t, alarm=aid, unit=unit, eta_s=60.0, faster=faster, best=[])
                state = "dispatched"
    clock.set_time(t0 + sc.duration_s)
    rec.close()
    return sc, load_recording(rec.path)


def test_score_sheet_per_alarm_and_total(tmp_path, shinan):
    sc = load_training_scenario(SHINAN / "scenario", shinan)
    cam = {e.alarm_id: sorted(sc.right_cameras(e.alarm_id))[0] for e in sc.expectations}
    actions = {
        # perfect: camera, ack, the fastest unit, all in time
        "DEMO-001": [("camera", 1, cam["DEMO-001"]), ("move", 10, "acknowledged"), ("dispatch", 20, ("car-01", []))],
        # late (90 s deadline), acknowledged late, a unit with three faster ones (right = top 3)
        "DEMO-002": [("move", 70, "acknowledged"), ("dispatch", 100, ("car-09", ["a", "b", "c"]))],
        # a real alarm marked false: wrong
        "DEMO-004": [("camera", 2, cam["DEMO-004"]), ("move", 5, "false_alarm")],
        # the false alarm recognised
        "DEMO-B01": [("camera", 1, cam["DEMO-B01"]), ("move", 12, "false_alarm")],
        # received and never touched: missed
        "DEMO-005": [],
    }
    _sc, rec = _session(tmp_path, shinan, actions)
    sheet = score_session(sc, rec)
    by = {a.alarm_id: a for a in sheet.alarms}
    a = by["DEMO-001"]
    assert (a.outcome, a.ack_s, a.took_s, a.camera, a.unit, a.unit_rank, a.points, a.possible) == \
        ("on_time", 10.0, 20.0, cam["DEMO-001"], "car-01", 1, 4.0, 4.0)
    a = by["DEMO-002"]
    assert (a.outcome, a.ack_s, a.unit_rank) == ("late", 70.0, 4)
    assert {c.name: c.points for c in a.checks} == {"ack": 0.5, "outcome": 0.5, "camera": 0.0, "unit": 0.0}
    a = by["DEMO-004"]
    assert a.outcome == "wrong" and a.final_state == "false_alarm"
    assert {c.name: c.points for c in a.checks} == {"ack": 1.0, "outcome": 0.0, "camera": 1.0, "unit": 0.0}
    a = by["DEMO-B01"]
    assert a.outcome == "on_time" and a.points == a.possible == 3.0  # no unit check for a false alarm
    assert by["DEMO-005"].outcome == "missed" and by["DEMO-005"].points == 0
    assert by["DEMO-003"].outcome == "not_received"
    assert sheet.false_recognised() == (1, 1)
    total = sum(x.points for x in sheet.alarms) / sum(x.possible for x in sheet.alarms)
    assert sheet.score == round(100 * total, 1) and 0 < sheet.score < 100
    assert sheet.trainee == "李娜" and sheet.handled == 3
    # the saved sheet reads back the same
    again = sheet_from_dict(json.loads(json.dumps(sheet.as_dict())))
    assert again.score == sheet.score and [x.outcome for x in again.alarms] == [x.outcome for x in sheet.alarms]


def test_recording_digest_replay_and_history(tmp_path, shinan):
    actions = {"DEMO-001": [("camera", 1, "C370202-02888"), ("move", 10, "acknowledged"),
                            ("dispatch", 20, ("car-01", []))]}
    _sc, rec = _session(tmp_path / "a", shinan, actions)
    _sc, rec2 = _session(tmp_path / "b", shinan, actions)
    assert rec.digest() == rec2.digest()  # real-time fields and wall-clock header differ, digest does not
    _sc, rec3 = _session(tmp_path / "c", shinan, {"DEMO-001": [("move", 11, "acknowledged")]})
    assert rec3.digest() != rec.digest()

    rp = SessionReplay(rec)
    t_in = next(r["t"] for r in rec.records if r["kind"] == "alarm")
    assert "DEMO-001" not in rp.state_at(t_in - 0.1).alarms
    assert rp.state_at(t_in + 5).alarms["DEMO-001"].state == "new"
    assert rp.state_at(t_in + 5).wall == {0: "C370202-02888"}
    assert rp.state_at(t_in + 15).alarms["DEMO-001"].state == "acknowledged"
    late = rp.state_at(t_in + 25)
    assert late.alarms["DEMO-001"].state == "dispatched" and late.alarms["DEMO-001"].unit == "car-01"
    assert rp.state_at(t_in + 5).alarms["DEMO-001"].state == "new"  # seeking back
    assert [r["kind"] for r in rp.actions] == ["camera", "transition", "transition"]

    # a cut last line (a killed session) is tolerated; a bad line in the middle is named
    text = Path(rec.path).read_text(encoding="utf-8").splitlines()
    Path(tmp_path / "cut.jsonl").write_text("\n".join(text) + '\n{"t": 3', encoding="utf-8")
    assert len(load_recording(tmp_path / "cut.jsonl").records) == len(rec.records)
    Path(tmp_path / "bad.jsonl").write_text("\n".join([text[0], "{oops", *text[1:]]), encoding="utf-8")
    with pytest.raises(RecordingError, match=r"bad\.jsonl:2"):
        load_recording(tmp_path / "bad.jsonl")

    root = tmp_path / "training"
    for who, score in (("王强", 80.0), ("李娜", 95.5), ("王强", 60.0)):
        d = new_session_dir(who, "scenario", root)
        shutil.copy(rec.path, d / "recording.jsonl")
        head = json.loads((d / "recording.jsonl").read_text(encoding="utf-8").splitlines()[0])
        head["trainee"] = who
        lines = (d / "recording.jsonl").read_text(encoding="utf-8").splitlines()
        (d / "recording.jsonl").write_text("\n".join([json.dumps(head, ensure_ascii=False), *lines[1:]]),
                                           encoding="utf-8")
        save_sheet(d, {"score": score, "alarms": 16, "alarms_handled": 12})
    assert sorted(e.score for e in history("王强", root)) == [60.0, 80.0]
    assert {e.trainee for e in history(root=root)} == {"王强", "李娜"}
    assert len({e.folder for e in history(root=root)}) == 3  # two sessions in one second get two folders
