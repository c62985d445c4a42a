"""The in-process event bus: MQTT-style topics and wildcards, without a network.

Feeds publish on it (the MQTT adapter bridges the broker into it, the scenario player
replays a timeline onto it) and consumers subscribe (the alarm service, the patrol layer).
With no broker configured the bus *is* the message fabric, so the rest of the program
never knows whether a message came from the network or from a script.

Delivery is synchronous, in the publisher's thread: a subscriber that has real work to do
(parsing, a journal write) should hand the message to its own queue and return. A
subscriber that raises is logged and skipped; the others still get the message.

Two additions to plain MQTT semantics, both optional:

* ``sender``/``owner``: a subscription never receives what its own owner published, which
  is how a bridge avoids echoing a message back where it came from.
* ``receipt``: a completion token that lets the original producer learn when every
  interested subscriber has finished with a message (the MQTT adapter acknowledges a QoS 1
  message to the broker only after the alarm journal has committed it).
"""
from __future__ import annotations

import inspect
import logging
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

__all__ = ["EventBus", "Subscription", "Receipt", "topic_matches", "validate_filter",
           "REJECTED_TOPIC"]

# Where feeds report a payload they could not even decode (bad UTF-8, not JSON), so the
# rejection counters live in one place (the alarm service). A leading "$" keeps it out of
# "#" and "+/..." subscriptions, as MQTT does for "$SYS", and out of any broker bridge.
REJECTED_TOPIC = "$pingan/rejected"


def validate_filter(topic_filter: str) -> None:
    """Raise ValueError unless ``topic_filter`` is a valid MQTT topic filter."""
    if not isinstance(topic_filter, str) or not topic_filter:
        raise ValueError("topic filter must be a non-empty string")
    levels = topic_filter.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            raise ValueError(f"topic filter {topic_filter!r}: '#' must be a whole last level")
        if "+" in level and level != "+":
            raise ValueError(f"topic filter {topic_filter!r}: '+' must be a whole level")


def _validate_topic(topic: str) -> None:
    if not isinstance(topic, str) or not topic:
        raise ValueError("topic must be a non-empty string")
    if "+" in topic or "#" in topic:
        raise ValueError(f"topic {topic!r}: wildcards are for subscriptions, not for publishing")


def topic_matches(topic_filter: str, topic: str) -> bool:
    """MQTT matching: ``+`` is one level, ``#`` the rest (including none); ``$`` topics need an explicit first level."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    f_levels = topic_filter.split("/")
    t_levels = topic.split("/")
    for i, f in enumerate(f_levels):
        if f == "#":
            return True
        if i >= len(t_levels):
            return False
        if f != "+" and f != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)


class Receipt:
    """A completion token passed along with a message: ``on_done`` runs once, when every holder let go.

    The producer creates it (holding one reference), publishes, then :meth:`release`\\ s its
    own reference. A subscriber that finishes the work later calls :meth:`hold` while it
    is being called and :meth:`release` when done. Thread-safe; extra releases are ignored.
    """

    __slots__ = ("_count", "_lock", "_on_done")

    def __init__(self, on_done: Callable[[], Any]):
        self._count = 1
        self._lock = threading.Lock()
        self._on_done = on_done

    def hold(self) -> "Receipt":
        with self._lock:
            if self._count > 0:
                self._count += 1
        return self

    def release(self) -> None:
        with self._lock:
            if self._count <= 0:
                return
            self._count -= 1
            done = self._count == 0
        if done:
            try:
                self._on_done()
            except Exception:  # the producer's problem, never the consumer's
                log.exception("receipt completion callback failed")

    @property
    def done(self) -> bool:
        return self._count <= 0


class Subscription:
    """A live subscription; call :meth:`unsubscribe` (or ``bus.unsubscribe(sub)``) to end it."""

    __slots__ = ("bus", "topic_filter", "callback", "owner", "wants_receipt", "active")

    def __init__(self, bus: "EventBus", topic_filter: str, callback: Callable, owner: Any,
                 wants_receipt: bool):
        self.bus = bus
        self.topic_filter = topic_filter
        self.callback = callback
        self.owner = owner
        self.wants_receipt = wants_receipt
        self.active = True

    def unsubscribe(self) -> None:
        self.bus.unsubscribe(self)

    def __repr__(self) -> str:
        return f"Subscription({self.topic_filter!r}, active={self.active})"


def _takes_receipt(callback: Callable) -> bool:
    try:
        params = inspect.signature(callback).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 3 or any(p.kind == p.VAR_POSITIONAL for p in params)


class EventBus:
    """Thread-safe publish/subscribe with MQTT topic filters; payloads are dicts.

    Callbacks are ``callback(topic, payload)``, or ``callback(topic, payload, receipt)``
    when they accept a third argument (see :class:`Receipt`).
    """

    def __init__(self, name: str = "bus"):
        self.name = name
        self._lock = threading.Lock()
        # Copy-on-write: publish iterates a snapshot without the lock, so callbacks may
        # subscribe or unsubscribe, and a slow subscriber never blocks a subscribe call.
        self._subs: tuple[Subscription, ...] = ()
        self.errors = 0  # subscriber exceptions, for diagnostics

    def subscribe(self, topic_filter: str, callback: Callable, *, owner: Any = None) -> Subscription:
        """Deliver every message whose topic matches ``topic_filter`` to ``callback``.

        ``owner``: messages published with the same ``sender`` are not delivered here.
        """
        validate_filter(topic_filter)
        if not callable(callback):
            raise TypeError("callback must be callable")
        sub = Subscription(self, topic_filter, callback, owner, _takes_receipt(callback))
        with self._lock:
            self._subs = self._subs + (sub,)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """End a subscription; a message being delivered right now may still reach it once."""
        with self._lock:
            sub.active = False
            self._subs = tuple(s for s in self._subs if s is not sub)

    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._subs

    def publish(self, topic: str, payload: dict, *, sender: Any = None,
                receipt: Receipt | None = None) -> int:
        """Deliver ``payload`` to every matching subscriber; returns how many got it."""
        _validate_topic(topic)
        if not isinstance(payload, dict):
            raise TypeError(f"payload for {topic!r} must be a dict, got {type(payload).__name__}")
        delivered = 0
        for sub in self._subs:
            if not sub.active or (sender is not None and sub.owner is sender):
                continue
            if not topic_matches(sub.topic_filter, topic):
                continue
            try:
                if sub.wants_receipt:
                    sub.callback(topic, payload, receipt)
                else:
                    sub.callback(topic, payload)
                delivered += 1
            except Exception:
                self.errors += 1
                log.exception("%s: subscriber %r failed on topic %s", self.name, sub.callback, topic)
        return delivered
