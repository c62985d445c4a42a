"""Alarm sounds: one at a time, by priority."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication


class SoundPlayer:
    """One alarm sound at a time, by priority: QtMultimedia when present, else paplay/aplay, else a beep."""

    def __init__(self):
        self.enabled = True
        self.played: list[str] = []  # what was played (for tests and the audit)
        self._last = 0.0
        self._cmd = shutil.which("paplay") or shutil.which("aplay")

    def play(self, path: Path, min_gap_s: float = 1.5) -> None:
        now = time.monotonic()
        if not self.enabled or now - self._last < min_gap_s:
            return
        self._last = now
        self.played.append(path.name)
        if self._cmd and path.exists():
            try:
                subprocess.Popen([self._cmd, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return
            except OSError:
                pass
        QApplication.beep()
