"""The ``[wall]`` section of the configuration file (Qt-free).

```toml
[wall]
id = "main"              # which wall this PC drives (pingan/wall/<id>/...), default "main"
screens = [1, 2]         # indices of the desktop's screens it covers; [] = all of them
span = true              # one window over all of them (true) or one per screen (false)
bezel_px = [36, 36]      # pixels hidden by the frames between screens (columns, rows)
takeover_priorities = [1]
dwell_s = 20             # an alarm preset stays at least this long
timeout_s = 600          # ... and at most this long without being resolved
window = false           # operator mode: also open a wall window in this program (single PC)
```

An unknown key or a wrong type is an error naming ``wall.<key>``, like the rest of the file.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WallConfig", "parse_wall_section"]


@dataclass
class WallConfig:
    """The wall settings of one PC (see the module docstring)."""

    id: str = ""
    screens: tuple = ()
    span: bool = True
    bezel_px: tuple = (0, 0)
    takeover_priorities: tuple = (1,)
    dwell_s: float = 20.0
    timeout_s: float = 600.0
    window: bool = False


def _fail(where, key: str, msg: str):
    from desktop.core.config import ConfigError
    raise ConfigError(f"{where}: wall.{key} {msg}")


def parse_wall_section(data: dict, where="config") -> WallConfig:
    cfg = WallConfig()
    if not isinstance(data, dict):
        _fail(where, "", "must be a table")
    for key, v in data.items():
        if key == "id":
            if not isinstance(v, str) or not v or "/" in v or "+" in v or "#" in v:
                _fail(where, key, "must be a non-empty name without / + #")
            cfg.id = v
        elif key == "screens":
            if not isinstance(v, list) or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in v):
                _fail(where, key, "must be a list of screen indices (0, 1, ...)")
            cfg.screens = tuple(v)
        elif key in ("span", "window"):
            if not isinstance(v, bool):
                _fail(where, key, "must be true or false")
            setattr(cfg, key, v)
        elif key == "bezel_px":
            if isinstance(v, int) and not isinstance(v, bool):
                v = [v, v]
            if not isinstance(v, list) or len(v) != 2 or not all(isinstance(i, int) and 0 <= i <= 500 for i in v):
                _fail(where, key, "must be [columns, rows] in pixels (0..500), or one number")
            cfg.bezel_px = tuple(v)
        elif key == "takeover_priorities":
            if not isinstance(v, list) or not all(isinstance(i, int) and 1 <= i <= 4 for i in v):
                _fail(where, key, "must be a list of priorities 1..4 ([] = alarms never take the wall)")
            cfg.takeover_priorities = tuple(v)
        elif key in ("dwell_s", "timeout_s"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 86400:
                _fail(where, key, "must be seconds (0..86400)")
            setattr(cfg, key, float(v))
        else:
            _fail(where, key, "is not a known key (id, screens, span, bezel_px, takeover_priorities, "
                              "dwell_s, timeout_s, window)")
    return cfg
