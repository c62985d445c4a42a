"""The MQTT adapter: bridges a broker and the in-process :class:`~desktop.core.feeds.bus.EventBus`.

Inbound, it subscribes (QoS 1) to the feed topics and publishes each decoded payload on
the bus. Outbound, it forwards what is published *locally* on the outbound filters (the
alarm service's workflow changes, ``pingan/alarm/<id>/state``) to the broker, QoS 1.

Nothing is lost across a broker restart or a network cut:

* persistent session: a stable client id and ``clean_session=False``, so the broker keeps
  our subscriptions and queues QoS 1 messages while we are away;
* paho's own reconnect with backoff (``reconnect_delay_set`` + ``loop_start``); outbound
  QoS 1 messages published while disconnected wait in paho and go out on reconnect;
* manual acknowledgement: a message is PUBACKed only when every bus subscriber that took
  a hold on its :class:`~desktop.core.feeds.bus.Receipt` has released it — the alarm
  service does so after its journal commit. If we die before that, the broker redelivers.

A payload that is not UTF-8 JSON is counted here and reported on the bus at
:data:`~desktop.core.feeds.bus.REJECTED_TOPIC` (so the alarm service's counters are
complete), logged with its topic, and acknowledged (redelivering it would not fix it).
The network loop runs in paho's thread; nothing here blocks it beyond a dict decode.
"""
from __future__ import annotations

import logging
import socket
import threading
import uuid
import json
from collections import Counter
from typing import Any, Callable, Iterable
from urllib.parse import urlparse

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from .bus import REJECTED_TOPIC, EventBus, Receipt, topic_matches
from .schema import PayloadError, decode

log = logging.getLogger(__name__)

__all__ = ["MqttFeed", "DEFAULT_SUBSCRIPTIONS", "DEFAULT_OUTBOUND", "parse_broker_url"]

DEFAULT_SUBSCRIPTIONS = ("pingan/alarm", "pingan/alarm/+/state", "pingan/patrol/+/position",
                         "pingan/camera/+/status", "pingan/radar/+/targets")
DEFAULT_OUTBOUND = ("pingan/alarm/+/state",)
# Published retained: the broker keeps each alarm's latest state (with the alarm) for whoever
# subscribes later — a workstation or wall that starts after the change shows it too.
DEFAULT_RETAINED = ("pingan/alarm/+/state",)


def parse_broker_url(url: str) -> tuple[str, int]:
    """``mqtt://host:port`` → (host, port); the port defaults to 1883."""
    u = urlparse(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"broker URL {url!r}: only mqtt://HOST:PORT is supported")
    if not u.hostname:
        raise ValueError(f"broker URL {url!r} has no host")
    return u.hostname, u.port or 1883


