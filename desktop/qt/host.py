"""The Qt implementation of the plugin host facade, and the GUI-thread message pump.

Bus messages arrive on whatever thread published them (paho's network thread, the
scenario player). :class:`GuiPump` queues them and a timer delivers them on the GUI
thread once per frame, in one batch, so a flood costs one update per frame.
"""
from __future__ import annotations

import collections
import logging
import sys
import threading
from typing import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QToolBar

from desktop.core.plugin_api.host import PluginHost, PluginManager

log = logging.getLogger("pingan.host")

AREAS = {"right": Qt.RightDockWidgetArea, "left": Qt.LeftDockWidgetArea,
         "bottom": Qt.BottomDockWidgetArea, "top": Qt.TopDockWidgetArea}


def _reraise(exc: BaseException) -> None:
    raise exc


class GuiPump(QObject):
    """Thread-safe queue of callbacks, drained on the GUI thread every ``interval_ms``.

    Not bounded, on purpose: a plugin's subscription must not lose messages, and at most
    ``max_per_tick`` run per tick so a burst is spread over frames. Subscribers that must
    take a flood (the alarm panel) read the alarm service's coalescing outbox instead of
    getting one call per message.
    """

    def __init__(self, interval_ms: int = 33, max_per_tick: int = 5000, parent=None):
        super().__init__(parent)
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self.max_per_tick = max_per_tick
        self.delivered = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    def post(self, fn: Callable, *args) -> None:
        with self._lock:
            self._queue.append((fn, args))

    def drain(self) -> int:
        n = 0
        while n < self.max_per_tick:
            with self._lock:
                if not self._queue:
                    break
                fn, args = self._queue.popleft()
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - guarded callbacks handle plugin errors; this is a last net
                log.exception("GUI delivery failed")
            n += 1
        self.delivered += n
        return n

    def pending(self) -> int:
        return len(self._queue)


