"""Workstation configuration: a TOML file (``--config``) merged under command-line options.

Every key is optional; an unknown key or a wrong type is an error that names the key, so a
typo in a control-room config is caught at start, not silently ignored.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from desktop.core.geo.crs import CRSError, normalize_crs


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message names the key."""


@dataclass
class Config:
    """What a workstation is set to do. Defaults give the embedded offline demo."""

    mode: str = "operator"
    district: str = ""  # folder or adcode; "" = the bundled default
    broker: str = ""  # mqtt://host:port; "" = in-process bus and scenario player
    scenario: str = ""  # training / demo scenario folder; "" = the district's own
    locale: str = ""  # "" = PINGAN_LANG or the system's
    workstation: str = ""  # id used in published workflow changes; "" = hostname
    operator: str = ""  # who is on duty; "" = the login name
    instance: str = ""  # name of this instance on the PC ("" = the first free slot: "", "2", "3"…)
    map_datum: str = "GCJ02"  # datum of the map plane (GCJ02 lines up with AMap-style tiles)
    coord_crs: str = "GCJ02"  # CRS of the coordinates shown in the status bar
    tiles: str = ""  # optional raster basemap: an .mbtiles file or an XYZ folder {z}/{x}/{y}.png
    wall_id: str = "main"  # which wall a wall-mode instance shows
    wall: object = None  # the [wall] section (desktop.core.wall.settings.WallConfig); None = defaults
    patrol_retention_days: float = 30.0  # patrol fixes older than this are deleted ([patrol] retention_days)
    decode_processes: int = 2  # tiles decode in this many decoder processes ([video]); 0: threads of the GUI's
    plugins_disabled: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # sections owned by plugins ([plugins.<id>])

    MODES = ("operator", "wall", "training")

    def validate(self) -> "Config":
        if self.mode not in self.MODES:
            raise ConfigError(f"mode: {self.mode!r} is not one of {', '.join(self.MODES)}")
        for key in ("map_datum", "coord_crs"):
            try:
                setattr(self, key, normalize_crs(getattr(self, key)))
            except CRSError as exc:
                raise ConfigError(f"{key}: {exc}") from None
        if self.broker and not self.broker.startswith(("mqtt://", "mqtts://")):
            raise ConfigError(f"broker: {self.broker!r} must look like mqtt://HOST:PORT")
        return self


_SECTIONS = {"map": {"datum": "map_datum", "coord_crs": "coord_crs", "tiles": "tiles"},
             "mqtt": {"broker": "broker"}, "patrol": {"retention_days": "patrol_retention_days"},
             "video": {"decode_processes": "decode_processes"}}


def load_config(path: str | Path | None) -> Config:
    """Read a TOML config; None gives the defaults."""
    cfg = Config()
    if not path:
        return cfg.validate()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    names = {f.name: f for f in fields(Config)} 
    for key, value in data.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [{key}] must be a table")
            for sub, sval in value.items():
                if sub not in _SECTIONS[key]:
                    raise ConfigError(f"{path}: unknown key {key}.{sub}")
                _set(cfg, _SECTIONS[key][sub], sval, path, f"{key}.{sub}")
        elif key == "plugins":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [plugins] must be a table")
            disabled = value.get("disabled", [])
            if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
                raise ConfigError(f"{path}: plugins.disabled must be a list of plugin ids")
            cfg.plugins_disabled = disabled
            cfg.extra = {k: v for k, v in value.items() if k != "disabled"}
        elif key == "wall":
            from desktop.core.wall.settings import parse_wall_section
            cfg.wall = parse_wall_section(value, path)
            if cfg.wall.id:
                cfg.wall_id = cfg.wall.id
        elif key in names and key not in ("extra", "plugins_disabled", "wall"):
            _set(cfg, key, value, path, key)
        else:
            raise ConfigError(f"{path}: unknown key {key!r}")
    return cfg.validate()


def _set(cfg: Config, attr: str, value, path: Path, label: str) -> None:
    default = getattr(Config, attr, None)
    if isinstance(default, int) and not isinstance(default, bool):  # a count
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 64:
            raise ConfigError(f"{path}: {label} must be a whole number from 0 to 64, got {value!r}")
        setattr(cfg, attr, value)
        return
    if isinstance(default, float):  # a number of days, seconds…
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigError(f"{path}: {label} must be a number above 0, got {value!r}")
        setattr(cfg, attr, float(value))
        return
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {label} must be a string, got {type(value).__name__}")
    setattr(cfg, attr, value)
