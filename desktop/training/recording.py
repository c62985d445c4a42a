"""The record of a training session: every event and every operator action, in simulation time
(Qt-free).

A recording is a JSON-lines file. The first line is the header (``kind = "session"``: trainee,
scenario, seed, the simulated start time); each following line is one record with ``t``, the
simulated seconds since the scenario's start, and a ``kind``:

``bus``          a message the scenario played (``topic``, ``payload``): alarms, patrol
                 positions, camera status, radar reports
``alarm``        an alarm the workstation showed for the first time (``id``, ``type``,
                 ``priority``, ``lon``/``lat`` WGS84, ``source``)
``transition``   a workflow change (``alarm``, ``from``, ``to``, ``operator``, ``unit``, ``note``)
``dispatch``     the check of a dispatch: the unit's travel time and the units that were faster
``camera``       the wall: ``action`` opened / closed / live (first frame), ``camera``, ``tile``
``control``      the instructor's clock: pause, resume, speed, step
``end``          the session ended (``reason``)

Fields named ``wall_ms`` are real (monotonic) milliseconds, for latency figures; they, the
header's wall-clock fields and the first-frame records (the decoder's timing) are left out of
:meth:`Recording.digest`, so two runs of the same
scenario and seed that did the same things at the same simulated times have the same digest.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

__all__ = ["Recorder", "Recording", "load_recording", "RecordingError", "REAL_FIELDS"]

REAL_FIELDS = ("wall_ms", "recorded_at", "real_s")
ACTION_KINDS = ("transition", "camera", "control")


class RecordingError(ValueError):
    """A recording file that cannot be read (the message names the file and line)."""


class Recorder:
    """Appends records to a session file as they happen; thread-safe (the scenario player's
    thread, the GUI thread). ``clock`` gives simulated time; ``t0`` is the scenario's start."""

    def __init__(self, path: Path | str, clock, t0: float, header: dict):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.t0 = float(t0)
        self._lock = threading.Lock()
        self._fh = self.path.open("w", encoding="utf-8")
        self.records: list[dict] = []
        self.header = {"kind": "session", "t": 0.0, "t0": self.t0, "recorded_at": time.time(), **header}
        self._write(self.header)
        self.closed = False

    def now(self) -> float:
        """Simulated seconds since the scenario's start."""
        return round(self.clock.time() - self.t0, 3)

    def _write(self, rec: dict) -> None:
        self._fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")

    def record(self, kind: str, t: float | None = None, **fields) -> dict:
        """Append one record at simulated time ``t`` (default: now)."""
        rec = {"t": self.now() if t is None else round(float(t), 3), "kind": kind, **fields}
        with self._lock:
            if self.closed:
                return rec
            self.records.append(rec)
            self._write(rec)
        return rec

    def flush(self) -> None:
        with self._lock:
            if not self.closed:
                self._fh.flush()

    def close(self, reason: str = "ended") -> None:
        with self._lock:
            if self.closed:
                return
        self.record("end", reason=reason)
        with self._lock:
            self.closed = True
            self._fh.close()

    def recording(self) -> "Recording":
        with self._lock:
            return Recording(dict(self.header), sorted(self.records, key=lambda r: r["t"]), self.path)


@dataclass
class Recording:
    """A session's records, sorted by simulated time (file order within one time)."""

    header: dict
    records: list[dict] = field(default_factory=list)
    path: Path | None = None

    @property
    def duration_s(self) -> float:
        return max([float(self.header.get("duration_s", 0.0))] + [r["t"] for r in self.records])

    def of_kind(self, *kinds: str) -> list[dict]:
        return [r for r in self.records if r["kind"] in kinds]

    def actions(self) -> list[dict]:
        """What the trainee (or the instructor) did: workflow changes, cameras opened, clock controls."""
        return [r for r in self.records if r["kind"] in ("transition", "control")
                or (r["kind"] == "camera" and r.get("action") == "opened")]

    def digest(self) -> str:
        """SHA-256 of the records without real-time fields: equal for equal sessions."""
        h = hashlib.sha256()
        head = {k: v for k, v in self.header.items() if k not in REAL_FIELDS and k not in ("t0",)}
        h.update(json.dumps(head, sort_keys=True, ensure_ascii=False, default=str).encode())
        for r in self.records:
            if r["kind"] == "camera" and r.get("action") == "live":
                continue  # a first frame comes when the decoder delivers it: real time, not the scenario's
            clean = {k: v for k, v in r.items() if k not in REAL_FIELDS}
            h.update(json.dumps(clean, sort_keys=True, ensure_ascii=False, default=str).encode())
        return h.hexdigest()


def load_recording(path: Path | str) -> Recording:
    """Read a recording file; raises :class:`RecordingError` naming the file and line."""
    path = Path(path)
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise RecordingError(f"{path}: {exc.strerror or exc}") from None
    header = None
    records = []
    with fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict) or not isinstance(rec.get("kind"), str):
                    raise ValueError("a record must be an object with a 'kind'")
                t = rec.get("t")
                if isinstance(t, bool) or not isinstance(t, (int, float)):
                    raise ValueError("'t' must be a number of seconds")
            except ValueError as exc:
                if lineno > 1 and header is not None:
                    # a session killed mid-write leaves a cut last line: keep what came before
                    if not fh.readline():
                        break
                raise RecordingError(f"{path}:{lineno}: {exc}") from None
            if header is None:
                if rec["kind"] != "session":
                    raise RecordingError(f"{path}:{lineno}: kind: the first record must be the session header")
                header = rec
                continue
            records.append(rec)
    if header is None:
        raise RecordingError(f"{path}: empty recording")
    records.sort(key=lambda r: r["t"])  # stable
    return Recording(header, records, path)


def merge(records: Iterable[dict]) -> list[dict]:
    """Records sorted by time (stable)."""
    return sorted(records, key=lambda r: r["t"])
