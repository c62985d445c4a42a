"""Where training sessions live, and the trainee history (Qt-free).

Each session gets its own folder in the data folder::

    <data>/training/<trainee>/<YYYYMMDD-HHMMSS>-<scenario>/
        recording.jsonl     every event and action (see desktop.training.recording)
        score.json          the score sheet, written when the session ends
        alarms.sqlite       the session's own alarm journal (never the live one)
        patrol.sqlite       its own patrol journal

so a training session can never write into a live workstation's journal, two sessions (two
instances on one PC) never share a file, and the history is a listing of these folders.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from desktop.paths import data_dir

__all__ = ["training_root", "new_session_dir", "save_sheet", "SessionEntry", "history", "safe_name"]


def training_root(root: Path | None = None) -> Path:
    """The folder holding every trainee's sessions."""
    p = Path(root) if root is not None else data_dir() / "training"
    p.mkdir(parents=True, exist_ok=True)
    return p


def safe_name(text: str, fallback: str = "trainee") -> str:
    """``text`` as a folder name: letters (any script), digits, ``-`` and ``_``; the rest becomes ``_``."""
    s = re.sub(r"[^\w\-]+", "_", (text or "").strip(), flags=re.UNICODE).strip("._")
    return s[:60] or fallback


def new_session_dir(trainee: str, scenario: str, root: Path | None = None, now: float | None = None) -> Path:
    """A fresh folder for one session (a suffix is added if two start in the same second)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = training_root(root) / safe_name(trainee) / f"{stamp}-{safe_name(scenario, 'scenario')}"
    p, n = base, 1
    while True:
        try:
            p.mkdir(parents=True, exist_ok=False)
            return p
        except FileExistsError:
            n += 1
            p = base.with_name(f"{base.name}-{n}")


def save_sheet(folder: Path, sheet_dict: dict, extra: dict | None = None) -> Path:
    """Write ``score.json`` in a session folder (atomically: a crash never leaves half a file)."""
    out = {**sheet_dict, **(extra or {}), "saved_at": time.time()}
    path = Path(folder) / "score.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class SessionEntry:
    """One past session of the history."""

    trainee: str
    scenario: str
    started: float  # wall-clock epoch the session began
    score: float | None  # None: it ended without a score sheet (the program was closed)
    alarms: int
    handled: int
    folder: Path

    @property
    def recording(self) -> Path:
        return self.folder / "recording.jsonl"


def history(trainee: str | None = None, root: Path | None = None) -> list[SessionEntry]:
    """Every recorded session (of ``trainee``, or all), newest first. Unreadable folders are skipped."""
    base = training_root(root)
    dirs = [base / safe_name(trainee)] if trainee else [d for d in base.iterdir() if d.is_dir()]
    out = []
    for tdir in dirs:
        if not tdir.is_dir():
            continue
        for sdir in tdir.iterdir():
            rec = sdir / "recording.jsonl"
            if not rec.is_file():
                continue
            name, scen, started = tdir.name, sdir.name, sdir.stat().st_mtime
            try:
                with rec.open(encoding="utf-8") as fh:
                    head = json.loads(fh.readline())
                name = str(head.get("trainee", name))
                scen = str(head.get("scenario", scen))
                started = float(head.get("recorded_at", started))
            except (OSError, ValueError):
                continue
            score, alarms, handled = None, 0, 0
            sp = sdir / "score.json"
            if sp.is_file():
                try:
                    s = json.loads(sp.read_text(encoding="utf-8"))
                    score, alarms, handled = float(s["score"]), int(s.get("alarms", 0)), int(s.get("alarms_handled", 0))
                except (OSError, ValueError, KeyError, TypeError):
                    pass
            out.append(SessionEntry(name, scen, started, score, alarms, handled, sdir))
    out.sort(key=lambda e: e.started, reverse=True)
    return out
