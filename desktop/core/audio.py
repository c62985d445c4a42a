"""The sound device: WAV clips played through ALSA (Qt-free).

The set-up installs Debian's ``alsa-utils``; its ``aplay`` writes to an ALSA PCM device,
``default`` unless told otherwise (``[plugins.alarms] sound_device``, or the
``PINGAN_AUDIO_DEVICE`` environment variable). On a desktop with PulseAudio or PipeWire,
ALSA's ``default`` is routed into that sound server; on a bare machine it is the first sound
card. ALSA's own devices serve tests and odd set-ups too: ``file:FILE=/tmp/out.wav,FORMAT=wav``
writes what would have been heard into a file.

Why not QtMultimedia: it is in PySide6's *Addons* wheel (175 MB download, 440 MB installed,
with a second FFmpeg beside PyAV's), where ``aplay`` costs 2.5 MB; and ALSA's own devices let
a test record exactly what came out.

The volume is applied to the samples here (the device's mixer is the PC's business, and a
file sink records exactly what the operator would hear). One clip plays at a time: a new one
cuts the one still playing, so an urgent alarm is never queued behind a chime.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["AudioError", "AudioOutput", "Clip", "DEFAULT_DEVICE"]

DEFAULT_DEVICE = "default"
_FORMATS = {1: "U8", 2: "S16_LE", 4: "S32_LE"}  # WAV sample width (bytes) -> ALSA format


class AudioError(RuntimeError):
    """A sound that cannot be read or played; the message names the file or the device."""


@dataclass(frozen=True)
class Clip:
    """PCM samples of one sound, as read from a WAV file (interleaved, native sample width)."""

    name: str
    rate: int
    channels: int
    width: int  # bytes per sample
    frames: bytes

    @classmethod
    def from_wav(cls, path: Path | str) -> "Clip":
        """Read a PCM WAV; a missing, broken or compressed file is an :class:`AudioError` naming it."""
        path = Path(path)
        try:
            with wave.open(str(path), "rb") as w:
                width, rate, channels = w.getsampwidth(), w.getframerate(), w.getnchannels()
                frames = w.readframes(w.getnframes())
        except FileNotFoundError:
            raise AudioError(f"{path}: no such sound file") from None
        except (wave.Error, EOFError, OSError) as exc:
            raise AudioError(f"{path}: not a PCM WAV file ({exc})") from None
        if width not in _FORMATS:
            raise AudioError(f"{path}: {8 * width}-bit samples are not supported (8, 16 or 32-bit PCM)")
        if not frames:
            raise AudioError(f"{path}: the file holds no samples")
        return cls(path.name, rate, channels, width, frames)

    @property
    def duration_s(self) -> float:
        return len(self.frames) / (self.width * self.channels * self.rate)

    def scaled(self, volume: float) -> bytes:
        """The samples at ``volume`` (0..1) of their level."""
        volume = min(1.0, max(0.0, float(volume)))
        if volume >= 1.0:
            return self.frames
        if self.width == 1:  # unsigned 8-bit around 128
            a = np.frombuffer(self.frames, dtype=np.uint8).astype(np.float32) - 128.0
            return (np.round(a * volume) + 128.0).clip(0, 255).astype(np.uint8).tobytes()
        dtype = np.int16 if self.width == 2 else np.int32
        a = np.frombuffer(self.frames, dtype=dtype).astype(np.float64)
        return np.round(a * volume).astype(dtype).tobytes()


class AudioOutput:
    """Plays clips on one ALSA device through ``aplay``, one at a time, without blocking.

    ``play`` returns at once; a failure (no such device, device busy) is collected and handed
    out by :meth:`take_errors`, so a GUI can poll it from its own thread. ``probe`` tells
    synchronously whether the device opens at all (a few milliseconds of silence).
    """

    def __init__(self, device: str = "", player: str | None = None):
        self.device = device or os.environ.get("PINGAN_AUDIO_DEVICE") or DEFAULT_DEVICE
        self.player = player if player is not None else (shutil.which("aplay") or "")
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._errors: list[str] = []
        self._threads: list[threading.Thread] = []
        self._cut: set[subprocess.Popen] = set()  # players stopped before the end of their clip
        self.plays = 0  # clips handed to the device (for tests and the status)
        self.completed = 0  # clips the device took to the end

    @property
    def available(self) -> bool:
        """True when the ALSA player is installed (the device may still fail to open)."""
        return bool(self.player)

    def _command(self, rate: int, channels: int, width: int) -> list[str]:
        return [self.player, "-q", "-D", self.device, "-t", "raw", "-f", _FORMATS[width],
                "-r", str(rate), "-c", str(channels), "-"]

    def probe(self, timeout_s: float = 5.0) -> str:
        """'' when the device plays; else why not (in words an operator can act on)."""
        if not self.player:
            return "the ALSA player (aplay, Debian package alsa-utils) is not installed"
        silence = bytes(2 * 160)  # 10 ms at 16 kHz mono
        try:
            r = subprocess.run(self._command(16_000, 1, 2), input=silence, capture_output=True,
                               timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return f"sound device {self.device!r} did not answer within {timeout_s:.0f} s"
        except OSError as exc:
            return f"cannot run {self.player}: {exc}"
        return "" if r.returncode == 0 else self._explain(r.stderr)

    def _explain(self, stderr: bytes) -> str:
        lines = [l.strip() for l in stderr.decode("utf-8", "replace").splitlines() if l.strip()]
        last = lines[-1] if lines else "no message"
        if "audio open error" in last or "Unknown PCM" in stderr.decode("utf-8", "replace"):
            return f"no sound device {self.device!r} ({last})"
        return f"sound device {self.device!r}: {last}"

    def play(self, clip: Clip, volume: float = 1.0) -> None:
        """Start playing ``clip`` (cutting the one still playing). Errors come via :meth:`take_errors`."""
        if not self.player:
            self._add_error("the ALSA player (aplay, Debian package alsa-utils) is not installed")
            return
        data = clip.scaled(volume)
        with self._lock:
            self._stop_locked()
            try:
                proc = subprocess.Popen(self._command(clip.rate, clip.channels, clip.width),
                                        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
            except OSError as exc:
                self._errors.append(f"cannot run {self.player}: {exc}")
                return
            self._proc = proc
            self.plays += 1
        # Feeding and reaping happen on a thread: a 2-second clip is bigger than a pipe's buffer,
        # and the exit status (device missing or busy) is only known once aplay has tried.
        t = threading.Thread(target=self._feed, args=(proc, data), name="audio-out", daemon=True)
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _feed(self, proc: subprocess.Popen, data: bytes) -> None:
        try:
            proc.stdin.write(data)
        except (BrokenPipeError, OSError, ValueError):
            pass  # aplay gave up (its status says why) or was cut by a newer clip
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass
        err = proc.stderr.read()
        rc = proc.wait()
        proc.stderr.close()
        if proc in self._cut:  # cut by a newer clip or stop() (aplay exits 0 or by the signal)
            with self._lock:
                self._cut.discard(proc)
        elif rc == 0:
            with self._lock:
                self.completed += 1
        else:
            self._add_error(self._explain(err))

    def _add_error(self, msg: str) -> None:
        with self._lock:
            self._errors.append(msg)

    def take_errors(self) -> list[str]:
        """Failures since the last call (each once)."""
        with self._lock:
            out, self._errors = self._errors, []
        return out

    @property
    def playing(self) -> bool:
        p = self._proc
        return p is not None and p.poll() is None

    def _stop_locked(self) -> None:
        p, self._proc = self._proc, None
        if p is not None and p.poll() is None:
            self._cut.add(p)
            p.terminate()

    def stop(self) -> None:
        """Cut the clip that is playing, if any."""
        with self._lock:
            self._stop_locked()

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Block until every started clip has finished (tests, shutdown); False on timeout."""
        for t in list(self._threads):
            t.join(timeout_s)
            if t.is_alive():
                return False
        return True
