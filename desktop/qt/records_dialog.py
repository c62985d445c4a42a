"""A read-only table of records in a dialog (audit log, rejected messages): columns, a status
line under the table, a Close button; long cells keep their full text in a tooltip."""
from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout)

from desktop.core.i18n import tr


class RecordsDialog(QDialog):
    """Subclasses set ``COLUMNS`` (English, translated here) and ``STRETCH`` (the column that
    takes the spare width), put extra rows above the table through ``top``, and call ``fill``."""

    COLUMNS: tuple[str, ...] = ()
    STRETCH = -1  # the last column

    def __init__(self, title: str, parent=None, size: tuple[int, int] = (1000, 480)):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(*size)
        lay = QVBoxLayout(self)
        self.top = QVBoxLayout()
        lay.addLayout(self.top)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(self.STRETCH % len(self.COLUMNS), QHeaderView.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        lay.addWidget(self.table, 1)
        self.status = QLabel("")
        lay.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def fill(self, rows: list[tuple], status: str = "") -> None:
        """Show ``rows`` (one tuple of cells each) and ``status`` under the table."""
        self.table.setRowCount(len(rows))
        for r, cells in enumerate(rows):
            for c, value in enumerate(cells):
                text = str(value)
                item = QTableWidgetItem(text)
                item.setToolTip(text)  # long targets, paths and messages are cut in the cell
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.status.setStyleSheet("")
        self.status.setText(status)

    def show_error(self, text: str) -> None:
        """Say why the records could not be read; the table keeps what it showed."""
        self.status.setStyleSheet("color: #ff6e6e;")
        self.status.setText(text)
