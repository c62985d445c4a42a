"""Scenario files, the clock-driven player, and the demo scenario generator."""
import json
import time
from pathlib import Path

import pytest

from desktop.core.alarms.linkage import cameras_covering
from desktop.core.alarms.model import EventKind
from desktop.core.alarms.service import AlarmService
from desktop.core.clock import SimClock
from desktop.core.district.loader import load_district
from desktop.core.feeds.bus import EventBus
from desktop.core.feeds.scenario import ScenarioError, ScenarioPlayer, load_scenario
from desktop.core.feeds.schema import AlarmMessage, parse
from desktop.core.geo.crs import WGS84, transform
from desktop.paths import MAPS
from desktop.training.make_scenario import build_scenario

ALARM_TYPES = {"one_key", "perimeter", "face_match", "radar_target", "fire", "crowd", "hazard_report"}


def write_scenario(folder: Path, events, **meta) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    m = {"name": "t", "duration_s": 10, "speed": 1.0, "start": "2024-06-01T09:00:00+08:00"}
    m.update(meta)
    (folder / "scenario.toml").write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in m.items()))
    (folder / "timeline.jsonl").write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return folder


def alarm_event(t, i):
    return {"t": t, "topic": "pingan/alarm",
            "payload": {"id": f"S-{i}", "type": "fire", "priority": 1, "time": "2024-06-01T09:00:00+08:00",
                        "lon": 120.38, "lat": 36.06, "crs": "GCJ02", "source": f"src-{i}"}}


def test_load_scenario_and_errors(tmp_path):
    folder = write_scenario(tmp_path / "ok", [alarm_event(5, 2), alarm_event(1, 1)])
    (folder / "expected.toml").write_text('[alarms."S-1"]\nstate = "dispatched"\nwithin_s = 90\n')
    sc = load_scenario(folder)
    assert [e.t for e in sc.events] == [1.0, 5.0] and sc.duration_s == 10
    assert sc.start.isoformat() == "2024-06-01T09:00:00+08:00"
    assert sc.expected[0].alarm_id == "S-1" and sc.expected[0].within_s == 90
    assert sc.topics() == {"pingan/alarm": 2}

    with pytest.raises(ScenarioError, match="scenario.toml"):
        load_scenario(tmp_path / "missing")
    bad = write_scenario(tmp_path / "bad", [alarm_event(1, 1)])
    with (bad / "timeline.jsonl").open("a") as fh:
        fh.write('{"t": -1, "topic": "x", "payload": {}}\n')
    with pytest.raises(ScenarioError, match=r"timeline.jsonl:2: 't'"):
        load_scenario(bad)
    (bad / "timeline.jsonl").write_text('{"t": 1, "topic": "pingan/#", "payload": {}}\n')
    with pytest.raises(ScenarioError, match=r":1: 'topic'"):
        load_scenario(bad)
    write_scenario(tmp_path / "speed", [], speed=0)
    with pytest.raises(ScenarioError, match="speed"):
        load_scenario(tmp_path / "speed")


def test_player_follows_the_sim_clock_and_reports_progress(tmp_path):
    sc = load_scenario(write_scenario(tmp_path / "s", [alarm_event(t, i) for i, t in enumerate([0, 2, 4, 8])],
                                      duration_s=10, speed=50.0))
    bus = EventBus()
    got, progress = [], []
    bus.subscribe("#", lambda t, p: got.append((time.monotonic(), p["id"], p["time"])))
    player = ScenarioPlayer(sc, bus, on_progress=progress.append)
    clock = player.clock
    assert isinstance(clock, SimClock) and clock.speed == 50.0
    t0 = time.monotonic()
    player.start()
    assert player.join(5)
    took = time.monotonic() - t0
    assert [g[1] for g in got] == ["S-0", "S-1", "S-2", "S-3"]
    assert 0.15 <= took < 5.0  # 10 simulated seconds at 50×
    # 8 simulated seconds between the first and the last event = 0.16 s real.
    assert 0.1 < got[-1][0] - got[0][0] < 3.0
    # Times are re-stamped from the clock: the scenario's start + t.
    assert got[1][2].startswith("2024-06-01T09:00:02")
    assert progress[-1].state == "finished" and progress[-1].sent == 4 and progress[-1].fraction == 1.0


def test_player_pause_loop_and_stop(tmp_path):
    sc = load_scenario(write_scenario(tmp_path / "s", [alarm_event(0, 1), alarm_event(1, 2)],
                                      duration_s=2, speed=20.0))
    bus = EventBus()
    ids = []
    bus.subscribe("pingan/alarm", lambda t, p: ids.append(p["id"]))
    clock = SimClock(sc.start, speed=20.0, paused=True)
    player = ScenarioPlayer(sc, bus, clock, loop=True).start()
    time.sleep(0.15)
    assert ids == ["S-1"]  # paused: only the t=0 event
    assert player.progress().state == "paused"
    player.resume()
    deadline = time.monotonic() + 5
    while len(ids) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    player.stop()
    assert ids[:6] == ["S-1", "S-2", "S-1~1", "S-2~1", "S-1~2", "S-2~2"]  # fresh ids per loop
    assert player.progress().state == "stopped" and player.progress().loop >= 2


