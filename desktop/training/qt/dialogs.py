"""Training dialogs: the trainee's name at the start, the score sheet, the trainee history."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout)

from desktop.core.alarms.model import type_label
from desktop.core.localtime import format_local
from desktop.training._i18n import tr
from desktop.training.history import history

__all__ = ["TraineeDialog", "ask_trainee", "ScoreSheetDialog", "HistoryDialog", "open_replay_chooser",
           "OUTCOME_COLOURS"]

OUTCOME_COLOURS = {"on_time": "#66bb6a", "late": "#ffca28", "missed": "#ef5350", "wrong": "#ef5350",
                   "not_received": "#8a9bab"}


def outcome_label(outcome: str) -> str:
    # whole phrases: one-word sources ("late", "missed") are already taken by the patrol visits
    return {"on_time": tr("handled on time"), "late": tr("handled late"), "missed": tr("not handled"),
            "wrong": tr("handled wrongly"), "not_received": tr("never arrived")}.get(outcome, outcome)


def state_label(state: str) -> str:
    return {"new": tr("New"), "acknowledged": tr("Acknowledged"), "dispatched": tr("Dispatched"),
            "resolved": tr("Resolved"), "false_alarm": tr("False alarm")}.get(state, state)


class TraineeDialog(QDialog):
    """Asks who is training before the scenario starts (a name is required)."""

    def __init__(self, scenario_name: str, parent=None, default: str = ""):
        super().__init__(parent)
        self.setWindowTitle(tr("Training"))
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(tr("Scenario: {name}", name=scenario_name)))
        lay.addWidget(QLabel(tr("Trainee's name:")))
        self.name = QLineEdit(default)
        self.name.setPlaceholderText(tr("e.g. 张伟"))
        lay.addWidget(self.name)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #ef5350;")
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _accept(self) -> None:
        if not self.name.text().strip():
            self.error.setText(tr("A name is needed: the score sheet is saved under it"))
            return
        self.accept()


def ask_trainee(scenario_name: str, parent=None, default: str = "") -> str | None:
    """The trainee's name, or None when cancelled."""
    d = TraineeDialog(scenario_name, parent, default)
    return d.name.text().strip() if d.exec() == QDialog.Accepted else None


def _item(text, colour: str | None = None, align_right: bool = False) -> QTableWidgetItem:
    it = QTableWidgetItem("" if text is None else str(text))
    it.setFlags(it.flags() & ~Qt.ItemIsEditable)
    if colour:
        it.setForeground(QColor(colour))
    if align_right:
        it.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
    return it


