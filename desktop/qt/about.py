"""Help: the About box (versions of the program and the libraries it stands on) and the
keyboard shortcut sheet, built from the window's actions so it lists every action, those
that plugins add included, with the key it has now.
"""
from __future__ import annotations

import platform
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMenu, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.core.i18n import tr
from desktop.qt.theme import ACCENT, TEXT_DIM


def program_version() -> str:
    """The program's version: the installed distribution's, else the source tree's pyproject."""
    from importlib import metadata
    try:
        return metadata.version("pingan-desk")
    except metadata.PackageNotFoundError:
        pass
    try:
        import tomllib

        from desktop.paths import ROOT
        return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, ValueError):
        return "unknown"


def component_versions() -> list[tuple[str, str]]:
    """(component, version) of the program and what it runs on, for the About box and bug reports."""
    import sqlite3

    import av
    import numpy
    import PySide6
    import pyproj
    import shapely
    from PySide6.QtCore import qVersion

    out = [("Pingan Desk", program_version() + (" (built)" if getattr(sys, "frozen", False) else ""))]
    out.append(("Python", platform.python_version()))
    out.append(("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"))
    out.append(("PyAV", av.__version__))
    ffmpeg = getattr(av, "ffmpeg_version_info", "")
    libs = getattr(av, "library_versions", {}) or {}
    codec = libs.get("libavcodec")
    out.append(("FFmpeg", (ffmpeg or "?") + (f" (libavcodec {'.'.join(map(str, codec))})" if codec else "")))
    out.append(("PROJ", f"{pyproj.proj_version_str} (pyproj {pyproj.__version__})"))
    out.append(("GEOS", f"{shapely.geos_version_string} (shapely {shapely.__version__})"))
    out.append(("SQLite", sqlite3.sqlite_version))
    out.append(("NumPy", numpy.__version__))
    try:
        from importlib import metadata
        out.append(("paho-mqtt", metadata.version("paho-mqtt")))
    except Exception:  # noqa: BLE001 - a bundle without its metadata: name what we can
        import paho.mqtt
        out.append(("paho-mqtt", getattr(paho.mqtt, "__version__", "?")))
    out.append((tr("System"), f"{platform.system()} {platform.release()} {platform.machine()}"))
    return out


class AboutDialog(QDialog):
    """The program, the district it shows, and the versions of everything under it."""

    def __init__(self, district=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("about-dialog")
        self.setWindowTitle(tr("About Pingan Desk"))
        lay = QVBoxLayout(self)
        head = QHBoxLayout()
        from desktop.paths import RESOURCES
        icon = QLabel()
        pm = QPixmap(str(RESOURCES / "icons" / "pingan-desk.png"))
        if not pm.isNull():
            icon.setPixmap(pm.scaled(72, 72, Qt.KeepAspectRatio, Qt.SmoothTransformation))
        head.addWidget(icon)
        title = QLabel(f"<b style='font-size:16pt; color:{ACCENT}'>{tr('Pingan Desk')}</b><br>"
                       + tr("Situational awareness for district command centers."))
        title.setWordWrap(True)
        head.addWidget(title, 1)
        lay.addLayout(head)
        if district is not None:
            info = district.info
            lay.addWidget(QLabel(tr("District: {name} ({adcode}), data in {crs}", name=info.name,
                                    adcode=info.adcode, crs=info.crs)))
        self.versions = component_versions()
        table = QTableWidget(len(self.versions), 2)
        table.setObjectName("versions")
        table.horizontalHeader().setVisible(False)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        table.setEditTriggers(QTableWidget.NoEditTriggers)
        table.setSelectionMode(QTableWidget.NoSelection)
        table.setFocusPolicy(Qt.NoFocus)
        for row, (name, version) in enumerate(self.versions):
            table.setItem(row, 0, QTableWidgetItem(name))
            table.setItem(row, 1, QTableWidgetItem(version))
        table.resizeColumnToContents(0)
        table.setMinimumHeight(table.verticalHeader().length() + 6)
        lay.addWidget(table, 1)
        from desktop.paths import config_dir, data_dir
        where = QLabel(tr("Settings: {config}\nJournal and layouts: {data}", config=str(config_dir()),
                          data=str(data_dir())))
        where.setStyleSheet(f"color: {TEXT_DIM};")
        where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(where)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.button(QDialogButtonBox.Close).setText(tr("Close"))
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(560, 520)

    def as_text(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in self.versions)


def window_actions(window) -> list[tuple[str, QAction]]:
    """Every action of ``window`` with where it is: the menus (in order, sub-menus included),
    then actions that live outside menus (toolbars, widgets, plugin shortcuts)."""
    seen: set[int] = set()
    out: list[tuple[str, QAction]] = []

    def walk(menu: QMenu, path: str) -> None:
        for act in menu.actions():
            if act.isSeparator():
                continue
            if act.menu() is not None:
                walk(act.menu(), f"{path} › {_plain(act.text())}")
                continue
            if id(act) not in seen:
                seen.add(id(act))
                out.append((path, act))

    for top in window.menuBar().actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.text()))
    for act in window.findChildren(QAction):
        if id(act) in seen or act.isSeparator() or act.menu() is not None or not _plain(act.text()):
            continue
        if act.shortcuts():  # an action with a key but in no menu: still reachable, so listed
            seen.add(id(act))
            owner = act.parent()
            out.append((getattr(owner, "windowTitle", lambda: "")() or tr("Window"), act))
    return out


def _plain(text: str) -> str:
    """Menu text without its mnemonic marker (``&File`` → ``File``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").strip()


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(where, action, keys) for every action; keys as the user's platform writes them."""
    rows = []
    for where, act in window_actions(window):
        keys = ", ".join(k.toString(QKeySequence.NativeText) for k in act.shortcuts() if not k.isEmpty())
        rows.append((where, _plain(act.text()), keys))
    return rows


class ShortcutSheet(QDialog):
    """A searchable table of every action and its key, from the window's actions."""

    def __init__(self, window, parent: QWidget | None = None):
        super().__init__(parent or window)
        self.setObjectName("shortcut-sheet")
        self.setWindowTitle(tr("Keyboard shortcuts"))
        lay = QVBoxLayout(self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(tr("Filter"))
        self.filter.textChanged.connect(self._apply_filter)
        lay.addWidget(self.filter)
        self.rows = shortcut_rows(window)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setObjectName("shortcuts")
        self.table.setHorizontalHeaderLabels([tr("Menu"), tr("Action"), tr("Key")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeToContents)
        for r, (where, text, keys) in enumerate(self.rows):
            for c, value in enumerate((where, text, keys or "—")):
                item = QTableWidgetItem(value)
                if c == 2:
                    item.setForeground(Qt.white if keys else Qt.gray)
                    f = item.font()
                    f.setBold(bool(keys))
                    item.setFont(f)
                self.table.setItem(r, c, item)
        lay.addWidget(self.table, 1)
        hint = QLabel(tr("On the map: arrow keys pan, + and − zoom, Home frames the district."))
        hint.setStyleSheet(f"color: {TEXT_DIM};")
        lay.addWidget(hint)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.button(QDialogButtonBox.Close).setText(tr("Close"))
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(720, 600)

    def _apply_filter(self, text: str) -> None:
        t = text.strip().lower()
        for r, row in enumerate(self.rows):
            self.table.setRowHidden(r, bool(t) and not any(t in v.lower() for v in row))
