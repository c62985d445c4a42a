"""Alarm workflow states are retained per alarm on the broker: a workstation that starts late
shows the alarms and states set before it joined (real mosquitto, no mocks)."""
import json
import time

import pytest

from desktop.core.alarms.model import AlarmState
from desktop.core.alarms.service import AlarmService
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
    def __init__(self, broker, folder, name):
        self.bus = EventBus()
        self.svc = AlarmService(folder / f"{name}.db", bus=self.bus, workstation=name).start()
        self.feed = MqttFeed(self.bus, broker.host, broker.port, workstation=name,
                             reconnect_min_s=0.1, reconnect_max_s=0.5).start()
        assert self.feed.wait_connected(10)

    def close(self):
        self.feed.stop()
        self.svc.stop()


def test_late_workstation_sees_states_set_before_it_joined(mqtt_broker, tmp_path):
    pub = Publisher(mqtt_broker)
    early = Station(mqtt_broker, tmp_path, "ws-early")
    try:
        for i in range(3):
            pub.publish("pingan/alarm", alarm_payload(i, priority=1, text=f"alarm {i}"))
        assert wait_for(lambda: len(early.svc.alarms()) == 3)
        ids = sorted(a.id for a in early.svc.alarms())
        early.svc.transition(ids[0], AlarmState.ACKNOWLEDGED, "zhang").result(5)
        early.svc.transition(ids[1], AlarmState.ACKNOWLEDGED, "zhang").result(5)
        early.svc.transition(ids[1], AlarmState.DISPATCHED, "zhang", unit="P-07").result(5)
        assert wait_for(lambda: early.feed.counters["published"] >= 3)
        time.sleep(0.3)  # the broker's PUBACKs
    finally:
        early.close()
    # the broker keeps no alarm history: the late one learns of the alarms from the retained states
    late = Station(mqtt_broker, tmp_path, "ws-late")
    try:
        assert wait_for(lambda: late.svc.get(ids[0]) is not None and late.svc.get(ids[1]) is not None
                        and late.svc.get(ids[1]).state == AlarmState.DISPATCHED)
        a0, a1 = late.svc.get(ids[0]), late.svc.get(ids[1])
        assert a0.state == AlarmState.ACKNOWLEDGED and a0.priority == early.svc.get(ids[0]).priority
        assert a1.assigned_unit == "P-07" or a1.state == AlarmState.DISPATCHED
        assert a0.text == "alarm 0" and abs(a0.lat_wgs - 36.06) < 0.01
        assert late.svc.get(ids[2]) is None  # never changed state: nothing retained for it
        assert late.svc.counters().get("alarms_from_states", 0) == 2
    finally:
        late.close()
        pub.close()


def test_retained_state_payload_and_a_cleared_one(mqtt_broker, tmp_path):
    """What is retained is the latest state with its alarm; an empty retained payload (cleared by
    an administrator) is neither an alarm nor a rejection."""
    got = {}
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion
    st = Station(mqtt_broker, tmp_path, "ws1")
    pub = Publisher(mqtt_broker)
    try:
        pub.publish("pingan/alarm", alarm_payload(7, priority=2))
        assert wait_for(lambda: st.svc.get("T-00007") is not None)
        st.svc.transition("T-00007", AlarmState.ACKNOWLEDGED, "li").result(5)
        time.sleep(0.3)
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id="peek", clean_session=True)
        c.on_message = lambda cl, ud, m: m.payload and got.__setitem__(m.topic, (m.retain, json.loads(m.payload)))
        c.connect(mqtt_broker.host, mqtt_broker.port)
        c.subscribe("pingan/alarm/+/state", 1)
        c.loop_start()
        assert wait_for(lambda: "pingan/alarm/T-00007/state" in got, 5)
        retain, payload = got["pingan/alarm/T-00007/state"]
        assert retain and payload["state"] == "acknowledged" and payload["alarm"]["id"] == "T-00007"
        pub.client.publish("pingan/alarm/T-00007/state", b"", qos=1, retain=True).wait_for_publish(5)
        c.loop_stop()
        c.disconnect()
        time.sleep(0.3)
        assert st.svc.counters().get("rejected", 0) == 0 and not st.svc.rejections()
    finally:
        st.close()
        pub.close()


def test_a_forgotten_alarms_retained_state_is_cleared_from_the_broker(mqtt_broker, tmp_path):
    """Once the service forgets an alarm closed longer ago than the retention, the feed process
    removes its retained state: the broker no longer hands it to every workstation that joins."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from desktop.core.alarms.model import EventKind
    from desktop.core.alarms.remote import clear_forgotten_states

    def retained_now() -> dict:
        got = {}
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"peek-{time.monotonic_ns()}", clean_session=True)
        c.on_message = lambda cl, ud, m: m.payload and got.__setitem__(m.topic, json.loads(m.payload)["state"])
        c.connect(mqtt_broker.host, mqtt_broker.port)
        c.subscribe("pingan/alarm/+/state", 1)
        c.loop_start()
        time.sleep(1.0)  # retained messages come at once on subscribing
        c.loop_stop()
        c.disconnect()
        return got

    st = Station(mqtt_broker, tmp_path, "ws1")
    pub = Publisher(mqtt_broker)
    try:
        for i in (21, 22):
            pub.publish("pingan/alarm", alarm_payload(i, priority=2))
        assert wait_for(lambda: len(st.svc.alarms()) == 2)
        st.svc.transition("T-00021", AlarmState.FALSE_ALARM, "li").result(5)
        st.svc.transition("T-00022", AlarmState.ACKNOWLEDGED, "li").result(5)
        assert wait_for(lambda: st.feed.counters["published"] >= 2)
        time.sleep(0.3)
        assert retained_now() == {"pingan/alarm/T-00021/state": "false_alarm",
                                  "pingan/alarm/T-00022/state": "acknowledged"}
        st.svc.drain()
        st.svc.closed_retention_s = 0.0  # everything closed is past the retention now
        st.svc.FORGET_EVERY_S = 0.0
        st.svc.audit("li", "nudge")  # any batch: the worker looks for what to forget after it
        st.svc.flush()
        events = st.svc.drain()
        assert [e.alarm.id for e in events if e.kind == EventKind.FORGOTTEN] == ["T-00021"]
        assert clear_forgotten_states(st.feed, events) == 1
        time.sleep(0.3)
        assert retained_now() == {"pingan/alarm/T-00022/state": "acknowledged"}  # the open one stays
        assert st.svc.counters().get("rejected", 0) == 0
        with pytest.raises(ValueError, match="not a retained topic"):
            st.feed.clear_retained(["pingan/alarm"])
    finally:
        st.close()
        pub.close()
