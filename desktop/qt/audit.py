"""The audit trail of operator actions: who opened which camera, took which snapshot, when the
session began and ended — written to the journal's audit table, and a dialog to read it.

Watching public video is accountable; every camera put on the wall is recorded, whatever put
it there (a drop, a double-click, a tour, an alarm's linkage).
"""
from __future__ import annotations

import logging

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton

from desktop.core.i18n import tr
from desktop.core.localtime import format_local
from desktop.qt.records_dialog import RecordsDialog

log = logging.getLogger(__name__)

def action_label(action: str) -> str:
    """How an action reads in the dialog."""
    if action == "session_started":
        return tr("Session started")
    if action == "session_ended":
        return tr("Session ended")
    if action == "camera_opened":
        return tr("Camera opened on the wall")
    if action == "snapshot":
        return tr("Snapshot saved")
    if action == "alarm_linkage":
        return tr("Alarm opened its cameras")
    if action == "transition":
        return tr("Workflow change")
    return action


class AuditTrail:
    """Writes operator actions through the alarm service (``audit``), never raising into the UI.

    ``operator`` is a :class:`~desktop.core.duty.Duty` (the name at the moment of each action,
    and a hand-over is recorded as the end of one session and the start of the next) or a
    fixed name."""

    def __init__(self, service, operator):
        self.service = service
        self.duty = operator if hasattr(operator, "hand_over") else None
        self._name = str(operator)
        self.failures = 0
        if self.duty is not None:
            self.duty.on_hand_over(self._handed_over)

    @property
    def operator(self) -> str:
        return self.duty.name if self.duty is not None else self._name

    def record(self, action: str, target: str = "", **detail) -> None:
        self.record_as(self.operator, action, target, **detail)

    def record_as(self, operator: str, action: str, target: str = "", **detail) -> None:
        try:
            self.service.audit(operator, action, target, **detail)
        except Exception:  # noqa: BLE001 - an audit failure is logged, the action still happens
            self.failures += 1
            log.exception("audit entry %s %s could not be written", action, target)

    def _handed_over(self, old: str, new: str, note: str) -> None:
        self.record_as(old, "session_ended", "", handed_over_to=new, note=note)
        self.record_as(new, "session_started", "", took_over_from=old, note=note)

    def attach(self, window) -> None:
        """Record what happens on the window's video wall."""
        wall = getattr(window, "wall", None)
        if wall is None:
            return
        wall.camera_opened.connect(lambda tile, cid: self.record("camera_opened", cid, tile=int(tile) + 1))
        wall.snapshot_saved.connect(lambda path: self.record("snapshot", path))


class AuditLogDialog(RecordsDialog):
    """The latest operator actions, newest first, filtered by operator."""

    COLUMNS = ("Time", "Operator", "Workstation", "Action", "Target", "Detail")

    def __init__(self, service, parent=None, limit: int = 500):
        super().__init__(tr("Audit log"), parent, size=(1000, 520))
        self.service = service
        self.limit = limit
        row = QHBoxLayout()
        self.operator = QLineEdit()
        self.operator.setPlaceholderText(tr("Operator (all when empty)"))
        self.operator.returnPressed.connect(self.refresh)
        refresh = QPushButton(tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        row.addWidget(self.operator, 1)
        row.addWidget(refresh)
        self.top.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        who = self.operator.text().strip() or None
        try:
            entries = self.service.audit_log(self.limit, who)
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, the program goes on
            self.show_error(tr("Could not read the audit log: {err}", err=exc))
            return
        rows = []
        for e in entries:
            detail = ", ".join(f"{k}={', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                               for k, v in sorted((e.detail or {}).items()))
            rows.append((format_local(e.epoch, date=True), e.operator, e.workstation,
                         action_label(e.action), e.target, detail))
        self.fill(rows, tr("{n} entries (newest first)", n=len(entries)))
