"""The radar topic's payload: valid reports parse (positions converted), bad ones are rejected
with the reason and the field named down to the target."""
import json

import pytest

from desktop.core.feeds.schema import RADAR_MAX_TARGETS, PayloadError, parse, topic_kind

TOPIC = "pingan/radar/S370202-00067/targets"


def report(**over):
    p = {"radar": "S370202-00067", "time": "2026-12-02T10:00:00+08:00", "crs": "GCJ02",
         "targets": [{"id": "T1", "lon": 120.335, "lat": 36.040, "heading_deg": 45.0, "speed_kn": 12.5},
                     {"id": "T2", "lon": 120.340, "lat": 36.035, "heading_deg": -90, "speed_kn": 0,
                      "time": "2026-12-02T09:59:58+08:00"}]}
    p.update(over)
    return p


def rejected(payload) -> PayloadError:
    with pytest.raises(PayloadError) as info:
        parse(TOPIC, json.dumps(payload).encode() if isinstance(payload, dict) else payload)
    return info.value


def test_topic_is_known():
    assert topic_kind(TOPIC) == ("radar", "S370202-00067")
    assert topic_kind("pingan/radar/x/other") is None


def test_a_valid_report_parses_with_positions_in_both_datums():
    r = parse(TOPIC, json.dumps(report()).encode())
    assert r.radar == "S370202-00067" and r.crs == "GCJ02" and len(r.targets) == 2
    t1, t2 = r.targets
    assert t1.lon_gcj == pytest.approx(120.335) and abs(t1.lon_wgs - 120.335) > 1e-4  # GCJ-02 offset removed
    assert t2.heading_deg == 270.0  # normalised into 0..360
    assert t1.epoch == r.epoch and t2.epoch == r.epoch - 2.0  # a target's own time wins
    assert parse(TOPIC, report(targets=[])).targets == ()  # alive, sees nothing


def test_radar_defaults_to_the_topic_and_must_agree_with_it():
    p = report()
    del p["radar"]
    assert parse(TOPIC, p).radar == "S370202-00067"
    e = rejected(report(radar="OTHER"))
    assert (e.reason, e.field) == ("topic_mismatch", "radar")


@pytest.mark.parametrize("change, reason, field", [
    (lambda p: p.pop("time"), "missing_field", "time"),
    (lambda p: p.update(time="yesterday"), "bad_time", "time"),
    (lambda p: p.update(crs="BD09"), "bad_crs", "crs"),
    (lambda p: p.pop("targets"), "missing_field", "targets"),
    (lambda p: p.update(targets={"id": "T1"}), "wrong_type", "targets"),
    (lambda p: p["targets"].append("T3"), "wrong_type", "targets[2]"),
    (lambda p: p["targets"][1].update(lon="120.3"), "wrong_type", "targets[1].lon"),
    (lambda p: p["targets"][0].update(lat=91), "out_of_range", "targets[0].lat"),
    (lambda p: p["targets"][0].pop("heading_deg"), "missing_field", "targets[0].heading_deg"),
    (lambda p: p["targets"][1].update(speed_kn=True), "wrong_type", "targets[1].speed_kn"),
    (lambda p: p["targets"][1].update(speed_kn=-1), "out_of_range", "targets[1].speed_kn"),
    (lambda p: p["targets"][1].update(id="T1"), "bad_value", "targets[1].id"),
    (lambda p: p["targets"][1].update(id=""), "bad_value", "targets[1].id"),
    (lambda p: p["targets"][1].update(time="noon"), "bad_time", "targets[1].time"),
])
def test_bad_reports_name_the_reason_and_field(change, reason, field):
    p = report()
    change(p)
    e = rejected(p)
    assert (e.reason, e.field) == (reason, field)
    assert field in str(e) and TOPIC in str(e)


def test_hostile_payloads_are_rejected_not_crashing():
    assert rejected(b"\xff\xfe").reason == "invalid_utf8"
    assert rejected(b'{"targets": [NaN]}').reason == "invalid_json"
    assert rejected(b"[" * 100000).reason == "invalid_json"
    assert rejected(b"[]").reason == "not_object"
    many = report(targets=[{"id": f"T{i}", "lon": 120.3, "lat": 36.0, "heading_deg": 0, "speed_kn": 1}
                           for i in range(RADAR_MAX_TARGETS + 1)])
    e = rejected(many)
    assert (e.reason, e.field) == ("out_of_range", "targets")
