"""What a plugin remembers for the operator between runs (Qt-free): the alarm sound's volume
and mute, a panel's last filter — small choices made in the UI, not configuration.

One JSON file per plugin (``<folder>/<plugin id>.json``), written whole to a temporary name
and renamed, so a crash never leaves half a file. A file that cannot be read is set aside
(``.unreadable``) and the plugin starts from its defaults, with a warning in the log. Values
must be JSON (numbers, strings, booleans, lists, objects); a file is kept under 64 KB.

Without a folder (tests, tools) the memory lives for the process only.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_BYTES = 64 * 1024
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


class PluginMemory:
    """The remembered values of one plugin; ``recall``/``remember`` are thread-safe."""

    def __init__(self, plugin_id: str, folder: Path | str | None = None):
        if not _ID.match(plugin_id or ""):
            raise ValueError(f"plugin id {plugin_id!r} cannot name a file")
        self.plugin_id = plugin_id
        self.path = Path(folder) / f"{plugin_id}.json" if folder is not None else None
        self._lock = threading.Lock()
        self._values: dict[str, Any] = self._load()

    def _load(self) -> dict:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return data
        except (OSError, ValueError) as exc:
            aside = self.path.with_name(self.path.name + ".unreadable")
            log.warning("plugin %s: its remembered values (%s) could not be read (%s); moved to %s, "
                        "the defaults are used", self.plugin_id, self.path, exc, aside.name)
            try:
                os.replace(self.path, aside)
            except OSError:
                pass
            return {}

    def recall(self, key: str, default: Any = None) -> Any:
        """The value remembered under ``key``, or ``default``."""
        with self._lock:
            return self._values.get(str(key), default)

    def remember(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` (and on disk at once). Raises ValueError for a value
        that is not JSON, or one that would make the file larger than :data:`MAX_BYTES`."""
        key = str(key)
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"plugin {self.plugin_id}: {key!r} cannot be remembered: {exc}") from None
        with self._lock:
            values = dict(self._values)
            values[key] = value
            text = json.dumps(values, ensure_ascii=False, indent=1, sort_keys=True)
            if len(text.encode("utf-8")) > MAX_BYTES:
                raise ValueError(f"plugin {self.plugin_id}: remembered values over {MAX_BYTES // 1024} KB")
            if values.get(key, object()) == self._values.get(key, object()) and key in self._values:
                return  # unchanged: no write (a slider sends every step)
            self._values = values
            if self.path is None:
                return
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(f"{self.path.name}.tmp{os.getpid()}")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, self.path)
            except OSError as exc:  # a full or read-only disk: the value holds for this run
                log.warning("plugin %s: could not save %s (%s)", self.plugin_id, self.path, exc)