class MqttFeed:
    """One broker connection bridged into ``bus``. ``start()`` returns at once; paho connects in the background.

    ``status`` is ``"stopped"``, ``"connecting"``, ``"connected"`` or ``"reconnecting"``;
    ``on_status(status)`` (optional) is called from paho's thread on each change.
    """

    def __init__(self, bus: EventBus, host: str = "127.0.0.1", port: int = 1883, *,
                 workstation: str = "", client_id: str = "",
                 subscriptions: Iterable[str] = DEFAULT_SUBSCRIPTIONS,
                 outbound: Iterable[str] = DEFAULT_OUTBOUND, qos: int = 1, keepalive: int = 30,
                 reconnect_min_s: float = 1.0, reconnect_max_s: float = 30.0,
                 persistent: bool = True, max_queued: int = 0,
                 on_status: Callable[[str], None] | None = None,
                 retained: Iterable[str] = DEFAULT_RETAINED):
        self.bus = bus
        self.host, self.port = host, int(port)
        self.workstation = workstation or socket.gethostname()
        # A stable id is what makes the session persistent; a random one is only for
        # throwaway clients (persistent=False).
        self.client_id = client_id or (f"pingan-desk-{self.workstation}" if persistent
                                       else f"pingan-desk-{uuid.uuid4().hex[:12]}")
        self.subscriptions = tuple(subscriptions)
        self.outbound = tuple(outbound)
        self.retained = tuple(retained)
        self.qos = qos
        self.keepalive = keepalive
        self.on_status = on_status
        self.status = "stopped"
        self.counters: Counter = Counter()
        self._connected = threading.Event()
        self._subs: list = []
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                   clean_session=not persistent, protocol=paho.MQTTv311,
                                   manual_ack=True)
        self._client.reconnect_delay_set(min_delay=reconnect_min_s, max_delay=reconnect_max_s)
        self._client.max_queued_messages_set(max_queued)  # 0 = no limit: never drop a workflow change
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    @classmethod
    def from_url(cls, url: str, bus: EventBus, **kwargs: Any) -> "MqttFeed":
        host, port = parse_broker_url(url)
        return cls(bus, host, port, **kwargs)

    # --- life cycle --------------------------------------------------------------------

    def start(self) -> "MqttFeed":
        """Connect in the background (retrying with backoff until the broker answers) and bridge."""
        for f in self.outbound:
            self._subs.append(self.bus.subscribe(f, self._on_bus, owner=self))
        self._set_status("connecting")
        self._client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self._client.loop_start()
        return self

    def stop(self) -> None:
        """Disconnect cleanly (the broker keeps the session) and stop paho's thread."""
        for s in self._subs:
            s.unsubscribe()
        self._subs.clear()
        self._set_status("stopped")  # first, so the disconnect below is not taken for a failure
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
            self._connected.clear()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _set_status(self, status: str) -> None:
        if status == self.status:
            return
        self.status = status
        if self.on_status is not None:
            try:
                self.on_status(status)
            except Exception:
                log.exception("MQTT on_status callback failed")

    # --- paho callbacks (paho's thread) ------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT %s:%s refused the connection: %s", self.host, self.port, reason_code)
            self._set_status("reconnecting")
            return
        self.counters["connects"] += 1
        log.info("MQTT connected to %s:%s as %s (session present: %s)", self.host, self.port,
                 self.client_id, flags.session_present)
        # Subscribe every time: harmless when the session kept them, needed when it did not
        # (first start, or a broker that lost its persistence).
        if self.subscriptions:
            client.subscribe([(t, self.qos) for t in self.subscriptions])
        else:
            self._connected.set()
            self._set_status("connected")

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("MQTT subscription refused: %s", failed)
        self._connected.set()
        self._set_status("connected")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if self.status != "stopped":
            self.counters["disconnects"] += 1
            log.warning("MQTT disconnected from %s:%s (%s); reconnecting", self.host, self.port, reason_code)
            self._set_status("reconnecting")

    def _on_message(self, client, userdata, msg) -> None:
        topic = msg.topic
        self.counters["received"] += 1
        mid, qos = msg.mid, msg.qos
        # Ack after every holder is done (the journal commit), or at once if nobody holds it.
        receipt = Receipt(lambda: client.ack(mid, qos))
        if not msg.payload and any(topic_matches(f, topic) for f in self.retained):
            receipt.release()  # a retained state being cleared (to a subscriber: retain flag off)
            return
        try:
            try:
                payload = decode(topic, msg.payload)
            except PayloadError as err:
                self.counters["rejected"] += 1
                n = self.counters["rejected"]
                if n <= 20 or n % 1000 == 0:  # throttled: a garbage stream must not flood the log
                    log.warning("MQTT payload rejected on %s: %s (%d so far)", topic, err, n)
                self.bus.publish(REJECTED_TOPIC, {"topic": topic, "reason": err.reason,
                                                  "field": err.field, "error": str(err)},
                                 sender=self, receipt=receipt)
                return
            self.bus.publish(topic, payload, sender=self, receipt=receipt)
        except Exception:
            log.exception("MQTT message on %s could not be delivered to the bus", topic)
        finally:
            receipt.release()

    # --- outbound ------------------------------------------------------------------------

    def _on_bus(self, topic: str, payload: dict) -> None:
        # Only local publications reach here (our own inbound ones carry sender=self).
        self.publish(topic, payload, retain=any(topic_matches(f, topic) for f in self.retained))

    def clear_retained(self, topics) -> int:
        """Remove what the broker retains on each of ``topics`` (an empty retained message, the
        MQTT way to delete one): the alarm states of alarms this workstation forgot, closed
        longer ago than the retention. Without it the broker kept every state ever published
        and handed them all to each workstation that connected. Returns how many were sent."""
        n = 0
        for topic in topics:
            if not any(topic_matches(f, topic) for f in self.retained):
                raise ValueError(f"{topic!r} is not a retained topic ({', '.join(self.retained)})")
            self._client.publish(topic, b"", qos=self.qos, retain=True)
            n += 1
        self.counters["retained_cleared"] += n
        return n

    def publish(self, topic: str, payload: dict, qos: int | None = None, retain: bool = False):
        """Send a JSON payload to the broker (queued by paho while disconnected)."""
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        info = self._client.publish(topic, data, qos=self.qos if qos is None else qos, retain=retain)
        self.counters["published"] += 1
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.error("MQTT publish on %s failed: %s", topic, paho.error_string(info.rc))
        return info
