"""The wall's last applied layout, kept on disk so a restart without a broker shows it (Qt-free).

One JSON file per wall (``wall-<id>.json`` in the data folder), written atomically (temp file,
fsync, rename): a power cut leaves the old layout or the new one, never half of one. A file
that cannot be parsed is moved aside (``….unreadable-<time>``) for whoever wants to look at
it, and the wall starts on its default layout with an error naming both files.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path

from .layout import LayoutError, WallLayout, parse_layout

log = logging.getLogger(__name__)

__all__ = ["LastLayoutStore", "store_path"]


def store_path(data_folder: Path, wall: str) -> Path:
    safe = re.sub(r"[^\w.-]+", "_", wall) or "wall"
    return Path(data_folder) / f"wall-{safe}.json"


class LastLayoutStore:
    """Load and save the last layout a wall applied. ``error`` holds the last load problem."""

    def __init__(self, path: Path | str, wall: str):
        self.path = Path(path)
        self.wall = wall
        self.error = ""
        self._lock = threading.Lock()

    def load(self) -> WallLayout | None:
        """The saved layout, or None (none yet, or unreadable: see :attr:`error`)."""
        with self._lock:
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return None
            except OSError as exc:
                self.error = f"{self.path}: {exc}"
                return None
            try:
                return parse_layout(data, wall=self.wall)
            except LayoutError as exc:
                aside = self.path.with_name(self.path.name + time.strftime(".unreadable-%Y%m%d-%H%M%S"))
                try:
                    self.path.replace(aside)
                except OSError:
                    aside = self.path
                self.error = f"{self.path}: {exc} (kept as {aside.name})"
                log.error("last wall layout unreadable: %s", self.error)
                return None

    def save(self, layout: WallLayout) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + f".tmp{os.getpid()}")
            with open(tmp, "wb") as fh:
                fh.write(layout.dumps())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
