"""Translations of user-facing text (zh_CN and en at least), Qt-free so core, views and plugins share them.

Source strings are English; a catalog is a JSON object ``{"English": "译文"}`` in
``resources/i18n/<locale>.json`` (plugins may ship their own and :func:`add_catalog` it).
A missing entry falls back to the English source, so a half-translated catalog never
blanks a label. ``tr("{n} cameras", n=3)`` formats after translating.
"""
from __future__ import annotations

import json
import locale as _locale
import os
from desktop.paths import RESOURCES

_catalog: dict[str, str] = {}
_current = "en"


def available_locales() -> list[str]:
    """Locales with a catalog in resources/i18n, plus English (the source language)."""
    found = {p.stem for p in (RESOURCES / "i18n").glob("*.json")}
    return sorted(found | {"en"})


def default_locale() -> str:
    """PINGAN_LANG, else the system locale when we have it, else zh_CN (the field's language)."""
    env = os.environ.get("PINGAN_LANG")
    if env:
        return env
    try:
        sys_loc = _locale.getlocale()[0] or ""
    except ValueError:
        sys_loc = ""
    if sys_loc.startswith("en"):
        return "en"
    return "zh_CN"


_base: dict[str, str] = {}
_owned: dict[str, dict[str, str]] = {}  # owner (a plugin id) -> its catalog, removable


def _rebuild() -> None:
    global _catalog
    merged = dict(_base)
    for entries in _owned.values():
        merged.update(entries)
    _catalog = merged


def set_locale(name: str) -> str:
    """Switch the active catalog; unknown locales fall back to English. Returns the locale used.

    Catalogs added with an owner are dropped: they were for the previous locale."""
    global _base, _current
    _base = {}
    _owned.clear()
    _current = "en"
    if name and name != "en":
        path = RESOURCES / "i18n" / f"{name}.json"
        if path.exists():
            _base = json.loads(path.read_text(encoding="utf-8"))
            _current = name
    _rebuild()
    return _current


def add_catalog(entries: dict[str, str], owner: str | None = None) -> None:
    """Merge extra translations into the active catalog. With an ``owner`` (a plugin id) they
    can be taken out again with :func:`remove_catalog` (a disabled plugin leaves none behind)."""
    if not isinstance(entries, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                for k, v in entries.items()):
        raise ValueError("a translation catalog must map source strings to translated strings")
    if owner is None:
        _base.update(entries)
    else:
        _owned.setdefault(owner, {}).update(entries)
    _rebuild()


def remove_catalog(owner: str) -> None:
    """Take out the translations added under ``owner``."""
    if _owned.pop(owner, None) is not None:
        _rebuild()


def catalog_owners() -> list[str]:
    return sorted(_owned)


def current_locale() -> str:
    return _current


def tr(text: str, **fmt) -> str:
    """Translate ``text`` into the active locale and format it with ``fmt``."""
    out = _catalog.get(text, text)
    return out.format(**fmt) if fmt else out
