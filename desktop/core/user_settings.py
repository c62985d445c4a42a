"""What an operator sets in the Settings dialog, and the window layout, Qt-free.

The values live in a key/value store: QSettings in the program (``desktop.qt.settings_store``),
a dict in tests. Precedence at start-up, highest first: the command line, the ``--config``
file, these saved settings, the defaults — so a site's managed config file still wins over
what someone clicked, and a workstation without one remembers its operator's choices.

The window layout (geometry, docks, splitter) is kept per mode as opaque bytes from Qt;
:func:`clamp_to_screens` puts a restored window back on the screens that exist now (a
laptop undocked from the control-room monitors must not open its window off-screen).
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Iterable, Protocol

from desktop.core.i18n import tr

LANGUAGES = ("zh_CN", "en")
#: theme id -> (type scale). One palette (the dark control-room one) in two type sizes.
THEMES = {"dark": 1.0, "dark-large": 1.25}
SETTINGS_VERSION = 1
LAYOUT_VERSION = 1


class SettingsError(ValueError):
    """A setting that cannot be used; ``field`` names it (for the dialog to point at)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{tr(field)}: {message}")
        self.field = field


class SettingsStore(Protocol):
    """Where settings are kept: QSettings in the program, a dict in tests."""

    def value(self, key: str, default=None): ...
    def set_value(self, key: str, value) -> None: ...
    def remove(self, key: str) -> None: ...
    def sync(self) -> None: ...


class DictStore:
    """A settings store in memory (tests, and a program run with settings switched off)."""

    def __init__(self, data: dict | None = None):
        self.data = dict(data or {})

    def value(self, key: str, default=None):
        return self.data.get(key, default)

    def set_value(self, key: str, value) -> None:
        self.data[key] = value

    def remove(self, key: str) -> None:
        for k in [k for k in self.data if k == key or k.startswith(key + "/")]:
            del self.data[k]

    def sync(self) -> None:
        pass


@dataclass
class UserSettings:
    """The operator's choices. An empty string means "not set here" (the default applies)."""

    broker: str = ""     # mqtt://HOST:PORT; "" = the offline demo
    language: str = ""   # zh_CN | en; "" = PINGAN_LANG or the system's
    theme: str = "dark"  # a key of THEMES
    wall_id: str = ""    # which wall this workstation's wall mode shows; "" = "main"
    operator: str = ""   # who is put on duty at start; "" = the login name

    def validate(self) -> "UserSettings":
        """Normalise and check every field; raises :class:`SettingsError` naming the first bad one."""
        self.broker = self.broker.strip()
        if self.broker:
            check_broker_url(self.broker)
        if self.language and self.language not in LANGUAGES:
            raise SettingsError("language", tr("{value} is not one of {choices}", value=repr(self.language),
                                                  choices=", ".join(LANGUAGES)))
        if self.theme not in THEMES:
            raise SettingsError("theme", tr("{value} is not one of {choices}", value=repr(self.theme),
                                               choices=", ".join(THEMES)))
        self.wall_id = self.wall_id.strip()
        if self.wall_id and not all(c.isalnum() or c in "-_." for c in self.wall_id):
            raise SettingsError("wall_id", tr("use letters, digits, '-', '_' or '.' (it is part of MQTT topics)"))
        self.operator = " ".join(self.operator.split())
        if len(self.operator) > 64:
            raise SettingsError("operator", tr("at most {n} characters", n=64))
        return self

    # -- the store -------------------------------------------------------------------------
    @classmethod
    def load(cls, store: SettingsStore) -> tuple["UserSettings", list[str]]:
        """Read the saved settings; a bad saved value is dropped (its default kept) and
        named in the returned problems, the others load."""
        out, problems = cls(), []
        for f in fields(cls):
            raw = store.value(f"settings/{f.name}")
            if raw is None:
                continue
            trial = cls(**{**out.__dict__, f.name: str(raw)})
            try:
                trial.validate()
            except SettingsError as exc:
                problems.append(tr("Saved setting dropped: {err}", err=exc))
                continue
            setattr(out, f.name, getattr(trial, f.name))
        return out, problems

    def save(self, store: SettingsStore) -> None:
        self.validate()
        store.set_value("settings/version", SETTINGS_VERSION)
        for f in fields(self):
            store.set_value(f"settings/{f.name}", getattr(self, f.name))
        store.sync()

    def apply_to(self, cfg) -> list[str]:
        """Fill what the command line and config file left unset in ``cfg`` (a
        :class:`~desktop.core.config.Config`); returns the names of the fields taken from here."""
        taken = []
        for mine, theirs, unset in (("broker", "broker", ""), ("language", "locale", ""),
                                    ("operator", "operator", ""), ("wall_id", "wall_id", "main")):
            value = getattr(self, mine)
            if value and getattr(cfg, theirs) == unset:
                setattr(cfg, theirs, value)
                taken.append(theirs)
        return taken

    @property
    def type_scale(self) -> float:
        return THEMES.get(self.theme, 1.0)


def check_broker_url(url: str) -> tuple[str, int, bool]:
    """``mqtt://HOST:PORT`` (or ``mqtts://``) → (host, port, tls); SettingsError("broker") otherwise."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise SettingsError("broker", tr("{url} is not a URL: {err}", url=repr(url), err=exc)) from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise SettingsError("broker", tr("{url} must start with mqtt:// or mqtts://", url=repr(url)))
    if not parts.hostname:
        raise SettingsError("broker", tr("{url} has no host", url=repr(url)))
    if parts.path not in ("", "/") or parts.query:
        raise SettingsError("broker", tr("{url}: only mqtt://HOST:PORT, no path or query", url=repr(url)))
    tls = parts.scheme == "mqtts"
    return parts.hostname, port or (8883 if tls else 1883), tls


# -- window layout -----------------------------------------------------------------------------
Rect = tuple[int, int, int, int]  # x, y, width, height


def layout_key(mode: str, part: str) -> str:
    return f"layout/{mode}/{part}"


def clamp_to_screens(rect: Rect, screens: Iterable[Rect], min_visible: int = 120) -> Rect:
    """A window rectangle moved (and shrunk) so it is on one of ``screens`` (their available
    areas) now: unchanged when its title bar area is visible enough on some screen, else
    fitted onto the screen it overlaps most (the first one when it overlaps none)."""
    screens = [s for s in screens if s[2] > 0 and s[3] > 0]
    if not screens:
        return rect
    x, y, w, h = rect
    title = (x, y, w, min(h, 40))  # the strip one grabs to move a window

    def overlap(a: Rect, b: Rect) -> int:
        ow = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
        oh = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
        return max(ow, 0) * max(oh, 0)

    for s in screens:
        ow = min(title[0] + title[2], s[0] + s[2]) - max(title[0], s[0])
        if ow >= min(min_visible, w) and s[1] <= y < s[1] + s[3] - 20 and w <= s[2] + 50 and h <= s[3] + 50:
            return rect
    best = max(screens, key=lambda s: overlap(rect, s)) if any(overlap(rect, s) for s in screens) else screens[0]
    sx, sy, sw, sh = best
    w, h = min(w, sw), min(h, sh)
    x = min(max(x, sx), sx + sw - w)
    y = min(max(y, sy), sy + sh - h)
    return (x, y, w, h)
