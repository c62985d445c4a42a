"""The latest rejected feed messages, for whoever commissions a feed: topic, reason, field, message."""
from __future__ import annotations


from desktop.sdk import RecordsDialog, format_local, tr


class RejectionsDialog(RecordsDialog):
    """Newest first; when they cannot be read (the feed process restarting) the dialog says so."""

    COLUMNS = ("Time", "Topic", "Reason", "Field", "Message")

    def __init__(self, service, parent=None, limit: int = 200):
        super().__init__(tr("Rejected messages"), parent, size=(1000, 460))
        try:
            rejections = service.recent_rejections(limit)
        except Exception as exc:  # noqa: BLE001 - e.g. the feed process is restarting
            self.show_error(tr("Could not read the rejected messages: {err}", err=exc))
            return
        self.fill([(format_local(r.epoch) if r.epoch else "", r.topic, r.reason,
                    r.field, r.message) for r in rejections],
                  tr("{n} latest rejected messages (newest first)", n=len(rejections)))
