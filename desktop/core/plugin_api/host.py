"""The plugin side of the contract: the host facade protocol, the plugin base class, the manager.

A plugin gets a :class:`PluginHost` (never the main window). Everything it adds through
the host is remembered, so disabling a plugin removes all of it even when the plugin's
own ``unregister`` fails — registration and removal stay symmetric by construction. Every
hook and every callback the host hands to Qt runs through :meth:`PluginManager.guard`: an
exception is logged with the plugin's id, shown as a notice, and disables only that plugin.
"""
from __future__ import annotations

import json
import logging
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from desktop.core.i18n import add_catalog, current_locale, remove_catalog

from .discovery import discover_entry_points, discover_folders, forget_modules, import_entry
from .manifest import API_VERSION, Manifest
from .settings import validate_settings

log = logging.getLogger("pingan.plugins")


class Plugin:
    """Base class for plugins (optional: any class with ``register``/``unregister`` works).

    ``__init__(host)`` must be cheap; ``register()`` adds panels, layers, actions and
    subscriptions through ``self.host``; ``unregister()`` removes what ``register`` added
    (the host removes anything left over).
    """

    def __init__(self, host: "PluginHost"):
        self.host = host

    def register(self) -> None:  # pragma: no cover - interface
        pass

    def unregister(self) -> None:  # pragma: no cover - interface
        pass