# --- the generator, on a tiny synthetic district ---------------------------------------------

def _fc(features):
    return json.dumps({"type": "FeatureCollection", "features": features})


def _pt(x, y, **props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props}


def make_dataset(folder: Path) -> Path:
    """2 km × 2 km of land (GCJ-02) with the sea to the south of lat 36.060."""
    folder.mkdir(parents=True)
    (folder / "district.toml").write_text('name = "Testville"\nadcode = "999999"\ncrs = "GCJ02"\n')
    land = [[120.37, 36.06], [120.392, 36.06], [120.392, 36.078], [120.37, 36.078], [120.37, 36.06]]
    (folder / "district.geojson").write_text(_fc([{"type": "Feature", "properties": {"name": "Testville"},
                                                   "geometry": {"type": "Polygon", "coordinates": [land]}}]))
    cams = []
    n = 0
    for i in range(8):
        for j in range(5):
            n += 1
            cams.append(_pt(120.372 + i * 0.0025, 36.063 + j * 0.003, id=f"H{n:03d}", kind="hd",
                            heading_deg=(i * 45 + j * 30) % 360, fov_deg=70, range_m=120))
    for k in range(4):
        cams.append(_pt(120.375 + k * 0.004, 36.07, id=f"K{k}", kind="checkpoint", heading_deg=90,
                        fov_deg=40, range_m=60))
    for k in range(4):
        cams.append(_pt(120.373 + k * 0.005, 36.0605, id=f"S{k}", kind="coastal", heading_deg=180,
                        fov_deg=60, range_m=800))
    cams.append(_pt(120.381, 36.0603, id="R0", kind="radar", heading_deg=170, fov_deg=90, range_m=1000))
    cams.append(_pt(120.385, 36.075, id="P0", kind="ptz", heading_deg=0, fov_deg=360, range_m=200))
    (folder / "cameras.geojson").write_text(_fc(cams))
    routes = []
    for k in range(2):
        routes.append({"type": "Feature", "properties": {"id": f"L1-{k}", "level": 1, "kind": "route"},
                       "geometry": {"type": "LineString", "coordinates": [[120.372, 36.064 + k * 0.008],
                                                                          [120.39, 36.064 + k * 0.008],
                                                                          [120.39, 36.076]]}})
    for k in range(3):
        routes.append({"type": "Feature", "properties": {"id": f"L2-{k}", "level": 2, "kind": "route"},
                       "geometry": {"type": "LineString", "coordinates": [[120.374 + k * 0.005, 36.062],
                                                                          [120.374 + k * 0.005, 36.076]]}})
    posts = [_pt(120.376 + k * 0.004, 36.068, id=f"P{k}", kind="post", name=f"post {k}") for k in range(3)]
    (folder / "patrol.geojson").write_text(_fc(routes + posts))
    return folder


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    ds = make_dataset(tmp_path_factory.mktemp("ds") / "testville")
    return ds, build_scenario(ds)


def _check_scenario(dataset: Path, out: Path) -> None:
    district = load_district(dataset)
    sc = load_scenario(out)
    assert 540 <= sc.duration_s <= 660 and sc.events
    alarms = [(e, parse(e.topic, e.payload)) for e in sc.events if e.topic == "pingan/alarm"]
    assert all(isinstance(m, AlarmMessage) for _, m in alarms)  # every payload is schema-valid
    assert {m.type for _, m in alarms} == ALARM_TYPES
    assert {m.crs for _, m in alarms} == {"WGS84", "GCJ02", "EPSG:4490"}
    for _, m in alarms:  # placed in front of a real camera
        covering = cameras_covering(m.lon_wgs, m.lat_wgs, district.cameras)
        assert covering, f"{m.id} is seen by no camera"
        if m.camera_ids:
            assert m.camera_ids[0] in {c for c, _ in covering}
    import shapely
    land = shapely.union_all([district.boundary.geom] + [f.geom for f in district.context])
    for _, m in alarms:
        if m.type == "radar_target":
            from shapely.geometry import Point
            x, y = transform(m.lon_wgs, m.lat_wgs, WGS84, district.info.crs)
            assert not land.contains(Point(x, y)), f"{m.id} is not at sea"
    sources = {}
    for _, m in alarms:
        sources.setdefault((m.source, m.type), []).append(m)
    assert max(len(v) for v in sources.values()) >= 10  # the flood burst
    statuses = [e for e in sc.events if e.topic.startswith("pingan/camera/")]
    assert [parse(e.topic, e.payload).status for e in statuses][:1] == ["offline"]
    patrol = [parse(e.topic, e.payload) for e in sc.events if e.topic.startswith("pingan/patrol/")]
    assert {"car", "ebike", "foot"} <= {p.kind for p in patrol}
    from shapely.geometry import Point
    for p in patrol:  # boats at sea, everyone else on land
        x, y = transform(p.lon_wgs, p.lat_wgs, WGS84, district.info.crs)
        assert land.contains(Point(x, y)) == (p.kind != "boat"), f"{p.unit} at {p.lon}, {p.lat}"
    assert len({p.unit for p in patrol}) >= 5
    expected = {x.alarm_id for x in sc.expected}
    assert {m.id for _, m in alarms if not m.id.startswith("DEMO-B")} <= expected


