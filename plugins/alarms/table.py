"""The alarm queue's table model: rows of alarm snapshots, with the answers Qt asks for cached."""
from __future__ import annotations


from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from desktop.sdk import AlarmState, format_local, tr


def clock_text(epoch: float) -> str:
    """The district's local time (the date too when it is not today)."""
    return format_local(epoch)


_ROLE = {name: int(getattr(Qt.ItemDataRole, name).value) for name in
         ("DisplayRole", "BackgroundRole", "ForegroundRole", "FontRole", "TextAlignmentRole", "UserRole")}
_DISPLAY, _BACKGROUND, _FOREGROUND, _FONT, _ALIGN, _USER = _ROLE.values()


class AlarmTableModel(QAbstractTableModel):
    """Rows of alarms, already sorted by the service (priority, then newest).

    Qt asks ``data`` for every cell and role on each repaint; the answers for one alarm
    snapshot (snapshots are immutable) are worked out once and kept, so a repaint of the
    queue during a flood is dictionary look-ups, not formatting.
    """

    HEADERS = ("P", "Type", "State", "Time", "Sub-district", "×", "Source", "Text")
    CENTRED = (0, 5)

    def __init__(self):
        super().__init__()
        self.rows = []
        self._looks: dict[int, tuple] = {}  # id(snapshot) -> (snapshot, texts, colour brush, text brush, font)
        self._brushes: dict[str, QBrush] = {}
        self._bold = QFont()
        self._bold.setBold(True)
        self._centre = int(Qt.AlignCenter)

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = rows
        if len(self._looks) > 4 * max(len(rows), 1000):
            self._looks.clear()  # drop the looks of snapshots no longer shown
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):  # noqa: N802 (Qt)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):  # noqa: N802
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return tr(self.HEADERS[section])
        return None

    def _brush(self, colour: str) -> QBrush:
        b = self._brushes.get(colour)
        if b is None:
            b = self._brushes[colour] = QBrush(QColor(colour))
        return b

    def _look(self, a) -> tuple:
        entry = self._looks.get(id(a))
        if entry is None or entry[0] is not a:
            texts = (str(a.priority), a.type_label, a.state_label, clock_text(a.last_epoch or a.epoch),
                     a.subdistrict, str(a.count) if a.count > 1 else "", a.source, a.text)
            fg = (self._brush("#ffffff") if a.state == AlarmState.NEW
                  else None if a.is_open else self._brush("#7f93a3"))
            entry = (a, texts, self._brush(a.style.colour), fg, self._bold if a.state == AlarmState.NEW else None)
            self._looks[id(a)] = entry
        return entry

    def data(self, index, role=_DISPLAY):
        if role == _DISPLAY:
            return self._look(self.rows[index.row()])[1][index.column()]
        if role == _BACKGROUND:
            return self._look(self.rows[index.row()])[2] if index.column() == 0 else None
        if role == _FOREGROUND:
            return self._brush("#0b1219") if index.column() == 0 else self._look(self.rows[index.row()])[3]
        if role == _FONT:
            return self._look(self.rows[index.row()])[4]
        if role == _ALIGN:
            return self._centre if index.column() in self.CENTRED else None
        if role == _USER:
            return self.rows[index.row()].id
        return None
