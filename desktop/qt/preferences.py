"""The first minutes with the program: saved settings applied at start, the Settings dialog,
the window layout kept between runs with "Reset layout", and the Help menu (About box,
keyboard shortcut sheet). ``app.run`` calls :func:`load_preferences` before anything is
shown and :func:`attach_preferences` once the window has its plugins' docks.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from PySide6.QtGui import QAction, QKeySequence

from desktop.core.config import Config
from desktop.core.credentials import CredentialStore
from desktop.core.i18n import tr
from desktop.core.user_settings import UserSettings

log = logging.getLogger(__name__)


@dataclass
class Preferences:
    """What was loaded at start: the saved settings, the credentials, their problems, and which
    running values came from the command line or config file instead (so the dialog says so)."""

    settings: UserSettings
    credentials: CredentialStore
    problems: list[str] = field(default_factory=list)
    overridden: dict[str, str] = field(default_factory=dict)
    store: object = None
    cred_store: object = None
    layout: object = None


def load_preferences(cfg: Config) -> Preferences:
    """Read the saved settings and credentials and fill what ``cfg`` left unset with them."""
    from desktop.qt.settings_store import credentials_store, load_saved, settings_store
    saved, creds, problems = load_saved()
    overridden = {}
    for mine, theirs in (("broker", "broker"), ("language", "locale"), ("operator", "operator")):
        if getattr(saved, mine) and getattr(cfg, theirs) and getattr(cfg, theirs) != getattr(saved, mine):
            overridden[mine] = getattr(cfg, theirs)
    if os.environ.get("PINGAN_LANG") and not cfg.locale:
        cfg.locale = os.environ["PINGAN_LANG"]  # an explicit override for this run wins over the saved one
        if saved.language and saved.language != cfg.locale:
            overridden["language"] = f"PINGAN_LANG={cfg.locale}"
    saved.apply_to(cfg)
    if problems:  # name them in the language the program is about to speak
        from desktop.core import i18n
        i18n.set_locale(cfg.locale or i18n.default_locale())
        problems = load_saved()[2]
    return Preferences(saved, creds, problems, overridden, settings_store(), credentials_store())


def attach_preferences(app, window, cfg: Config, prefs: Preferences, district=None) -> Preferences:
    """Settings…, Reset layout, the Help entries; the saved layout restored."""
    from desktop.qt.about import AboutDialog, ShortcutSheet
    from desktop.qt.settings_dialog import open_settings
    from desktop.qt.window_layout import WindowLayout

    settings_act = QAction(tr("Settings…"), window)
    settings_act.setObjectName("action-settings")
    settings_act.setShortcut(QKeySequence.Preferences if not QKeySequence(QKeySequence.Preferences).isEmpty()
                             else QKeySequence("Ctrl+,"))
    settings_act.setMenuRole(QAction.PreferencesRole)

    def edit():
        dlg = open_settings(window, prefs.settings, prefs.credentials, prefs.store, prefs.cred_store,
                            prefs.overridden)
        prefs.settings, prefs.credentials = dlg.settings, dlg.credentials
    settings_act.triggered.connect(edit)
    window.menu_tools.addAction(settings_act)

    # a second instance on the PC (see desktop.core.instance) keeps a layout of its own:
    # the two windows would otherwise save over each other's docks and geometry
    instance = getattr(getattr(window, "session", None), "instance", None)
    label = str(getattr(instance, "label", "") or "")
    layout = WindowLayout(window, prefs.store, f"{cfg.mode}@{label}" if label else cfg.mode)
    prefs.layout = layout
    reset = QAction(tr("Reset layout"), window)
    reset.setObjectName("action-reset-layout")
    reset.triggered.connect(lambda: (layout.reset(), window.show_notice(tr("Window layout reset"), "info")))
    window.menu_view.addSeparator()
    window.menu_view.addAction(reset)

    about = QAction(tr("About Pingan Desk"), window)
    about.setObjectName("action-about")
    about.setMenuRole(QAction.AboutRole)
    about.triggered.connect(lambda: AboutDialog(district, window).exec())
    keys = QAction(tr("Keyboard shortcuts"), window)
    keys.setObjectName("action-shortcuts")
    keys.setShortcut(QKeySequence("F1"))  # HelpContents is empty on some platforms
    keys.triggered.connect(lambda: ShortcutSheet(window).exec())
    window.menu_help.addAction(keys)
    window.menu_help.addAction(about)

    if layout.restore():
        log.info("window layout restored")
    for p in prefs.problems:
        window.show_notice(p, "warning")
    return prefs
