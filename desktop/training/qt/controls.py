"""The instructor's bar and the TRAINING marks in the operator window.

A toolbar across the top: a red TRAINING badge, the trainee, pause/resume, the speeds 1–16×,
Step (+10 s), the scenario time, and End session; the window title and a permanent status-bar
badge say TRAINING too, so a training window is never taken for a live one. The Training menu
has the score sheet, the trainee history and the replay of a session.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QToolBar, QToolButton, QWidget, QSizePolicy

from desktop.core.localtime import format_local
from desktop.training._i18n import tr

__all__ = ["InstructorBar", "install_training_ui", "BADGE_STYLE"]

BADGE_STYLE = ("background: #c62828; color: #ffffff; font-weight: bold; padding: 3px 10px; "
               "border-radius: 3px; letter-spacing: 1px;")


def _mmss(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60:02d}:{s % 60:02d}"


class InstructorBar(QToolBar):
    """Clock controls for the instructor, bound to a :class:`TrainingController`."""

    def __init__(self, controller, parent=None):
        super().__init__(tr("Training"), parent)
        self.setObjectName("training-bar")
        self.setMovable(False)
        self.c = controller
        badge = QLabel(tr("TRAINING"))
        badge.setStyleSheet(BADGE_STYLE)
        self.addWidget(badge)
        self.trainee = QLabel(tr("Trainee: {name}", name=controller.trainee))
        self.trainee.setStyleSheet("padding: 0 10px; font-weight: bold;")
        self.addWidget(self.trainee)
        self.addSeparator()
        self.pause_act = QAction(tr("Pause"), self)
        self.pause_act.setShortcut("Ctrl+Space")
        self.pause_act.triggered.connect(self._toggle)
        self.addAction(self.pause_act)
        self.speed_group = QActionGroup(self)
        self.speed_actions = {}
        from desktop.training.qt.controller import SPEEDS
        for sp in SPEEDS:
            act = QAction(f"{sp}×", self)
            act.setCheckable(True)
            act.setChecked(sp == controller.clock.speed)
            act.triggered.connect(lambda _on=False, s=sp: self.c.set_speed(float(s)))
            self.speed_group.addAction(act)
            self.addAction(act)
            self.speed_actions[sp] = act
        self.step_act = QAction(tr("Step +10 s"), self)
        self.step_act.triggered.connect(lambda: self.c.step())
        self.addAction(self.step_act)
        self.addSeparator()
        self.time_label = QLabel("")
        self.time_label.setStyleSheet("padding: 0 10px; font-family: monospace; font-size: 12pt;")
        self.addWidget(self.time_label)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.addWidget(spacer)
        self.end_act = QAction(tr("End session"), self)
        self.end_act.triggered.connect(lambda: self.c.end("ended by the instructor"))
        self.addAction(self.end_act)
        for act in (self.pause_act, self.step_act, self.end_act):
            btn = self.widgetForAction(act)
            if isinstance(btn, QToolButton):
                btn.setToolButtonStyle(Qt.ToolButtonTextOnly)
        controller.clock_changed.connect(self.refresh)
        self.refresh()

    def _toggle(self) -> None:
        if self.c.clock.paused:
            self.c.resume()
        else:
            self.c.pause()

    def refresh(self) -> None:
        c = self.c
        paused = c.clock.paused
        self.pause_act.setText(tr("Resume") if paused else tr("Pause"))
        sp = int(c.clock.speed) if float(c.clock.speed).is_integer() else c.clock.speed
        if sp in self.speed_actions and not self.speed_actions[sp].isChecked():
            self.speed_actions[sp].setChecked(True)
        state = tr("ended") if c.finished else tr("paused") if paused else f"{sp}×"
        self.time_label.setText(tr("{elapsed} / {total}  ·  {clock}  ·  {state}", elapsed=_mmss(c.elapsed_s),
                                   total=_mmss(c.scenario.duration_s),
                                   clock=format_local(c.clock.time(), date=False), state=state))
        for act in (self.pause_act, self.step_act, self.end_act, *self.speed_actions.values()):
            act.setEnabled(not c.finished)


def install_training_ui(window, controller) -> InstructorBar:
    """The instructor bar, TRAINING in the title and the status bar, and the Training menu."""
    bar = InstructorBar(controller, window)
    window.addToolBar(Qt.TopToolBarArea, bar)
    window.insertToolBarBreak(bar)
    window.training_bar = bar
    title = window.windowTitle()
    window.setWindowTitle(tr("[TRAINING] {title}", title=title))
    badge = QLabel(tr("TRAINING"))
    badge.setStyleSheet(BADGE_STYLE)
    window.statusBar().addPermanentWidget(badge)
    window.training_badge = badge
    menu = window.menuBar().addMenu(tr("Training"))
    window.menu_training = menu
    from desktop.training.qt.dialogs import HistoryDialog, ScoreSheetDialog, open_replay_chooser

    def show_sheet():
        if controller.sheet is None:
            window.show_notice(tr("The score sheet comes when the session ends"), "info")
            return
        ScoreSheetDialog(controller.sheet, controller.folder, window).exec()

    for text, fn in ((tr("Score sheet…"), show_sheet),
                     (tr("Trainee history…"), lambda: HistoryDialog(window).exec()),
                     (tr("Replay a session…"), lambda: open_replay_chooser(window))):
        act = QAction(text, window)
        act.triggered.connect(fn)
        menu.addAction(act)
    return bar