class PluginHost:
    """The facade a plugin talks to. The Qt layer subclasses it and implements the UI calls.

    Contributions are tracked as undo callbacks; :meth:`close` runs them newest first.
    """

    api_version = API_VERSION

    def __init__(self, manifest: Manifest, manager: "PluginManager"):
        self.manifest = manifest
        self.plugin_id = manifest.id
        self._manager = manager
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self.closed = False
        self._settings_told = False

    # bookkeeping used by implementations
    def _track(self, what: str, undo: Callable[[], None]) -> None:
        self._undo.append((what, undo))

    def contributions(self) -> list[str]:
        return [what for what, _ in self._undo]

    def close(self) -> list[str]:
        """Remove every contribution; returns errors met (they never propagate)."""
        errors = []
        while self._undo:
            what, undo = self._undo.pop()
            try:
                undo()
            except Exception as exc:  # noqa: BLE001 - removal must finish whatever happens
                errors.append(f"{what}: {exc}")
        self.closed = True
        return errors

    def guard(self, fn: Callable, where: str = "callback") -> Callable:
        """Wrap a plugin callback so an exception disables this plugin instead of escaping."""
        return self._manager.guard(self.plugin_id, fn, where)

    # --- the facade: implemented by the host application -------------------------------
    @property
    def mode(self) -> str:
        return self._manager.mode

    def recall(self, key: str, default: Any = None) -> Any:
        """What this plugin remembered under ``key`` in an earlier run (see :meth:`remember`)."""
        return self._memory().recall(key, default)

    def remember(self, key: str, value: Any) -> None:
        """Keep a small JSON value for the next run: the operator's choices in the plugin's UI
        (a volume, a filter), not configuration. ValueError for what is not JSON."""
        self._memory().remember(key, value)

    def _memory(self):
        mem = getattr(self, "_mem", None)
        if mem is None:
            from .memory import PluginMemory
            mem = self._mem = PluginMemory(self.plugin_id, self._manager.memory_dir)
        return mem

    def settings(self) -> dict:
        """This plugin's settings: the configuration's ``[plugins.<id>]`` checked against the
        manifest's ``[settings]`` (every declared key present; wrong values replaced by the
        default and named in a notice, once). Without a declaration: the raw section."""
        raw = self._manager.settings.get(self.plugin_id, {})
        if not self.manifest.settings:
            return dict(raw) if isinstance(raw, dict) else {}
        values, errors = validate_settings(self.manifest.settings, raw, f"plugins.{self.plugin_id}")
        if errors and not self._settings_told:
            self._settings_told = True
            for err in errors:
                log.error("configuration: %s", err)
                self._manager.notify(f"Configuration: {err} (the default is used)", "error")
        return values

    def _check_declared(self, key: str, item_id: str) -> None:
        """Contributions must be declared in the manifest's [contributes] (so the manifest
        tells the truth about a plugin before its code runs)."""
        declared = self.manifest.contributes.get(key)
        if declared is not None and item_id not in declared:
            raise ValueError(f"{self.manifest.source}: {key[:-1] if key.endswith('s') else key} {item_id!r} "
                             f"is not declared in [contributes] {key} = {list(declared)}")

    # --- streams, layers of others, translations (Qt-free parts) -------------------------
    def stream(self, channel: str, callback: Callable[[list], None], *, topic_filter: str | None = None,
               coalesce: Callable[[Any], Any] | None = None):
        """Receive a channel's items once per frame, as one list (see :mod:`.streams`):
        ``"alarms"`` (AlarmEvents) or ``"bus"`` with a
        ``topic_filter`` (``(topic, payload)`` pairs; works live, across the feed process)."""
        hub = self._manager.hub
        if hub is None:
            raise RuntimeError("this host has no event streams")
        sub = hub.subscribe(channel, self.guard(callback, f"stream {channel} {topic_filter or ''}".strip()),
                            topic_filter=topic_filter, coalesce=coalesce)
        self._track(f"stream {channel} {topic_filter or ''}".strip(), sub.unsubscribe)
        return sub

    def find_layer(self, plugin_id: str, layer_id: str) -> Any:
        """The map layer ``layer_id`` that plugin ``plugin_id`` added, or None (it may be disabled:
        ask again later, never keep it past ``on_layer_removed``)."""
        return self._manager.layers.get((plugin_id, layer_id))

    def _register_layer(self, layer: Any) -> None:
        key = (self.plugin_id, layer.id)
        self._manager.layers[key] = layer
        self._track(f"layer registry {layer.id}", lambda: self._manager.layers.pop(key, None))

    def load_translations(self, folder: Any) -> bool:
        """Add ``<folder>/<locale>.json`` (``{"English": "译文"}``) for the active locale; taken out
        again when the plugin is disabled. False when there is no catalog for the locale."""
        from pathlib import Path
        path = Path(folder) / f"{current_locale()}.json"
        if current_locale() == "en" or not path.exists():
            return False
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            add_catalog(entries, owner=self.plugin_id)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a translation catalog: {exc}") from None
        self._track("translations", lambda: remove_catalog(self.plugin_id))
        return True

    def subscribe(self, topic_filter: str, callback: Callable[[str, dict], None]):
        """Receive bus messages (on the GUI thread in the Qt host)."""
        raise NotImplementedError

    def publish(self, topic: str, payload: dict) -> None:
        raise NotImplementedError

    def add_panel(self, panel_id: str, title: str, widget: Any, area: str = "right") -> Any:
        raise NotImplementedError

    def add_map_layer(self, layer: Any) -> None:
        raise NotImplementedError

    def add_action(self, action_id: str, text: str, callback: Callable[[], None],
                   shortcut: str | None = None, menu: str = "tools") -> Any:
        raise NotImplementedError

    def add_toolbar_action(self, action_id: str, text: str, callback: Callable[[], None], *,
                           checkable: bool = False, tooltip: str = "") -> Any:
        """A button on this plugin's toolbar (made on first use, removed on disable)."""
        raise NotImplementedError

    def add_feature_action(self, action_id: str, text: str, callback: Callable[[Any], None],
                           kinds: tuple[str, ...] | list[str] = ()) -> None:
        """An entry in the map's context menu (right click) on a feature whose ``Hit.kind`` is in
        ``kinds`` (all kinds when empty); ``callback(hit)`` runs when it is chosen."""
        raise NotImplementedError

    def run_in_background(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
                          on_error: Callable[[BaseException], None] | None = None,
                          what: str = "background work") -> Any:
        """Run ``fn()`` off the GUI thread; ``on_done(result)`` / ``on_error(exc)`` run on the GUI
        thread afterwards (dropped if the plugin was disabled meanwhile). Without ``on_error`` a
        failure is shown as a notice naming ``what`` (it does not disable the plugin: the work may
        have failed for reasons outside it, like an unreadable file). Returns a future."""
        raise NotImplementedError

    def open_cameras(self, camera_ids: list[str]) -> int:
        raise NotImplementedError

    def show_notice(self, text: str, level: str = "info") -> None:
        raise NotImplementedError

    def timer(self, interval_ms: int, callback: Callable[[], None]) -> Any:
        """A repeating timer on the GUI thread, stopped when the plugin is disabled."""
        raise NotImplementedError

    def on_map_selected(self, callback: Callable[[Any], None]) -> None:
        """Be told when the operator selects something on the map (a hit, or None)."""
        raise NotImplementedError

    def select_on_map(self, hit: Any) -> None:
        """Select (highlight) a feature on the map, as a click would."""
        raise NotImplementedError

    def center_map(self, x: float, y: float, min_scale: float | None = None) -> None:
        """Centre the map on map coordinates (``service('projection')`` converts), zooming in
        to at least ``min_scale`` pixels per map unit when given."""
        raise NotImplementedError

    def ensure_visible(self, x: float, y: float, inner: float = 0.8) -> bool:
        """Move the map only if (x, y) lies outside the middle ``inner`` of the view; True if it moved."""
        raise NotImplementedError

    def service(self, name: str) -> Any:
        """A shared core service by name (``alarms``, ``district``, ``clock``, ``bus``…), or None."""
        return self._manager.services.get(name)


