"""The alarm plugin's workflow actions: the buttons and keys that move the selected alarm
(dispatch with the unit chosen or typed, acknowledging a new alarm on the way), the changes
the service refused later, the rejected-messages dialog and the linked cameras.

:class:`_WorkflowActions` is mixed into :class:`~.panel.AlarmsPlugin`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.sdk import AlarmState, IllegalTransition, tr


class _WorkflowActions:
    """The workflow actions of :class:`~.panel.AlarmsPlugin` (a mixin)."""

    # --- workflow ------------------------------------------------------------------------
    def move_selected(self, state: AlarmState) -> None:
        if not self.selected_id:
            self.host.show_notice(tr("Select an alarm first"), "warning")
            return
        unit = ""
        if state == AlarmState.DISPATCHED:
            typed = self.panel.unit_entry.text().strip()
            item = self.panel.units.currentItem()
            if typed:
                unit = typed
            elif item is not None and item.data(Qt.UserRole):
                unit = item.data(Qt.UserRole)
            else:
                self.host.show_notice(tr("No free patrol unit known near this alarm: type the unit's call sign"),
                                      "warning")
                return
        note = self.panel.note.text().strip()
        current = self.service.get(self.selected_id)
        try:
            if state == AlarmState.DISPATCHED and current is not None and current.state == AlarmState.NEW:
                # dispatching a new alarm acknowledges it on the way: one key, both moves journaled
                self._ack_then_dispatch(self.selected_id, note, unit)
            else:
                fut = self.service.transition(self.selected_id, state, self.operator, note, unit=unit)
                self._requests.append((fut, self.selected_id))
        except IllegalTransition as exc:
            self.host.show_notice(str(exc), "warning")
            return
        self.panel.note.clear()
        if state == AlarmState.DISPATCHED:
            self.panel.unit_entry.clear()
        self._dirty = True

    def _ack_then_dispatch(self, alarm_id: str, note: str, unit: str) -> None:
        operator = self.operator
        ack = self.service.transition(alarm_id, AlarmState.ACKNOWLEDGED, operator, tr("Acknowledged on dispatch"))

        def dispatch(_transition) -> None:
            try:
                self._requests.append((self.service.transition(alarm_id, AlarmState.DISPATCHED, operator, note,
                                                               unit=unit), alarm_id))
            except IllegalTransition as exc:
                self.host.show_notice(str(exc), "warning")
            self._dirty = True

        self.host.run_in_background(lambda: ack.result(15), dispatch,
                                    lambda exc: self.host.show_notice(
                                        tr("Alarm {id}: the change was not made: {err}", id=alarm_id, err=exc),
                                        "warning"), what="acknowledge before dispatch")

    def _check_requests(self) -> None:
        """A workflow change the service refused later (another workstation was first, the feed
        process restarted) is told to the operator, not dropped silently."""
        waiting = []
        for fut, alarm_id in self._requests:
            if not fut.done():
                waiting.append((fut, alarm_id))
                continue
            exc = fut.exception()
            if exc is not None:
                self.host.show_notice(tr("Alarm {id}: the change was not made: {err}", id=alarm_id, err=exc),
                                      "warning")
                self._dirty = True
        self._requests = waiting

    def show_rejections(self):
        """The latest rejected feed messages in a dialog (returned, for tests)."""
        from .rejections import RejectionsDialog
        dialog = RejectionsDialog(self.service, self.panel)
        dialog.show()
        return dialog

    def open_selected_cameras(self) -> None:
        a = self.service.get(self.selected_id) if self.selected_id else None
        if a is None or self.linkage is None:
            return
        ids = self.linkage.cameras_for(a)
        if not ids:
            self.host.show_notice(tr("No camera covers this alarm's position"), "warning")
            return
        self.host.open_cameras(ids)
