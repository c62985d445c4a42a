"""Alarm sounds: the priority's WAV through the sound device, with volume, mute and a test.

The device is the SDK's :class:`~desktop.sdk.AudioOutput` (ALSA, installed by the set-up).
When it cannot play — no sound card, no sound server, the device busy — the operator is told
once (a notice and a mark beside the volume), each sound falls back to the PC's bell, and the
next sound that does play clears the mark.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop.sdk import AudioError, AudioOutput, Clip


class SoundPlayer:
    """One alarm sound at a time, by priority, at the chosen volume; ``enabled`` False is mute."""

    def __init__(self, device: str = "", volume: float = 0.8, output: AudioOutput | None = None):
        self.enabled = True
        self.volume = volume  # 0..1, applied to the samples
        self.output = output if output is not None else AudioOutput(device)
        self.played: list[str] = []  # what was played (for tests and the audit)
        self.device_error = ""  # why the device cannot play now ("" = it played, or not known yet)
        self._clips: dict[Path, Clip] = {}
        self._file_errors: list[str] = []
        self._last = 0.0
        self._completed = 0

    def clip(self, path: Path) -> Clip:
        """The sound file's samples (read once). Raises ``AudioError`` naming a bad file."""
        path = Path(path)
        if path not in self._clips:
            self._clips[path] = Clip.from_wav(path)
        return self._clips[path]

    def play(self, path: Path, min_gap_s: float = 1.5, *, test: bool = False) -> bool:
        """Ring ``path``; False when muted, too soon after the last one, or unreadable.

        ``test`` (the panel's test button) plays even when muted: the operator asked for it.
        """
        now = time.monotonic()
        if not test and (not self.enabled or now - self._last < min_gap_s):
            return False
        self._last = now
        try:
            clip = self.clip(path)
        except AudioError as exc:
            self._file_errors.append(str(exc))
            QApplication.beep()
            return False
        self.played.append(Path(path).name)
        self.output.play(clip, self.volume)
        if self.device_error:
            QApplication.beep()  # the device failed last time: the bell at least
        return True

    def probe(self) -> str:
        """Whether the device opens ('' = yes); blocking for a moment, so call it off the GUI thread."""
        return self.output.probe()

    def poll(self) -> list[str]:
        """Problems since the last call, to show the operator: unreadable files, and the device
        failing (said once, until it plays again). Call it from the GUI thread."""
        out, self._file_errors = self._file_errors, []
        errors = self.output.take_errors()
        if errors:
            if errors[-1] != self.device_error:
                out.append(errors[-1])
                if not self.device_error:
                    QApplication.beep()  # the first sound that failed (later ones beep in play)
            self.device_error = errors[-1]
        elif self.output.completed > self._completed and self.device_error:
            self.device_error = ""  # a sound came out again
        self._completed = self.output.completed
        return out

    def stop(self) -> None:
        self.output.stop()
