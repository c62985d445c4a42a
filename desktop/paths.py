"""Where things are: the bundled maps, resources and plugins, and the per-user cache and settings."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPS = Path(os.environ.get("PINGAN_MAPS", ROOT / "maps"))
RESOURCES = Path(os.environ.get("PINGAN_RESOURCES", ROOT / "resources"))
PLUGINS = Path(os.environ.get("PINGAN_PLUGINS", ROOT / "plugins"))
DEFAULT_DISTRICT = MAPS / "shinan"


def cache_dir() -> Path:
    """Generated content (demo clips, districts built from an adcode): safe to delete."""
    base = os.environ.get("PINGAN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "pingan-desk")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Durable per-workstation state: the alarm journal, audit log, saved layouts."""
    base = os.environ.get("PINGAN_DATA") or os.path.join(
        os.environ.get("XDG_DATA_HOME", os.path.expanduser("~/.local/share")), "pingan-desk")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path
