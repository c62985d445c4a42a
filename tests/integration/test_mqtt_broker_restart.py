"""The broker stops and restarts mid-stream: QoS 1 + persistent sessions lose no alarm."""
import threading
import time

import pytest

from desktop.core.alarms.service import AlarmService
from desktop.core.feeds.bus import EventBus
from desktop.core.feeds.mqtt import MqttFeed
from tests.fixtures.mqtt import Publisher, alarm_payload

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

N = 400


def test_broker_restart_mid_stream_loses_nothing(mqtt_broker, tmp_path):
    bus = EventBus()
    statuses = []
    svc = AlarmService(tmp_path / "j.db", bus=bus, workstation="ws1").start()
    feed = MqttFeed(bus, mqtt_broker.host, mqtt_broker.port, workstation="ws1",
                    reconnect_min_s=0.1, reconnect_max_s=0.5, on_status=statuses.append).start()
    pub = Publisher(mqtt_broker)
    try:
        assert feed.wait_connected(10)
        restarted = threading.Event()

        def bounce():
            mqtt_broker.restart(down_s=1.0)
            restarted.set()

        for i in range(N):
            pub.publish("pingan/alarm", alarm_payload(i))
            if i == N // 3:
                threading.Thread(target=bounce, daemon=True).start()  # publishing goes on while it is down
            time.sleep(0.003)
        assert restarted.wait(20)
        assert pub.wait_all_sent(30), "the publisher's queue did not drain after the restart"
        deadline = time.monotonic() + 30
        while len(svc.alarms()) < N and time.monotonic() < deadline:
            time.sleep(0.1)
        svc.flush()
        ids = {a.id for a in svc.alarms()}
        missing = sorted({f"T-{i:05d}" for i in range(N)} - ids)
        assert not missing, f"{len(missing)} alarms lost, e.g. {missing[:5]}"
        assert len(ids) == N and svc.journal.count("occurrences") == N
        assert feed.counters["disconnects"] >= 1 and feed.counters["connects"] >= 2
        assert "reconnecting" in statuses and statuses[-1] == "connected"
        assert mqtt_broker.starts == 2
    finally:
        pub.close()
        feed.stop()
        svc.stop()
