"""Event streams for plugins: many subscribers, each with its own cursor, one call per frame.

Producers (the alarm service's outbox, the bus, the feed process's forwarded messages)
publish into a :class:`StreamHub` from any thread. Once per frame the GUI calls
:meth:`StreamHub.deliver`, and every subscriber whose filter matched something gets ONE
call with the list of what arrived since its last call — so a flood of 1,000 messages a
second costs each subscriber about 30 calls a second, not 1,000, and two subscribers never
steal each other's events (the alarm service's ``drain()`` has exactly one reader: the hub).

Each channel is a bounded log. A subscriber too slow to keep up (or a plugin that raised and
is being disabled) does not hold memory: past ``capacity`` items the oldest are dropped, and
the subscriber's ``lost`` counter says how many it missed — counted, never silent.

Qt-free: the Qt host drives :meth:`deliver` from a frame timer; tests call it directly.
"""
from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Callable, Iterable

from desktop.core.feeds.bus import topic_matches, validate_filter

log = logging.getLogger("pingan.streams")

__all__ = ["StreamHub", "StreamSubscription", "CHANNELS", "AlarmSource", "BusLink", "RemoteLink"]

# "bus": (topic, payload) messages from the feeds (MQTT or the scenario), topic-filtered —
#        the patrol service's findings among them, on pingan/patrol/events;
# "alarms": AlarmEvent batches as the alarm service drains them.
CHANNELS = ("bus", "alarms")


class StreamSubscription:
    """One subscriber's place in a channel. ``unsubscribe()`` is idempotent."""

    def __init__(self, hub: "StreamHub", channel: str, callback: Callable[[list], Any],
                 topic_filter: str | None, coalesce: Callable[[Any], Any] | None, cursor: int):
        self.hub = hub
        self.channel = channel
        self.callback = callback
        self.topic_filter = topic_filter
        self.coalesce = coalesce
        self.cursor = cursor  # sequence number of the next item this subscriber has not seen
        self.calls = 0
        self.delivered = 0
        self.lost = 0
        self.active = True

    def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            self.hub._remove(self)

    def __repr__(self) -> str:
        return f"<StreamSubscription {self.channel} {self.topic_filter or '*'} calls={self.calls} lost={self.lost}>"


class _Log:
    """A bounded append-only log: ``items[i]`` has sequence number ``base + i``."""

    __slots__ = ("items", "base")

    def __init__(self) -> None:
        self.items: list[tuple[str | None, Any]] = []
        self.base = 0

    @property
    def end(self) -> int:
        return self.base + len(self.items)


