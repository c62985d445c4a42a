"""MQTT → bus → alarm service → journal → drain, against a real mosquitto (no mocks)."""
import time

import pytest

from desktop.core.alarms.model import AlarmState, EventKind
from desktop.core.alarms.service import AlarmService
from desktop.core.alarms.workflow import IllegalTransition
from desktop.core.feeds.bus import EventBus
from desktop.core.feeds.mqtt import MqttFeed
from tests.fixtures.mqtt import Publisher, alarm_payload

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def wait_for(cond, timeout=15.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


class Station:
    """One workstation: bus + alarm service + MQTT adapter."""

    def __init__(self, broker, folder, name):
        self.bus = EventBus()
        self.svc = AlarmService(folder / f"{name}.db", bus=self.bus, workstation=name).start()
        self.feed = MqttFeed(self.bus, broker.host, broker.port, workstation=name,
                             reconnect_min_s=0.1, reconnect_max_s=0.5).start()
        assert self.feed.wait_connected(10)

    def received(self):
        return self.svc.counters().get("received", 0)

    def close(self):
        self.feed.stop()
        self.svc.stop()


@pytest.fixture
def station(mqtt_broker, tmp_path):
    s = Station(mqtt_broker, tmp_path, "ws1")
    yield s
    s.close()


@pytest.fixture
def publisher(mqtt_broker):
    p = Publisher(mqtt_broker)
    yield p
    p.close()


def test_publish_reaches_journal_and_drain(station, publisher):
    for i in range(40):
        publisher.publish("pingan/alarm", alarm_payload(i))
    for k in range(10):  # a flood from one source
        publisher.publish("pingan/alarm", alarm_payload(100 + k, source="fence-9", type="perimeter"))
    publisher.publish("pingan/patrol/car-1/position", {
        "unit": "car-1", "kind": "car", "time": "2024-06-01T09:00:00+08:00", "lon": 120.38,
        "lat": 36.06, "crs": "WGS84", "speed_kmh": 20, "heading_deg": 0})
    assert publisher.wait_all_sent()
    assert wait_for(lambda: station.received() >= 51)
    station.svc.flush()
    svc = station.svc
    assert svc.journal.count("alarms") == 41 and svc.journal.count("occurrences") == 50
    events = svc.drain()
    news = [e for e in events if e.kind == EventKind.NEW]
    assert len(news) == 41
    assert next(e.alarm for e in news if e.alarm.source == "fence-9").count == 10
    assert [e.patrol.unit for e in events if e.kind == EventKind.PATROL] == ["car-1"]
    assert station.feed.counters["received"] == 51


def test_malformed_payloads_rejected_and_counted_valid_ones_all_arrive(station, publisher):
    bad = [
        b"{this is not json",
        b'{"id": "\xff\xfe", "type": "fire"}',  # not UTF-8
        {k: v for k, v in alarm_payload(900).items() if k != "source"},  # missing field
        alarm_payload(901, priority=7),
        alarm_payload(902, crs="BD09"),
        alarm_payload(903, lon="120.38"),  # lon as a string
    ]
    for i, b in enumerate(bad):
        publisher.publish("pingan/alarm", alarm_payload(i))
        publisher.publish("pingan/alarm", b)
    publisher.publish("pingan/alarm", alarm_payload(99))
    assert publisher.wait_all_sent()
    assert wait_for(lambda: station.received() >= 13)
    station.svc.flush()
    svc = station.svc
    assert sorted(a.id for a in svc.alarms()) == [f"T-{i:05d}" for i in range(6)] + ["T-00099"]
    assert svc.rejections() == {"invalid_json": 1, "invalid_utf8": 1, "missing_field": 1,
                                "out_of_range": 1, "bad_crs": 1, "wrong_type": 1}
    assert station.feed.counters["rejected"] == 2  # the two the adapter could not decode
    rejected = [e for e in svc.drain() if e.kind == EventKind.REJECTED]
    assert len(rejected) == 1 and sum(rejected[0].counters.values()) == 6
    assert rejected[0].rejection.topic == "pingan/alarm"


def test_workflow_is_shared_between_workstations(mqtt_broker, tmp_path, station, publisher):
    ws2 = Station(mqtt_broker, tmp_path, "ws2")
    try:
        publisher.publish("pingan/alarm", alarm_payload(1, priority=1))
        assert wait_for(lambda: station.svc.get("T-00001") and ws2.svc.get("T-00001"))
        station.svc.transition("T-00001", "acknowledged", "li", "seen on camera").result(5)
        assert wait_for(lambda: ws2.svc.get("T-00001").state == AlarmState.ACKNOWLEDGED)
        t = ws2.svc.get("T-00001").history[-1]
        assert (t.operator, t.origin, t.note) == ("li", "ws1", "seen on camera")
        ws2.svc.transition("T-00001", "dispatched", "wang", unit="car-3").result(5)
        assert wait_for(lambda: station.svc.get("T-00001").state == AlarmState.DISPATCHED)
        assert station.svc.get("T-00001").assigned_unit == "car-3"
        # Each workstation heard its own change come back and ignored it.
        assert wait_for(lambda: station.svc.counters().get("echoes", 0) >= 1
                        and ws2.svc.counters().get("echoes", 0) >= 1)
        with pytest.raises(IllegalTransition, match="cannot change from Dispatched to Acknowledged"):
            station.svc.transition("T-00001", "acknowledged", "li")
        # The remote change is in the journal with its full history.
        assert [x.to_state for x in ws2.svc.journal.history("T-00001")] == [
            AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED]
    finally:
        ws2.close()
