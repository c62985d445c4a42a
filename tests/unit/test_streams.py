"""Event streams: many subscribers, own cursors, one call per frame, bounded and counted."""
import threading

import pytest

from desktop.core.feeds.bus import EventBus
from desktop.core.plugin_api.streams import AlarmSource, BusLink, StreamHub


def test_two_subscribers_each_get_every_event_once_per_frame():
    hub = StreamHub()
    a, b = [], []
    hub.subscribe("alarms", a.append)
    hub.subscribe("alarms", b.append)
    hub.publish_many("alarms", ((None, i) for i in range(1000)))
    assert hub.deliver() == 2
    assert a == [list(range(1000))] and b == [list(range(1000))]
    assert hub.deliver() == 0  # nothing new: no calls


def test_a_flood_costs_one_call_per_frame_per_subscriber():
    hub = StreamHub()
    calls = []
    hub.subscribe("bus", calls.append, topic_filter="pingan/patrol/+/position")
    for frame in range(30):  # one second of 1,000 messages, delivered at 30 frames a second
        hub.publish_messages((f"pingan/patrol/u{i % 50}/position", {"i": i}) for i in range(frame * 33, frame * 33 + 33))
        hub.deliver()
    assert len(calls) == 30
    assert sum(len(c) for c in calls) == 990


def test_topic_filters_and_coalescing():
    hub = StreamHub()
    got, latest = [], []
    hub.subscribe("bus", got.append, topic_filter="pingan/alarm")
    hub.subscribe("bus", latest.append, topic_filter="pingan/patrol/+/position", coalesce=lambda m: m[0])
    hub.publish_messages([("pingan/patrol/a/position", {"n": 1}), ("pingan/alarm", {"id": "x"}),
                          ("pingan/patrol/b/position", {"n": 2}), ("pingan/patrol/a/position", {"n": 3}),
                          ("pingan/other", {})])
    hub.deliver()
    assert got == [[("pingan/alarm", {"id": "x"})]]
    assert latest == [[("pingan/patrol/b/position", {"n": 2}), ("pingan/patrol/a/position", {"n": 3})]]


def test_unwanted_bus_messages_are_not_kept():
    hub = StreamHub()
    hub.publish_messages([("pingan/alarm", {})])
    assert hub.published["bus"] == 0
    sub = hub.subscribe("bus", lambda items: None, topic_filter="pingan/#")
    hub.publish_messages([("pingan/alarm", {})])
    assert hub.published["bus"] == 1
    sub.unsubscribe()
    assert hub.topic_filters() == set()


def test_a_late_subscriber_starts_now_and_an_unsubscribed_one_stops():
    hub = StreamHub()
    hub.publish("alarms", "old")
    got = []
    sub = hub.subscribe("alarms", got.append)
    hub.publish("alarms", "new")
    hub.deliver()
    sub.unsubscribe()
    hub.publish("alarms", "after")
    hub.deliver()
    assert got == [["new"]]


def test_a_subscriber_that_falls_behind_is_bounded_and_counts_what_it_lost():
    hub = StreamHub(capacity=1000)
    got = []
    sub = hub.subscribe("alarms", got.append)
    hub.publish_many("alarms", ((None, i) for i in range(5000)))
    hub.deliver()
    assert sub.lost == 4000 and got == [list(range(4000, 5000))]
    assert hub.dropped["alarms"] == 4000
    assert len(hub._logs["alarms"].items) == 0  # seen by all: released


def test_a_failing_subscriber_does_not_stop_the_others():
    hub = StreamHub()
    ok = []
    hub.subscribe("alarms", lambda items: 1 / 0)
    hub.subscribe("alarms", ok.append)
    hub.publish("alarms", 1)
    hub.deliver()
    assert ok == [[1]]


def test_bad_channel_or_filter_is_named():
    hub = StreamHub()
    with pytest.raises(ValueError, match="unknown stream channel 'alarm'"):
        hub.subscribe("alarm", print)
    with pytest.raises(ValueError, match="topic filter"):
        hub.subscribe("bus", print)


def test_bus_link_feeds_only_what_is_wanted_from_any_thread():
    bus, hub = EventBus(), StreamHub()
    link = BusLink(hub, bus)
    assert not bus.subscriptions()  # nobody wants bus messages: not even subscribed
    got = []
    hub.subscribe("bus", got.append, topic_filter="pingan/patrol/+/position")
    hub.subscribe("bus", lambda items: None, topic_filter="pingan/#")  # overlapping: still once each
    t = threading.Thread(target=lambda: [bus.publish(f"pingan/patrol/u{i}/position", {"i": i}) for i in range(100)])
    t.start()
    t.join()
    bus.publish("pingan/alarm", {})
    hub.deliver()
    assert [m[1]["i"] for m in got[0]] == list(range(100))
    link.close()
    assert not bus.subscriptions()


class _FakeService:
    def __init__(self):
        self.events = list(range(7))

    def drain(self, max_items=None):
        out, self.events = self.events, []
        return out


def test_alarm_source_is_the_one_drain_and_every_plugin_reads():
    hub = StreamHub()
    src = AlarmSource(hub, _FakeService())
    a, b = [], []
    hub.subscribe("alarms", a.append)
    hub.subscribe("alarms", b.append)
    assert src.pump() == 7
    hub.deliver()
    assert a == b == [list(range(7))]
