"""How workstations and walls talk: retained layouts and states over MQTT, or in-process (Qt-free).

Topics (QoS 1):

* ``pingan/wall/<wall>/layout`` — retained: the layout document the wall must show. A wall
  that (re)connects gets the latest one from the broker at once.
* ``pingan/wall/<wall>/state`` — retained, published by the wall: ``{"wall", "online",
  "applied_revision", "layout_name", "showing" ("layout" | "alarm"), "alarm", "visible_revision",
  "visible_at", "tiles": [{"region", "tile", "camera", "state"}], "version", "time"}``. Its last
  will (retained) is the same object with ``"online": false`` and ``"reason": "connection lost"``,
  so every workstation sees a wall that died without saying goodbye.
* the wall also reads ``pingan/alarm`` and the retained ``pingan/alarm/<id>/state`` for its ticker
  and its alarm presets.

:class:`MqttWallChannel` is one paho connection (its own thread, reconnecting with backoff);
:class:`LocalWallChannel` does the same within one process (a single PC without a broker,
where a second window of the operator program is the wall): it keeps the "retained" layout and
state per wall in memory. Both call back from their own thread; the Qt side marshals.
"""
from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Callable

from .layout import LayoutError, WallLayout, parse_layout

log = logging.getLogger(__name__)

__all__ = ["layout_topic", "state_topic", "STATE_FILTER", "offline_state", "parse_state_payload",
           "MqttWallChannel", "LocalWallChannel"]

STATE_FILTER = "pingan/wall/+/state"


def layout_topic(wall: str) -> str:
    return f"pingan/wall/{wall}/layout"


def state_topic(wall: str) -> str:
    return f"pingan/wall/{wall}/state"


def wall_of(topic: str) -> str:
    parts = topic.split("/")
    return parts[2] if len(parts) == 4 and parts[:2] == ["pingan", "wall"] else ""


def offline_state(wall: str, reason: str) -> dict:
    return {"wall": wall, "online": False, "reason": reason, "time": time.time()}


def parse_state_payload(topic: str, payload: bytes) -> dict | None:
    """A wall state from the broker as a dict, or None when it is not one (logged)."""
    if not payload:
        return None  # a cleared retained state: the wall was decommissioned
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        log.warning("wall state on %s is not JSON: %s", topic, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("online"), bool):
        log.warning("wall state on %s has no boolean 'online'", topic)
        return None
    data["wall"] = wall_of(topic) or str(data.get("wall", ""))
    return data


LayoutCb = Callable[[WallLayout], None]
ErrorCb = Callable[[str], None]
StateCb = Callable[[str, dict], None]
RawCb = Callable[[str, bytes], None]


