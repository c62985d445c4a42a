"""Where things are: the bundled maps, resources and plugins, and the per-user cache and settings."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPS = Path(os.environ.get("PINGAN_MAPS", ROOT / "maps"))
RESOURCES = Path(os.environ.get("PINGAN_RESOURCES", ROOT / "resources"))
PLUGINS = Path(os.environ.get("PINGAN_PLUGINS", ROOT / "plugins"))
DEFAULT_DISTRICT = MAPS / "shinan"


def _user_dir(override_env: str, xdg_env: str, xdg_default: str) -> Path:
    base = os.environ.get(override_env) or os.path.join(
        os.environ.get(xdg_env, os.path.expanduser(xdg_default)), "pingan-desk")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Generated content (demo clips, districts built from an adcode): safe to delete."""
    return _user_dir("PINGAN_CACHE", "XDG_CACHE_HOME", "~/.cache")


def data_dir() -> Path:
    """Durable per-workstation state: the alarm journal, audit log, saved layouts."""
    return _user_dir("PINGAN_DATA", "XDG_DATA_HOME", "~/.local/share")


def config_dir() -> Path:
    """The operator's settings (settings.ini) and camera credentials (credentials.ini, kept
    apart from any dataset and readable by this user only): PINGAN_CONFIG, else the XDG
    config folder (``~/.config/pingan-desk``; on Windows ``%APPDATA%\\pingan-desk``)."""
    if os.name == "nt" and not os.environ.get("PINGAN_CONFIG") and os.environ.get("APPDATA"):
        path = Path(os.environ["APPDATA"]) / "pingan-desk"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return _user_dir("PINGAN_CONFIG", "XDG_CONFIG_HOME", "~/.config")
