"""The alarm sounds (``resources/sounds/alarm_p1.wav`` … ``alarm_p4.wav``), synthesised.

    python -m desktop.core.alarms.sounds [OUT_DIR]

Each priority has a pattern an operator tells apart without looking: priority 1 a two-tone
siren, 2 three quick high beeps, 3 two beeps, 4 one soft chime. Small 16 kHz mono WAVs,
made with the standard library only, byte-identical on every run. The Qt side plays the
file named by :attr:`~desktop.core.alarms.model.PriorityStyle.sound`.
"""
from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

from desktop.paths import RESOURCES

from .model import PRIORITY_STYLES

__all__ = ["render", "write_sounds", "RATE"]

RATE = 16_000

# (frequency Hz, duration s, amplitude 0..1); frequency 0 is silence.
_PATTERNS: dict[int, list[tuple[float, float, float]]] = {
    1: [(960, 0.16, 0.8), (770, 0.16, 0.8)] * 3,
    2: [(1046, 0.09, 0.7), (0, 0.06, 0)] * 3,
    3: [(784, 0.12, 0.55), (0, 0.10, 0)] * 2,
    4: [(523, 0.45, 0.4)],
}


def render(priority: int) -> bytes:
    """16-bit PCM samples of a priority's pattern (5 ms fades, so no clicks)."""
    out = bytearray()
    fade = int(RATE * 0.005)
    for freq, dur, amp in _PATTERNS[priority]:
        n = int(RATE * dur)
        for i in range(n):
            env = min(1.0, i / fade, (n - 1 - i) / fade) if freq else 0.0
            if priority == 4:  # a chime decays
                env *= math.exp(-3.0 * i / n)
            v = amp * env * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            out += struct.pack("<h", int(round(v * 32767)))
    return bytes(out)


def write_sounds(folder: Path | str | None = None) -> list[Path]:
    """Write the four WAV files; returns their paths."""
    folder = Path(folder) if folder is not None else RESOURCES / "sounds"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for p, style in PRIORITY_STYLES.items():
        path = folder / style.sound
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(render(p))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_sounds(sys.argv[1] if len(sys.argv) > 1 else None):
        print(written)
