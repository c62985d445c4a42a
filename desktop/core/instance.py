"""Which instance of the program this is on this PC, so two can run side by side (Qt-free).

A workstation and its display wall's process, or a trainee beside a live desk, run as the
same login on the same host. What must differ between them is everything another party keys
on: the workstation id (the ``origin`` of published workflow changes — a workstation skips its
own echoes, so two instances with one id would ignore each other), the MQTT client id (the
broker drops the older of two connections with one id, and the two would take the session from
each other in turn) and the alarm journal (one SQLite file written by two feeds, and the demo
journal that each start deletes).

Each run claims a *slot*: an exclusive ``flock`` on ``<data dir>/instances/<label>.lock``,
held as long as the process lives and released by the system however it ends (also ``kill
-9``), so a lock is never stale. The first instance gets the plain label and keeps today's ids
and files; a second finds that lock taken and falls back to ``-2``, then ``-3``… A named instance
(``--instance trainee``) starts at its name. A restarted instance gets its old slot back, and
with it its journal and its broker session.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX system: no locks, one instance assumed
    fcntl = None

__all__ = ["Instance", "InstanceError", "claim_instance", "MAX_INSTANCES"]

MAX_INSTANCES = 16  # slots tried before giving up (a runaway start loop, not a real desk)


class InstanceError(RuntimeError):
    """No instance slot could be claimed; the message says where and why."""


@dataclass
class Instance:
    """One claimed slot: the suffix for this run's ids and files, and the lock that holds it."""

    label: str  # "" for the first unnamed instance, else "2", "trainee", "trainee-2"…
    workstation: str  # id in published workflow changes, and the base of the MQTT client id
    lock_path: Path | None = None
    _fd: int | None = field(default=None, repr=False)

    @property
    def suffix(self) -> str:
        """'' or '-<label>', appended to file names of this instance."""
        return f"-{self.label}" if self.label else ""

    def file_name(self, stem: str, ext: str = ".sqlite") -> str:
        """``stem`` made this instance's own: ``alarms-370202`` → ``alarms-370202-2.sqlite``."""
        return f"{stem}{self.suffix}{ext}"

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the slot back (also done by the system when the process ends)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the flock


def _safe(name: str) -> str:
    """A label usable in file names and MQTT client ids: letters, digits, ``-`` and ``_``."""
    out = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip())
    return out.strip("_")


def claim_instance(folder: Path | str, *, name: str = "", workstation: str = "",
                   max_instances: int = MAX_INSTANCES) -> Instance:
    """Claim the first free slot under ``folder/instances`` (created if missing).

    ``workstation`` is the configured id ('' = the host name); the first slot keeps it as it
    is, later ones get the label appended. Raises :class:`InstanceError` when the folder
    cannot be written or every slot is taken.
    """
    base = workstation or socket.gethostname() or "pingan"
    name = _safe(name)
    labels = [name] + [f"{name}-{n}" if name else str(n) for n in range(2, max_instances + 1)]
    folder = Path(folder) / "instances"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InstanceError(f"{folder}: cannot create the instance lock folder: {exc}") from None
    if fcntl is None:  # pragma: no cover
        return Instance(name, f"{base}-{name}" if name else base)
    holders = []
    for label in labels:
        path = folder / f"{label or 'main'}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise InstanceError(f"{path}: cannot open the instance lock: {exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holders.append(f"{path.name} (pid {_read_pid(fd) or '?'})")
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for the message above
        return Instance(label, f"{base}-{label}" if label else base, path, fd)
    raise InstanceError(f"{folder}: all {len(labels)} instance slots are taken: {', '.join(holders)}")


def _read_pid(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
