"""The change of shift: the incoming operator names themself, with an optional hand-over note."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from desktop.core.duty import Duty, HandoverError
from desktop.core.i18n import tr


class HandoverDialog(QDialog):
    """Asks who takes over; OK hands the duty over (and the audit log records both sides)."""

    def __init__(self, duty: Duty, parent=None):
        super().__init__(parent)
        self.duty = duty
        self.setWindowTitle(tr("Hand over the shift"))
        self.setMinimumWidth(520)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(tr("On duty now: {name}", name=duty.name)))
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText(tr("Name or badge number"))
        self.note = QLineEdit()
        self.note.setPlaceholderText(tr("What the next operator should know (optional)"))
        form.addRow(tr("Incoming operator"), self.name)
        form.addRow(tr("Hand-over note"), self.note)
        lay.addLayout(form)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #ff6e6e;")
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def accept(self) -> None:  # noqa: D401 - Qt's slot
        try:
            self.duty.hand_over(self.name.text(), self.note.text().strip())
        except HandoverError:
            self.error.setText(tr("Type the incoming operator's name"))
            return
        super().accept()
