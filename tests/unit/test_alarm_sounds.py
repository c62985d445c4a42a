"""The four alarm sounds are bundled, valid WAVs, and what the generator makes."""
import wave

from desktop.core.alarms.model import PRIORITY_STYLES
from desktop.core.alarms.sounds import RATE, render, write_sounds


def test_bundled_sounds_match_the_generator(tmp_path):
    fresh = {p.name: p for p in write_sounds(tmp_path)}
    for priority, style in PRIORITY_STYLES.items():
        path = style.sound_path
        assert path.is_file(), f"missing {path}"
        with wave.open(str(path)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
            assert 0.3 < w.getnframes() / RATE < 1.5
            assert w.readframes(w.getnframes()) == render(priority)
        assert path.read_bytes() == fresh[style.sound].read_bytes()