class ScoreSheetDialog(QDialog):
    """The score sheet: the total, then one row per expected alarm with each check."""

    COLUMNS = ("Alarm", "Type", "Expected", "Acknowledged", "Outcome", "Right camera", "Unit", "Points")

    def __init__(self, sheet, folder: Path | None = None, parent=None):
        super().__init__(parent)
        self.sheet = sheet
        self.folder = folder
        self.setWindowTitle(tr("Score sheet — {trainee}", trainee=sheet.trainee))
        self.resize(1180, 720)
        lay = QVBoxLayout(self)
        fr, fn = sheet.false_recognised()
        head = QLabel(tr("{trainee} · {scenario}", trainee=sheet.trainee, scenario=sheet.scenario))
        head.setStyleSheet("font-size: 13pt; font-weight: bold;")
        lay.addWidget(head)
        total = QLabel(tr("Score {score:.1f} / 100", score=sheet.score))
        colour = "#66bb6a" if sheet.score >= 80 else "#ffca28" if sheet.score >= 60 else "#ef5350"
        total.setStyleSheet(f"font-size: 22pt; font-weight: bold; color: {colour};")
        lay.addWidget(total)
        lay.addWidget(QLabel(tr("{handled} of {n} alarms handled · on time {on_time} · late {late} · missed {missed}"
                                " · wrong {wrong} · false alarms recognised {fr} of {fn}",
                                handled=sheet.handled, n=len(sheet.alarms), on_time=sheet.count("on_time"),
                                late=sheet.count("late"), missed=sheet.count("missed"), wrong=sheet.count("wrong"),
                                fr=fr, fn=fn)))
        self.table = QTableWidget(len(sheet.alarms), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.verticalHeader().setVisible(False)
        for row, a in enumerate(sheet.alarms):
            checks = {c.name: c for c in a.checks}
            ack = checks.get("ack")
            cam = checks.get("camera")
            unit = checks.get("unit")
            cells = [
                _item(a.alarm_id),
                _item(type_label(a.type)),
                _item(state_label(a.expected) + tr(" within {s:g} s", s=a.within_s)),
                _item("—" if a.ack_s is None else tr("{s:g} s", s=a.ack_s),
                      "#66bb6a" if ack and ack.points == 1 else "#ffca28" if ack and ack.points else "#ef5350"),
                _item(outcome_label(a.outcome) + (tr(" ({s:g} s)", s=a.took_s) if a.took_s is not None else ""),
                      OUTCOME_COLOURS.get(a.outcome)),
                _item(a.camera or "—", "#66bb6a" if cam and cam.points else "#ef5350"),
                _item("" if unit is None else (f"{a.unit} #{a.unit_rank}" if a.unit_rank else (a.unit or "—")),
                      None if unit is None else "#66bb6a" if unit.points else "#ef5350"),
                _item(f"{a.points:g} / {a.possible:g}", align_right=True),
            ]
            for col, it in enumerate(cells):
                it.setToolTip("\n".join(f"{c.name}: {c.detail}" for c in a.checks))
                self.table.setItem(row, col, it)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        for col, w in enumerate((110, 110, 190, 110, 150, 140, 120, 80)):
            self.table.setColumnWidth(col, w)
        hh.setStretchLastSection(True)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        if folder is not None and (Path(folder) / "recording.jsonl").is_file():
            replay = QPushButton(tr("Replay this session"))
            replay.clicked.connect(self._replay)
            row.addWidget(replay)
        row.addStretch(1)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.accept)
        row.addWidget(close)
        lay.addLayout(row)

    def _replay(self) -> None:
        from desktop.training.qt.replay_window import open_replay
        open_replay(Path(self.folder) / "recording.jsonl", self.parent())


class HistoryDialog(QDialog):
    """Every recorded session, newest first, filtered by trainee; open its sheet or replay it."""

    COLUMNS = ("Started", "Trainee", "Scenario", "Score", "Handled")

    def __init__(self, parent=None, root: Path | None = None):
        super().__init__(parent)
        self.root = root
        self.setWindowTitle(tr("Trainee history"))
        self.resize(820, 480)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(tr("Trainee (all when empty)"))
        self.filter.textChanged.connect(self.refresh)
        top.addWidget(self.filter, 1)
        lay.addLayout(top)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, w in enumerate((150, 140, 220, 80)):
            self.table.setColumnWidth(col, w)
        self.table.doubleClicked.connect(lambda _i: self._replay())
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        sheet = QPushButton(tr("Score sheet"))
        sheet.clicked.connect(self._sheet)
        replay = QPushButton(tr("Replay the session"))
        replay.clicked.connect(self._replay)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.accept)
        row.addWidget(sheet)
        row.addWidget(replay)
        row.addStretch(1)
        row.addWidget(close)
        lay.addLayout(row)
        self.entries = []
        self.refresh()

    def refresh(self) -> None:
        who = self.filter.text().strip().lower()
        self.entries = [e for e in history(root=self.root) if not who or who in e.trainee.lower()]
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            score = "—" if e.score is None else f"{e.score:.1f}"
            for col, it in enumerate((_item(format_local(e.started)), _item(e.trainee), _item(e.scenario),
                                      _item(score, align_right=True), _item(f"{e.handled} / {e.alarms}"))):
                self.table.setItem(row, col, it)

    def _current(self):
        row = self.table.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _sheet(self) -> None:
        e = self._current()
        if e is None:
            return
        from desktop.training.qt.replay_window import sheet_for
        sheet = sheet_for(e.folder)
        if sheet is not None:
            ScoreSheetDialog(sheet, e.folder, self).exec()

    def _replay(self) -> None:
        e = self._current()
        if e is not None:
            from desktop.training.qt.replay_window import open_replay
            open_replay(e.recording, self.parent())


def open_replay_chooser(parent=None):
    """Pick a recording (from the training folder) and open its replay."""
    from desktop.training.history import training_root
    from desktop.training.qt.replay_window import open_replay
    path, _ = QFileDialog.getOpenFileName(parent, tr("Replay a session"), str(training_root()),
                                          tr("Training recordings (recording.jsonl)"))
    if path:
        return open_replay(Path(path), parent)
    return None
