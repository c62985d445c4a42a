"""The SDK's typed services behave the same in-process and across the feed process.

Every test here runs twice: against the in-process alarm service with its own MQTT feed,
and against the feed-process mirror (``--broker``), both fed by the same real mosquitto.
"""
import time

import pytest

from desktop.core.alarms.model import AlarmState, EventKind
from desktop.core.alarms.remote import RemoteAlarmService
from desktop.core.alarms.service import AlarmService
from desktop.core.feeds.bus import EventBus
from desktop.core.feeds.mqtt import MqttFeed
from desktop.core.plugin_api.streams import AlarmSource, BusLink, RemoteLink, StreamHub
from desktop.sdk import AlarmsService
from tests.fixtures.mqtt import Publisher, alarm_payload

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class Impl:
    """One implementation, wired as the Qt host wires it: a hub, its alarm source and link."""

    def __init__(self, kind, broker, journal):
        self.kind = kind
        self.hub = StreamHub()
        if kind == "local":
            self.bus = EventBus("local")
            self.svc = AlarmService(journal, bus=self.bus, workstation=f"ws-{kind}").start()
            self.feed = MqttFeed.from_url(broker.url, self.bus, workstation=f"ws-{kind}").start()
            self.link = BusLink(self.hub, self.bus)
        else:
            self.svc = RemoteAlarmService(journal, broker_url=broker.url, workstation=f"ws-{kind}").start()
            self.feed = None
            self.link = RemoteLink(self.hub, self.svc)
        self.source = AlarmSource(self.hub, self.svc)

    def connected(self, timeout=10):
        return (self.feed.wait_connected(timeout) if self.feed is not None else self.svc.wait_connected(timeout))

    def frame(self):
        self.source.pump()
        return self.hub.deliver()

    def until(self, cond, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.frame()
            if cond():
                return True
            time.sleep(0.03)
        return cond()

    def stop(self):
        if self.feed is not None:
            self.feed.stop()
        self.svc.stop()


@pytest.fixture(params=["local", "remote"])
def impl(request, mqtt_broker, tmp_path):
    it = Impl(request.param, mqtt_broker, tmp_path / f"{request.param}.sqlite")
    pub = Publisher(mqtt_broker, client_id=f"pub-{request.param}")
    it.pub = pub
    assert it.connected()
    yield it
    pub.close()
    it.stop()


def test_it_is_the_sdk_protocol(impl):
    assert isinstance(impl.svc, AlarmsService)


def test_two_plugins_each_see_every_new_alarm(impl):
    a, b = [], []
    impl.hub.subscribe("alarms", a.extend)
    impl.hub.subscribe("alarms", b.extend)
    for i in range(40):
        impl.pub.publish("pingan/alarm", alarm_payload(i))
    new = lambda evs: {e.alarm.id for e in evs if e.kind == EventKind.NEW}
    assert impl.until(lambda: len(new(a)) == 40 and len(new(b)) == 40)
    assert new(a) == new(b) == {f"T-{i:05d}" for i in range(40)}


def test_bus_messages_reach_a_plugin_stream_in_batches(impl):
    batches = []
    impl.hub.subscribe("bus", batches.append, topic_filter="pingan/patrol/+/position")
    time.sleep(0.3)  # the feed process is told the filter asynchronously
    for i in range(200):
        impl.pub.publish(f"pingan/patrol/U{i % 20:02d}/position",
                         {"unit": f"U{i % 20:02d}", "kind": "car", "time": "2024-06-01T09:00:00+08:00",
                          "lon": 120.38, "lat": 36.06, "crs": "WGS84", "seq": i})
    assert impl.until(lambda: sum(len(b) for b in batches) >= 200)
    seqs = sorted(p["seq"] for b in batches for _, p in b)
    assert seqs == list(range(200))
    assert len(batches) < 200  # one call per frame, not per message


def test_history_time_range_and_camera_status(impl):
    for i in range(10):
        impl.pub.publish("pingan/alarm", alarm_payload(i, time=f"2024-06-0{1 + i % 3}T09:00:00+08:00"))
    impl.pub.publish("pingan/camera/C-1/status", {"status": "offline", "time": "2024-06-01T09:00:00+08:00",
                                                  "reason": "no signal"})
    assert impl.until(lambda: len(impl.svc.alarms()) == 10 and "C-1" in impl.svc.camera_status())
    assert impl.svc.camera_status()["C-1"].status == "offline"
    one = impl.svc.get("T-00000")
    impl.svc.transition(one.id, AlarmState.ACKNOWLEDGED, "op", "seen").result(10)
    assert impl.until(lambda: impl.svc.get(one.id).state == AlarmState.ACKNOWLEDGED)
    hist = impl.svc.history(one.id)
    assert [t.to_state for t in hist] == [AlarmState.ACKNOWLEDGED] and hist[0].note == "seen"
    from datetime import datetime
    from zoneinfo import ZoneInfo
    tz = ZoneInfo("Asia/Shanghai")
    t0 = datetime(2024, 6, 2, tzinfo=tz).timestamp()
    t1 = datetime(2024, 6, 3, tzinfo=tz).timestamp()
    assert impl.until(lambda: len(impl.svc.query(t0, t1)) == 3)  # 1, 4, 7 fell on 2 June
    day = impl.svc.query(t0, t1, with_history=False)
    assert sorted(a.id for a in day) == ["T-00001", "T-00004", "T-00007"]
    assert impl.svc.query(t0, t1, types=["fire"]) == []
    with pytest.raises(ValueError, match="ends before it starts"):
        impl.svc.query(t1, t0)
    with_hist = impl.svc.query(0, 2e9, with_history=True)
    assert next(a for a in with_hist if a.id == one.id).history[0].note == "seen"
