"""Is there an MQTT broker at this URL? The Settings dialog's "Test" button (Qt-free).

A real MQTT CONNECT with a throw-away client id (clean session: it leaves nothing on the
broker), waiting for the CONNACK, so "connected" means a broker answered, not merely that
something listens on the port.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from desktop.core.i18n import tr
from desktop.core.user_settings import SettingsError, check_broker_url


@dataclass(frozen=True)
class ProbeResult:
    """What the probe found: ``ok``, a sentence for the operator, the round trip in ms."""

    ok: bool
    message: str
    ms: float = 0.0


def probe_broker(url: str, timeout_s: float = 3.0) -> ProbeResult:
    """Connect to ``url`` (mqtt://HOST:PORT), wait for the broker's answer, disconnect."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    try:
        host, port, tls = check_broker_url(url)
    except SettingsError as exc:
        return ProbeResult(False, str(exc))
    done = threading.Event()
    outcome: dict = {}

    def on_connect(_c, _u, _flags, reason, _props=None):
        outcome["reason"] = reason
        done.set()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pingan-probe-{uuid.uuid4().hex[:8]}",
                         clean_session=True)
    client.on_connect = on_connect
    if tls:
        client.tls_set()
    t0 = time.perf_counter()
    try:
        client.connect_timeout = timeout_s
        client.connect(host, port, keepalive=10)  # the TCP part: a refusal raises at once
        client.loop_start()
        if not done.wait(timeout_s):
            return ProbeResult(False, tr("no answer from {host}:{port} within {s:.0f} s", host=host, port=port, s=timeout_s))
        reason = outcome["reason"]
        ms = (time.perf_counter() - t0) * 1000.0
        if getattr(reason, "is_failure", False):
            return ProbeResult(False, tr("{host}:{port} refused the connection: {reason}", host=host, port=port,
                                                 reason=reason), ms)
        return ProbeResult(True, tr("connected to {host}:{port} in {ms:.0f} ms", host=host, port=port, ms=ms), ms)
    except OSError as exc:
        return ProbeResult(False, tr("cannot reach {host}:{port}: {err}", host=host, port=port,
                                              err=exc.strerror or exc))
    finally:
        try:
            client.disconnect()
        except Exception:  # noqa: BLE001 - not connected: nothing to close
            pass
        client.loop_stop()