class QtPluginHost(PluginHost):
    """What a plugin may touch: docks, map layers, actions, the bus, the wall, notices."""

    def __init__(self, manifest, manager: PluginManager, window, bus, pump: GuiPump):
        super().__init__(manifest, manager)
        self._window = window
        self._bus = bus
        self._pump = pump
        self._toolbar = None
        self._futures: set = set()

    def subscribe(self, topic_filter: str, callback: Callable[[str, dict], None]):
        """One call per message, on the GUI thread, live as offline (through the stream hub;
        prefer :meth:`stream` for floods: one call per frame)."""
        if self._manager.hub is not None:
            def each(items, cb=callback):
                for topic, payload in items:
                    cb(topic, payload)
            return self.stream("bus", each, topic_filter=topic_filter)
        guarded = self.guard(callback, f"message on {topic_filter}")
        sub = self._bus.subscribe(topic_filter, lambda topic, payload: self._pump.post(guarded, topic, payload))
        self._track(f"subscription {topic_filter}", sub.unsubscribe)
        return sub

    def publish(self, topic: str, payload: dict) -> None:
        self._bus.publish(topic, payload)

    def add_panel(self, panel_id: str, title: str, widget, area: str = "right"):
        self._check_declared("panels", panel_id)
        dock = self._window.add_dock(f"{self.plugin_id}.{panel_id}", title, widget, AREAS.get(area, AREAS["right"]))
        self._window.menu_view.addAction(dock.toggleViewAction())
        if area in ("bottom", "top"):  # a strip under the map, not half the screen
            self._window.resizeDocks([dock], [max(220, int(self._window.height() * 0.3))], Qt.Vertical)
        self._track(f"panel {panel_id}", lambda: (self._window.menu_view.removeAction(dock.toggleViewAction()),
                                                  self._window.remove_dock(dock)))
        return dock

    def add_map_layer(self, layer) -> None:
        self._check_declared("map_layers", layer.id)
        # a layer's paint and hit-test run inside Qt's paint/mouse events: guard them here
        layer.paint = self.guard(layer.paint, f"paint of layer {layer.id}")
        layer.hit_test = self.guard(layer.hit_test, f"hit-test of layer {layer.id}")
        # a static layer paints on the map's render thread, unguarded (disabling a plugin
        # there would touch widgets off the GUI thread); its failure comes back through this
        layer.paint_failed = self.guard(_reraise, f"paint of layer {layer.id}")
        self._window.add_map_layer(layer)
        self._track(f"map layer {layer.id}", lambda: self._window.remove_map_layer(layer))
        self._register_layer(layer)

    def add_action(self, action_id: str, text: str, callback: Callable[[], None],
                   shortcut: str | None = None, menu: str = "tools"):
        self._check_declared("actions", action_id)
        action = QAction(text, self._window)
        action.setObjectName(f"{self.plugin_id}.{action_id}")
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ApplicationShortcut)
        action.triggered.connect(self.guard(lambda *_: callback(), f"action {action_id}"))
        target = {"tools": self._window.menu_tools, "view": self._window.menu_view,
                  "file": self._window.menu_file}.get(menu, self._window.menu_tools)
        target.addAction(action)
        self._window.addAction(action)  # shortcuts work wherever focus is

        def undo():
            target.removeAction(action)
            self._window.removeAction(action)
            action.deleteLater()
        self._track(f"action {action_id}", undo)
        return action

    def add_toolbar_action(self, action_id: str, text: str, callback: Callable[[], None], *,
                           checkable: bool = False, tooltip: str = ""):
        self._check_declared("toolbar", action_id)
        if self._toolbar is None:
            from desktop.core.i18n import current_locale
            bar = QToolBar(self.manifest.display_name(current_locale()), self._window)
            bar.setObjectName(f"toolbar-{self.plugin_id}")
            self._window.addToolBar(Qt.TopToolBarArea, bar)
            self._toolbar = bar

            def undo():
                self._window.removeToolBar(bar)
                bar.deleteLater()
                self._toolbar = None
            self._track("toolbar", undo)
        action = QAction(text, self._toolbar)
        action.setObjectName(f"{self.plugin_id}.{action_id}")
        action.setCheckable(checkable)
        if tooltip:
            action.setToolTip(tooltip)
        action.triggered.connect(self.guard(lambda *_: callback(), f"toolbar {action_id}"))
        self._toolbar.addAction(action)
        return action

    def add_feature_action(self, action_id: str, text: str, callback: Callable[[object], None],
                           kinds=()) -> None:
        self._check_declared("feature_actions", action_id)
        entry = (f"{self.plugin_id}.{action_id}", text, tuple(kinds),
                 self.guard(callback, f"map menu {action_id}"))
        self._window.feature_actions.append(entry)
        self._track(f"map menu {action_id}", lambda: self._window.feature_actions.remove(entry)
                    if entry in self._window.feature_actions else None)

    def run_in_background(self, fn: Callable[[], object], on_done=None, on_error=None,
                          what: str = "background work"):
        done = self.guard(on_done, f"{what} (result)") if on_done is not None else None
        failed = self.guard(on_error, f"{what} (error)") if on_error is not None else None
        plugin_name = self.manifest.name
        future = _executor().submit(fn)
        futures = self._futures
        futures.add(future)

        def finish(f):  # on the GUI thread
            futures.discard(f)
            if f.cancelled() or self.closed:
                return
            exc = f.exception()
            if exc is None:
                if done is not None:
                    done(f.result())
            elif failed is not None:
                failed(exc)
            else:
                log.error("plugin %s: %s failed: %s", self.plugin_id, what, exc)
                self._window.show_notice(f"{plugin_name}: {what} failed: {exc}", "error")
        future.add_done_callback(lambda f: self._pump.post(finish, f))
        self._track(f"background {what}", lambda: future.cancel())
        return future

    def timer(self, interval_ms: int, callback: Callable[[], None]) -> QTimer:
        """A repeating GUI timer owned by the plugin (stopped when it is disabled)."""
        t = QTimer(self._window)
        t.setInterval(interval_ms)
        t.timeout.connect(self.guard(callback, "timer"))
        t.start()
        self._track("timer", lambda: (t.stop(), t.deleteLater()))
        return t

    def open_cameras(self, camera_ids: list[str]) -> int:
        return self._window.open_camera_ids(*camera_ids)

    def show_notice(self, text: str, level: str = "info") -> None:
        self._window.show_notice(text, level)

    def on_map_selected(self, callback: Callable[[object], None]) -> None:
        """Be told when the operator selects something on the map (a ``Hit``, or None)."""
        guarded = self.guard(callback, "map selection")
        self._window.canvas.selected.connect(guarded)
        self._track("map selection listener", lambda: self._window.canvas.selected.disconnect(guarded))

    def select_on_map(self, hit) -> None:
        """Select (highlight) a feature on the map, as a click would."""
        self._window.canvas.selection = hit
        self._window.canvas.update()

    def ensure_visible(self, x: float, y: float, inner: float = 0.8) -> bool:
        """Centre the map on (x, y) only when it lies outside the middle ``inner`` of the view;
        returns True when the map moved (moving re-renders the map, so don't without need)."""
        vp = self._window.canvas.vp
        sx, sy = vp.to_screen(x, y)
        mx, my = vp.width * (1 - inner) / 2, vp.height * (1 - inner) / 2
        if mx <= sx <= vp.width - mx and my <= sy <= vp.height - my:
            return False
        self._window.canvas.center_on(x, y)
        return True

    def center_map(self, x: float, y: float, min_scale: float | None = None) -> None:
        """Centre the map on map coordinates (see ``service('projection')`` to convert)."""
        self._window.canvas.center_on(x, y, min_scale)


