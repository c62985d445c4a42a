"""The Settings dialog, the window layout kept between runs, and the Help menu, offscreen."""
import logging
import os
import stat

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDockWidget, QLabel, QLineEdit

from desktop.core import credentials as cred_mod
from desktop.core.config import Config
from desktop.core.credentials import Credential, CredentialStore
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.user_settings import UserSettings
from desktop.qt.main_window import MainWindow
from desktop.qt.settings_dialog import SettingsDialog
from desktop.qt.settings_store import credentials_store, settings_store


@pytest.fixture
def config_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PINGAN_CONFIG", str(tmp_path / "config"))
    monkeypatch.delenv("PINGAN_LANG", raising=False)
    monkeypatch.setattr(cred_mod, "_active", CredentialStore())
    return tmp_path / "config"


def _dialog(qtbot, settings=None, creds=None):
    dlg = SettingsDialog(settings or UserSettings(), creds or CredentialStore(), settings_store(), credentials_store())
    qtbot.addWidget(dlg)
    return dlg


def test_saved_settings_and_credentials_land_in_their_own_files(qtbot, config_dir, caplog):
    dlg = _dialog(qtbot)
    dlg.broker.setText("mqtt://127.0.0.1:1883")
    dlg.language.setCurrentIndex(dlg.language.findData("en"))
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark-large"))
    dlg.wall_id.setText("east")
    dlg.operator.setText("李四")
    dlg._add_cred_row("*", "viewer", "hunter2")
    pw = dlg.cred_table.cellWidget(0, 2)
    assert isinstance(pw, QLineEdit) and pw.echoMode() == QLineEdit.Password  # masked on screen
    with caplog.at_level(logging.DEBUG):
        dlg.accept()
    assert dlg.result() == QDialog.Accepted and dlg.error.isHidden()
    settings_ini = (config_dir / "settings.ini").read_text(encoding="utf-8")
    creds_ini = (config_dir / "credentials.ini")
    assert "mqtt://127.0.0.1:1883" in settings_ini and "east" in settings_ini and "hunter2" not in settings_ini
    assert "hunter2" in creds_ini.read_text(encoding="utf-8")
    if os.name != "nt":
        assert stat.S_IMODE(creds_ini.stat().st_mode) == 0o600
    assert "hunter2" not in caplog.text  # never logged
    assert cred_mod.active().inject("rtsp://127.0.0.1/x") == "rtsp://viewer:hunter2@127.0.0.1/x"  # at once
    assert dlg.restart_needed()
    # the next start finds them
    back, problems = UserSettings.load(settings_store())
    assert back == UserSettings("mqtt://127.0.0.1:1883", "en", "dark-large", "east", "李四") and not problems
    assert [c.user for c in CredentialStore.load(credentials_store())[0].entries()] == ["viewer"]


def test_a_bad_value_is_named_and_nothing_is_saved(qtbot, config_dir):
    dlg = _dialog(qtbot)
    dlg.broker.setText("http://127.0.0.1:1883")
    dlg.accept()
    assert not dlg.error.isHidden() and "broker" in dlg.error.text() and dlg.result() != QDialog.Accepted
    assert not (config_dir / "settings.ini").exists()
    dlg.broker.setText("")
    dlg._add_cred_row("CAM-1", "", "pw")
    dlg.accept()
    assert "credentials row 1" in dlg.error.text() and "user" in dlg.error.text()


def test_broker_test_button_against_a_real_broker_and_a_closed_port(qtbot, config_dir, mqtt_broker):
    from desktop.bench.mosquitto import free_port
    dlg = _dialog(qtbot)
    dlg.broker.setText(mqtt_broker.url)
    dlg.test_btn.click()
    qtbot.waitUntil(lambda: dlg.test_btn.isEnabled(), timeout=5000)
    assert dlg.probe_label.text().startswith("✔") and "connected" in dlg.probe_label.text()
    dlg.broker.setText(f"mqtt://127.0.0.1:{free_port()}")
    dlg.test_btn.click()
    qtbot.waitUntil(lambda: dlg.test_btn.isEnabled(), timeout=5000)
    assert dlg.probe_label.text().startswith("✘") and "refused" in dlg.probe_label.text().lower()


