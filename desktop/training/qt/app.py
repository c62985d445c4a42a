"""``--mode training``: the operator window, built by the same code as a workstation's, on a
training session (scenario, simulated clock, clips, its own journal) with the instructor's
bar. The interactive program (:func:`run_training`) and the headless CI run
(:mod:`desktop.training.headless`) both open it with :func:`open_training`.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from desktop.training._i18n import tr

log = logging.getLogger(__name__)

__all__ = ["open_training", "run_training", "TrainingSetupError"]


class TrainingSetupError(RuntimeError):
    """The training session cannot start (a bad scenario: the message lists the problems)."""


def _scenario_dir(cfg, district) -> Path | None:
    if cfg.scenario:
        return Path(cfg.scenario)
    return district.info.path / "scenario" if district.info.path else None


def open_training(app, cfg, district, trainee: str, *, stepped: bool = False, root: Path | None = None,
                  show: bool = True):
    """Build the training window: returns ``(window, session, controller)``; the clock is paused
    until ``controller.begin()``. Raises :class:`TrainingSetupError` for a scenario that does not load."""
    from desktop.core.feeds.scenario import ScenarioError
    from desktop.core.geo.crs import MapProjection
    from desktop.core.session import Session
    from desktop.qt.app import _wall_factory, attach_operator_tools, start_plugins
    from desktop.qt.main_window import MainWindow
    from desktop.training.history import new_session_dir
    from desktop.training.qt.controller import TrainingController

    cfg.mode = "training"
    cfg.operator = trainee  # the trainee is the operator on duty: every workflow change is in their name
    sdir = _scenario_dir(cfg, district)
    folder = new_session_dir(trainee, sdir.name if sdir else "scenario", root)
    window = MainWindow(district, MapProjection(cfg.map_datum), coord_crs=cfg.coord_crs,
                        wall_factory=_wall_factory(), tiles=cfg.tiles)
    try:
        session = Session(cfg, district, window.projection, journal_path=folder / "alarms.sqlite", stepped=stepped)
    except ScenarioError as exc:
        window.close()
        problems = getattr(exc, "problems", None) or [exc]
        raise TrainingSetupError("\n".join(str(p) for p in problems)) from None
    controller = TrainingController(session, trainee, folder, stepped=stepped)
    session.start()
    window.session = session
    start_plugins(window, cfg, district, bus=session.bus, services=session.services())
    attach_operator_tools(app, window, session, cfg, district)
    controller.attach(window)
    app.aboutToQuit.connect(controller.close)
    if show:
        window.show()
    window.show_notice(tr("Training: scenario “{name}”, trainee {trainee}; nothing here reaches a live system",
                          name=session.scenario.name, trainee=trainee), "info")
    return window, session, controller


def run_training(app, cfg, district, screenshot: str | None = None, after: float = 3.0) -> int:
    """The interactive training program: ask the trainee's name, run, show the score sheet."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox
    from desktop.training.qt.dialogs import ScoreSheetDialog, ask_trainee

    headless = bool(screenshot) or os.environ.get("QT_QPA_PLATFORM") == "offscreen"
    trainee = (getattr(cfg, "trainee", "") or os.environ.get("PINGAN_TRAINEE", "")).strip()
    if not trainee:
        sdir = _scenario_dir(cfg, district)
        trainee = "trainee" if headless else (ask_trainee(sdir.name if sdir else "", None) or "")
        if not trainee:
            return 0  # cancelled
    try:
        window, session, controller = open_training(app, cfg, district, trainee)
    except TrainingSetupError as exc:
        msg = tr("Cannot start the training scenario:\n{err}", err=exc)
        print(f"pingan-desk: {msg}", file=sys.stderr)
        if not headless:
            QMessageBox.critical(None, "Pingan Desk", msg)
        return 2

    def ended(sheet):
        window.show_notice(tr("Session over: score {score:.1f}; the sheet is saved in {folder}",
                              score=sheet.score, folder=controller.folder), "info")
        if not headless:
            dlg = ScoreSheetDialog(sheet, controller.folder, window)
            dlg.setModal(False)
            dlg.show()
            window._score_dialog = dlg

    controller.ended.connect(ended)
    controller.begin()
    if screenshot:
        def shoot():
            path = Path(screenshot)
            path.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(path))
            print(f"screenshot {'saved to' if ok else 'FAILED'} {path}", file=sys.stderr)
            app.exit(0 if ok else 4)
        QTimer.singleShot(int(after * 1000), shoot)
    return app.exec()
