"""Tours: the schedule format and its errors, check-ins, the state of every visit at the edges
of its window, and the missed-visit alarm."""
from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from desktop.core import i18n
from desktop.core.district.generate import step_rng
from desktop.core.district.loader import DatasetError, load_district
from desktop.core.feeds.schema import PatrolPosition, parse_alarm
from desktop.core.patrol.geometry import LocalFrame
from desktop.core.patrol.schedule import SCHEDULE_FILE, ScheduleError, load_schedule, parse_schedule, schedule_toml
from desktop.core.patrol.service import PatrolService
from desktop.core.patrol.tours import GRACE_S

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
T = datetime(2024, 6, 1, 9, 0, tzinfo=TZ).timestamp()  # the scheduled visit of P1
POST = (120.38, 36.06)
FRAME = LocalFrame(*POST)

SCHEDULE = """
timezone = "Asia/Shanghai"
[defaults]
radius_m = 50
dwell_s = 60
tolerance_s = 60
early_s = 60
late_s = 120
[posts.P1]
times = ["09:00"]
[posts.P2]
times = ["09:00"]
kinds = ["foot"]
"""
# The window of P1's 09:00 visit: opens T-120, on time T-60..T+60, closes T+180.
OPENS, ON_FROM, ON_UNTIL, CLOSES = T - 120, T - 60, T + 60, T + 180


def _fc(features):
    return json.dumps({"type": "FeatureCollection", "features": features})


