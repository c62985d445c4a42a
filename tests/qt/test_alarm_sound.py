"""Alarm sounds come out of a real ALSA device: ALSA's ``file`` PCM (through libasound, as a
sound card would get them) records what was played, and the recording is checked for the
priority's tones at the chosen volume. Nothing recorded, or the wrong tones, fails."""
import json
import time
import wave
from datetime import datetime, timezone

import numpy as np
import pytest

from desktop.core.alarms.model import PRIORITY_STYLES
from desktop.core.audio import AudioError, AudioOutput, Clip
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from tests.fixtures.district import LAT0, LON0

pytestmark = pytest.mark.skipif(not AudioOutput().available, reason="aplay (alsa-utils) is not installed")


def file_device(path) -> str:
    return f"file:FILE={path},FORMAT=wav"


def recorded(path) -> np.ndarray:
    """Samples an ALSA file device wrote (float, -1..1); empty when nothing came out."""
    if not path.exists() or path.stat().st_size <= 44:
        return np.zeros(0)
    with wave.open(str(path)) as w:
        assert (w.getsampwidth(), w.getnchannels()) == (2, 1)
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32767


def original(priority: int) -> np.ndarray:
    clip = Clip.from_wav(PRIORITY_STYLES[priority].sound_path)
    return np.frombuffer(clip.frames, dtype="<i2").astype(float) / 32767


def tones(samples: np.ndarray, rate: int = 16_000, n: int = 2) -> list[float]:
    """The ``n`` strongest frequencies (Hz), peaks at least 50 Hz apart."""
    spec = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    out = []
    for i in np.argsort(spec)[::-1]:
        if all(abs(freqs[i] - f) > 50 for f in out):
            out.append(float(freqs[i]))
        if len(out) == n:
            break
    return sorted(out)


def rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a ** 2))) if len(a) else 0.0


def test_each_priority_sounds_its_own_tones_at_the_chosen_volume(tmp_path):
    for priority, expect, volume in ((1, [770, 960], 1.0), (2, [1046], 0.5), (4, [523], 0.25)):
        out = tmp_path / f"p{priority}.wav"
        audio = AudioOutput(file_device(out))
        audio.play(Clip.from_wav(PRIORITY_STYLES[priority].sound_path), volume)
        assert audio.wait(10)
        assert audio.take_errors() == [] and audio.completed == 1
        got = recorded(out)
        ref = original(priority)
        assert len(got) >= len(ref), f"P{priority}: {len(got)} samples recorded, {len(ref)} played"
        found = tones(got[:len(ref)], n=len(expect))
        assert all(abs(f - e) < 15 for f, e in zip(found, expect)), (priority, found)
        assert rms(got[:len(ref)]) / rms(ref) == pytest.approx(volume, rel=0.03)  # ALSA pads the end


def test_a_missing_device_is_said_by_name_and_a_bad_file_names_the_file(tmp_path):
    audio = AudioOutput("hw:77")
    problem = audio.probe()
    assert "no sound device 'hw:77'" in problem
    audio.play(Clip.from_wav(PRIORITY_STYLES[3].sound_path))
    assert audio.wait(10)
    errors = audio.take_errors()
    assert len(errors) == 1 and "hw:77" in errors[0] and audio.completed == 0
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(AudioError, match="broken.wav"):
        Clip.from_wav(bad)
    with pytest.raises(AudioError, match="nope.wav: no such sound file"):
        Clip.from_wav(tmp_path / "nope.wav")
    assert AudioOutput(file_device(tmp_path / "ok.wav")).probe() == ""


PACED_READER = """\
import sys, time
out = open(sys.argv[1], "ab")
rate = int(sys.argv[2])  # bytes a second, as a sound card takes them
t0, n = time.monotonic(), 0
while True:
    b = sys.stdin.buffer.read1(rate // 20)
    if not b:
        break
    out.write(b)
    out.flush()
    n += len(b)
    ahead = n / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
"""


def test_a_newer_sound_cuts_the_one_still_playing(tmp_path):
    """One at a time: an urgent siren does not wait behind a long sound. ALSA's ``file``
    device pipes the samples into a reader that takes them at a sound card's pace (16 kHz,
    16-bit mono) and records them, so a long sound is still playing when the next one starts."""
    import sys
    reader = tmp_path / "paced_reader.py"
    reader.write_text(PACED_READER, encoding="utf-8")
    out = tmp_path / "cut.raw"
    audio = AudioOutput(f'file:FILE="|{sys.executable} {reader} {out} 32000",FORMAT=raw')
    long = Clip("long", 16_000, 1, 2, np.full(16_000 * 10, 1000, "<i2").tobytes())  # 10 s, one level
    audio.play(long)
    time.sleep(0.5)
    assert audio.playing
    audio.play(Clip.from_wav(PRIORITY_STYLES[1].sound_path))
    assert audio.wait(20)
    assert audio.take_errors() == [] and audio.completed == 1  # the long one was cut, the siren played
    got = np.frombuffer(out.read_bytes(), dtype="<i2").astype(float) / 32767
    level = np.flatnonzero(np.abs(got - 1000 / 32767) > 1e-6)
    cut_at = int(level[0])  # the first sample that is not the long sound's
    assert 0 < cut_at < 16_000 * 3, f"{cut_at / 16000:.1f} s of the 10 s sound were played"
    siren = got[cut_at:cut_at + len(original(1))]
    assert len(siren) == len(original(1))
    assert tones(siren, n=2) == pytest.approx([770, 960], abs=15)