class StreamHub:
    """Thread-safe publish, GUI-thread delivery. See the module text."""

    def __init__(self, capacity: int = 100_000):
        self.capacity = capacity
        self._lock = threading.Lock()
        self._logs: dict[str, _Log] = {c: _Log() for c in CHANNELS}
        self._subs: list[StreamSubscription] = []
        self._filters: dict[str, int] = {}  # bus topic filter -> subscribers using it
        self._filter_listeners: list[Callable[[set[str]], None]] = []
        self.published = dict.fromkeys(CHANNELS, 0)
        self.dropped = dict.fromkeys(CHANNELS, 0)
        self._ids = itertools.count()

    # --- producers (any thread) ----------------------------------------------------------
    def wants(self, topic: str) -> bool:
        """True when some subscriber's filter matches ``topic`` (bus messages nobody wants are not kept)."""
        with self._lock:
            filters = list(self._filters)
        return any(topic_matches(f, topic) for f in filters)

    def publish(self, channel: str, item: Any, topic: str | None = None) -> None:
        self.publish_many(channel, ((topic, item),))

    def publish_many(self, channel: str, items: Iterable[tuple[str | None, Any]]) -> None:
        """Append ``(topic, item)`` pairs to ``channel`` (topic None for non-bus channels)."""
        lg = self._logs[channel]
        with self._lock:
            before = len(lg.items)
            lg.items.extend(items)
            self.published[channel] += len(lg.items) - before
            self._trim(channel, lg)

    def publish_messages(self, messages: Iterable[tuple[str, dict]]) -> None:
        """Bus messages ``(topic, payload)``: those no subscriber's filter wants are skipped."""
        with self._lock:
            filters = list(self._filters)
        if not filters:
            return
        keep = [(t, p) for t, p in messages if any(topic_matches(f, t) for f in filters)]
        if keep:
            self.publish_many("bus", keep)

    def _trim(self, channel: str, lg: _Log) -> None:
        # Drop what every subscriber of the channel has seen; beyond capacity, the oldest
        # whatever the subscribers (they count it as lost when they next look).
        subs = [s for s in self._subs if s.channel == channel]
        low = min((s.cursor for s in subs), default=lg.end)
        cut = max(low - lg.base, len(lg.items) - self.capacity, 0)
        if cut and (cut >= 4096 or cut == len(lg.items) or len(lg.items) > self.capacity):
            if low - lg.base < cut:
                self.dropped[channel] += cut - max(low - lg.base, 0)
            del lg.items[:cut]
            lg.base += cut

    # --- subscribers (GUI thread) --------------------------------------------------------
    def subscribe(self, channel: str, callback: Callable[[list], Any], *, topic_filter: str | None = None,
                  coalesce: Callable[[Any], Any] | None = None) -> StreamSubscription:
        """Call ``callback(items)`` once per frame with what arrived since the last call.

        ``channel``: one of :data:`CHANNELS`. For ``"bus"`` a ``topic_filter`` (MQTT syntax)
        is required and items are ``(topic, payload)``; for the others items are the events.
        ``coalesce(item) -> key``: keep only the newest item per key in each call (e.g. the
        latest position per unit), in the order of their last arrival.
        """
        if channel not in self._logs:
            raise ValueError(f"unknown stream channel {channel!r} (expected one of {', '.join(CHANNELS)})")
        if channel == "bus":
            if not topic_filter:
                raise ValueError("a bus stream needs a topic filter")
            validate_filter(topic_filter)
        with self._lock:
            sub = StreamSubscription(self, channel, callback, topic_filter, coalesce, self._logs[channel].end)
            self._subs.append(sub)
            changed = False
            if channel == "bus":
                changed = topic_filter not in self._filters
                self._filters[topic_filter] = self._filters.get(topic_filter, 0) + 1
        if changed:
            self._filters_changed()
        return sub

    def _remove(self, sub: StreamSubscription) -> None:
        changed = False
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            if sub.channel == "bus" and sub.topic_filter in self._filters:
                self._filters[sub.topic_filter] -= 1
                if self._filters[sub.topic_filter] <= 0:
                    del self._filters[sub.topic_filter]
                    changed = True
            self._trim(sub.channel, self._logs[sub.channel])
        if changed:
            self._filters_changed()

    def topic_filters(self) -> set[str]:
        """The bus topic filters some subscriber wants (what a feed process must forward)."""
        return set(self._filters)

    def on_filters_changed(self, listener: Callable[[set[str]], None]) -> None:
        self._filter_listeners.append(listener)

    def _filters_changed(self) -> None:
        filters = self.topic_filters()
        for listener in list(self._filter_listeners):
            try:
                listener(filters)
            except Exception:  # noqa: BLE001 - a feed that cannot be told retries on its own
                log.exception("stream filter listener failed")

    def subscriptions(self) -> tuple[StreamSubscription, ...]:
        return tuple(self._subs)

    def deliver(self) -> int:
        """One frame: give every subscriber what is new for it. Returns the calls made.

        Callbacks run outside the lock (a callback may publish or subscribe). An exception
        in one callback is logged and does not stop the others; the Qt host wraps plugin
        callbacks so such an exception disables only that plugin.
        """
        calls = 0
        with self._lock:
            work = []
            for sub in self._subs:
                lg = self._logs[sub.channel]
                if sub.cursor < lg.base:
                    sub.lost += lg.base - sub.cursor
                    sub.cursor = lg.base
                if sub.cursor >= lg.end:
                    continue
                chunk = lg.items[sub.cursor - lg.base:]
                sub.cursor = lg.end
                work.append((sub, chunk))
            for channel, lg in self._logs.items():
                self._trim(channel, lg)
        for sub, chunk in work:
            if not sub.active:
                continue
            if sub.channel == "bus":
                f = sub.topic_filter
                items = [(t, p) for t, p in chunk if topic_matches(f, t)]
            else:
                items = [p for _, p in chunk]
            if sub.coalesce is not None and len(items) > 1:
                latest: dict = {}
                for it in items:
                    key = sub.coalesce(it)
                    latest.pop(key, None)  # re-inserted last: order of last arrival
                    latest[key] = it
                items = list(latest.values())
            if not items:
                continue
            sub.calls += 1
            sub.delivered += len(items)
            calls += 1
            try:
                sub.callback(items)
            except Exception:  # noqa: BLE001 - one subscriber's failure is not the others'
                log.exception("stream subscriber %r failed", sub)
        return calls

    def stats(self) -> dict:
        """Published, dropped and per-subscriber counts (for the benchmark and the plugin dialog)."""
        with self._lock:
            return {"published": dict(self.published), "dropped": dict(self.dropped),
                    "backlog": {c: lg.end - min((s.cursor for s in self._subs if s.channel == c), default=lg.end)
                                for c, lg in self._logs.items()},
                    "subscribers": [(s.channel, s.topic_filter, s.calls, s.delivered, s.lost) for s in self._subs]}


# --- wiring the hub to the sources of one session ------------------------------------------
class AlarmSource:
    """The one reader of the alarm service's ``drain()``: puts its events on the ``alarms``
    channel, so any number of plugins can read them. ``pump()`` runs once per frame."""

    def __init__(self, hub: StreamHub, service: Any, max_items: int = 20000):
        self.hub = hub
        self.service = service
        self.max_items = max_items

    def pump(self) -> int:
        events = self.service.drain(self.max_items)
        if events:
            self.hub.publish_many("alarms", ((None, e) for e in events))
        return len(events)


class BusLink:
    """Feeds the hub's ``bus`` channel from an in-process :class:`~desktop.core.feeds.bus.EventBus`.

    Subscribed (to ``#``, filtered by the hub) only while some plugin wants bus messages;
    one subscription, so a message two filters match is still kept once."""

    def __init__(self, hub: StreamHub, bus: Any):
        self.hub = hub
        self.bus = bus
        self._sub: Any = None
        self._lock = threading.Lock()
        hub.on_filters_changed(self._update)
        self._update(hub.topic_filters())

    def _update(self, filters: set[str]) -> None:
        with self._lock:
            if filters and self._sub is None:
                self._sub = self.bus.subscribe("#", lambda topic, payload: self.hub.publish_messages(((topic, payload),)))
            elif not filters and self._sub is not None:
                self._sub.unsubscribe()
                self._sub = None

    def close(self) -> None:
        self._update(set())


class RemoteLink:
    """Feeds the hub's ``bus`` channel from a feed process: tells it which filters to forward and
    takes what it forwards (see :meth:`~desktop.core.alarms.remote.RemoteAlarmService.forward`)."""

    def __init__(self, hub: StreamHub, remote: Any):
        self.hub = hub
        self.remote = remote
        remote.on_messages = hub.publish_messages
        hub.on_filters_changed(remote.forward)
        if hub.topic_filters():
            remote.forward(hub.topic_filters())
