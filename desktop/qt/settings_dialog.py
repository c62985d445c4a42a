"""The Settings dialog: broker (with a connection test), camera credentials, language, theme,
wall id, operator. A thin view over :class:`desktop.core.user_settings.UserSettings` and
:class:`desktop.core.credentials.CredentialStore`, kept with QSettings.

What applies at once: the theme's type size and the camera credentials (the next stream
opened uses them). What applies at the next start, said in the dialog: the language, the
broker, the wall id and the operator put on duty at start (a change of shift now is
File → Hand over the shift). Passwords are shown masked and never logged.
"""
from __future__ import annotations

import logging
import sys
import threading

from PySide6.QtCore import QObject, QProcess, Qt, Signal
from PySide6.QtWidgets import (QApplication, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton,
                               QTableWidget, QVBoxLayout, QWidget)

from desktop.core.broker_probe import ProbeResult, probe_broker
from desktop.core.credentials import ALL, Credential, CredentialError, CredentialStore
from desktop.core.i18n import tr
from desktop.core.user_settings import SettingsError, UserSettings
from desktop.qt.theme import TEXT_DIM, apply_theme

log = logging.getLogger(__name__)

LANGUAGE_NAMES = (("", "System default"), ("zh_CN", "中文（简体）"), ("en", "English"))
THEME_NAMES = (("dark", "Dark (control room)"), ("dark-large", "Dark, large type"))
OK_COLOR, ERR_COLOR = "#81c784", "#ff6e6e"
DEFAULT_WALL_ID = "main"  # what a wall-mode instance shows when no id is set (Config.wall_id)


class _ProbeRelay(QObject):
    """Carries a probe's result from its thread to the GUI thread."""

    done = Signal(object)


