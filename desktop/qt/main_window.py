"""The operator workstation window: map, video wall, docks for panels, status bar.

The window assembles views and routes signals; the model is the :class:`District` and
whatever core services the app hands it. Plugins never see this class: they get the host
facade (``desktop.qt.host``), which calls the public methods below.
"""
from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHeaderView, QLabel, QMainWindow, QMenu,
                               QMessageBox, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from desktop.core.district.model import District
from desktop.core.feeds.status import change_notice, feed_state
from desktop.core.geo.crs import MapProjection, gk3_zone_crs
from desktop.core.i18n import tr
from desktop.core.video.source import redact_url
from desktop.qt.map.camera_layer import CameraLayer
from desktop.qt.map.canvas import MapCanvas
from desktop.qt.map.district_layers import (BasemapLayer, BoundaryLayer, GridLayer, LabelLayer, PatrolLayer,
                                            RiskLayer, ZoneLayer)
from desktop.qt.map.layer import Hit, MapLayer
from desktop.qt.theme import ACCENT, TEXT_DIM

log = logging.getLogger(__name__)

AREA_KINDS = ("grid", "zone", "control_area")
TOUR_INTERVAL_S = 10.0

NOTICE_COLORS = {"info": "#9fdcff", "warning": "#ffca28", "error": "#ff6e6e"}