class MqttWallChannel:
    """One broker connection for the wall side (``wall=`` given: layout in, state out with a last
    will) or the workstation side (layouts out, every wall's state in).

    ``on_layout(layout)`` / ``on_layout_error(text)`` — a layout for our wall arrived (valid or not);
    ``on_wall_state(wall, state)`` — a wall's state changed; ``on_message(topic, payload)`` — any
    other subscribed topic (``extra_topics``: the wall's alarm feeds); ``on_status(status)``.
    """

    def __init__(self, host: str, port: int, *, wall: str = "", client_id: str = "",
                 extra_topics=(), on_layout: LayoutCb | None = None, on_layout_error: ErrorCb | None = None,
                 on_wall_state: StateCb | None = None, on_message: RawCb | None = None,
                 on_status: Callable[[str], None] | None = None, reconnect_max_s: float = 10.0,
                 keepalive: int = 10):
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.host, self.port, self.wall = host, int(port), wall
        self.on_layout, self.on_layout_error = on_layout, on_layout_error
        self.on_wall_state, self.on_message, self.on_status = on_wall_state, on_message, on_status
        self.status = "stopped"
        self._connected = threading.Event()
        self._last_state: dict | None = None
        # A clean session: everything a wall needs is retained, and two programs on one PC
        # (a workstation and its wall) must never share an id, or the broker drops one of them.
        cid = client_id or f"pingan-wall-{wall or 'ws'}-{uuid.uuid4().hex[:8]}"
        self._paho = paho
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=cid, clean_session=True,
                                  protocol=paho.MQTTv311)
        self.client.reconnect_delay_set(0.5, reconnect_max_s)
        self.client.max_queued_messages_set(0)
        self.keepalive = keepalive
        self.topics = [STATE_FILTER] if not wall else [layout_topic(wall)]
        self.topics += list(extra_topics)
        if wall:
            will = json.dumps({**offline_state(wall, "connection lost"), "time": None}).encode()
            self.client.will_set(state_topic(wall), will, qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_msg

    @classmethod
    def from_url(cls, url: str, **kw) -> "MqttWallChannel":
        from desktop.core.feeds.mqtt import parse_broker_url
        host, port = parse_broker_url(url)
        return cls(host, port, **kw)

    def start(self) -> "MqttWallChannel":
        self._set_status("connecting")
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()
        return self

    def stop(self, reason: str = "stopped") -> None:
        """Say goodbye (a wall marks itself offline, retained) and disconnect."""
        was = self.status
        self._set_status("stopped")
        try:
            if self.wall and was == "connected":
                info = self.client.publish(state_topic(self.wall), json.dumps(offline_state(self.wall, reason)),
                                           qos=1, retain=True)
                info.wait_for_publish(2.0)
        except (RuntimeError, ValueError):
            pass
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            if self.on_status:
                try:
                    self.on_status(status)
                except Exception:  # noqa: BLE001 - a view's callback must not kill paho's thread
                    log.exception("wall link status callback failed")

    # -- paho thread ----------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, rc, props) -> None:
        if rc.is_failure:
            self._set_status("reconnecting")
            return
        client.subscribe([(t, 1) for t in self.topics])
        self._connected.set()
        if self.wall and self._last_state is not None:
            self.publish_state(self._last_state)  # replaces the last will the broker may have sent
        self._set_status("connected")

    def _on_disconnect(self, client, userdata, flags, rc, props) -> None:
        self._connected.clear()
        if self.status != "stopped":
            self._set_status("reconnecting")

    def _on_msg(self, client, userdata, msg) -> None:
        try:
            self._dispatch(msg.topic, bytes(msg.payload))
        except Exception:  # noqa: BLE001
            log.exception("wall link: message on %s could not be handled", msg.topic)

    def _dispatch(self, topic: str, payload: bytes) -> None:
        if self.wall and topic == layout_topic(self.wall):
            if not payload:
                return  # retained layout cleared: keep what we show
            try:
                layout = parse_layout(payload, wall=self.wall)
            except LayoutError as exc:
                log.warning("wall layout on %s rejected: %s", topic, exc)
                if self.on_layout_error:
                    self.on_layout_error(str(exc))
                return
            if self.on_layout:
                self.on_layout(layout)
        elif topic.startswith("pingan/wall/") and topic.endswith("/state"):
            state = parse_state_payload(topic, payload)
            if state is not None and self.on_wall_state:
                self.on_wall_state(state["wall"], state)
        elif self.on_message:
            self.on_message(topic, payload)

    # -- outbound -------------------------------------------------------------------------
    def publish_layout(self, layout: WallLayout):
        """Send a layout to its wall (retained: the wall gets it whenever it connects)."""
        return self.client.publish(layout_topic(layout.wall), layout.dumps(), qos=1, retain=True)

    def publish_state(self, state: dict):
        """Publish the wall's state (retained). While the broker is away only the latest state is
        kept, and sent on reconnect: paho would queue every state made offline and deliver the
        stale ones first, so a watcher would read what the wall showed minutes ago."""
        self._last_state = dict(state)
        if not self._connected.is_set():
            return None
        data = json.dumps(state, ensure_ascii=False, separators=(",", ":"))
        return self.client.publish(state_topic(self.wall), data, qos=1, retain=True)


class LocalWallChannel:
    """The same exchange inside one process: a workstation window and its wall window.

    Retained semantics are kept: a wall that subscribes gets the last layout sent to it, a
    workstation that subscribes gets every wall's last state."""

    def __init__(self):
        self._lock = threading.Lock()
        self._layouts: dict[str, bytes] = {}
        self._states: dict[str, dict] = {}
        self._layout_subs: dict[str, list] = {}
        self._state_subs: list = []
        self.status = "connected"

    def subscribe_layouts(self, wall: str, on_layout: LayoutCb, on_error: ErrorCb | None = None) -> None:
        with self._lock:
            self._layout_subs.setdefault(wall, []).append((on_layout, on_error))
            last = self._layouts.get(wall)
        if last is not None:
            self._deliver(wall, last, [(on_layout, on_error)])

    def subscribe_states(self, on_wall_state: StateCb) -> None:
        with self._lock:
            self._state_subs.append(on_wall_state)
            states = list(self._states.items())
        for wall, st in states:
            on_wall_state(wall, st)

    def publish_layout(self, layout: WallLayout) -> None:
        data = layout.dumps()  # through the same encoding as over MQTT: one format, one parser
        with self._lock:
            self._layouts[layout.wall] = data
            subs = list(self._layout_subs.get(layout.wall, ()))
        self._deliver(layout.wall, data, subs)

    def publish_state(self, wall: str, state: dict) -> None:
        with self._lock:
            self._states[wall] = dict(state)
            subs = list(self._state_subs)
        for cb in subs:
            cb(wall, dict(state))

    @staticmethod
    def _deliver(wall: str, data: bytes, subs) -> None:
        try:
            layout = parse_layout(data, wall=wall)
        except LayoutError as exc:
            for _ok, err in subs:
                if err:
                    err(str(exc))
            return
        for ok, _err in subs:
            ok(layout)