def alarm(aid, prio=1):
    return {"id": aid, "type": "one_key", "priority": prio, "time": datetime.now(timezone.utc).isoformat(),
            "lon": LON0 + 0.002, "lat": LAT0 + 0.002, "crs": "GCJ02", "source": f"phone-{aid}",
            "text": "一键报警 测试"}


@pytest.fixture
def desk(qtbot, tiny_district, tmp_path):
    """The alarm panel in the real window, its sounds going to a recording ALSA device."""
    made = []

    def make(memory_dir=None, **settings):
        d = load_district(tiny_district)
        w = MainWindow(d, MapProjection())
        qtbot.addWidget(w)
        cfg = Config(operator="op", extra={"alarms": {"volume": 50, **settings}})
        session = Session(cfg, d, w.projection, journal_path=tmp_path / f"j{len(made)}.sqlite",
                          demo_feed=False).start()
        mgr = start_plugins(w, cfg, d, bus=session.bus, services={"alarms": session.alarms, "operator": "op",
                                                                  "clock": session.clock}, memory_dir=memory_dir)
        made.append((mgr, session))
        w.show()
        rec = mgr.records["alarms"]
        assert rec.state == "enabled", rec.last_error
        plugin = rec.instance
        qtbot.waitUntil(lambda: plugin.sound_checked, timeout=5000)
        return w, session, plugin

    yield make
    for mgr, session in made:
        mgr.unload_all()
        session.stop()


def test_a_new_alarm_rings_through_the_device_mute_silences_and_the_test_button_plays(desk, qtbot, tmp_path):
    out = tmp_path / "desk.wav"
    w, session, plugin = desk(sound_device=file_device(out))
    assert plugin.panel.volume.value() == 50 and plugin.panel.no_device.isHidden()
    out.unlink(missing_ok=True)  # what the start-up check wrote (10 ms of silence)
    session.bus.publish("pingan/alarm", alarm("S1", prio=1))
    qtbot.waitUntil(lambda: plugin.sound.output.completed >= 1, timeout=5000)
    got = recorded(out)
    assert tones(got[:len(original(1))], n=2) == pytest.approx([770, 960], abs=15)
    assert rms(got[:len(original(1))]) / rms(original(1)) == pytest.approx(0.5, rel=0.03)

    plugin.panel.mute.setChecked(True)
    out.unlink()
    plugin.sound._last = 0.0  # past the gap between two rings
    session.bus.publish("pingan/alarm", alarm("S2", prio=2))
    qtbot.waitUntil(lambda: plugin.book.get("S2") is not None, timeout=5000)
    qtbot.wait(300)
    assert not out.exists()  # muted: nothing reached the device

    plugin.panel.volume.setValue(100)
    plugin.panel.test_sound.menu().actions()[3].trigger()  # "Priority 4 sound", even when muted
    qtbot.waitUntil(lambda: plugin.sound.output.completed >= 2, timeout=5000)
    got = recorded(out)
    assert tones(got[:len(original(4))], n=1) == pytest.approx([523], abs=15)
    assert rms(got[:len(original(4))]) / rms(original(4)) == pytest.approx(1.0, rel=0.03)
    assert any("Test:" in text for _, level, text in w.notices)


def test_no_audio_device_is_told_in_a_notice_and_beside_the_volume(desk, qtbot):
    w, session, plugin = desk(sound_device="hw:77")
    qtbot.waitUntil(lambda: not plugin.panel.no_device.isHidden(), timeout=5000)
    errors = [text for _, level, text in w.notices if level == "error"]
    assert any("Alarm sounds cannot be heard" in t and "hw:77" in t for t in errors)
    assert "hw:77" in plugin.panel.no_device.toolTip()
    session.bus.publish("pingan/alarm", alarm("N1", prio=1))
    qtbot.waitUntil(lambda: plugin.book.get("N1") is not None, timeout=5000)
    qtbot.wait(300)
    assert plugin.sound.played == ["alarm_p1.wav"]  # it tried (and beeped): the notice is not repeated
    assert sum("Alarm sounds cannot be heard" in t for _, _, t in w.notices) == 1


def test_volume_and_mute_are_remembered_for_the_next_run(desk, qtbot, tmp_path):
    memory = tmp_path / "plugins"
    w, session, plugin = desk(memory_dir=memory, sound_device="null")
    assert plugin.panel.volume.value() == 50 and not plugin.panel.mute.isChecked()  # the configured default
    plugin.panel.volume.setValue(30)
    plugin.panel.mute.setChecked(True)
    assert json.loads((memory / "alarms.json").read_text(encoding="utf-8")) == {"muted": True, "volume": 30}
    # the next run (a new window, the same configuration): the operator's choice, not the default
    w2, session2, plugin2 = desk(memory_dir=memory, sound_device="null")
    assert plugin2.panel.volume.value() == 30 and plugin2.sound.volume == pytest.approx(0.3)
    assert plugin2.panel.mute.isChecked() and not plugin2.sound.enabled
    # a damaged file is set aside: the defaults, and the run goes on
    (memory / "alarms.json").write_text("{not json", encoding="utf-8")
    w3, session3, plugin3 = desk(memory_dir=memory, sound_device="null")
    assert plugin3.panel.volume.value() == 50 and not plugin3.panel.mute.isChecked()
    assert (memory / "alarms.json.unreadable").exists()
