"""Start-up: QApplication, theme, district, window for the chosen mode, screenshot timer."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.core import i18n, runtime
from desktop.core.config import Config
from desktop.core.district.loader import DatasetError, load_district
from desktop.core.district.resolve import DistrictNotFound, resolve_district
from desktop.core.geo.crs import MapProjection
from desktop.core.i18n import tr
from desktop.core.localtime import set_district_zone
from desktop.qt.theme import apply_theme

log = logging.getLogger("pingan")
_T0 = time.perf_counter()


def _progress(stage: str, frac: float) -> None:
    print(f"\r[{frac * 100:5.1f}%] {stage:<40}", end="", file=sys.stderr, flush=True)
    if frac >= 1.0:
        print(file=sys.stderr)


def run(cfg: Config, screenshot: str | None = None, after: float = 3.0, list_plugins: bool = False) -> int:
    """Run the program for ``cfg``; returns the process exit code."""
    logging.basicConfig(level=os.environ.get("PINGAN_LOG", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    tune_runtime()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Pingan Desk")
    app.setOrganizationName("Pingan")
    from desktop.qt.preferences import attach_preferences, load_preferences
    prefs = load_preferences(cfg)  # saved settings fill what the command line and config left unset
    i18n.set_locale(cfg.locale or i18n.default_locale())
    _set_window_icon(app)
    apply_theme(app, scale=1.8 if cfg.mode == "wall" else prefs.settings.type_scale)
    install_qt_translations(app, i18n.current_locale())

    try:
        folder = resolve_district(cfg.district, progress=_progress)
        district = load_district(folder, MapProjection(cfg.map_datum))
    except (DatasetError, DistrictNotFound, ImportError) as exc:
        msg = tr("Cannot open the district: {err}", err=exc)
        print(f"pingan-desk: {msg}", file=sys.stderr)
        if not screenshot and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            QMessageBox.critical(None, "Pingan Desk", msg)
        return 3
    # every time on screen is read in the district's zone, whatever the PC's zone is
    set_district_zone(district.info.timezone)
    if cfg.decode_processes:
        # the tiles decode in decoder processes, pictures back through shared memory: the
        # GUI no longer shares its interpreter lock with every decode thread
        from desktop.core.video.player import set_decode_pool
        from desktop.core.video.procpool import close_shared_pool, shared_pool
        set_decode_pool(shared_pool(cfg.decode_processes))
        app.aboutToQuit.connect(close_shared_pool)
    if cfg.mode == "wall":
        # the center's display wall: its own windows, driven from the workstations (no operator UI)
        from desktop.qt.wall.app import run_wall
        return run_wall(app, cfg, district, MapProjection(cfg.map_datum), screenshot=screenshot, after=after)
    if cfg.mode == "training":
        # the operator window on a training session: scenario clock, clips, instructor bar, score
        from desktop.training.qt.app import run_training
        return run_training(app, cfg, district, screenshot=screenshot, after=after)

    from desktop.qt.main_window import MainWindow
    window = MainWindow(district, MapProjection(cfg.map_datum), coord_crs=cfg.coord_crs,
                        wall_factory=_wall_factory(), tiles=cfg.tiles)
    if cfg.mode == "wall":
        window.menuBar().hide()
        window.showFullScreen()
    else:
        window.show()

    from desktop.core.session import Session
    try:
        session = Session(cfg, district, window.projection).start()
    except Exception as exc:  # noqa: BLE001 - said plainly, not as a traceback
        log.exception("the alarm service could not start")
        msg = tr("Cannot start the alarm service: {err}", err=exc)
        print(f"pingan-desk: {msg}", file=sys.stderr)
        if not screenshot and os.environ.get("QT_QPA_PLATFORM") != "offscreen":
            QMessageBox.critical(None, "Pingan Desk", msg)
        return 3
    window.session = session
    if session.instance is not None and session.instance.label:
        # a second instance on this PC says so (title and status bar): the windows are told apart
        from PySide6.QtWidgets import QLabel
        window.setWindowTitle(tr("{title} · instance {label}", title=window.windowTitle(),
                                 label=session.instance.label))
        badge = QLabel(tr("Instance {label}", label=session.instance.label))
        badge.setStyleSheet("color: #ffca28; font-weight: bold;")
        badge.setToolTip(tr("Workstation id {ws} · journal {path}", ws=session.workstation,
                            path=session.journal_path))
        window.statusBar().addPermanentWidget(badge)
    from desktop.paths import config_dir
    start_plugins(window, cfg, district, bus=session.bus,
                  services=session.services(), memory_dir=config_dir() / "plugins")
    attach_operator_tools(app, window, session, cfg, district)
    from desktop.qt.map.radar_layer import attach_radar
    attach_radar(window, district, window.stream_hub, session.clock)  # radar targets at sea, watched waters
    attach_wall(window, session, cfg, district)
    attach_preferences(app, window, cfg, prefs, district)  # settings, layout kept between runs, help
    if session.player is not None:
        window.show_notice(tr("Offline demo: scenario “{name}” is playing", name=session.scenario.name), "info")
    elif cfg.broker:
        window.show_notice(tr("Live feeds from {broker}", broker=cfg.broker), "info")

    # out of the GC's sight once the map is painted (a full collection costs ~70 ms of the start)
    window.canvas.first_frame_callbacks.append(freeze_heap)
    if os.environ.get("PINGAN_REPORT_FIRST_FRAME"):
        # used by the map benchmark: time from interpreter start to the first painted map frame
        def report():
            ms = (window.canvas.first_frame_at - _T0) * 1000.0
            print(json.dumps({"startup_to_first_frame_ms": round(ms, 1)}), flush=True)
            app.quit()
        window.canvas.first_frame_callbacks.append(report)

    if screenshot:
        def shoot():
            path = Path(screenshot)
            path.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(path))
            print(f"screenshot {'saved to' if ok else 'FAILED'} {path}", file=sys.stderr)
            app.exit(0 if ok else 4)
        QTimer.singleShot(int(after * 1000), shoot)
    return app.exec()


def _set_window_icon(app) -> None:
    from PySide6.QtGui import QIcon
    from desktop.paths import RESOURCES
    icon = RESOURCES / "icons" / "pingan-desk.png"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


def attach_operator_tools(app, window, session, cfg: Config, district) -> None:
    """The session's tools in the window: the audit trail and its log, the operator on duty and
    the change of shift (not on a wall, which has no operator), and the feed state."""
    from desktop.qt.audit import AuditLogDialog, AuditTrail
    from desktop.qt.handover import HandoverDialog
    trail = AuditTrail(session.alarms, session.duty)
    trail.attach(window)
    if cfg.mode != "wall":
        window.show_duty(session.duty.name)
        session.duty.on_hand_over(lambda old, new, note: (window.show_duty(new), window.show_notice(
            tr("{new} took over the shift from {old}", new=new, old=old), "info")))
        handover = QAction(tr("Hand over the shift…"), window)
        handover.triggered.connect(lambda: HandoverDialog(session.duty, window).exec())
        first = window.menu_file.actions()[0] if window.menu_file.actions() else None
        window.menu_file.insertAction(first, handover)
    trail.record("session_started", district.info.adcode, mode=cfg.mode, workstation=session.workstation)
    audit_act = QAction(tr("Audit log…"), window)
    audit_act.triggered.connect(lambda: AuditLogDialog(session.alarms, window).exec())
    window.menu_tools.addAction(audit_act)
    app.aboutToQuit.connect(lambda: trail.record("session_ended", district.info.adcode))  # before the stop below
    app.aboutToQuit.connect(session.stop)
    window.watch_feed(session.feed_status, cfg.broker or "")
    # camera states on the map icons, the faulty-cameras dock and the online rate
    from desktop.qt.camera_faults import watch_cameras
    watch_cameras(window, session.cameras.health, now=session.clock.time)


def attach_wall(window, session, cfg: Config, district) -> None:
    """The Wall menu ("Send to wall", the walls' state); with ``[wall] window = true`` also a wall
    window in this program, which the menu reaches in-process (a single PC without a broker)."""
    from desktop.qt.wall.app import open_local_wall
    from desktop.qt.wall.sender import attach_wall_sender
    if cfg.wall is not None and cfg.wall.window:
        open_local_wall(window, cfg, district, window.projection, hub=getattr(window, "stream_hub", None))
    attach_wall_sender(window, cfg, session.workstation, session.operator)


def install_qt_translations(app, locale: str):
    """Qt's own strings (standard buttons, context menus of text fields) in the interface language.

    Returns the installed translator, or None (English, or no catalog for the locale)."""
    from PySide6.QtCore import QLibraryInfo, QTranslator
    if not locale or locale.startswith("en"):
        return None
    translator = QTranslator(app)
    if not translator.load(f"qtbase_{locale}", QLibraryInfo.path(QLibraryInfo.TranslationsPath)):
        log.info("no Qt translation for %s", locale)
        return None
    app.installTranslator(translator)
    return translator


def tune_runtime() -> None:
    """Interpreter settings for a GUI that shares the GIL with feed, journal and decode threads."""
    # With the default 5 ms switch interval the GUI thread can wait that long for the GIL
    # on every callback from Qt while a worker thread runs Python.
    runtime.tune_switching()
    # Thousands of long-lived alarm and map objects make every full cyclic-GC pass slow, and
    # the pass lands on whichever thread allocates: the GUI thread stalls. Collect rarely.
    runtime.tune_gc()


def freeze_heap() -> None:
    """After start-up: move what exists (district, layers, widgets) out of the GC's sight."""
    runtime.freeze_heap()


def start_plugins(window, cfg: Config, district, extra_folders=(), services: dict | None = None, bus=None,
                  memory_dir=None):
    """Discover and enable plugins; returns the manager (kept on the window). ``memory_dir``:
    where plugins remember the operator's choices between runs (None: this run only)."""
    from desktop.core.feeds.bus import EventBus
    from desktop.core.plugin_api.host import PluginManager
    from desktop.paths import PLUGINS
    from desktop.core.plugin_api.streams import AlarmSource, BusLink, RemoteLink, StreamHub
    from desktop.qt.host import GuiPump, QtPluginHost, StreamPump, install_plugin_excepthook
    from desktop.qt.plugin_dialog import PluginDialog

    bus = bus or EventBus("local")
    pump = GuiPump(parent=window)
    svc = {"district": district, "bus": bus, "projection": window.projection, "config": cfg}
    svc.update(services or {})
    # The streams every plugin reads: the alarm service's events (one drain, many readers) and
    # bus messages, from the in-process bus or forwarded by the feed process.
    hub = StreamHub()
    sources = []
    alarms = svc.get("alarms")
    if alarms is not None:
        sources.append(AlarmSource(hub, alarms))
    links = [RemoteLink(hub, alarms) if hasattr(alarms, "forward") else BusLink(hub, bus)]
    for extra in svc.get("stream_sources", ()):
        sources.append(extra(hub) if callable(extra) else extra)
    stream_pump = StreamPump(hub, sources, parent=window)
    manager = PluginManager(mode=cfg.mode, disabled=cfg.plugins_disabled, settings=cfg.extra, services=svc,
                            notify=window.show_notice, defer=lambda fn: QTimer.singleShot(0, fn), hub=hub,
                            memory_dir=memory_dir)
    manager.host_factory = lambda m, mgr: QtPluginHost(m, mgr, window, bus, pump)
    manager.discover([PLUGINS, *extra_folders])
    for err in manager.discovery_errors:
        window.show_notice(err, "error")
    manager.enable_all()
    install_plugin_excepthook(manager)
    window.plugin_manager, window.bus, window.pump = manager, bus, pump
    window.stream_hub, window.stream_pump, window.stream_links = hub, stream_pump, links
    act = QAction(tr("Plugins…"), window)
    act.triggered.connect(lambda: PluginDialog(manager, window).exec())
    window.menu_tools.addAction(act)
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(manager.unload_all)
    return manager


def _wall_factory():
    """The video wall constructor, or None when the video layer is not available."""
    try:
        from desktop.qt.video.wall import VideoWall  # noqa: F401
    except ImportError:
        return None

    def make(window):
        return VideoWall(resolve=window.resolve_camera)
    return make
