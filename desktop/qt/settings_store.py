"""QSettings behind the core's settings store: ``settings.ini`` and ``credentials.ini``.

Both are INI files in :func:`desktop.paths.config_dir` on every platform (not the Windows
registry), so a technician can copy or inspect them, and the tests can point them at a
throw-away folder. The credentials file is made readable by its owner only.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from desktop.core import credentials as cred_mod
from desktop.core.credentials import CredentialStore
from desktop.core.user_settings import UserSettings
from desktop.paths import config_dir

log = logging.getLogger(__name__)


class QtSettingsStore:
    """A :class:`desktop.core.user_settings.SettingsStore` on one QSettings INI file."""

    def __init__(self, path: Path | str, private: bool = False):
        self.path = Path(path)
        self.private = private
        self.qs = QSettings(str(self.path), QSettings.IniFormat)

    def value(self, key: str, default=None):
        v = self.qs.value(key, default)
        return v

    def set_value(self, key: str, value) -> None:
        self.qs.setValue(key, value)

    def remove(self, key: str) -> None:
        self.qs.remove(key)

    def sync(self) -> None:
        self.qs.sync()
        if self.private and self.path.exists() and os.name != "nt":
            # the passwords are in here: nobody but this user reads it
            os.chmod(self.path, stat.S_IRUSR | stat.S_IWUSR)
        if self.qs.status() != QSettings.NoError:
            raise OSError(f"cannot write {self.path} ({self.qs.status().name})")

    def bytes_value(self, key: str) -> QByteArray | None:
        v = self.qs.value(key)
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None


def settings_store() -> QtSettingsStore:
    return QtSettingsStore(config_dir() / "settings.ini")


def credentials_store() -> QtSettingsStore:
    store = QtSettingsStore(config_dir() / "credentials.ini", private=True)
    if store.path.exists() and os.name != "nt":
        os.chmod(store.path, stat.S_IRUSR | stat.S_IWUSR)
    return store


def load_saved() -> tuple[UserSettings, CredentialStore, list[str]]:
    """The saved settings and camera credentials (made the active ones), with the problems
    found in them (bad values dropped, named for a notice)."""
    settings, problems = UserSettings.load(settings_store())
    creds, cproblems = CredentialStore.load(credentials_store())
    cred_mod.set_active(creds)
    return settings, creds, problems + cproblems
