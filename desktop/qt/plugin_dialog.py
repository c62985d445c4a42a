"""Plugin manager dialog: every discovered plugin, its version, state, load time and last error."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from desktop.core.i18n import current_locale, tr
from desktop.core.plugin_api.host import PluginManager

STATE_COLORS = {"enabled": "#81c784", "failed": "#ff6e6e", "blocked": "#ffca28", "disabled": "#8a9bab",
                "not-for-mode": "#8a9bab", "discovered": "#9fdcff"}


class PluginDialog(QDialog):
    """Lists plugins and lets the operator enable or disable them."""

    COLUMNS = ("Plugin", "Id", "Version", "State", "Load ms", "Last error")

    def __init__(self, manager: PluginManager, parent=None):
        super().__init__(parent)
        self.manager = manager
        self.setWindowTitle(tr("Plugins"))
        self.resize(900, 360)
        lay = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.Stretch)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        lay.addWidget(self.table)
        self.errors = QLabel()
        self.errors.setWordWrap(True)
        self.errors.setStyleSheet("color: #ff6e6e;")
        lay.addWidget(self.errors)
        row = QHBoxLayout()
        self.enable_btn = QPushButton(tr("Enable"))
        self.disable_btn = QPushButton(tr("Disable"))
        self.enable_btn.clicked.connect(lambda: self._act(True))
        self.disable_btn.clicked.connect(lambda: self._act(False))
        row.addWidget(self.enable_btn)
        row.addWidget(self.disable_btn)
        row.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        row.addWidget(buttons)
        lay.addLayout(row)
        self.refresh()

    def refresh(self) -> None:
        recs = list(self.manager.records.values())
        self.table.setRowCount(len(recs))
        for r, rec in enumerate(recs):
            m = rec.manifest
            cells = (m.display_name(current_locale()), m.id, m.version, tr(rec.state),
                     "" if rec.load_ms is None else f"{rec.load_ms:.1f}", rec.last_error)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setForeground(QColor(STATE_COLORS.get(rec.state, "#dce6ee")))
                if c == 0:
                    item.setData(Qt.UserRole, m.id)
                    item.setToolTip(m.description)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.errors.setText("\n".join(self.manager.discovery_errors))

    def _act(self, enable: bool) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        pid = self.table.item(row, 0).data(Qt.UserRole)
        if enable:
            rec = self.manager.records[pid]
            if rec.state != "enabled":
                rec.state = "discovered"
                self.manager.enable(pid)
        else:
            self.manager.disable(pid)
        self.refresh()
