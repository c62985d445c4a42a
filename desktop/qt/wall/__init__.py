"""The wall display's windows (thin Qt views over :mod:`desktop.core.wall`)."""
from __future__ import annotations

import json
import logging
from pathlib import Path

from desktop.core.i18n import add_catalog, current_locale

log = logging.getLogger(__name__)
_loaded = False


def load_catalog() -> None:
    """The wall's Chinese strings, merged into the active catalog when the UI is in zh_CN."""
    global _loaded
    if _loaded or current_locale() != "zh_CN":
        return
    path = Path(__file__).with_name("i18n_zh.json")
    try:
        add_catalog(json.loads(path.read_text(encoding="utf-8")))
        _loaded = True
    except (OSError, ValueError):
        log.warning("wall translations not loaded from %s", path)
