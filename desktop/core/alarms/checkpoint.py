"""Checkpointing the alarm journal's WAL off the writer's path (Qt-free).

SQLite in WAL mode copies the log back into the database file ("checkpoint") when the log
reaches ``wal_autocheckpoint`` pages (1,000 by default), inside whichever commit crossed the
mark: that commit then writes megabytes and fsyncs the database file. During an alarm flood
this happened every few seconds and held one batch, and the alarms waiting behind it, for
tens of milliseconds: the tail of the alarm latency.

So the writer's own limit is raised to a safety net (:data:`WRITER_AUTOCHECKPOINT_PAGES`, used
only if this thread cannot keep up), and :class:`WalCheckpointer` checkpoints on its own
connection about once a second. A PASSIVE checkpoint never waits for the writer or for
readers: it copies what it can and the writer goes on meanwhile (WAL allows both at once).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: the writer checkpoints itself only past this many WAL pages (~64 MB with 4 KiB pages)
WRITER_AUTOCHECKPOINT_PAGES = 16384


class WalCheckpointer:
    """A daemon thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on the journal every
    ``every_s`` seconds, on a connection of its own. ``stop()`` ends it (and closes the
    connection); a failing checkpoint is logged and tried again next time."""

    def __init__(self, path: Path | str, every_s: float = 1.0):
        self.path = Path(path)
        self.every_s = float(every_s)
        self.runs = 0
        self.failures = 0
        #: the last checkpoint's (busy, WAL frames, frames copied back), as SQLite reports it
        self.last: tuple | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journal-checkpoint", daemon=True)

    def start(self) -> "WalCheckpointer":
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        conn = None
        try:
            while not self._stop.wait(self.every_s):
                try:
                    if conn is None:
                        # mode=rw: never create an empty file where the journal was moved away
                        conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=rw", uri=True,
                                               isolation_level=None, timeout=0.5, check_same_thread=False)
                    self.last = tuple(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
                    self.runs += 1
                except sqlite3.Error as exc:
                    # busy or the file is being set aside (recover): next time, on a new connection
                    self.failures += 1
                    if self.failures in (1, 10, 100):
                        log.warning("alarm journal checkpoint failed (%s); the writer's own checkpoint "
                                    "remains as a safety net", exc)
                    if conn is not None:
                        conn.close()
                        conn = None
        finally:
            if conn is not None:
                conn.close()
