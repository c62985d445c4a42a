"""The Qt host facade: docks, layers, actions and bus subscriptions added and removed symmetrically;
a plugin that raises in every hook and callback leaves the host and the other plugins running."""

import pytest
from PySide6.QtWidgets import QDockWidget

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow

PLUGIN = """
from PySide6.QtWidgets import QLabel
from desktop.qt.map.layer import MapLayer

class Layer(MapLayer):
    id = "{pid}-layer"
    title = "{pid} layer"
    static = False
    def paint(self, p, vp):
        if {raise_paint}:
            raise RuntimeError("paint boom")

class P:
    def __init__(self, host):
        self.host = host
        self.got = []
    def register(self):
        self.host.add_panel("panel", "{pid} panel", QLabel("hello"))
        self.host.add_map_layer(Layer())
        self.host.add_action("go", "{pid} go", self.go)
        self.host.subscribe("pingan/test/#", self.on_msg)
        if {raise_register}:
            raise RuntimeError("register boom")
    def go(self):
        if {raise_action}:
            raise RuntimeError("action boom")
        self.got.append("go")
    def on_msg(self, topic, payload):
        if {raise_msg}:
            raise RuntimeError("message boom")
        self.got.append(payload["n"])
    def unregister(self):
        if {raise_unregister}:
            raise RuntimeError("unregister boom")
"""


def write(root, pid, **raises):
    flags = {k: raises.get(k, False) for k in ("raise_paint", "raise_register", "raise_action", "raise_msg",
                                               "raise_unregister")}
    d = root / pid
    d.mkdir()
    (d / "plugin.toml").write_text(f'id = "{pid}"\nname = "{pid}"\nversion = "1"\napi = 1\nentry = "main:P"\n',
                                   encoding="utf-8")
    (d / "main.py").write_text(PLUGIN.format(pid=pid, **flags), encoding="utf-8")


@pytest.fixture
def window(qtbot, tiny_district):
    w = MainWindow(load_district(tiny_district), MapProjection())
    qtbot.addWidget(w)
    w.show()
    return w


def docks(w):
    return sorted(d.windowTitle() for d in w.findChildren(QDockWidget) if d.isVisible() or d.parent() is w)


def test_contributions_appear_and_vanish_symmetrically(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr("desktop.paths.PLUGINS", tmp_path / "none")
    write(tmp_path, "good")
    mgr = start_plugins(window, Config(), window.district, extra_folders=[tmp_path])
    rec = mgr.records["good"]
    assert rec.state == "enabled"
    assert "good panel" in [d.windowTitle() for d in window.findChildren(QDockWidget)]
    assert window.canvas.layer("good-layer") is not None
    window.bus.publish("pingan/test/x", {"n": 1})
    qtbot.waitUntil(lambda: rec.instance.got == [1], timeout=2000)
    act = next(a for a in window.menu_tools.actions() if a.text() == "good go")
    act.trigger()
    assert rec.instance.got == [1, "go"]
    mgr.disable("good")
    qtbot.wait(50)
    assert "good panel" not in [d.windowTitle() for d in window.findChildren(QDockWidget)]
    assert window.canvas.layer("good-layer") is None
    assert "good go" not in [a.text() for a in window.menu_tools.actions()]
    assert window.bus.publish("pingan/test/x", {"n": 2}) == 0


@pytest.mark.parametrize("flag,needle", [("raise_register", "register boom"), ("raise_action", "action boom"),
                                         ("raise_msg", "message boom"), ("raise_paint", "paint boom")])
def test_a_plugin_failing_anywhere_is_disabled_and_the_host_goes_on(window, qtbot, tmp_path, monkeypatch, flag, needle):
    monkeypatch.setattr("desktop.paths.PLUGINS", tmp_path / "none")
    write(tmp_path, "bad", **{flag: True, "raise_unregister": True})
    write(tmp_path, "good")
    mgr = start_plugins(window, Config(), window.district, extra_folders=[tmp_path])
    bad, good = mgr.records["bad"], mgr.records["good"]
    if flag == "raise_action":
        next(a for a in window.menu_tools.actions() if a.text() == "bad go").trigger()
    elif flag == "raise_msg":
        window.bus.publish("pingan/test/x", {"n": 1})
    elif flag == "raise_paint":
        window.canvas.repaint()
    qtbot.waitUntil(lambda: bad.state == "failed", timeout=3000)
    assert needle in bad.last_error or needle in window.notice_label.text()
    assert "bad" in window.notice_label.text() or any("bad" in t for _, _, t in window.notices)
    qtbot.waitUntil(lambda: "bad panel" not in [d.windowTitle() for d in window.findChildren(QDockWidget)
                                                if d.parent() is not None], timeout=2000)
    assert window.canvas.layer("bad-layer") is None
    assert good.state == "enabled" and window.canvas.layer("good-layer") is not None
    window.bus.publish("pingan/test/x", {"n": 5})
    qtbot.waitUntil(lambda: 5 in good.instance.got, timeout=2000)
    window.canvas.repaint()  # host still paints