def test_saved_language_applies_unless_the_command_line_says_otherwise(config_dir):
    from desktop.qt.preferences import load_preferences
    UserSettings(language="en", operator="李四").save(settings_store())
    cfg = Config()
    prefs = load_preferences(cfg)
    assert cfg.locale == "en" and cfg.operator == "李四" and not prefs.overridden
    cfg = Config(locale="zh_CN")
    prefs = load_preferences(cfg)
    assert cfg.locale == "zh_CN" and prefs.overridden == {"language": "zh_CN"}


# -- layout ------------------------------------------------------------------------------
def _window(qtbot, tiny_district, cfg=None, instance=""):
    from types import SimpleNamespace

    from desktop.qt.preferences import attach_preferences, load_preferences
    cfg = cfg or Config()
    w = MainWindow(load_district(tiny_district), MapProjection())
    if instance:
        w.session = SimpleNamespace(instance=SimpleNamespace(label=instance))
    qtbot.addWidget(w)
    extra = QLabel("plugin panel")
    w.add_dock("extra", "Extra", extra)  # a plugin's dock, added before the restore
    if w.wall is None:
        w.splitter.addWidget(QLabel("wall"))  # stands where the video wall goes: two panes to split
        w.canvas.setMinimumSize(40, 40)  # room to move the split in the small offscreen screen
        w.splitter.setSizes([1, 1])
    w.resize(780, 560)  # within the offscreen screen (800x600): the restore clamps to it
    w.show()
    qtbot.waitExposed(w)
    attach_preferences(None, w, cfg, load_preferences(cfg), w.district)
    return w


def _dock(w, name):
    return w.findChild(QDockWidget, f"dock-{name}")


def test_layout_is_restored_and_reset(qtbot, config_dir, tiny_district):
    w = _window(qtbot, tiny_district)
    default_area = w.dockWidgetArea(_dock(w, "extra"))
    default_sizes = w.splitter.sizes()
    w.addDockWidget(Qt.LeftDockWidgetArea, _dock(w, "extra"))
    _dock(w, "layers").hide()
    w.splitter.setSizes([sum(default_sizes) - 40, 40])
    share = lambda win: win.splitter.sizes()[0] / sum(win.splitter.sizes())  # noqa: E731
    moved, default_share = share(w), default_sizes[0] / sum(default_sizes)
    assert moved - default_share > 0.2, (moved, default_sizes)
    w.close()  # saves
    w2 = _window(qtbot, tiny_district)
    assert w2.dockWidgetArea(_dock(w2, "extra")) == Qt.LeftDockWidgetArea
    assert not _dock(w2, "layers").isVisible()
    assert abs(share(w2) - moved) < 0.05
    reset = w2.findChild(QAction, "action-reset-layout")
    reset.trigger()
    assert w2.dockWidgetArea(_dock(w2, "extra")) == default_area and _dock(w2, "layers").isVisible()
    assert abs(share(w2) - default_share) < 0.05
    w2.close()
    w3 = _window(qtbot, tiny_district)  # the reset is what the next run gets, too
    assert w3.dockWidgetArea(_dock(w3, "extra")) == default_area


def test_a_second_instance_keeps_a_layout_of_its_own(qtbot, config_dir, tiny_district):
    w = _window(qtbot, tiny_district, instance="2")
    default_area = w.dockWidgetArea(_dock(w, "extra"))
    w.addDockWidget(Qt.LeftDockWidgetArea, _dock(w, "extra"))
    w.close()
    first = _window(qtbot, tiny_district)  # the first instance: its own (default) layout
    assert first.dockWidgetArea(_dock(first, "extra")) == default_area != Qt.LeftDockWidgetArea
    first.close()
    again = _window(qtbot, tiny_district, instance="2")
    assert again.dockWidgetArea(_dock(again, "extra")) == Qt.LeftDockWidgetArea
    again.close()


