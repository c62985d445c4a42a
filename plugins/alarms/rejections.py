"""The latest rejected feed messages, for whoever commissions a feed: topic, reason, field, message."""
from __future__ import annotations

import time

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from desktop.core.i18n import tr


class RejectionsDialog(QDialog):
    """Newest first; a message that cannot be read is shown as the dialog's status, not raised."""

    COLUMNS = ("Time", "Topic", "Reason", "Field", "Message")

    def __init__(self, service, parent=None, limit: int = 200):
        super().__init__(parent)
        self.setWindowTitle(tr("Rejected messages"))
        self.resize(1000, 460)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        lay.addWidget(self.table, 1)
        self.status = QLabel("")
        lay.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        try:
            rows = service.recent_rejections(limit)
        except Exception as exc:  # noqa: BLE001 - e.g. the feed process is restarting
            self.status.setText(tr("Could not read the rejected messages: {err}", err=exc))
            return
        self.table.setRowCount(len(rows))
        for r, rej in enumerate(rows):
            cells = (time.strftime("%H:%M:%S", time.localtime(rej.epoch)) if rej.epoch else "", rej.topic,
                     rej.reason, rej.field, rej.message)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                item.setToolTip(str(text))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.status.setText(tr("{n} latest rejected messages (newest first)", n=len(rows)))
