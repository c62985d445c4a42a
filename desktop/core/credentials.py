"""Camera credentials, kept apart from the district dataset (Qt-free).

A dataset names cameras and their stream URLs; the user name and password to open them are
the workstation's business, entered in the Settings dialog and kept in their own file
(``credentials.ini`` in :func:`desktop.paths.config_dir`, readable by this user only). They
are put into a stream URL only when it is opened (:func:`with_credentials`), never written
back into a dataset, shown only masked, and never printed: :class:`Credential`'s ``repr`` and
``str`` hide the password, and stream URLs are logged through ``redact_url``.

An entry's scope is a camera id, a host (``host`` or ``host:port``, for all the cameras of
one NVR or platform), or ``*`` for every camera; the most specific match wins. A URL that
already carries a user name keeps it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from desktop.core.i18n import tr

ALL = "*"


@dataclass(frozen=True)
class Credential:
    """A user name and password for cameras in ``scope``; the password never shows in repr."""

    scope: str
    user: str
    password: str

    def __repr__(self) -> str:
        return f"Credential(scope={self.scope!r}, user={self.user!r}, password='***')"

    __str__ = __repr__


class CredentialError(ValueError):
    """A credential entry that cannot be used (the message names the field)."""


class CredentialStore:
    """The workstation's camera credentials; thread-safe (decode workers read them)."""

    def __init__(self, entries: list[Credential] | None = None):
        self._lock = threading.Lock()
        self._by_scope: dict[str, Credential] = {}
        for e in entries or []:
            self.put(e)

    def put(self, cred: Credential) -> None:
        scope = cred.scope.strip()
        if not scope:
            raise CredentialError(tr("scope") + ": " + tr("name a camera id, a host[:port] or * for every camera"))
        if not cred.user:
            raise CredentialError(tr("user") + ": " + tr("empty for {scope}", scope=scope))
        if any(c in cred.user for c in ":@/"):
            raise CredentialError(tr("user") + ": " + tr("':', '@' and '/' cannot be in a user name ({scope})", scope=scope))
        with self._lock:
            self._by_scope[scope] = Credential(scope, cred.user, cred.password)

    def remove(self, scope: str) -> None:
        with self._lock:
            self._by_scope.pop(scope, None)

    def entries(self) -> list[Credential]:
        with self._lock:
            return sorted(self._by_scope.values(), key=lambda c: (c.scope == ALL, c.scope))

    def lookup(self, camera_id: str, url: str) -> Credential | None:
        """The credential for a camera: by its id, else its URL's host:port, host, else ``*``."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname or "", parts.port
        except ValueError:
            host, port = "", None
        with self._lock:
            for key in (camera_id, f"{host}:{port}" if host and port else None, host or None, ALL):
                if key and key in self._by_scope:
                    return self._by_scope[key]
        return None

    def inject(self, url: str, camera_id: str = "") -> str:
        """``url`` with the camera's credential as its user info, when it is a network URL
        without one (files, and URLs that name their own user, are returned unchanged)."""
        if not url or "://" not in url or url.lower().startswith("file:"):
            return url
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        if not parts.hostname or "@" in parts.netloc:
            return url
        cred = self.lookup(camera_id, url)
        if cred is None:
            return url
        userinfo = quote(cred.user, safe="") + (":" + quote(cred.password, safe="") if cred.password else "")
        return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))

    # -- persistence (a settings store, desktop.core.user_settings.SettingsStore) ---------
    def save(self, store) -> None:
        store.remove("credentials")
        for i, c in enumerate(self.entries()):
            store.set_value(f"credentials/{i}/scope", c.scope)
            store.set_value(f"credentials/{i}/user", c.user)
            store.set_value(f"credentials/{i}/password", c.password)
        store.set_value("credentials/count", len(self.entries()))
        store.sync()

    @classmethod
    def load(cls, store) -> tuple["CredentialStore", list[str]]:
        """Read saved entries; a bad one is skipped and named (without its password)."""
        out, problems = cls(), []
        try:
            n = int(store.value("credentials/count", 0) or 0)
        except (TypeError, ValueError):
            return out, ["credentials/count: not a number"]
        for i in range(n):
            scope = str(store.value(f"credentials/{i}/scope", "") or "")
            try:
                out.put(Credential(scope, str(store.value(f"credentials/{i}/user", "") or ""),
                                   str(store.value(f"credentials/{i}/password", "") or "")))
            except CredentialError as exc:
                problems.append(tr("Saved camera credential {n} dropped: {err}", n=i + 1, err=exc))
        return out, problems


_active = CredentialStore()


def set_active(store: CredentialStore) -> None:
    """The credentials the program opens streams with (set at start and by the dialog)."""
    global _active
    _active = store


def active() -> CredentialStore:
    return _active


def with_credentials(url: str, camera_id: str = "") -> str:
    """``url`` with the active store's credential for the camera put in (see :meth:`inject`)."""
    return _active.inject(url, camera_id)