@dataclass
class PluginRecord:
    """What the manager knows of one discovered plugin (what the plugin manager dialog shows)."""

    manifest: Manifest
    state: str = "discovered"  # discovered | enabling | enabled | disabled | failed | not-for-mode | blocked
    load_ms: float | None = None
    last_error: str = ""
    instance: Any = None
    host: PluginHost | None = None

    @property
    def id(self) -> str:
        return self.manifest.id


class PluginManager:
    """Discovers, enables, isolates and disables plugins."""

    def __init__(self, host_class: type[PluginHost] = PluginHost, mode: str = "operator",
                 disabled: list[str] | None = None, settings: dict | None = None,
                 services: dict | None = None,
                 notify: Callable[[str, str], None] | None = None,
                 defer: Callable[[Callable[[], None]], None] | None = None, hub: Any = None,
                 memory_dir: Any = None):
        self.host_class = host_class
        #: where plugins' remembered values are kept (``PluginHost.remember``); None: this run only
        self.memory_dir = memory_dir
        self.mode = mode
        self.disabled_by_config = set(disabled or [])
        self.settings = settings or {}
        self.services = services if services is not None else {}
        self.notify = notify or (lambda text, level: None)
        self.defer = defer or (lambda fn: fn())
        self.records: dict[str, PluginRecord] = {}
        self.discovery_errors: list[str] = []
        self.hub = hub  # StreamHub shared by every plugin's streams (None: no streams)
        self.layers: dict[tuple[str, str], Any] = {}  # (plugin id, layer id) -> layer, for find_layer
        self.host_factory: Callable[[Manifest, "PluginManager"], PluginHost] = host_class

    # --- discovery -------------------------------------------------------------------------
    def discover(self, folders, entry_points: bool = True) -> list[PluginRecord]:
        manifests, errors = discover_folders(folders)
        if entry_points:
            m2, e2 = discover_entry_points()
            manifests += m2
            errors += e2
        for m in manifests:
            if m.id in self.records:
                errors.append(f"{m.source}: plugin id {m.id!r} already provided by {self.records[m.id].manifest.source}")
                continue
            rec = PluginRecord(m)
            if m.api != API_VERSION:
                rec.state, rec.last_error = "blocked", f"needs plugin API {m.api}, host has {API_VERSION}"
            elif self.mode not in m.modes:
                rec.state = "not-for-mode"
            elif m.id in self.disabled_by_config:
                rec.state = "disabled"
            self.records[m.id] = rec
        for err in errors:
            log.error("plugin discovery: %s", err)
        self.discovery_errors += errors
        return list(self.records.values())

    # --- life cycle ------------------------------------------------------------------------
    def enable_all(self) -> None:
        for rec in self._in_dependency_order():
            if rec.state == "discovered":
                self.enable(rec.id)

    def _in_dependency_order(self) -> list[PluginRecord]:
        order, seen = [], set()

        def visit(rec, stack=()):
            if rec.id in seen:
                return
            for dep in rec.manifest.requires:
                if dep in self.records and dep not in stack:
                    visit(self.records[dep], stack + (rec.id,))
            seen.add(rec.id)
            order.append(rec)
        for rec in self.records.values():
            visit(rec)
        return order

    def enable(self, plugin_id: str) -> bool:
        rec = self.records[plugin_id]
        if rec.state == "enabled":
            return True
        missing = [d for d in rec.manifest.requires
                   if d not in self.records or self.records[d].state != "enabled"]
        if missing:
            rec.state, rec.last_error = "blocked", f"requires {', '.join(missing)} (not enabled)"
            self.notify(f"Plugin {rec.manifest.name}: {rec.last_error}", "warning")
            return False
        t0 = time.perf_counter()
        rec.state = "enabling"
        rec.host = self.host_factory(rec.manifest, self)
        try:
            cls = import_entry(rec.manifest)
            rec.instance = cls(rec.host)
            rec.instance.register()
        except Exception as exc:  # noqa: BLE001 - a plugin must never take the host down
            self._failed(rec, exc, "register")
            return False
        rec.load_ms = (time.perf_counter() - t0) * 1000.0
        rec.state, rec.last_error = "enabled", ""
        log.info("plugin %s enabled in %.1f ms", plugin_id, rec.load_ms)
        return True

    def disable(self, plugin_id: str, state: str = "disabled") -> None:
        rec = self.records[plugin_id]
        # dependants go first, so nothing runs against a removed plugin
        for other in self.records.values():
            if plugin_id in other.manifest.requires and other.state == "enabled":
                self.disable(other.id, "blocked")
                other.last_error = f"requires {plugin_id}, which was {state}"
        if rec.instance is not None and rec.state == "enabled":
            try:
                rec.instance.unregister()
            except Exception as exc:  # noqa: BLE001
                rec.last_error = f"unregister: {exc}"
                log.error("plugin %s: unregister failed: %s", plugin_id, traceback.format_exc())
        if rec.host is not None:
            for err in rec.host.close():
                log.error("plugin %s: cleanup: %s", plugin_id, err)
        rec.instance, rec.host = None, None
        forget_modules(rec.manifest)
        rec.state = state

    def unload_all(self) -> None:
        for rec in reversed(self._in_dependency_order()):
            if rec.state == "enabled":
                self.disable(rec.id)

    # --- isolation -------------------------------------------------------------------------
    def guard(self, plugin_id: str, fn: Callable, where: str) -> Callable:
        def guarded(*args, **kwargs):
            rec = self.records.get(plugin_id)
            if rec is None or rec.state not in ("enabled", "enabling"):
                return None  # a late callback of a disabled plugin: drop it
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001
                self._failed(rec, exc, where)
                return None
        guarded.__wrapped__ = fn
        return guarded

    def _failed(self, rec: PluginRecord, exc: BaseException, where: str) -> None:
        rec.last_error = f"{where}: {type(exc).__name__}: {exc}"
        log.error("plugin %s failed in %s:\n%s", rec.id, where,
                  "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self.notify(f"Plugin {rec.manifest.name} failed ({rec.last_error}) and was disabled", "error")
        was_enabled = rec.state == "enabled"

        def shut():
            if was_enabled:
                self.disable(rec.id, "failed")
            else:
                if rec.host is not None:
                    rec.host.close()
                rec.instance, rec.host = None, None
                forget_modules(rec.manifest)
                rec.state = "failed"
            rec.last_error = rec.last_error or f"{where}: {exc}"
        rec.state = "failed" if not was_enabled else rec.state
        self.defer(shut)

    def failing_plugin_for(self, tb) -> str | None:
        """The id of the enabled folder plugin whose code is in a traceback, if any."""
        frames = traceback.extract_tb(tb)
        for frame in reversed(frames):
            for rec in self.records.values():
                folder = rec.manifest.folder
                if folder is not None and rec.state == "enabled" and frame.filename.startswith(str(folder)):
                    return rec.id
        return None
