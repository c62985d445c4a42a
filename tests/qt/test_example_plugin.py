"""The plugin author's guide's example plugin works as the guide says, on the SDK alone."""
import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDockWidget, QToolBar

from desktop.core.alarms.service import AlarmService
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.feeds.bus import EventBus
from desktop.core.geo.crs import MapProjection
from desktop.core.i18n import set_locale, tr
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from desktop.qt.map.layer import Hit

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def alarm(i, typ="fire"):
    return {"id": f"E-{i}", "type": typ, "priority": 2, "time": "2024-06-01T09:00:00+08:00",
            "lon": 120.38, "lat": 36.06, "crs": "WGS84", "source": f"s{i}"}


@pytest.fixture
def setup(qtbot, tiny_district, tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.paths.PLUGINS", tmp_path / "none")
    set_locale("zh_CN")
    bus = EventBus("t")
    svc = AlarmService(tmp_path / "j.sqlite", bus=bus).start()
    w = MainWindow(load_district(tiny_district), MapProjection())
    qtbot.addWidget(w)
    w.show()
    cfg = Config()
    cfg.extra = {"alarm_counter": {"top": 2}}
    mgr = start_plugins(w, cfg, w.district, extra_folders=[EXAMPLES], services={"alarms": svc}, bus=bus)
    yield w, mgr, bus, svc
    mgr.unload_all()
    svc.stop()
    set_locale("en")


def test_example_counts_live_alarms_and_cleans_up(setup, qtbot):
    w, mgr, bus, svc = setup
    rec = mgr.records["alarm_counter"]
    assert rec.state == "enabled", rec.last_error
    plugin = rec.instance
    assert plugin.top == 2  # the configured setting, validated against the manifest
    assert "警情计数" in [d.windowTitle() for d in w.findChildren(QDockWidget)]  # its own translation
    for i in range(30):
        bus.publish("pingan/alarm", alarm(i, "fire" if i % 3 else "theft"))
    qtbot.waitUntil(lambda: sum(plugin.counts.values()) == 30, timeout=5000)
    assert plugin.counts == {"fire": 20, "theft": 10}
    assert plugin.panel.list.count() == 2
    bar = w.findChild(QToolBar, "toolbar-alarm_counter")
    bar.actions()[0].trigger()
    assert sum(plugin.counts.values()) == 0
    menu = w.feature_menu(Hit("cameras", "camera", "C1", "Camera C1", 0, 0))
    assert [a.text() for a in menu.actions()][-1] == "在视频墙打开此摄像机"
    assert w.feature_menu(Hit("grid", "grid", "G1", "cell", 0, 0)) is None  # only for cameras
    mgr.disable("alarm_counter")
    qtbot.wait(50)
    assert w.findChild(QToolBar, "toolbar-alarm_counter") is None or not w.findChild(QToolBar, "toolbar-alarm_counter").isVisible()
    assert w.feature_actions == []
    assert tr("Alarm counts") == "Alarm counts"  # its translations left with it
    assert not w.stream_hub.subscriptions()


def test_example_counts_what_the_journal_has_today(qtbot, tiny_district, tmp_path, monkeypatch):
    import time
    from desktop.core.clock import iso
    monkeypatch.setattr("desktop.paths.PLUGINS", tmp_path / "none")
    bus = EventBus("t")
    svc = AlarmService(tmp_path / "j.sqlite", bus=bus).start()
    now = iso(time.time())
    for i in range(4):
        bus.publish("pingan/alarm", dict(alarm(i, "crowd"), time=now))
    assert svc.flush()
    w = MainWindow(load_district(tiny_district), MapProjection())
    qtbot.addWidget(w)
    mgr = start_plugins(w, Config(), w.district, extra_folders=[EXAMPLES], services={"alarms": svc}, bus=bus)
    plugin = mgr.records["alarm_counter"].instance
    qtbot.waitUntil(lambda: plugin.counts.get("crowd") == 4, timeout=5000)
    assert plugin.top == 5  # the declared default
    mgr.unload_all()
    svc.stop()


def test_a_wrong_setting_is_named_and_the_default_used(qtbot, tiny_district, tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.paths.PLUGINS", tmp_path / "none")
    bus = EventBus("t")
    svc = AlarmService(tmp_path / "j.sqlite", bus=bus).start()
    w = MainWindow(load_district(tiny_district), MapProjection())
    qtbot.addWidget(w)
    cfg = Config()
    cfg.extra = {"alarm_counter": {"top": "many"}}
    mgr = start_plugins(w, cfg, w.district, extra_folders=[EXAMPLES], services={"alarms": svc}, bus=bus)
    assert mgr.records["alarm_counter"].instance.top == 5
    assert any("plugins.alarm_counter.top" in t and "1…50" in t for _, _, t in w.notices)
    mgr.unload_all()
    svc.stop()