def test_generator_on_a_synthetic_district(synthetic, tmp_path):
    ds, out = synthetic
    assert out == ds / "scenario"
    _check_scenario(ds, out)
    # Reproducible: the same input gives the same bytes.
    again = build_scenario(ds, tmp_path / "again")
    for name in ("scenario.toml", "timeline.jsonl", "expected.toml"):
        assert (again / name).read_bytes() == (out / name).read_bytes()
    sc = load_scenario(out)
    patrol = [parse(e.topic, e.payload) for e in sc.events if e.topic.startswith("pingan/patrol/")]
    assert "boat" in {p.kind for p in patrol}


def test_generated_scenario_played_into_the_alarm_service(synthetic, tmp_path):
    ds, out = synthetic
    sc = load_scenario(out)
    clock = SimClock(sc.start, speed=1200.0)  # 10 minutes in half a second
    bus = EventBus()
    with AlarmService(tmp_path / "j.db", clock=clock, bus=bus, workstation="trainee") as svc:
        player = ScenarioPlayer(sc, bus, clock).start()
        assert player.join(10)
        svc.flush()
        alarms = svc.alarms()
        n_alarm_msgs = sum(1 for e in sc.events if e.topic == "pingan/alarm")
        assert svc.counters()["rejected"] == 0
        assert sum(a.count for a in alarms) == n_alarm_msgs
        burst = max(alarms, key=lambda a: a.count)
        assert burst.count >= 10 and burst.id == "DEMO-B01"
        assert {a.type for a in alarms} == ALARM_TYPES
        assert svc.camera_status() and len(svc.unit_positions()) >= 5
        kinds = {e.kind for e in svc.drain()}
        assert {EventKind.NEW, EventKind.PATROL, EventKind.CAMERA_STATUS} <= kinds


BUNDLED = MAPS / "shinan"


@pytest.mark.skipif(not (BUNDLED / "scenario" / "timeline.jsonl").exists()
                    or not (BUNDLED / "cameras.geojson").exists(),
                    reason="the bundled Shinan dataset or its scenario is not there yet")
def test_bundled_shinan_scenario():
    _check_scenario(BUNDLED, BUNDLED / "scenario")


def test_scoring_a_session_against_expected_responses(synthetic, tmp_path):
    from desktop.training.scoring import score

    ds, out = synthetic
    sc = load_scenario(out)
    clock = SimClock(sc.start, speed=1200.0, paused=True)
    bus = EventBus()
    with AlarmService(tmp_path / "j.db", clock=clock, bus=bus, workstation="trainee") as svc:
        player = ScenarioPlayer(sc, bus, clock).start()
        clock.resume()
        assert player.join(10)
        svc.flush()
        clock.pause()
        exp = {e.alarm_id: e for e in sc.expected}
        # A trainee who dispatches the first one-key alarm at once, resolves the first perimeter
        # alarm late, declares the burst a false alarm, and calls a fire a false alarm.
        one_key = next(a for a in svc.alarms() if a.type == "one_key")
        perimeter = svc.get("DEMO-001")
        fire = next(a for a in svc.alarms() if a.type == "fire")
        clock.set_time(one_key.received + 30)
        svc.transition(one_key.id, "acknowledged", "zhang").result(5)
        svc.transition(one_key.id, "dispatched", "zhang", unit="car-01").result(5)
        clock.set_time(perimeter.received + exp["DEMO-001"].within_s + 60)
        for s in ("acknowledged", "dispatched", "resolved"):
            svc.transition(perimeter.id, s, "zhang").result(5)
        svc.transition("DEMO-B01", "false_alarm", "zhang").result(5)
        svc.transition(fire.id, "false_alarm", "zhang").result(5)
        report = score(sc.expected, svc.alarms())
    by_id = {i.alarm_id: i for i in report.items}
    assert by_id[one_key.id].outcome == "on_time" and by_id[one_key.id].took_s == 30.0
    assert by_id["DEMO-001"].outcome == "late"  # resolved, so dispatched, but after the deadline
    assert by_id[fire.id].outcome == "wrong"
    assert by_id["DEMO-B01"].outcome in ("on_time", "late")
    assert report.count("missed") == len(sc.expected) - 4
    assert 0 < report.score < 50 and report.as_dict()["outcomes"]["wrong"] == 1
    assert score(sc.expected, []).count("not_received") == len(sc.expected)
