"""Plugin manifests (``plugin.toml``): what a plugin is and contributes, read without importing it.

Example::

    id = "alarms"
    name = "Alarm panel"
    name_zh_CN = "警情面板"
    version = "1.0.0"
    api = 1
    entry = "panel:AlarmsPlugin"     # module (relative to the plugin folder) : class
    requires = []                      # ids of plugins that must be enabled first
    modes = ["operator", "training"]   # where it runs (default: all)
    description = "Alarm queue, workflow and linkage"

    [contributes]
    panels = ["alarm_queue"]
    map_layers = ["alarms"]
    actions = ["alarms.acknowledge", "alarms.next"]
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .settings import SettingsError, parse_settings

API_VERSION = 1  # bump when the host facade changes incompatibly
_ID = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
MODES = ("operator", "wall", "training")


class ManifestError(ValueError):
    """A plugin.toml that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Manifest:
    """A plugin's identity, requirements and contributions."""

    id: str
    name: str
    version: str
    api: int
    entry: str
    requires: tuple[str, ...] = ()
    modes: tuple[str, ...] = MODES
    description: str = ""
    contributes: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)  # locale → translated name
    settings: tuple = ()  # SettingSpec per declared [settings.<key>] (see .settings)
    source: str = ""  # folder path, or "entry-point:<dist>"
    folder: Path | None = None  # where relative entry modules live (None: absolute module path)

    def display_name(self, locale: str = "en") -> str:
        return self.names.get(locale, self.name)


def parse_manifest(data: dict, source: str, folder: Path | None = None) -> Manifest:
    """Validate a manifest mapping; raises :class:`ManifestError` naming the bad key."""
    def need(key, kind):
        if key not in data:
            raise ManifestError(f"{source}: '{key}' is required")
        if not isinstance(data[key], kind):
            raise ManifestError(f"{source}: '{key}' must be {kind.__name__}")
        return data[key]

    pid = need("id", str)
    if not _ID.match(pid):
        raise ManifestError(f"{source}: id {pid!r} must be lower-case letters, digits, '_', '.', '-'")
    name = need("name", str)
    version = need("version", str)
    api = need("api", int)
    entry = need("entry", str)
    if ":" not in entry:
        raise ManifestError(f"{source}: entry {entry!r} must be 'module:Class'")
    requires = data.get("requires", [])
    modes = data.get("modes", list(MODES))
    for key, value in (("requires", requires), ("modes", modes)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ManifestError(f"{source}: '{key}' must be a list of strings")
    bad = [m for m in modes if m not in MODES]
    if bad:
        raise ManifestError(f"{source}: unknown mode(s) {bad} (expected {', '.join(MODES)})")
    contributes = data.get("contributes", {})
    if not isinstance(contributes, dict):
        raise ManifestError(f"{source}: [contributes] must be a table")
    for key in ("panels", "map_layers", "actions", "toolbar", "feature_actions"):
        value = contributes.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ManifestError(f"{source}: contributes.{key} must be a list of strings")
    names = {k[len("name_"):]: v for k, v in data.items() if k.startswith("name_") and isinstance(v, str)}
    try:
        settings = parse_settings(data.get("settings"), source)
    except SettingsError as exc:
        raise ManifestError(str(exc)) from None
    return Manifest(id=pid, name=name, version=version, api=api, entry=entry, requires=tuple(requires),
                    modes=tuple(modes), description=str(data.get("description", "")),
                    contributes=contributes, names=names, settings=settings, source=source, folder=folder)


def read_manifest(path: Path) -> Manifest:
    """Read ``plugin.toml`` at ``path``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    return parse_manifest(data, str(path), folder=path.parent)
