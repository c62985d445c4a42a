"""Plugin settings declared in the manifest and validated by the host (Qt-free).

A plugin says what it can be configured with, in ``plugin.toml``::

    [settings.ack_target_s]
    type = "float"          # bool | int | float | str | list[int] | list[float] | list[str]
    default = 60.0
    min = 1                 # numbers (and every item of a list of numbers)
    max = 3600
    description = "An urgent alarm unacknowledged this long is overdue"

    [settings.mode]
    type = "str"
    default = "auto"
    choices = ["auto", "manual"]

The operator's values come from ``[plugins.<id>]`` in the configuration. The host checks
them against the declaration before the plugin sees them: a wrong value is replaced by
the default and named in a notice (``plugins.alarms.ack_target_s: a number 1…3600, not
'soon'``), an unknown key is named too, and nothing else is lost — a typo never takes a
panel away. The plugin gets a plain dict with every declared key present.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SettingSpec", "SettingsError", "parse_settings", "validate_settings", "TYPES"]

TYPES = ("bool", "int", "float", "str", "list[int]", "list[float]", "list[str]")


class SettingsError(ValueError):
    """A ``[settings]`` declaration that cannot be used; names the plugin and the key."""


@dataclass(frozen=True)
class SettingSpec:
    """One declared setting: its type, default and limits."""

    key: str
    type: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    description: str = ""

    def check(self, value: Any) -> str | None:
        """None when ``value`` is acceptable, else what is wrong (for the notice)."""
        base, is_list = (self.type[5:-1], True) if self.type.startswith("list[") else (self.type, False)
        if is_list:
            if not isinstance(value, list):
                return f"a list of {_noun(base)}, not {value!r}"
            for v in value:
                why = self._check_one(base, v)
                if why is not None:
                    return f"a list of {_noun(base)}{self._limits()} (item {v!r}: {why})"
            return None
        why = self._check_one(base, value)
        return None if why is None else f"{_noun(base, one=True)}{self._limits()}, not {value!r}"

    def _check_one(self, base: str, v: Any) -> str | None:
        if base == "bool":
            return None if isinstance(v, bool) else "not true or false"
        if base in ("int", "float"):
            ok = (isinstance(v, int) if base == "int" else isinstance(v, (int, float))) and not isinstance(v, bool)
            if not ok:
                return "not a whole number" if base == "int" else "not a number"
            if v != v:  # NaN
                return "not a number"
            if self.min is not None and v < self.min:
                return f"below {self.min:g}"
            if self.max is not None and v > self.max:
                return f"above {self.max:g}"
        if base == "str" and not isinstance(v, str):
            return "not text"
        if self.choices is not None and v not in self.choices:
            return f"not one of {', '.join(map(str, self.choices))}"
        return None

    def _limits(self) -> str:
        if self.choices is not None:
            return f" ({' | '.join(map(str, self.choices))})"
        if self.min is not None and self.max is not None:
            return f" {self.min:g}…{self.max:g}"
        if self.min is not None:
            return f" ≥ {self.min:g}"
        if self.max is not None:
            return f" ≤ {self.max:g}"
        return ""

    def coerce(self, value: Any) -> Any:
        """An accepted value in its declared type (ints given for floats become floats)."""
        if self.type == "float":
            return float(value)
        if self.type == "list[float]":
            return [float(v) for v in value]
        if isinstance(value, list):
            return list(value)
        return value


def _noun(base: str, one: bool = False) -> str:
    names = {"bool": ("true or false", "true/false values"), "int": ("a whole number", "whole numbers"),
             "float": ("a number", "numbers"), "str": ("text", "texts")}
    return names[base][0 if one else 1]


def parse_settings(data: Any, source: str) -> tuple[SettingSpec, ...]:
    """The ``[settings]`` table of a manifest; raises :class:`SettingsError` naming the bad key."""
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise SettingsError(f"{source}: [settings] must be a table of tables")
    out = []
    for key, decl in data.items():
        where = f"{source}: settings.{key}"
        if not isinstance(decl, dict):
            raise SettingsError(f"{where} must be a table with 'type' and 'default'")
        kind = decl.get("type")
        if kind not in TYPES:
            raise SettingsError(f"{where}: type must be one of {', '.join(TYPES)}, not {kind!r}")
        if "default" not in decl:
            raise SettingsError(f"{where}: 'default' is required")
        unknown = set(decl) - {"type", "default", "min", "max", "choices", "description"}
        if unknown:
            raise SettingsError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        for lim in ("min", "max"):
            if lim in decl and (isinstance(decl[lim], bool) or not isinstance(decl[lim], (int, float))):
                raise SettingsError(f"{where}: {lim} must be a number")
        choices = decl.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise SettingsError(f"{where}: choices must be a list")
        spec = SettingSpec(key=key, type=kind, default=decl["default"], min=decl.get("min"),
                           max=decl.get("max"), choices=tuple(choices) if choices is not None else None,
                           description=str(decl.get("description", "")))
        why = spec.check(spec.default)
        if why is not None:
            raise SettingsError(f"{where}: the default must be {why}")
        out.append(spec)
    return tuple(out)


def validate_settings(specs: tuple[SettingSpec, ...], values: dict | None, section: str) -> tuple[dict, list[str]]:
    """Declared defaults overlaid with the configured ``values``; and one message per key that
    was wrong or unknown (that key keeps its default). ``section`` names the config table."""
    out = {s.key: s.coerce(s.default) for s in specs}
    errors: list[str] = []
    by_key = {s.key: s for s in specs}
    if values is not None and not isinstance(values, dict):
        return out, [f"{section}: must be a table of settings, not {values!r}"]
    for key, value in (values or {}).items():
        spec = by_key.get(key)
        if spec is None:
            known = ", ".join(sorted(by_key)) or "none"
            errors.append(f"{section}: unknown key {key!r} (known: {known})")
            continue
        why = spec.check(value)
        if why is not None:
            errors.append(f"{section}.{key}: {why}")
            continue
        out[key] = spec.coerce(value)
    return out, errors