class _WorkPool:
    """Daemon threads running plugins' background work. Two stay (this is a 2-core class of
    PC and the GUI thread must keep one); when every thread is busy a job gets an extra one, up
    to ``max_workers``, which ends after ``idle_s`` without work. Without the extras one
    plugin's long job (the statistics history, half a minute) would hold every other plugin's
    short work (a patrol ranking) behind it. Daemon: a plugin's endless job never blocks the exit.
    """

    def __init__(self, workers: int = 2, max_workers: int = 6, idle_s: float = 5.0):
        import queue
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._core = workers
        self._max = max(workers, max_workers)
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._seq = 0
        for _ in range(workers):
            self._start(core=True)

    def _start(self, core: bool) -> None:
        # under self._lock, or before any job exists
        self._threads += 1
        self._seq += 1
        threading.Thread(target=self._run, args=(core,), name=f"plugin-work-{self._seq}", daemon=True).start()

    def submit(self, fn):
        import concurrent.futures
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._queue.put((fut, fn))
            # a job waiting beyond the idle threads gets a thread of its own (within the cap)
            if self._queue.qsize() > self._idle and self._threads < self._max:
                self._start(core=False)
        return fut

    def busy(self) -> tuple[int, int]:
        """(threads, idle threads) now — for tests and the soak benchmark."""
        with self._lock:
            return self._threads, self._idle

    def _run(self, core: bool) -> None:
        import queue
        while True:
            with self._lock:
                self._idle += 1
            try:
                fut, fn = self._queue.get(timeout=None if core else self._idle_s)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._queue.qsize() == 0:
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the plugin's on_error
                fut.set_exception(exc)


_POOL: _WorkPool | None = None


def _executor() -> _WorkPool:
    global _POOL
    if _POOL is None:
        _POOL = _WorkPool()
    return _POOL


class StreamPump(QObject):
    """Once per frame: pull the sources (the alarm service's drain) into the hub, then deliver
    every stream subscriber's batch. One timer for all plugins."""

    def __init__(self, hub, sources=(), interval_ms: int = 33, parent=None):
        super().__init__(parent)
        self.hub = hub
        self.sources = list(sources)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    def tick(self) -> int:
        for source in self.sources:
            try:
                source.pump()
            except Exception:  # noqa: BLE001 - a failing source must not stop the others
                log.exception("stream source failed")
        return self.hub.deliver()

    def stop(self) -> None:
        self._timer.stop()


def install_plugin_excepthook(manager: PluginManager) -> None:
    """Exceptions raised in plugin code called by Qt itself (paint events, slots) disable that plugin."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        pid = manager.failing_plugin_for(tb)
        if pid is not None:
            manager._failed(manager.records[pid], exc, "Qt event")
            return
        previous(exc_type, exc, tb)
    sys.excepthook = hook
