"""The patrol panel's tables: a model of rows of text replaced whole, and the view set up for it."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView


class RowsModel(QAbstractTableModel):
    """Rows of text for a table view, replaced whole (cheap: the view asks only for what it shows,
    so 500 units refreshed each second cost the visible rows, not 3,500 widget items)."""

    def __init__(self, columns: list[str], colors: dict[int, dict] | None = None):
        super().__init__()
        self.columns = columns
        self.colors = colors or {}
        self.rows: list[tuple] = []

    def set_rows(self, rows: list[tuple]) -> None:
        if len(rows) == len(self.rows):
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.columns) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt)
        return len(self.columns)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.DisplayRole:
            return str(value)
        if role == Qt.ForegroundRole and index.column() in self.colors:
            color = self.colors[index.column()].get(value)
            return QColor(color) if color else None
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802 (Qt)
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.columns[section]
        return None


def _table(columns: list[str], colors: dict[int, dict] | None = None) -> QTableView:
    view = QTableView()
    view.setModel(RowsModel(columns, colors))
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.Interactive)  # not ResizeToContents: that measures every row
    header.setStretchLastSection(True)
    header.setDefaultSectionSize(96)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    return view


def _fill(view: QTableView, rows: list[tuple]) -> None:
    view.model().set_rows(rows)
