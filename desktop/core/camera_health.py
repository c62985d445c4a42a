"""Which cameras work: the status feed and the video wall's own findings in one table (Qt-free).

Two sources speak about a camera. The platform reports ``pingan/camera/<id>/status``
(``online``, ``offline``, ``fault``) — those reports arrive through the alarm service, which
keeps the last one per camera. And this workstation's video wall finds out by itself: a tile
that cannot reach its camera after several tries goes ``offline``; one whose stream decodes to
garbage goes ``error``, a fault. Whichever spoke last about a camera decides its state: live
pictures on a tile clear an earlier fault report, and a new report from the platform overrides
what the wall saw.

"Since" is when the camera stopped being online (a camera going from offline to fault has been
out of service since it went offline). A camera nobody has spoken about counts as online, as a
center counts it: it is reported down, not presumed down.

The per-camera state is also a numpy array aligned with the district's camera table, so the
map can colour thousands of icons with one lookup per frame.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

__all__ = ["CameraFault", "CameraHealth", "ONLINE", "OFFLINE", "FAULT", "STATE_CODES", "ONLINE_TARGET",
           "VIDEO_STATES", "read_open_outages"]

ONLINE, OFFLINE, FAULT = 0, 1, 2
STATE_CODES = {"online": ONLINE, "offline": OFFLINE, "fault": FAULT}
STATE_NAMES = {v: k for k, v in STATE_CODES.items()}
ONLINE_TARGET = 0.98  # the field's target for cameras online
# what a video worker's state says about its camera (connecting / reconnecting say nothing yet)
VIDEO_STATES = {"live": "online", "offline": "offline", "error": "fault"}


@dataclass(frozen=True)
class CameraFault:
    """A camera that is not online now: since when, why, and who said so."""

    camera_id: str
    status: str  # "offline" or "fault"
    since: float  # epoch when it stopped being online
    reason: str
    source: str  # "feed" (the platform's status report) or "video" (this workstation's wall)
    updated: float  # epoch of the latest word on it


class CameraHealth:
    """Camera states of one district, fed by :meth:`refresh` (the status feed) and :meth:`report`.

    ``feed`` is a callable returning ``{camera id: CameraStatus}`` (the alarm service's
    ``camera_status``). Thread-safe: the wall reports from the GUI thread, a plugin may read
    from a worker. ``version`` grows on each change, so a view redraws only when it must.
    """

    def __init__(self, camera_ids: Iterable[str], feed: Callable[[], Mapping[str, Any]] | None = None):
        self.ids = [str(i) for i in camera_ids]
        self._row = {cid: i for i, cid in enumerate(self.ids)}
        self.codes = np.zeros(len(self.ids), np.int8)  # ONLINE / OFFLINE / FAULT per table row
        self._feed = feed
        self._faults: dict[str, CameraFault] = {}
        self._seen_feed: dict[str, tuple] = {}  # camera -> (status, epoch) of the last feed report applied
        self._spoken: set[str] = set()  # cameras somebody has said something about
        self._lock = threading.Lock()
        self.version = 0
        self.unknown_reports = 0  # reports about cameras the district does not have

    def __len__(self) -> int:
        return len(self.ids)

    # --- input ---------------------------------------------------------------------------
    def report(self, camera_id: str, status: str, epoch: float | None = None, reason: str = "",
               source: str = "feed") -> bool:
        """One word on a camera (``online``/``offline``/``fault``); True when its state changed."""
        if status not in STATE_CODES:
            raise ValueError(f"camera {camera_id}: status {status!r} is not one of online, offline, fault")
        epoch = time.time() if epoch is None else float(epoch)
        row = self._row.get(camera_id)
        if row is None:
            self.unknown_reports += 1
            return False
        with self._lock:
            self._spoken.add(camera_id)
            old = self._faults.get(camera_id)
            if old is not None and epoch < old.updated:
                return False  # older than what we know (a late or replayed message)
            if status == "online":
                if old is None:
                    return False
                del self._faults[camera_id]
                self.codes[row] = ONLINE
            else:
                since = old.since if old is not None else epoch
                new = CameraFault(camera_id, status, since, reason, source, epoch)
                if old is not None and (old.status, old.reason, old.source) == (status, reason, source):
                    self._faults[camera_id] = new  # the same again: only the time of the latest word
                    return False
                self._faults[camera_id] = new
                self.codes[row] = STATE_CODES[status]
            self.version += 1
            return True

    def report_video(self, camera_id: str, worker_state: str, detail: str = "", epoch: float | None = None) -> bool:
        """What a wall tile's decode worker found (``live``, ``offline``, ``error``; others say nothing)."""
        status = VIDEO_STATES.get(worker_state)
        if status is None or not camera_id:
            return False
        if status == "online":
            old = self._faults.get(camera_id)
            if old is None:
                return False
        return self.report(camera_id, status, epoch, detail, source="video")

    def restore(self, outages: Iterable[tuple[str, str, float, str]]) -> int:
        """Cameras still out of service when the program last ran, ``(camera id, status, since,
        reason)`` as :func:`read_open_outages` gives them: a restart keeps since-when."""
        n = 0
        for cid, status, since, reason in outages:
            if status in ("offline", "fault") and self.fault(cid) is None:
                n += self.report(cid, status, since, reason or "", "feed")
        return n

    def refresh(self) -> int:
        """Apply the feed's new reports (each once); returns how many changed a state."""
        if self._feed is None:
            return 0
        changed = 0
        for cid, st in list(self._feed().items()):
            key = (st.status, st.epoch)
            if self._seen_feed.get(cid) == key:
                continue
            self._seen_feed[cid] = key
            changed += self.report(cid, st.status, st.epoch, getattr(st, "reason", "") or "", "feed")
        return changed

    # --- output --------------------------------------------------------------------------
    def status(self, camera_id: str) -> str:
        """``online``, ``offline``, ``fault``, or ``unknown`` for a camera nobody has spoken about
        (or that the district does not have); ``unknown`` counts as online in the rate."""
        if camera_id not in self._spoken:
            return "unknown"
        f = self._faults.get(camera_id)
        return f.status if f is not None else "online"

    def fault(self, camera_id: str) -> CameraFault | None:
        """The camera's fault record, or None when it is online."""
        return self._faults.get(camera_id)

    def faulty(self) -> list[CameraFault]:
        """Cameras not online, the longest out of service first."""
        with self._lock:
            return sorted(self._faults.values(), key=lambda f: (f.since, f.camera_id))

    def counts(self) -> dict[str, int]:
        """``{"total", "online", "offline", "fault"}``."""
        c = np.bincount(self.codes, minlength=3) if len(self.codes) else np.zeros(3, int)
        return {"total": len(self.ids), "online": int(c[ONLINE]), "offline": int(c[OFFLINE]),
                "fault": int(c[FAULT])}

    def online_rate(self) -> float:
        """Share of the district's cameras online (1.0 for a district without cameras)."""
        n = len(self.ids)
        return 1.0 if n == 0 else float(np.count_nonzero(self.codes == ONLINE)) / n


def read_open_outages(journal: Path | str) -> list[tuple[str, str, float, str]]:
    """The outages the alarm journal has not seen end: ``(camera id, status, since, latest
    reason)``. Read-only (the feed process may be writing); [] when the file or its camera
    tables are not there (a new or an older journal)."""
    path = Path(journal)
    if not path.exists():
        return []
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return []
    try:
        # since: the outage's start; status and reason: the camera's latest report (an outage
        # that began offline may be a fault by now)
        rows = con.execute(
            'SELECT o.camera_id, l.status, o.start, l.reason FROM camera_outages o '
            'JOIN camera_status_log l ON l.seq = (SELECT seq FROM camera_status_log '
            '  WHERE camera_id = o.camera_id ORDER BY epoch DESC, seq DESC LIMIT 1) '
            'WHERE o."end" IS NULL ORDER BY o.start').fetchall()
    except sqlite3.Error:
        return []
    finally:
        con.close()
    return [(str(c), str(st), float(t), str(r or "")) for c, st, t, r in rows]