def test_a_window_saved_on_a_screen_that_is_gone_opens_on_this_one(qtbot, config_dir, tiny_district):
    from PySide6.QtGui import QGuiApplication
    w = _window(qtbot, tiny_district)
    w.move(5000, 3000)
    w.close()
    w2 = _window(qtbot, tiny_district)
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert screen.intersects(w2.geometry()) and screen.contains(w2.geometry().topLeft())


# -- help ----------------------------------------------------------------------------------
def test_about_box_names_the_versions(qtbot, config_dir, tiny_district):
    from desktop.qt.about import AboutDialog
    dlg = AboutDialog(load_district(tiny_district))
    qtbot.addWidget(dlg)
    names = dict(dlg.versions)
    import av
    import pyproj
    from PySide6.QtCore import qVersion
    assert names["Qt"].startswith(qVersion()) and names["PyAV"] == av.__version__
    assert names["PROJ"].startswith(pyproj.proj_version_str) and names["FFmpeg"][0].isdigit()
    assert names["Pingan Desk"].startswith("0.")


def test_shortcut_sheet_lists_every_action_with_its_key(qtbot, config_dir, tiny_district):
    from desktop.qt.about import ShortcutSheet
    w = _window(qtbot, tiny_district)
    late = QAction("Something a plugin added", w)
    late.setShortcut(QKeySequence("Ctrl+Shift+K"))
    w.addAction(late)  # in no menu, but it has a key
    w.menu_tools.addAction(QAction("Without a key", w))
    sheet = ShortcutSheet(w)
    qtbot.addWidget(sheet)
    rows = {text: keys for _where, text, keys in sheet.rows}
    assert rows["Zoom to district"] == QKeySequence(Qt.Key_Home).toString(QKeySequence.NativeText)
    assert rows["Keyboard shortcuts"] == "F1" and rows["Settings…"] and "Quit" in rows
    assert rows["Something a plugin added"] == "Ctrl+Shift+K" and rows["Without a key"] == ""
    menu_actions = [a for m in (w.menu_file, w.menu_view, w.menu_tools, w.menu_help)
                    for a in m.actions() if not a.isSeparator() and a.menu() is None]
    assert len(rows) >= len(menu_actions)
    sheet.filter.setText("quit")
    visible = [r for r in range(sheet.table.rowCount()) if not sheet.table.isRowHidden(r)]
    assert [sheet.rows[r][1] for r in visible] == ["Quit"]


def test_a_bad_saved_value_is_named_in_the_window_in_its_language(qtbot, config_dir, tiny_district):
    from desktop.core import i18n
    store = settings_store()
    UserSettings(operator="李四").save(store)
    store.set_value("settings/theme", "pink")
    store.sync()
    cfg = Config(locale="zh_CN")
    try:
        w = _window(qtbot, tiny_district, cfg)
        texts = [t for _ts, _lvl, t in w.notices]
        assert any("已丢弃保存的设置" in t and "pink" in t for t in texts), texts
        assert cfg.operator == "李四"  # the good ones still load
    finally:
        i18n.set_locale("en")


def test_restart_starts_the_same_program_with_the_same_arguments(monkeypatch, qapp):
    import sys

    from desktop.qt import settings_dialog
    started = []
    monkeypatch.setattr(settings_dialog.QProcess, "startDetached",
                        staticmethod(lambda prog, args: started.append((prog, list(args))) or (True, 4242)))
    quits = []
    monkeypatch.setattr(qapp, "quit", lambda: quits.append(1))
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "-m", "desktop", "--district", "maps/shinan"])
    assert settings_dialog.restart_program()
    assert started == [(sys.executable, ["-m", "desktop", "--district", "maps/shinan"])] and quits == [1]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "argv", ["/opt/pingan-desk/pingan-desk", "--lang", "en"])
    settings_dialog.restart_program()
    assert started[-1] == (sys.executable, ["--lang", "en"])
