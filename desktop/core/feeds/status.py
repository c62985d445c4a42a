"""What the state of the live feed means to the operator (Qt-free): a label, a severity, and
which changes deserve a notice. The status bar shows it; a lost broker must never go unseen."""
from __future__ import annotations

from dataclasses import dataclass

from desktop.core.i18n import tr

__all__ = ["FeedState", "feed_state", "change_notice"]


@dataclass(frozen=True)
class FeedState:
    """One feed status as shown: ``severity`` is ok, info, warning or error."""

    status: str
    label: str
    severity: str


def _shown(status: str) -> tuple[str, str]:
    # one tr() literal per label, so the catalog check sees every one
    if status == "connected":
        return tr("Live: broker connected"), "ok"
    if status == "connecting":
        return tr("Connecting to the broker…"), "info"
    if status == "reconnecting":
        return tr("Broker connection lost: reconnecting…"), "error"
    if status == "restarting":
        return tr("Feed process stopped: restarting…"), "error"
    if status == "scenario":
        return tr("Offline demo: scenario feed"), "info"
    if status == "training":
        return tr("Training: scenario on simulated time"), "info"
    if status == "stopped":
        return tr("Live feed stopped"), "warning"
    if status == "none":
        return tr("No live feed"), "info"
    return tr("Feed: {status}", status=status), "warning"


def feed_state(status: str) -> FeedState:
    """The shown form of a status from :meth:`desktop.core.session.Session.feed_status`."""
    label, severity = _shown(status)
    return FeedState(status, label, severity)


def change_notice(old: str | None, new: str) -> tuple[str, str] | None:
    """(text, level) of the notice for a change of status, or None when it needs none.

    Losing the broker or the feed process is an error; getting it back after a loss is
    worth saying too, so the operator knows the alarms are flowing again.
    """
    if old == new:
        return None
    if new in ("reconnecting", "restarting"):
        return _shown(new)[0], "error"
    if new == "connected" and old in ("reconnecting", "restarting"):
        return tr("Broker connection restored: alarms are flowing again"), "info"
    return None