def build_district_layers(district: District) -> list[MapLayer]:
    """The built-in layers of a district, bottom to top."""
    minx, miny, maxx, maxy = district.map_bounds()
    origin = ((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    table = district.cameras
    basemap, grid = BasemapLayer(district, origin), GridLayer(district, origin)
    return [
        basemap,
        grid,
        ZoneLayer(district, origin),
        PatrolLayer(district, origin),
        RiskLayer(district),
        BoundaryLayer(district, origin),
        CameraLayer(table, ("hd",), "cameras", tr("HD cameras")),
        CameraLayer(table, ("checkpoint",), "checkpoints", tr("Checkpoints")),
        CameraLayer(table, ("coastal", "ptz", "radar"), "coastal", tr("Coastal points")),
        LabelLayer(basemap, grid),  # names above the icons
    ]


class LayersPanel(QTreeWidget):
    """Checkbox list of the canvas's layers; toggling one shows or hides it."""

    def __init__(self, canvas: MapCanvas):
        super().__init__()
        self.canvas = canvas
        self._items: dict[str, QTreeWidgetItem] = {}  # layer id -> its row
        self._watched: set[int] = set()  # layers whose changes the list follows (by id())
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.itemChanged.connect(self._toggled)
        self.refresh()

    def refresh(self) -> None:
        self.blockSignals(True)
        self.clear()
        self._items.clear()
        for layer in reversed(self.canvas.layers):
            if id(layer) not in self._watched:
                # a plugin (or a command) showing or hiding a layer ticks its box here too
                self._watched.add(id(layer))
                layer.on_change(self._layer_changed)
            item = QTreeWidgetItem([tr(layer.title)])
            self._items[layer.id] = item
            item.setData(0, Qt.UserRole, layer.id)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(0, Qt.Checked if layer.visible else Qt.Unchecked)
            if getattr(layer, "swatch", None):  # an imported layer shows its colours
                from desktop.qt.map.user_layer import swatch
                item.setIcon(0, swatch(*layer.swatch))
            self.addTopLevelItem(item)
        self.blockSignals(False)
        # every switch in sight: the dock gives the list the height it needs, not a scrollbar
        rows = self.topLevelItemCount()
        row_h = self.sizeHintForRow(0) if rows else self.fontMetrics().height() + 4
        self.setMinimumHeight(min(rows * row_h + 2 * self.frameWidth() + 4, 600))

    def _layer_changed(self, layer) -> None:
        # called for every change of every layer (the alarm layer's many a second): cheap
        item = self._items.get(layer.id)
        if item is None or self.canvas.layer(layer.id) is not layer:
            return
        want = Qt.Checked if layer.visible else Qt.Unchecked
        if item.checkState(0) != want:
            self.blockSignals(True)
            item.setCheckState(0, want)
            self.blockSignals(False)

    def _toggled(self, item: QTreeWidgetItem, _col: int) -> None:
        layer = self.canvas.layer(item.data(0, Qt.UserRole))
        if layer is not None:
            layer.set_visible(item.checkState(0) == Qt.Checked)


class DetailsPanel(QWidget):
    """Properties of the selected feature, with the actions that apply to it."""

    open_camera = Signal(str)
    tour_area = Signal(object)  # Hit of an area (grid cell, zone, control area)

    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel(tr("Nothing selected"))
        self.title.setWordWrap(True)
        self.title.setStyleSheet(f"font-weight: bold; color: {ACCENT};")
        self.table = QTableWidget(0, 2)
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.open_btn = QPushButton(tr("Open on video wall"))
        self.open_btn.setVisible(False)
        self.open_btn.clicked.connect(lambda: self._hit and self.open_camera.emit(self._hit.id))
        self.tour_btn = QPushButton(tr("Tour the cameras in this area"))
        self.tour_btn.setVisible(False)
        self.tour_btn.clicked.connect(lambda: self._hit and self.tour_area.emit(self._hit))
        lay.addWidget(self.title)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.open_btn)
        lay.addWidget(self.tour_btn)
        self._hit: Hit | None = None

    def show_hit(self, hit: Hit | None) -> None:
        self._hit = hit
        if hit is None:
            self.title.setText(tr("Nothing selected"))
            self.table.setRowCount(0)
            self.open_btn.setVisible(False)
            self.tour_btn.setVisible(False)
            return
        self.title.setText(hit.title)
        props = {k: v for k, v in hit.props.items() if v not in ("", None)}
        # never show credentials that may sit in stream URLs
        for key in ("main_url", "sub_url"):
            if key in props:
                props[key] = redact_url(str(props[key]))
        self.table.setRowCount(len(props))
        for row, (k, v) in enumerate(props.items()):
            self.table.setItem(row, 0, QTableWidgetItem(tr(k)))
            self.table.setItem(row, 1, QTableWidgetItem(str(v)))
        self.table.resizeColumnToContents(0)
        self.open_btn.setVisible(hit.kind == "camera")
        self.tour_btn.setVisible(hit.kind in AREA_KINDS)




class MainWindow(QMainWindow):
    """Operator workstation: the district map with its layers, the video wall and plugin docks."""

    notice = Signal(str, str)  # text, level

    def __init__(self, district: District, projection: MapProjection, coord_crs: str = "GCJ02",
                 wall_factory=None, tiles: str = ""):
        super().__init__()
        self.district = district
        self.projection = projection
        self.coord_crs = coord_crs
        self.setWindowTitle(tr("Pingan Desk — {name}", name=district.info.name))
        self.resize(1600, 960)
        self._pending_notices: list[tuple[str, str]] = []
        # (id, text, kinds, callback(hit)) entries of the map's right-click menu, added by plugins
        self.feature_actions: list[tuple[str, str, tuple, object]] = []

        self.canvas = MapCanvas()
        self.layers = build_district_layers(district)
        if tiles:
            self.layers.insert(1, self._tile_layer(tiles))
        for layer in self.layers:
            if layer is not None:
                self.canvas.add_layer(layer)
        self.layers = [l for l in self.layers if l is not None]
        self.canvas.set_home(district.map_bounds())

        self.wall = wall_factory(self) if wall_factory else None
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(self.canvas)
        if self.wall is not None:
            self.splitter.addWidget(self.wall)
            self.splitter.setSizes([900, 700])
            self.wall.notice.connect(self.show_notice)
        self.setCentralWidget(self.splitter)

        self.layers_panel = LayersPanel(self.canvas)
        self.details = DetailsPanel()
        self.add_dock("layers", tr("Layers"), self.layers_panel, Qt.LeftDockWidgetArea)
        self.add_dock("details", tr("Details"), self.details, Qt.LeftDockWidgetArea)
        self.details.open_camera.connect(self.open_camera_ids)
        self.details.tour_area.connect(self.tour_area)

        self._build_status_bar()
        self._build_actions()
        from desktop.qt.layer_import import install_layer_import
        install_layer_import(self)  # File → Import layer… (GeoJSON, KML)
        self.canvas.cursor_moved.connect(self._cursor_moved)
        self.canvas.selected.connect(self.details.show_hit)
        self.canvas.activated.connect(self._activated)
        self.canvas.context_requested.connect(self.show_feature_menu)
        self.canvas.view_changed.connect(self._update_zoom_label)
        self.canvas.layer_failed.connect(
            lambda lid, err: self.show_notice(tr("Map layer {id} failed and was hidden: {err}", id=lid, err=err), "error"))
        self._update_zoom_label()
        for text, level in self._pending_notices:
            self.show_notice(text, level)
        for w in district.warnings[:20]:
            self.show_notice(w, "warning")
        if district.warnings:
            self.show_notice(tr("{n} problems in the dataset; see the log", n=len(district.warnings)), "warning")

    # -- host-facing API (used by desktop.qt.host) ------------------------------------------
    def add_dock(self, dock_id: str, title: str, widget: QWidget,
                 area=Qt.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{dock_id}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                         | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def remove_dock(self, dock: QDockWidget) -> None:
        self.removeDockWidget(dock)
        dock.setParent(None)
        dock.deleteLater()

    def add_map_layer(self, layer: MapLayer) -> None:
        self.canvas.add_layer(layer)
        self.layers_panel.refresh()

    def remove_map_layer(self, layer: MapLayer) -> None:
        self.canvas.remove_layer(layer)
        self.layers_panel.refresh()

    def show_notice(self, text: str, level: str = "info") -> None:
        """Show ``text`` in the status bar (errors stay longer) and keep it in the log."""
        color = NOTICE_COLORS.get(level, NOTICE_COLORS["info"])
        self.notice_label.setStyleSheet(f"color: {color}; font-weight: bold;")
        self.notice_label.setText(text)
        self.notice_label.setToolTip(text)
        self.notices.append((time.time(), level, text))
        del self.notices[:-500]
        getattr(log, "error" if level == "error" else "warning" if level == "warning" else "info")(text)
        self._notice_clear.start(30000 if level == "error" else 12000)
        self.notice.emit(text, level)

    def open_camera_ids(self, *ids: str) -> int:
        """Open cameras on the video wall (best first); returns how many were opened."""
        if self.wall is None:
            self.show_notice(tr("No video wall in this window"), "warning")
            return 0
        return self.wall_open(list(ids))

    def wall_open(self, ids: list[str]) -> int:
        """Open ``ids`` in the first tiles, best first (alarm linkage, double-click, details)."""
        return self.wall.open_camera_ids(list(ids), start=0)

    def cameras_in_area(self, hit: Hit) -> list[str]:
        """Ids of the cameras inside the grid cell, zone or control area a hit names."""
        import shapely
        pools = {"grid": self.district.grid, "zone": self.district.zones, "control_area": self.district.control_areas}
        feature = next((f for f in pools.get(hit.kind, []) if f.id == hit.id), None)
        if feature is None:
            return []
        cams = self.district.cameras
        inside = shapely.contains_xy(feature.map_geom, cams.x, cams.y)
        return [str(i) for i in cams.ids[inside]]

    def tour_area(self, hit: Hit) -> int:
        """Cycle the area's cameras over the wall, a page every TOUR_INTERVAL_S seconds."""
        ids = self.cameras_in_area(hit)
        if not ids:
            self.show_notice(tr("No camera in {name}", name=hit.title), "warning")
            return 0
        if self.wall is None:
            self.show_notice(tr("No video wall in this window"), "warning")
            return 0
        self.wall.start_tour(ids, TOUR_INTERVAL_S)
        self.show_notice(tr("Touring {n} cameras of {name}", n=len(ids), name=hit.title), "info")
        return len(ids)

    def resolve_camera(self, camera_id: str):
        """CameraStreams for an id: its live URLs, or a demo clip when it has none."""
        cam = self.district.cameras.get(camera_id)
        if cam is None:
            return None
        from desktop.core.video.demo_cameras import demo_streams_for
        from desktop.core.video.source import streams_for_camera
        return streams_for_camera(cam, without_url=demo_streams_for)  # no URL: the demo's clips

    # -- internals --------------------------------------------------------------------------
    def _tile_layer(self, path: str):
        from desktop.core.geo.tiles import TileSource, TileSourceError
        from desktop.qt.map.tile_layer import TileLayer
        try:
            return TileLayer(TileSource(path))
        except TileSourceError as exc:
            self._pending_notices.append((str(exc), "error"))
            return None

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.notices: list[tuple[float, str, str]] = []
        self.notice_label = QLabel("")
        self.notice_label.setMinimumWidth(200)
        self._notice_clear = QTimer(self)
        self._notice_clear.setSingleShot(True)
        self._notice_clear.timeout.connect(lambda: self.notice_label.setText(""))
        self.crs_box = QComboBox()
        gk = gk3_zone_crs((self.district.cameras.lon_wgs.mean() if len(self.district.cameras) else 120.0))
        for label, crs in ((tr("GCJ-02"), "GCJ02"), (tr("WGS84"), "WGS84"),
                           (tr("CGCS2000"), "EPSG:4490"), (tr("CGCS2000 GK {zone}", zone=gk), gk)):
            self.crs_box.addItem(label, crs)
        idx = self.crs_box.findData(self.coord_crs)
        self.crs_box.setCurrentIndex(max(idx, 0))
        self.crs_box.currentIndexChanged.connect(lambda _i: setattr(self, "coord_crs", self.crs_box.currentData()))
        self.coord_label = QLabel("—")
        self.coord_label.setMinimumWidth(230)
        self.zoom_label = QLabel("")
        cams = self.district.cameras.count_by_kind()
        self.count_label = QLabel(tr("{hd} cameras · {cp} checkpoints · {coastal} coastal",
                                     hd=cams["hd"], cp=cams["checkpoint"],
                                     coastal=cams["coastal"] + cams["ptz"] + cams["radar"]))
        self.count_label.setStyleSheet(f"color: {TEXT_DIM};")
        self.duty_label = QLabel("")  # who is on duty (set by show_duty)
        self.duty_label.setVisible(False)
        self.feed_label = QLabel("")
        self.feed_label.setVisible(False)
        self._feed_status = None
        self._feed_fn = None
        self._feed_timer = QTimer(self)
        self._feed_timer.setInterval(500)
        self._feed_timer.timeout.connect(self._poll_feed)
        sb.addWidget(self.notice_label, 1)
        sb.addPermanentWidget(self.duty_label)
        sb.addPermanentWidget(self.feed_label)
        sb.addPermanentWidget(self.count_label)
        sb.addPermanentWidget(self.zoom_label)
        sb.addPermanentWidget(self.crs_box)
        sb.addPermanentWidget(self.coord_label)

    def show_duty(self, name: str) -> None:
        """Name the operator on duty in the status bar."""
        self.duty_label.setText(tr("On duty: {name}", name=name))
        self.duty_label.setVisible(True)

    def watch_feed(self, status_fn, source: str = "") -> None:
        """Show the live feed's state (``status_fn()``, e.g. ``Session.feed_status``) in the
        status bar, with a notice when the broker is lost and when it is back."""
        self._feed_fn = status_fn
        self._feed_source = source
        self.feed_label.setVisible(True)
        self._poll_feed()
        self._feed_timer.start()

    def _poll_feed(self) -> None:
        try:
            status = self._feed_fn() if self._feed_fn is not None else "none"
        except Exception as exc:  # noqa: BLE001 - the indicator must not take the window down
            log.exception("feed status failed")
            status = f"error: {exc}"
        if status == self._feed_status:
            return
        old, self._feed_status = self._feed_status, status
        st = feed_state(status)
        colour = {"ok": "#81c784", "info": TEXT_DIM, "warning": "#ffca28", "error": "#ff6e6e"}[st.severity]
        self.feed_label.setText(f"● {st.label}")
        self.feed_label.setStyleSheet(f"color: {colour}; font-weight: bold;" if st.severity == "error"
                                      else f"color: {colour};")
        self.feed_label.setToolTip(self._feed_source)
        notice = change_notice(old, status)
        if notice is not None:
            self.show_notice(*notice)

    def _build_actions(self) -> None:
        self.actions_by_id: dict[str, QAction] = {}
        mb = self.menuBar()
        self.menu_file = mb.addMenu(tr("&File"))
        self.menu_view = mb.addMenu(tr("&View"))
        self.menu_tools = mb.addMenu(tr("&Tools"))
        self.menu_help = mb.addMenu(tr("&Help"))
        home = QAction(tr("Zoom to district"), self)
        home.setShortcut(QKeySequence(Qt.Key_Home))
        home.triggered.connect(self.canvas.zoom_home)
        self.menu_view.addAction(home)
        zin = QAction(tr("Zoom in"), self)
        zin.setShortcut(QKeySequence.ZoomIn)
        zin.triggered.connect(lambda: (self.canvas.vp.zoom_at(1.5), self.canvas._view_moved()))
        zout = QAction(tr("Zoom out"), self)
        zout.setShortcut(QKeySequence.ZoomOut)
        zout.triggered.connect(lambda: (self.canvas.vp.zoom_at(1 / 1.5), self.canvas._view_moved()))
        self.menu_view.addActions([zin, zout])
        self.menu_view.addSeparator()
        for dock in self.findChildren(QDockWidget):
            self.menu_view.addAction(dock.toggleViewAction())
        quit_ = QAction(tr("Quit"), self)
        quit_.setShortcut(QKeySequence.Quit)
        quit_.triggered.connect(self.close)
        self.menu_file.addAction(quit_)
        # Help → Keyboard shortcuts and About are added by desktop.qt.preferences

    def _cursor_moved(self, x: float, y: float) -> None:
        cx, cy = self.projection.inverse(x, y, self.coord_crs)
        if self.coord_crs in ("GCJ02", "WGS84", "EPSG:4490"):
            self.coord_label.setText(f"{cx:.6f}°E  {cy:.6f}°N")
        else:
            self.coord_label.setText(f"E {cx:,.1f}  N {cy:,.1f} m")

    def _update_zoom_label(self) -> None:
        mpp = self.canvas.vp.ground_metres_per_pixel()
        self.zoom_label.setText(tr("z {z:.1f} · {mpp:.2f} m/px", z=self.canvas.vp.zoom_level(), mpp=mpp))

    def closeEvent(self, e) -> None:  # noqa: N802 (Qt)
        if self.wall is not None:
            self.wall.stop()
        super().closeEvent(e)

    def feature_menu(self, hit: Hit | None) -> QMenu | None:
        """The right-click menu for a feature: the plugins' entries for its kind (None: no entries)."""
        if hit is None:
            return None
        entries = [e for e in self.feature_actions if not e[2] or hit.kind in e[2]]
        if not entries:
            return None
        menu = QMenu(self)
        menu.setObjectName("feature-menu")
        title = menu.addAction(hit.title)
        title.setEnabled(False)
        menu.addSeparator()
        for entry_id, text, _kinds, callback in entries:
            act = menu.addAction(text)
            act.setObjectName(entry_id)
            act.triggered.connect(lambda _=False, cb=callback: cb(hit))
        return menu

    def show_feature_menu(self, hit: Hit | None, global_pos) -> None:
        menu = self.feature_menu(hit)
        if menu is not None:
            self.canvas.select(hit)
            menu.exec(global_pos)
            menu.deleteLater()

    def _activated(self, hit: Hit) -> None:
        if hit.kind == "camera":
            self.open_camera_ids(hit.id)