class SettingsDialog(QDialog):
    """Edit and save the workstation's settings; ``saved`` is emitted with the new settings."""

    saved = Signal(object)

    def __init__(self, settings: UserSettings, credentials: CredentialStore, store, cred_store,
                 parent: QWidget | None = None, overridden: dict[str, str] | None = None):
        super().__init__(parent)
        self.setObjectName("settings-dialog")
        self.setWindowTitle(tr("Settings"))
        self.settings, self.credentials = settings, credentials
        self.store, self.cred_store = store, cred_store
        self.overridden = overridden or {}  # field -> where its running value came from
        self._relay = _ProbeRelay(self)
        self._relay.done.connect(self._probe_done)
        self._initial = UserSettings(**settings.__dict__)

        lay = QVBoxLayout(self)
        # -- live feeds
        feeds = QGroupBox(tr("Live feeds"))
        f1 = QFormLayout(feeds)
        self.broker = QLineEdit(settings.broker)
        self.broker.setObjectName("broker")
        self.broker.setPlaceholderText(tr("mqtt://HOST:PORT (empty: the offline demo)"))
        self.test_btn = QPushButton(tr("Test connection"))
        self.test_btn.setObjectName("test-broker")
        self.test_btn.clicked.connect(self.test_broker)
        row = QHBoxLayout()
        row.addWidget(self.broker, 1)
        row.addWidget(self.test_btn)
        f1.addRow(tr("Broker"), row)
        self.probe_label = QLabel("")
        self.probe_label.setObjectName("probe-result")
        self.probe_label.setWordWrap(True)
        self.broker.textChanged.connect(lambda _t: self.probe_label.setText(""))  # a result is for the URL tested
        f1.addRow("", self.probe_label)
        lay.addWidget(feeds)

        # -- camera credentials
        cams = QGroupBox(tr("Camera credentials"))
        v = QVBoxLayout(cams)
        hint = QLabel(tr("Kept on this workstation only, apart from the map data. Scope: a camera id, "
                         "a host or host:port (an NVR), or * for every camera."))
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {TEXT_DIM};")
        v.addWidget(hint)
        self.cred_table = QTableWidget(0, 3)
        self.cred_table.setObjectName("credentials")
        self.cred_table.setHorizontalHeaderLabels([tr("Scope"), tr("User"), tr("Password")])
        self.cred_table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.cred_table.verticalHeader().setVisible(False)
        self.cred_table.setMinimumHeight(120)
        for c in credentials.entries():
            self._add_cred_row(c.scope, c.user, c.password)
        v.addWidget(self.cred_table)
        btns = QHBoxLayout()
        add = QPushButton(tr("Add"))
        add.clicked.connect(lambda: self._add_cred_row(ALL if not self.cred_table.rowCount() else "", "", ""))
        rem = QPushButton(tr("Remove"))
        rem.clicked.connect(self._remove_cred_row)
        btns.addWidget(add)
        btns.addWidget(rem)
        btns.addStretch(1)
        v.addLayout(btns)
        lay.addWidget(cams)

        # -- interface and workstation
        ui = QGroupBox(tr("Interface and workstation"))
        f2 = QFormLayout(ui)
        self.language = QComboBox()
        self.language.setObjectName("language")
        for code, name in LANGUAGE_NAMES:
            self.language.addItem(tr(name) if code == "" else name, code)
        self.language.setCurrentIndex(max(self.language.findData(settings.language), 0))
        f2.addRow(tr("Language"), self.language)
        self.theme = QComboBox()
        self.theme.setObjectName("theme")
        for code, name in THEME_NAMES:
            self.theme.addItem(tr(name), code)
        self.theme.setCurrentIndex(max(self.theme.findData(settings.theme), 0))
        f2.addRow(tr("Theme"), self.theme)
        self.wall_id = QLineEdit(settings.wall_id)
        self.wall_id.setObjectName("wall_id")
        self.wall_id.setPlaceholderText(DEFAULT_WALL_ID)
        f2.addRow(tr("Wall id"), self.wall_id)
        self.operator = QLineEdit(settings.operator)
        self.operator.setObjectName("operator")
        self.operator.setPlaceholderText(tr("the login name"))
        f2.addRow(tr("Operator at start"), self.operator)
        lay.addWidget(ui)

        note = QLabel(tr("Language, broker, wall id and operator apply at the next start; the theme and "
                         "the credentials at once. A change of shift now: File → Hand over the shift."))
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {TEXT_DIM};")
        lay.addWidget(note)
        if self.overridden:
            over = QLabel(tr("Set for this run by the command line or the config file: {fields}",
                             fields=", ".join(f"{tr(k)} ({v})" for k, v in sorted(self.overridden.items()))))
            over.setWordWrap(True)
            over.setObjectName("overridden")
            over.setStyleSheet("color: #ffca28;")
            lay.addWidget(over)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERR_COLOR}; font-weight: bold;")
        self.error.setVisible(False)
        lay.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Save).setText(tr("Save"))
        self.buttons.button(QDialogButtonBox.Cancel).setText(tr("Cancel"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.resize(620, 640)

    # -- credentials table ----------------------------------------------------------------------
    def _add_cred_row(self, scope: str, user: str, password: str) -> None:
        r = self.cred_table.rowCount()
        self.cred_table.insertRow(r)
        for col, text in enumerate((scope, user, password)):
            edit = QLineEdit(text)
            edit.setFrame(False)
            if col == 2:
                edit.setEchoMode(QLineEdit.Password)  # masked, always
                edit.setObjectName("password")
            self.cred_table.setCellWidget(r, col, edit)

    def _remove_cred_row(self) -> None:
        row = self.cred_table.currentRow()
        if row < 0:
            row = self.cred_table.rowCount() - 1
        if row >= 0:
            self.cred_table.removeRow(row)

    def credential_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for r in range(self.cred_table.rowCount()):
            rows.append(tuple(self.cred_table.cellWidget(r, c).text().strip() if c < 2
                              else self.cred_table.cellWidget(r, c).text() for c in range(3)))
        return rows

    # -- values ---------------------------------------------------------------------------------
    def values(self) -> UserSettings:
        """The settings as entered (validated: SettingsError names the first bad field)."""
        return UserSettings(broker=self.broker.text(), language=self.language.currentData(),
                            theme=self.theme.currentData(), wall_id=self.wall_id.text(),
                            operator=self.operator.text()).validate()

    def entered_credentials(self) -> CredentialStore:
        out = CredentialStore()
        for i, (scope, user, password) in enumerate(self.credential_rows(), 1):
            if not scope and not user and not password:
                continue  # an empty row added by mistake
            try:
                out.put(Credential(scope, user, password))
            except CredentialError as exc:
                raise SettingsError(tr("credentials row {n}", n=i), str(exc)) from None
        return out

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # -- the broker test --------------------------------------------------------------------------
    def test_broker(self) -> None:
        url = self.broker.text().strip()
        if not url:
            self._probe_done(ProbeResult(False, tr("No broker given: the program runs the offline demo")))
            return
        self.test_btn.setEnabled(False)
        self.probe_label.setStyleSheet(f"color: {TEXT_DIM};")
        self.probe_label.setText(tr("Connecting to {url}…", url=url))
        # off the GUI thread: an unreachable host takes the whole timeout
        threading.Thread(target=lambda: self._relay.done.emit(probe_broker(url)),
                         name="broker-probe", daemon=True).start()

    def _probe_done(self, result: ProbeResult) -> None:
        self.test_btn.setEnabled(True)
        self.probe_label.setStyleSheet(f"color: {OK_COLOR if result.ok else ERR_COLOR};")
        self.probe_label.setText(("✔ " if result.ok else "✘ ") + result.message)

    # -- saving ---------------------------------------------------------------------------------
    def accept(self) -> None:  # noqa: D401 (Qt)
        try:
            new = self.values()
            creds = self.entered_credentials()
        except SettingsError as exc:
            self.show_error(tr("Not saved: {err}", err=exc))
            return
        try:
            new.save(self.store)
            creds.save(self.cred_store)
        except OSError as exc:
            self.show_error(tr("Not saved: {err}", err=exc))
            return
        from desktop.core import credentials as cred_mod
        cred_mod.set_active(creds)
        self.credentials = creds
        app = QApplication.instance()
        if new.theme != self._initial.theme and app is not None:
            apply_theme(app, scale=new.type_scale)
        log.info("settings saved (broker %s, language %s, theme %s, wall %s, %d camera credentials)",
                 new.broker or "none", new.language or "default", new.theme, new.wall_id or "main",
                 len(creds.entries()))
        self.settings = new
        self.saved.emit(new)
        super().accept()

    def restart_needed(self) -> bool:
        a, b = self._initial, self.settings
        return (a.language, a.broker, a.wall_id, a.operator) != (b.language, b.broker, b.wall_id, b.operator)


def restart_program() -> bool:
    """Start this program again with the same arguments, then quit this one."""
    if getattr(sys, "frozen", False):
        program, args = sys.executable, sys.argv[1:]
    else:
        program, args = sys.executable, list(getattr(sys, "orig_argv", sys.argv)[1:])
    started = QProcess.startDetached(program, args)  # PySide6: (ok, pid)
    ok = bool(started[0] if isinstance(started, tuple) else started)
    app = QApplication.instance()
    if ok and app is not None:
        app.quit()
    return ok


def open_settings(window, settings: UserSettings, credentials: CredentialStore, store, cred_store,
                  overridden: dict[str, str] | None = None) -> SettingsDialog:
    """Show the dialog (modal); on a save that needs a restart, offer one."""
    dlg = SettingsDialog(settings, credentials, store, cred_store, window, overridden)
    if dlg.exec() == QDialog.Accepted and dlg.restart_needed():
        box = QMessageBox(QMessageBox.Information, tr("Settings"),
                          tr("Saved. The language, broker, wall id and operator apply when the program starts again."),
                          parent=window)
        now = box.addButton(tr("Restart now"), QMessageBox.AcceptRole)
        box.addButton(tr("Later"), QMessageBox.RejectRole)
        box.exec()
        if box.clickedButton() is now:
            restart_program()
    return dlg
