"""Feed payload validation (README, *Live feeds (MQTT)*): exact schemas, errors naming topic and field, CRS on ingest."""
import json

import pytest

from desktop.core.feeds.schema import (AlarmMessage, PayloadError, REASONS, convert_positions,
                                       decode, parse, topic_kind)
from desktop.core.geo.crs import transform
from tests.fixtures.mqtt import alarm_payload

T = "pingan/alarm"


def test_valid_alarm_is_parsed_and_converted_to_both_datums():
    p = alarm_payload(1, crs="GCJ02", lon=120.38, lat=36.06, camera_ids=["C1", "C2"], text="北门")
    m = parse(T, json.dumps(p, ensure_ascii=False).encode("utf-8"))
    assert isinstance(m, AlarmMessage)
    assert (m.id, m.type, m.priority, m.crs, m.camera_ids, m.text) == ("T-00001", "perimeter", 2, "GCJ02", ("C1", "C2"), "北门")
    assert (m.lon_gcj, m.lat_gcj) == (120.38, 36.06)
    w = transform(120.38, 36.06, "GCJ02", "WGS84")
    assert m.lon_wgs == pytest.approx(w[0], abs=1e-8) and m.lat_wgs == pytest.approx(w[1], abs=1e-8)
    assert m.epoch == 1717203600.0


def test_cgcs2000_and_wgs84_inputs():
    m = parse(T, alarm_payload(1, crs="EPSG:4490", lon=120.0, lat=36.0))
    assert (m.lon_wgs, m.lat_wgs) == (120.0, 36.0)
    assert m.lon_gcj != 120.0  # GCJ-02 offsets positions in China
    m2 = parse(T, alarm_payload(1, crs="wgs84"))  # aliases are normalised
    assert m2.crs == "WGS84"


def test_unknown_types_accepted_but_not_empty():
    assert parse(T, alarm_payload(1, type="drone_sighting")).type == "drone_sighting"
    with pytest.raises(PayloadError) as e:
        parse(T, alarm_payload(1, type=""))
    assert e.value.field == "type"


@pytest.mark.parametrize("raw,reason,field", [
    (b"{not json", "invalid_json", ""),
    (b"\xff\xfe{}", "invalid_utf8", ""),
    (b"[1, 2]", "not_object", ""),
    (b'{"lon": NaN}', "invalid_json", ""),
])
def test_undecodable_payloads(raw, reason, field):
    with pytest.raises(PayloadError) as e:
        decode(T, raw)
    assert e.value.reason == reason and e.value.topic == T and T in str(e.value)


@pytest.mark.parametrize("change,reason,field", [
    ({"priority": 7}, "out_of_range", "priority"),
    ({"priority": 0}, "out_of_range", "priority"),
    ({"priority": "1"}, "wrong_type", "priority"),
    ({"priority": True}, "wrong_type", "priority"),
    ({"priority": 1.5}, "wrong_type", "priority"),
    ({"crs": "BD09"}, "bad_crs", "crs"),
    ({"crs": "EPSG:3857"}, "bad_crs", "crs"),  # projected metres are not lon/lat
    ({"lon": "120.3"}, "wrong_type", "lon"),
    ({"lon": 200.0}, "out_of_range", "lon"),
    ({"lat": -91}, "out_of_range", "lat"),
    ({"time": "tuesday"}, "bad_time", "time"),
    ({"time": 1717203600}, "wrong_type", "time"),
    ({"source": ""}, "bad_value", "source"),
    ({"id": 5}, "wrong_type", "id"),
    ({"camera_ids": "C1"}, "wrong_type", "camera_ids"),
    ({"camera_ids": ["C1", 2]}, "wrong_type", "camera_ids"),
    ({"text": 3}, "wrong_type", "text"),
])
def test_schema_violations_name_the_field(change, reason, field):
    with pytest.raises(PayloadError) as e:
        parse(T, alarm_payload(1, **change))
    err = e.value
    assert (err.reason, err.field) == (reason, field)
    assert err.reason in REASONS
    assert T in str(err) and f"'{field}'" in str(err)


@pytest.mark.parametrize("missing", ["id", "type", "priority", "time", "lon", "lat", "crs", "source"])
def test_missing_fields(missing):
    p = alarm_payload(1)
    del p[missing]
    with pytest.raises(PayloadError) as e:
        parse(T, p)
    assert (e.value.reason, e.value.field) == ("missing_field", missing)


def test_patrol_position():
    topic = "pingan/patrol/car-01/position"
    good = {"unit": "car-01", "kind": "car", "time": "2024-06-01T09:00:00+08:00", "lon": 120.38,
            "lat": 36.06, "crs": "WGS84", "speed_kmh": 32.5, "heading_deg": -90}
    m = parse(topic, good)
    assert (m.unit, m.kind, m.heading_deg, m.lon_wgs) == ("car-01", "car", 270.0, 120.38)
    with pytest.raises(PayloadError) as e:
        parse(topic, dict(good, kind="horse"))
    assert e.value.field == "kind"
    with pytest.raises(PayloadError) as e:
        parse(topic, dict(good, unit="car-02"))
    assert (e.value.reason, e.value.field) == ("topic_mismatch", "unit")
    with pytest.raises(PayloadError) as e:
        parse(topic, dict(good, speed_kmh=-3))
    assert e.value.field == "speed_kmh"


def test_state_and_camera_status_and_topics():
    st = parse("pingan/alarm/A1/state", {"state": "acknowledged", "operator": "li", "origin": "ws2",
                                          "time": "2024-06-01T09:00:00+08:00"})
    assert (st.alarm_id, st.state, st.origin) == ("A1", "acknowledged", "ws2")
    with pytest.raises(PayloadError) as e:
        parse("pingan/alarm/A1/state", {"state": "closed", "operator": "li", "origin": "ws2",
                                         "time": "2024-06-01T09:00:00+08:00"})
    assert e.value.field == "state"
    cs = parse("pingan/camera/C9/status", {"status": "offline", "time": "2024-06-01T09:00:00Z",
                                            "reason": "no signal"})
    assert (cs.camera_id, cs.status) == ("C9", "offline")
    assert topic_kind("pingan/wall/main/layout") is None
    with pytest.raises(PayloadError) as e:
        parse("pingan/other", {})
    assert e.value.reason == "unknown_topic"


@pytest.mark.parametrize("n", [3, 40])  # a few points go one by one, many through numpy
def test_batch_conversion_matches_the_crs_module(n):
    lon = [120.38 + 0.001 * k for k in range(n)]
    lat = [36.06 + 0.0005 * k for k in range(n)]
    crs = [("GCJ02", "WGS84", "EPSG:4490")[k % 3] for k in range(n)]
    lw, aw, lg, ag = convert_positions(lon, lat, crs)
    for i in range(n):
        w = transform(lon[i], lat[i], crs[i], "WGS84")
        g = transform(lon[i], lat[i], crs[i], "GCJ02")
        assert (lw[i], aw[i]) == pytest.approx(w, abs=1e-9)
        assert (lg[i], ag[i]) == pytest.approx(g, abs=1e-9)
