"""The map canvas renders its static layers on its render thread: a frame after a zoom shows
the previous image stretched instead of waiting for the render, and the fresh image is used
once it is ready; a layer that fails on the render thread is hidden and reported."""
import threading

import pytest
from PySide6.QtGui import QImage, QPainter

from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.qt.main_window import build_district_layers
from desktop.qt.map.canvas import MapCanvas
from desktop.qt.map.layer import MapLayer


class GateLayer(MapLayer):
    """A static layer whose paint waits for the test to open a gate (when armed)."""

    id = "gate"
    z = 5

    def __init__(self):
        super().__init__()
        self.block = False
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.painted_in: list[str] = []
        self.frame_returned_before_paint_ended: list[bool] = []
        self.frame_returned = threading.Event()

    def paint(self, p, vp):
        self.painted_in.append(threading.current_thread().name)
        if self.block:
            self.block = False
            self.entered.set()
            self.gate.wait(10)
            self.frame_returned_before_paint_ended.append(self.frame_returned.is_set())


class BrokenLayer(MapLayer):
    id = "broken"
    z = 6

    def __init__(self):
        super().__init__()
        self.armed = False

    def paint(self, p, vp):
        if self.armed:
            raise ValueError("bad geometry in the imported file")


@pytest.fixture
def canvas(qtbot, tiny_district):
    d = load_district(tiny_district)
    c = MapCanvas()
    qtbot.addWidget(c)
    c.resize(800, 600)
    c.vp.width, c.vp.height = 800, 600
    for layer in build_district_layers(d):
        c.add_layer(layer)
    c.set_home(d.map_bounds())
    return c


def _frame(canvas, allow_stale=True) -> QImage:
    img = QImage(canvas.vp.width, canvas.vp.height, QImage.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    canvas.render_to(p, allow_stale=allow_stale)
    p.end()
    return img


def test_a_zoom_frame_does_not_wait_for_the_render(canvas):
    gate = GateLayer()
    canvas.add_layer(gate)
    _frame(canvas)  # the first frame renders in place: there is nothing to show yet
    assert gate.painted_in == [threading.current_thread().name]
    gate.block = True  # the next render blocks until the test lets it go
    canvas.vp.zoom_at(1.5)
    stale = canvas.stale_frames
    _frame(canvas)  # must return while the render thread is stuck in the gate layer
    gate.frame_returned.set()
    assert canvas.stale_frames == stale + 1
    assert canvas._renderer.in_flight() is not None
    assert gate.entered.wait(10)
    gate.gate.set()
    assert canvas.wait_render(10)
    assert gate.frame_returned_before_paint_ended == [True]
    assert gate.painted_in[-1] == "map-render"
    # the fresh image is for this view: the next frame is a plain blit of it
    assert canvas._cache_key == canvas._static_key()
    _frame(canvas)
    assert canvas.stale_frames == stale + 1


def test_stale_frames_show_the_previous_image_moved_with_the_view(canvas):
    canvas.vp.zoom_at(3.0)  # detail everywhere on screen
    crisp = _frame(canvas, allow_stale=False)
    canvas._renderer.stop()  # no render thread any more: the frames after the pan stay stale
    shift = 400  # past the cache's margin: the cached image no longer covers the window
    canvas.vp.pan_pixels(shift, 0)
    stale = canvas.stale_frames
    img = _frame(canvas)
    assert canvas.stale_frames == stale + 1
    points = [(x, y) for x in range(20, canvas.vp.width - shift - 20, 23) for y in range(20, canvas.vp.height - 60, 29)]
    assert len({crisp.pixel(x, y) for x, y in points}) > 3  # the sample is not one flat colour
    same = sum(img.pixel(x + shift, y) == crisp.pixel(x, y) for x, y in points)
    assert same >= 0.95 * len(points)


def test_a_layer_failing_on_the_render_thread_is_hidden_and_reported(canvas, qtbot):
    broken = BrokenLayer()
    canvas.add_layer(broken)
    _frame(canvas, allow_stale=False)
    assert broken.visible
    broken.armed = True
    canvas.vp.zoom_at(2.0)
    with qtbot.waitSignal(canvas.layer_failed, timeout=5000) as sig:
        _frame(canvas)
        canvas.wait_render(5)
        _frame(canvas)  # the result is taken on the GUI thread, which reports the failure
    assert sig.args[0] == "broken" and "bad geometry" in sig.args[1]
    assert not broken.visible
    assert canvas.layer("grid").visible  # the others stay


STATIC_PLUGIN = """
import threading
from desktop.qt.map.layer import MapLayer

class Layer(MapLayer):
    id = "flaky-layer"
    title = "flaky layer"
    static = True
    armed = False
    def paint(self, p, vp):
        if self.armed:
            raise RuntimeError("static paint boom in " + threading.current_thread().name)

class P:
    def __init__(self, host):
        self.host = host
    def register(self):
        self.layer = Layer()
        self.host.add_map_layer(self.layer)
    def unregister(self):
        pass
"""


def test_a_plugin_static_layer_failing_on_the_render_thread_disables_its_plugin_on_the_gui_thread(
        qtbot, tiny_district, tmp_path, monkeypatch):
    from desktop.core.config import Config
    from desktop.qt.app import start_plugins
    from desktop.qt.main_window import MainWindow

    monkeypatch.setattr("desktop.paths.PLUGINS", tmp_path / "none")
    d = tmp_path / "flaky"
    d.mkdir()
    (d / "plugin.toml").write_text('id = "flaky"\nname = "flaky"\nversion = "1"\napi = 1\nentry = "main:P"\n',
                                   encoding="utf-8")
    (d / "main.py").write_text(STATIC_PLUGIN, encoding="utf-8")
    w = MainWindow(load_district(tiny_district), MapProjection())
    qtbot.addWidget(w)
    w.show()
    mgr = start_plugins(w, Config(), w.district, extra_folders=[tmp_path])
    rec = mgr.records["flaky"]
    assert rec.state == "enabled"
    canvas = w.canvas
    _frame(canvas, allow_stale=False)
    failed_in = []
    original = mgr._failed
    monkeypatch.setattr(mgr, "_failed", lambda *a, **k: (failed_in.append(threading.current_thread()), original(*a, **k)))
    rec.instance.layer.armed = True
    canvas.vp.zoom_at(2.0)
    _frame(canvas)  # asks the render thread, which meets the failure
    assert canvas.wait_render(5)
    qtbot.waitUntil(lambda: rec.state == "failed", timeout=3000)
    assert failed_in == [threading.main_thread()]
    assert "static paint boom in map-render" in rec.last_error
    assert canvas.layer("flaky-layer") is None
    assert any("flaky" in t for _, _, t in w.notices)