def make_dataset(folder: Path, schedule: str = SCHEDULE) -> Path:
    """A 3 km square of land (WGS84) with two posts and a schedule."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "district.toml").write_text('name = "Testville"\nadcode = "999999"\ncrs = "WGS84"\n')
    lon0, lat0 = POST
    sq = [[lon0 - 0.02, lat0 - 0.015], [lon0 + 0.02, lat0 - 0.015], [lon0 + 0.02, lat0 + 0.015],
          [lon0 - 0.02, lat0 + 0.015], [lon0 - 0.02, lat0 - 0.015]]
    (folder / "district.geojson").write_text(_fc([{"type": "Feature", "properties": {"name": "Testville"},
                                                   "geometry": {"type": "Polygon", "coordinates": [sq]}}]))
    posts = [{"type": "Feature", "properties": {"id": "P1", "kind": "post", "name": "North gate"},
              "geometry": {"type": "Point", "coordinates": [lon0, lat0]}},
             {"type": "Feature", "properties": {"id": "P2", "kind": "post", "name": "Pier"},
              "geometry": {"type": "Point", "coordinates": [lon0 + 0.01, lat0]}}]
    (folder / "patrol.geojson").write_text(_fc(posts))
    (folder / SCHEDULE_FILE).write_text(schedule, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    return load_district(make_dataset(tmp_path_factory.mktemp("tours") / "ds"), strict=True)


def pos(unit, kind, t, x, y):
    """A fix ``x``/``y`` metres east/north of P1."""
    lon, lat = FRAME.inv(x, y)
    return PatrolPosition(unit=unit, kind=kind, time="", epoch=float(t), lon=float(lon), lat=float(lat), crs="WGS84",
                          speed_kmh=0.0, heading_deg=0.0, lon_wgs=float(lon), lat_wgs=float(lat))


def visit(unit, kind, checkin, dwell=60.0, stay_after=0.0, x0=0.0):
    """Fixes of a unit that arrives at P1 ``dwell`` before ``checkin`` (fixes every 10 s, the
    last one exactly at ``checkin + stay_after``), having walked in from 300 m, then leaves."""
    arrival = checkin - dwell
    out = [pos(unit, kind, arrival - 30, x0 + 300, 0), pos(unit, kind, arrival - 15, x0 + 150, 0)]
    ts = list(np.arange(arrival, checkin + stay_after, 10.0)) + [checkin, checkin + stay_after]
    for t in sorted(set(ts)):
        out.append(pos(unit, kind, t, x0 + 5, 3))
    out.append(pos(unit, kind, checkin + stay_after + 1, x0 + 200, 0))
    out.append(pos(unit, kind, checkin + stay_after + 30, x0 + 500, 0))
    return out


def run(district, tmp_path, positions, until=CLOSES + 30, name="j"):
    """A service watching from well before the window, fed ``positions``, ticked each second."""
    alarms = []
    svc = PatrolService(tmp_path / f"{name}.sqlite", district, clock=lambda: T, on_alarm=alarms.append,
                        autoflush_s=0)
    svc.watch(T - 1000)
    positions = sorted(positions, key=lambda p: p.epoch)
    i = 0
    for now in np.arange(T - 900, until + 1, 1.0):
        batch = []
        while i < len(positions) and positions[i].epoch <= now:
            batch.append(positions[i])
            i += 1
        if batch:
            svc.ingest(batch)
        svc.tick(float(now))
    return svc, alarms


def p1_visit(svc):
    got = [v for v in svc.visits(T - 3600, T + 3600, post="P1", now=CLOSES + 30)]
    assert len(got) == 1
    return got[0]


@pytest.mark.parametrize("checkin, state", [
    (OPENS - 1, "missed"),  # before the window: does not count
    (OPENS, "early"),
    (ON_FROM - 1, "early"),
    (ON_FROM, "on_time"),
    (T, "on_time"),
    (ON_UNTIL, "on_time"),
    (ON_UNTIL + 1, "late"),
    (CLOSES, "late"),
    (CLOSES + 1, "missed"),  # after the window
])
def test_check_in_states_at_the_window_edges(district, tmp_path, checkin, state):
    svc, alarms = run(district, tmp_path, visit("foot-01", "foot", checkin))
    with svc:
        v = p1_visit(svc)
        assert v.state == state and v.final
        if state == "missed":
            assert v.unit == "" and v.checkin is None
            assert [a["id"] for a in alarms if "P1" in a["id"]] == [v.alarm_id]
        else:
            assert v.unit == "foot-01" and v.kind == "foot" and v.checkin == checkin
            assert v.arrival == checkin - 60 and v.departure == checkin
            assert not [a for a in alarms if "P1" in a["id"]]
        # what was judged is in the journal, under the post's name
        journaled = svc.journal.visits(T - 3600, T + 3600, post="P1")
        assert [(x.state, x.checkin) for x in journaled] == [(v.state, v.checkin)] and v.post_name == "North gate"


def test_a_unit_standing_at_the_post_through_the_visit_is_on_time(district, tmp_path):
    svc, _ = run(district, tmp_path, visit("foot-01", "foot", T - 500, stay_after=900))
    with svc:
        v = p1_visit(svc)
        assert v.state == "on_time" and v.arrival == T - 560 and v.checkin == ON_FROM


def test_an_early_check_in_is_provisional_until_the_on_time_part_has_passed(district, tmp_path):
    alarms = []
    svc = PatrolService(tmp_path / "e.sqlite", district, clock=lambda: T, on_alarm=alarms.append, autoflush_s=0)
    with svc:
        svc.watch(T - 1000)
        svc.ingest(visit("foot-01", "foot", T - 90))
        svc.tick(T - 80)
        v = p1_visit(svc)
        assert (v.state, v.final) == ("early", False)
        svc.tick(ON_UNTIL + GRACE_S - 1)
        assert not p1_visit(svc).final
        rep = svc.tick(ON_UNTIL + GRACE_S)
        assert [x.state for x in rep.visits if x.post == "P1"] == ["early"] and p1_visit(svc).final
        # an on-time visit after an early one makes it on time
        svc2 = PatrolService(tmp_path / "e2.sqlite", district, clock=lambda: T, autoflush_s=0)
        with svc2:
            svc2.watch(T - 1000)
            svc2.ingest(visit("foot-01", "foot", T - 90) + visit("foot-02", "foot", T + 30))
            svc2.tick(CLOSES + 30)
            v2 = p1_visit(svc2)
            assert (v2.state, v2.unit) == ("on_time", "foot-02")


def test_passing_by_without_the_dwell_and_a_kind_not_allowed_do_not_count(district, tmp_path):
    # 50 s at P1 (dwell 60 s): no check-in. A car stays 3 min at P2, which only foot patrols visit.
    lon, lat = POST
    at_p2 = [pos("car-01", "car", t, 900, 0) for t in np.arange(T - 90, T + 90, 10.0)]
    svc, alarms = run(district, tmp_path, visit("foot-01", "foot", T, dwell=50) + at_p2)
    with svc:
        states = {v.post: v.state for v in svc.visits(T - 3600, T + 3600, now=CLOSES + 30)}
        assert states == {"P1": "missed", "P2": "missed"}
        assert len(alarms) == 2


def test_the_missed_alarm_is_valid_deterministic_and_on_time(district, tmp_path):
    raised = []
    svc = PatrolService(tmp_path / "m.sqlite", district, clock=lambda: T, on_alarm=raised.append, autoflush_s=0)
    with svc:
        svc.watch(T - 1000)
        for now in np.arange(T, CLOSES + GRACE_S, 1.0):
            assert not svc.tick(float(now)).alarms
        rep = svc.tick(CLOSES + GRACE_S)  # within 60 s of the window closing
        assert {a["id"] for a in rep.alarms} == {a["id"] for a in raised} and len(raised) == 2
        a = next(x for x in raised if "P1" in x["id"])
        msg = parse_alarm("pingan/alarm", a)
        assert msg.type == "patrol_missed" and msg.epoch == CLOSES and msg.source == "patrol-tour/P1"
        assert abs(msg.lon_wgs - POST[0]) < 1e-6 and abs(msg.lat_wgs - POST[1]) < 1e-6
        assert a["id"] == "PATROL-MISSED-P1-20240601T090000" and "North gate" in msg.text and "09:00" in msg.text
        assert not svc.tick(CLOSES + 100).alarms  # raised once
    # another workstation, the same schedule: the same alarm (it folds into one)
    other = []
    with PatrolService(tmp_path / "m2.sqlite", district, clock=lambda: T, on_alarm=other.append,
                       autoflush_s=0) as svc2:
        svc2.watch(T - 5000)
        svc2.tick(CLOSES + 30)
    assert sorted(other, key=lambda x: x["id"]) == sorted(raised, key=lambda x: x["id"])


def test_windows_that_opened_before_watching_began_are_not_judged(district, tmp_path):
    with PatrolService(tmp_path / "w.sqlite", district, clock=lambda: T, autoflush_s=0) as svc:
        svc.watch(OPENS + 1)  # started a second after the window opened
        assert not svc.tick(CLOSES + 60).alarms
        assert svc.visits(T - 3600, T + 3600, now=CLOSES + 60) == ()


def test_a_shifted_schedule_expects_the_visit_later(district, tmp_path):
    shift = 7 * 3600.0  # the demo replays a 09:00 scenario at 16:00
    alarms = []
    with PatrolService(tmp_path / "s.sqlite", district, clock=lambda: T, on_alarm=alarms.append,
                       autoflush_s=0) as svc:
        svc.watch(T + shift - 1000, offset_s=shift)
        svc.ingest(visit("foot-01", "foot", T + shift + 10))
        svc.tick(CLOSES + shift + 30)
        states = {v.post: (v.state, v.scheduled) for v in svc.visits(T, T + 86400, now=CLOSES + shift + 30)}
        assert states["P1"] == ("on_time", T + shift) and states["P2"][0] == "missed"
        assert [a["id"] for a in alarms] == ["PATROL-MISSED-P2-20240601T160000"]


def test_upcoming_and_open_visits_are_listed(district, tmp_path):
    with PatrolService(tmp_path / "u.sqlite", district, clock=lambda: T, autoflush_s=0) as svc:
        svc.watch(T - 3000)
        svc.tick(T - 1000)
        assert {(v.post, v.state) for v in svc.visits(T - 60, T + 60, now=T - 1000)} == {("P1", "upcoming"),
                                                                                          ("P2", "upcoming")}
        svc.tick(T)
        assert {v.state for v in svc.visits(T - 60, T + 60, now=T)} == {"open"}
        assert svc.visits(T - 60, T + 60, state="missed", now=T) == ()


# --- the schedule format -------------------------------------------------------------------------

BASE = 'timezone = "Asia/Shanghai"\n'


@pytest.mark.parametrize("body, post, field, words", [
    ('[posts.P1]\ntimes = ["25:00"]\n', "P1", "times[0]", "not a time of day"),
    ('[posts.P1]\ntimes = ["09:00"]\nradius = 30\n', "P1", "radius", "unknown setting"),
    ('[posts.P1]\ntimes = ["09:00"]\nradius_m = -5\n', "P1", "radius_m", "outside"),
    ('[posts.P1]\ntimes = ["09:00"]\ndwell_s = "long"\n', "P1", "dwell_s", "must be a number"),
    ('[posts.P1]\ntimes = ["09:00"]\nkinds = ["tank"]\n', "P1", "kinds", "'tank'"),
    ('[posts.P1]\nradius_m = 40\n', "P1", None, "no visits"),
    ('[posts.P9]\ntimes = ["09:00"]\n', "P9", None, "no post with this id"),
    ('[posts.P1]\nevery_min = 3\n', "P1", "every_min", "must not overlap"),
    ('[posts.P1]\ntimes = ["09:00", "09:04"]\n', "P1", "times", "must not overlap"),
    ('[posts.P1]\nevery_min = 30\nfrom = "10:00"\nuntil = "09:00"\n', "P1", "until", "before 'from'"),
    ('[posts.P1]\ntimes = ["09:00"]\nfrom = "08:00"\n', "P1", "from", "every_min"),
    ('[posts.P1]\ntimes = ["09:00"]\ndays = ["funday"]\n', "P1", "days", "weekdays"),
    ('[defaults]\ndwell_s = "x"\n', None, "defaults.dwell_s", "must be a number"),
])
def test_bad_schedule_input_names_the_file_the_post_and_the_field(body, post, field, words):
    with pytest.raises(ScheduleError) as info:
        parse_schedule(BASE + body, "/data/ds/patrol_schedule.toml", ["P1", "P2"])
    err = info.value
    assert (err.post, err.field) == (post, field)
    text = str(err)
    assert text.startswith("patrol_schedule.toml") and words in text
    if post:
        assert f"post {post}" in text
    if field:
        assert f"field '{field}'" in text


def test_bad_schedule_files_as_a_whole():
    with pytest.raises(ScheduleError, match=r"patrol_schedule.toml: not valid TOML"):
        parse_schedule("timezone = ", "patrol_schedule.toml")
    with pytest.raises(ScheduleError, match=r"field 'timezone'.*Mars/Olympus"):
        parse_schedule('timezone = "Mars/Olympus"\n', "patrol_schedule.toml")
    with pytest.raises(ScheduleError, match=r"field 'colour'"):
        parse_schedule('colour = "red"\n', "patrol_schedule.toml")
    with pytest.raises(ScheduleError, match=r"missing"):
        load_schedule("/nonexistent/patrol_schedule.toml")
    assert isinstance(ScheduleError("x.toml", "y"), DatasetError)  # the loader's error family


def test_schedule_errors_are_translated():
    try:
        i18n.set_locale("zh_CN")
        with pytest.raises(ScheduleError) as info:
            parse_schedule(BASE + '[posts.P1]\ntimes = ["25:00"]\n', "patrol_schedule.toml", ["P1"])
        assert "岗亭 P1" in str(info.value) and "不是时刻" in str(info.value)
    finally:
        i18n.set_locale("en")


def test_the_loader_skips_a_bad_post_and_reports_it(tmp_path):
    sched = BASE + '[posts.P1]\ntimes = ["09:00"]\n[posts.P2]\ntimes = ["9h"]\n'
    folder = make_dataset(tmp_path / "ds", sched)
    d = load_district(folder)
    assert set(d.patrol_schedule.posts) == {"P1"}
    assert len(d.warnings) == 1 and "patrol_schedule.toml, post P2, field 'times[0]'" in d.warnings[0]
    with pytest.raises(ScheduleError, match="post P2"):
        load_district(folder, strict=True)
    (folder / SCHEDULE_FILE).unlink()
    assert load_district(folder).patrol_schedule is None


def test_recurring_visits_days_and_midnight():
    sched = parse_schedule(BASE + '[posts.P1]\nevery_min = 30\nfrom = "07:00"\nuntil = "22:00"\n'
                           'days = ["Sat", "sun"]\n[posts.P2]\ntimes = ["00:00", "12:00:30"]\n', "s.toml")
    p1 = sched.posts["P1"]
    assert len(p1.times_s) == 31 and p1.times_s[0] == 7 * 3600 and p1.times_s[-1] == 22 * 3600
    assert p1.days == (5, 6) and sched.posts["P2"].times_s == (0, 12 * 3600 + 30)
    sat = datetime(2024, 6, 1, 0, 0, tzinfo=TZ).timestamp()  # a Saturday
    day = sched.windows(sat - 86400 * 2, sat + 86400 * 2, ["P1"])
    assert len(day) == 62  # Saturday and Sunday only
    ws = sched.windows(sat - 600, sat + 10, ["P2"])  # the 00:00 visit opens at 23:58 the day before
    assert [w.scheduled for w in ws] == [sat] and ws[0].opens == sat - 120
    assert ws[0].classify(sat - 61) == "early" and ws[0].classify(sat + 181) is None


def test_the_bundled_schedule_is_what_the_generator_writes():
    shinan = ROOT / "maps" / "shinan"
    info = tomllib.loads((shinan / "district.toml").read_text(encoding="utf-8"))
    posts = [(f["properties"]["id"], f["properties"]["name"])
             for f in json.loads((shinan / "patrol.geojson").read_text(encoding="utf-8"))["features"]
             if f["properties"].get("kind") == "post"]
    text = schedule_toml(posts, step_rng(info["seed"], "schedule"))
    assert (shinan / SCHEDULE_FILE).read_text(encoding="utf-8") == text
    sched = parse_schedule(text, SCHEDULE_FILE, [p for p, _ in posts])
    assert set(sched.posts) == {p for p, _ in posts} and sched.timezone == "Asia/Shanghai"
    # staggered: every minute of the 20-minute cycle has a post
    starts = {sched.posts[p].times_s[0] % 1200 for p in sched.posts}
    assert len(starts) == 20
    # and another seed deals the offsets out differently
    assert schedule_toml(posts, step_rng(info["seed"] + 1, "schedule")) != text


def test_a_unit_that_falls_silent_at_the_post_has_left_at_its_last_fix(district, tmp_path):
    fixes = [pos("foot-01", "foot", t, 3, 3) for t in np.arange(T - 100, T + 31, 10.0)]  # then nothing
    svc, _ = run(district, tmp_path, fixes)
    with svc:
        v = p1_visit(svc)
        assert v.state == "on_time" and v.arrival == T - 100 and v.departure == T + 30
