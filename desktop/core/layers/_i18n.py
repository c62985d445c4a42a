"""The layer import's Chinese strings (``i18n_zh.json`` next to this file), merged on demand.

``tr`` here is :func:`desktop.core.i18n.tr` after making sure the catalog is in: a locale
switch drops added catalogs, so it is checked on each call (one dictionary look-up).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from desktop.core import i18n

log = logging.getLogger(__name__)

_PATH = Path(__file__).with_name("i18n_zh.json")
_entries: dict[str, str] | None = None
_probe = ""


def _ensure() -> None:
    global _entries, _probe
    if i18n.current_locale() != "zh_CN":
        return
    if _entries is None:
        try:
            _entries = json.loads(_PATH.read_text(encoding="utf-8"))
            _probe = next(iter(_entries), "")
        except (OSError, ValueError):
            log.warning("layer import translations not loaded from %s", _PATH)
            _entries = {}
    if _probe and i18n.tr(_probe) == _probe:
        i18n.add_catalog(_entries)


def tr(text: str, **fmt) -> str:
    """Translate ``text`` (imported layers strings included) and format it with ``fmt``."""
    _ensure()
    return i18n.tr(text, **fmt)
