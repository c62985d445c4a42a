"""The patrol panel's decisions, free of Qt: what the unit list and the visit table show —
tested without a display. (The replay's timeline is the SDK's ``ReplayModel``.)"""
from __future__ import annotations

from dataclasses import dataclass

from desktop.sdk import REPLAY_SPEEDS, format_local, tr

SPEEDS = tuple(int(s) for s in REPLAY_SPEEDS)  # replay speeds offered (1–120×)
VISIT_STATES = ("on_time", "early", "late", "missed", "open", "upcoming")


def state_label(state: str) -> str:
    return tr({"on_time": "on time", "early": "early", "late": "late", "missed": "missed", "pending": "pending",
               "open": "window open", "upcoming": "upcoming",
               "live": "live", "stale": "stale", "offline": "offline", "moving": "moving",
               "stopped": "stopped"}.get(state, state))


def clock(epoch: float | None, tz=None, seconds: bool = True) -> str:
    """Local time (the district's zone; the date too when not today), '—' for none."""
    return format_local(epoch, tz, seconds=seconds)


@dataclass
class UnitFilter:
    """The unit list's filters; None means any."""

    kind: str | None = None
    link: str | None = None  # live | stale | offline
    busy: bool | None = None

    def keep(self, u) -> bool:
        return ((self.kind is None or u.kind == self.kind) and (self.link is None or u.link == self.link)
                and (self.busy is None or u.busy == self.busy))


def unit_rows(statuses, flt: UnitFilter) -> list[tuple]:
    """(unit, kind, state, speed, last fix, segment, busy alarm) rows, busy first then by call sign."""
    rows = []
    for u in sorted(statuses.values(), key=lambda s: (not s.busy, s.link != "live", s.unit)):
        if not flt.keep(u):
            continue
        state = state_label(u.link) if u.link != "live" else state_label(u.motion)
        rows.append((u.unit, u.kind, state, f"{u.speed_kmh:.0f}", clock(u.epoch), u.segment or "—",
                     u.alarm_id if u.busy else ""))
    return rows


@dataclass
class VisitFilter:
    state: str | None = None
    text: str = ""  # part of the post id or name

    def keep(self, v) -> bool:
        t = self.text.strip().lower()
        return ((self.state is None or v.state == self.state)
                and (not t or t in v.post.lower() or t in (v.post_name or "").lower()))


def visit_rows(visits, flt: VisitFilter) -> list[tuple]:
    """(post, scheduled, window, arrived, unit, state) rows, latest scheduled first."""
    rows = []
    for v in sorted(visits, key=lambda v: -v.scheduled):
        if not flt.keep(v):
            continue
        name = f"{v.post_name} ({v.post})" if v.post_name else v.post
        rows.append((name, clock(v.scheduled, seconds=False),
                     f"{clock(v.opens, seconds=False)}–{clock(v.closes, seconds=False)}",
                     clock(v.checkin if v.checkin is not None else v.arrival), v.unit or "—", v.state))
    return rows


def visit_summary(visits) -> dict[str, int]:
    out = dict.fromkeys(VISIT_STATES, 0)
    for v in visits:
        out[v.state] = out.get(v.state, 0) + 1
    return out
