"""File → Import layer…: the user's GeoJSON or KML files as map layers, at run time.

The file is read off the GUI thread (a big file takes seconds; the status bar says it is being
read and the window stays live); the result becomes a :class:`~desktop.qt.map.user_layer.UserMapLayer`
with its own colour and an entry in the Layers dock (right-click it to zoom to the layer or
remove it). A file that cannot be imported is said in the status bar and a message box, naming
the file and why; features that could not be read are named in notices; nothing already on the
map changes either way.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from desktop.core.layers._i18n import tr
from desktop.core.layers.user_layer import ImportedLayer, LayerImportError, import_layer
from desktop.qt.map.user_layer import UserMapLayer

log = logging.getLogger(__name__)

__all__ = ["LayerImporter", "install_layer_import"]

NOTICE_WARNINGS = 5  # at most this many skipped features are named one by one in notices


class _Done(QObject):
    finished = Signal(object, object, object)  # path, ImportedLayer | None, error text | None


class LayerImporter:
    """Imports files into ``window``'s map; one per window (``window.layer_importer``)."""

    def __init__(self, window):
        self.window = window
        self.count = 0  # layers imported so far (picks each one's palette colour)
        self.layers: list[UserMapLayer] = []
        self.pending: set[str] = set()
        self._done = _Done()
        self._done.finished.connect(self._finished)  # queued: the worker thread emits it
        self.last_error: str | None = None
        # a message box besides the notice, unless nobody can answer it (headless runs, tests)
        self.dialogs = os.environ.get("QT_QPA_PLATFORM") != "offscreen"
        act = QAction(tr("Import layer…"), window)
        act.setObjectName("import-layer")
        act.setShortcut(QKeySequence("Ctrl+Shift+I"))
        act.triggered.connect(self.ask)
        self.action = act
        menu = window.menu_file
        first = menu.actions()[-1] if menu.actions() else None  # before Quit
        menu.insertAction(first, act)
        panel = window.layers_panel
        panel.setContextMenuPolicy(Qt.CustomContextMenu)
        panel.customContextMenuRequested.connect(self._layer_menu)

    # --- importing ----------------------------------------------------------------------------
    def ask(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, tr("Import layer"), str(Path.home()),
                                              tr("Map layers (*.geojson *.json *.kml);;All files (*)"))
        if path:
            self.import_file(path)

    def import_file(self, path: str | Path) -> None:
        """Read ``path`` in the background; the layer appears when it is read."""
        path = str(path)
        if path in self.pending:
            return
        self.pending.add(path)
        self.window.show_notice(tr("Reading layer {name}…", name=Path(path).name), "info")
        number = self.count
        self.count += 1
        projection = self.window.projection

        def work():
            try:
                data = import_layer(path, projection, number=number)
            except LayerImportError as exc:
                self._done.finished.emit(path, None, str(exc))
            except Exception as exc:  # noqa: BLE001 - said to the operator, never a crash
                log.exception("importing %s failed", path)
                self._done.finished.emit(path, None, f"{Path(path).name}: {type(exc).__name__}: {exc}")
            else:
                self._done.finished.emit(path, data, None)
        threading.Thread(target=work, name="layer-import", daemon=True).start()

    def _finished(self, path: str, data: ImportedLayer | None, error: str | None) -> None:
        self.pending.discard(path)
        w = self.window
        if data is None:
            self.last_error = error
            w.show_notice(tr("Layer not imported: {err}", err=error), "error")
            if self.dialogs:
                QMessageBox.warning(w, tr("Import layer"), tr("Layer not imported: {err}", err=error))
            return
        self.last_error = None
        layer = UserMapLayer(data, f"user-{self.count}-{data.name}")
        used = {l.title for l in w.canvas.layers}
        if layer.title in used:  # two files of one name: the second gets its number
            layer.title = f"{data.name} ({self.count})"
        self.layers.append(layer)
        w.add_map_layer(layer)
        self.frame(layer)
        n = len(data.features)
        level = "warning" if data.warnings else "info"
        w.show_notice(tr("Layer {name} imported: {n} features ({crs}), {skipped} skipped",
                         name=layer.title, n=n, crs=data.crs, skipped=len(data.warnings)), level)
        for text in data.warnings[:NOTICE_WARNINGS]:
            w.show_notice(tr("Skipped: {what}", what=text), "warning")
        if len(data.warnings) > NOTICE_WARNINGS:
            log.warning("%s: %d more features skipped", data.path, len(data.warnings) - NOTICE_WARNINGS)

    # --- the Layers dock ----------------------------------------------------------------------
    def frame(self, layer: UserMapLayer) -> None:
        """Show the new layer: zoom to it unless it is on screen already at a size one can read."""
        b = layer.data.bounds()
        if b is None:
            return
        vminx, vminy, vmaxx, vmaxy = self.window.canvas.vp.bounds()
        inside = b[0] >= vminx and b[2] <= vmaxx and b[1] >= vminy and b[3] <= vmaxy
        if inside and max(b[2] - b[0], b[3] - b[1]) >= 0.5 * max(vmaxx - vminx, vmaxy - vminy):
            return
        self._zoom(layer)

    def remove(self, layer: UserMapLayer) -> None:
        if layer in self.layers:
            self.layers.remove(layer)
            self.window.remove_map_layer(layer)
            self.window.show_notice(tr("Layer {name} removed", name=layer.title), "info")

    def _layer_menu(self, pos) -> None:
        panel = self.window.layers_panel
        item = panel.itemAt(pos)
        layer = self.window.canvas.layer(item.data(0, Qt.UserRole)) if item is not None else None
        if layer not in self.layers:
            return
        menu = QMenu(panel)
        zoom = menu.addAction(tr("Zoom to layer"))
        zoom.triggered.connect(lambda: self._zoom(layer))
        drop = menu.addAction(tr("Remove layer"))
        drop.triggered.connect(lambda: self.remove(layer))
        menu.exec(panel.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _zoom(self, layer: UserMapLayer) -> None:
        b = layer.data.bounds()
        if b is not None:
            pad = max(b[2] - b[0], b[3] - b[1], 200.0) * 0.1
            self.window.canvas.vp.fit(b[0] - pad, b[1] - pad, b[2] + pad, b[3] + pad)
            self.window.canvas._view_moved()


def install_layer_import(window) -> LayerImporter:
    """Add File → Import layer… to ``window`` (kept as ``window.layer_importer``)."""
    window.layer_importer = LayerImporter(window)
    return window.layer_importer
