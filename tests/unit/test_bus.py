"""The in-process event bus: MQTT wildcards, isolation of failing subscribers, thread safety."""
import logging
import threading

import pytest

from desktop.core.feeds.bus import EventBus, Receipt, topic_matches, validate_filter


@pytest.mark.parametrize("flt,topic,expected", [
    ("pingan/alarm", "pingan/alarm", True),
    ("pingan/alarm", "pingan/alarm/x/state", False),
    ("pingan/alarm/+/state", "pingan/alarm/A1/state", True),
    ("pingan/alarm/+/state", "pingan/alarm/A1/x/state", False),
    ("pingan/alarm/+/state", "pingan/alarm//state", True),  # an empty level is a level
    ("pingan/#", "pingan", True),  # '#' includes the parent level
    ("pingan/#", "pingan/patrol/c1/position", True),
    ("#", "anything/at/all", True),
    ("+/+", "a/b", True),
    ("+", "a/b", False),
    ("#", "$pingan/rejected", False),  # '$' topics need an explicit first level
    ("+/rejected", "$pingan/rejected", False),
    ("$pingan/rejected", "$pingan/rejected", True),
])
def test_topic_matches(flt, topic, expected):
    assert topic_matches(flt, topic) is expected


@pytest.mark.parametrize("bad", ["", "a/#/b", "a/b#", "a+/b", "#/a"])
def test_invalid_filters_are_refused(bad):
    with pytest.raises(ValueError):
        validate_filter(bad)
    with pytest.raises(ValueError):
        EventBus().subscribe(bad, lambda t, p: None)


def test_publish_checks_topic_and_payload():
    bus = EventBus()
    with pytest.raises(ValueError):
        bus.publish("pingan/+", {})
    with pytest.raises(TypeError):
        bus.publish("pingan/alarm", "not a dict")


def test_subscribe_publish_unsubscribe():
    bus = EventBus()
    got = []
    sub = bus.subscribe("pingan/patrol/+/position", lambda t, p: got.append((t, p["n"])))
    assert bus.publish("pingan/patrol/car1/position", {"n": 1}) == 1
    assert bus.publish("pingan/alarm", {"n": 2}) == 0
    sub.unsubscribe()
    assert bus.publish("pingan/patrol/car1/position", {"n": 3}) == 0
    assert got == [("pingan/patrol/car1/position", 1)]
    assert not sub.active


def test_failing_subscriber_is_logged_and_does_not_break_others(caplog):
    bus = EventBus()
    got = []

    def bad(topic, payload):
        raise RuntimeError("boom")

    bus.subscribe("#", lambda t, p: got.append("first"))
    bus.subscribe("#", bad)
    bus.subscribe("#", lambda t, p: got.append("last"))
    with caplog.at_level(logging.ERROR):
        assert bus.publish("a/b", {}) == 2
    assert got == ["first", "last"]
    assert "a/b" in caplog.text and "boom" in caplog.text
    assert bus.errors == 1


def test_sender_does_not_get_its_own_messages():
    bus = EventBus()
    me, other = object(), object()
    got = []
    bus.subscribe("x", lambda t, p: got.append("mine"), owner=me)
    bus.subscribe("x", lambda t, p: got.append("other"), owner=other)
    bus.publish("x", {}, sender=me)
    assert got == ["other"]


def test_receipt_completes_when_every_holder_released():
    bus = EventBus()
    done = []
    held = []
    bus.subscribe("x", lambda t, p, r: held.append(r.hold()))
    bus.subscribe("x", lambda t, p: None)  # does not care about receipts
    r = Receipt(lambda: done.append(True))
    bus.publish("x", {}, receipt=r)
    r.release()  # the producer's own reference
    assert not done and not r.done
    held[0].release()
    assert done == [True] and r.done
    held[0].release()  # extra releases are harmless
    assert done == [True]


def test_concurrent_publish_and_subscribe():
    bus = EventBus()
    lock = threading.Lock()
    count = [0]

    def inc(t, p):
        with lock:
            count[0] += 1

    bus.subscribe("load/+", inc)
    stop = threading.Event()

    def churn():  # subscriptions come and go while messages flow
        while not stop.is_set():
            bus.subscribe("load/#", lambda t, p: None).unsubscribe()

    th = threading.Thread(target=churn)
    th.start()
    pubs = [threading.Thread(target=lambda: [bus.publish(f"load/{i}", {"i": i}) for i in range(2000)])
            for _ in range(4)]
    for p in pubs:
        p.start()
    for p in pubs:
        p.join()
    stop.set()
    th.join()
    assert count[0] == 8000
