"""The bundled demo scenario through the patrol core: units drive their segments, and the post
visits come out as expected.toml says — most on time, some late, one early, exactly one missed."""
from __future__ import annotations

import tomllib

import numpy as np
import pytest

from desktop.core.clock import parse_iso
from desktop.core.district.loader import load_district
from desktop.core.feeds.scenario import load_scenario
from desktop.core.feeds.schema import parse, parse_alarm
from desktop.core.patrol.geometry import project_to_segments
from desktop.core.patrol.service import PatrolService
from desktop.paths import MAPS

SHINAN = MAPS / "shinan"


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    """The scenario's patrol messages fed to a patrol service on the scenario's clock, ticked each second."""
    district = load_district(SHINAN)
    sc = load_scenario(SHINAN / "scenario")
    start = sc.start.timestamp()
    events = [e for e in sc.events if e.topic.startswith("pingan/patrol/")]
    alarms, raised_at = [], {}
    svc = PatrolService(tmp_path_factory.mktemp("scn") / "j.sqlite", district, clock=lambda: start,
                        on_alarm=alarms.append, autoflush_s=0)
    svc.watch(start, start + sc.duration_s)
    i = 0
    for sec in range(int(sc.duration_s) + 61):
        now = start + sec
        batch = []
        while i < len(events) and start + events[i].t <= now:
            batch.append(parse(events[i].topic, events[i].payload))
            i += 1
        if batch:
            svc.ingest(batch)
        for a in svc.tick(now).alarms:
            raised_at[a["id"]] = now
    yield district, sc, svc, alarms, raised_at
    svc.close()


def test_post_visits_come_out_as_expected(played):
    district, sc, svc, alarms, raised_at = played
    expected = tomllib.loads((SHINAN / "scenario" / "expected.toml").read_text(encoding="utf-8"))["visits"]
    start = sc.start.timestamp()
    got = {(v.post, v.scheduled): v for v in svc.visits(start, start + sc.duration_s, now=start + sc.duration_s + 60)}
    assert len(got) == len(expected) >= 8
    for key, exp in expected.items():
        v = got[(exp["post"], parse_iso(exp["scheduled"]).timestamp())]
        assert (v.state, v.unit) == (exp["state"], exp["unit"]), key
        assert v.final
        if "checkin" in exp:
            assert v.checkin == pytest.approx(parse_iso(exp["checkin"]).timestamp(), abs=0.01)
    states = [v.state for v in got.values()]
    assert states.count("missed") == 1 and states.count("early") == 1 and states.count("late") >= 1
    assert states.count("on_time") > len(states) / 2
    # the one missed visit raised one alarm, within a minute of its window closing
    (missed,) = [v for v in got.values() if v.state == "missed"]
    assert [a["id"] for a in alarms] == [missed.alarm_id] == [e["alarm"] for e in expected.values() if "alarm" in e]
    assert 0 <= raised_at[missed.alarm_id] - missed.closes <= 60
    assert raised_at[missed.alarm_id] < start + sc.duration_s  # while the scenario runs
    msg = parse_alarm("pingan/alarm", alarms[0])
    assert msg.type == "patrol_missed" and missed.post in msg.source


def test_units_drive_their_segments(played):
    district, sc, svc, _, _ = played
    start = sc.start.timestamp()
    tracks = svc.tracks(None, start, start + sc.duration_s)
    kinds = {u: tr.kind for u, tr in tracks.items()}
    assert {"car", "ebike", "foot", "boat"} <= set(kinds.values())
    level_of = {"car": 1, "ebike": 2}
    for unit, tr in tracks.items():
        if tr.kind not in level_of:
            continue
        x, y = svc.frame.fwd(tr.lon, tr.lat)
        # distance of every fix to each route of the unit's level: one route holds them all
        best = []
        for r in svc.routes:
            if r.level != level_of[tr.kind]:
                continue
            d, _ = project_to_segments(x, y, r.x[:-1], r.y[:-1], r.x[1:], r.y[1:])
            best.append((float(d.min(axis=1).max()), r.id))
        far, route = min(best)
        assert far < 5, (unit, route, far)  # on its segment all the time (GCJ rounding aside)
        assert tr.t1 - tr.t0 > 500 and np.hypot(np.diff(x), np.diff(y)).sum() > 1500  # and it gets about
    cov = {c.route: c for c in svc.coverage(10, now=start + sc.duration_s)}
    assert sum(1 for c in cov.values() if c.fraction > 0.2) >= 10


def test_the_missed_visits_walker_goes_stale_then_offline(played):
    district, sc, svc, _, _ = played
    expected = tomllib.loads((SHINAN / "scenario" / "expected.toml").read_text(encoding="utf-8"))["visits"]
    (missed,) = [e for e in expected.values() if e["state"] == "missed"]
    walker = missed["note"].split(": ", 1)[1].split()[0]
    start = sc.start.timestamp()
    last = max(e.t for e in sc.events if e.topic == f"pingan/patrol/{walker}/position")
    status = {s.unit: s for s in svc.positions(now=start + last + 61)}[walker]
    assert status.link == "stale"
    assert {s.unit: s for s in svc.positions(now=start + last + 301)}[walker].link == "offline"
    assert last + 301 < sc.duration_s  # both happen inside the scenario
