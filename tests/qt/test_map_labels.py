"""Place names on the map: above the icons, never on top of each other, following their layers."""
import itertools

import pytest
from PySide6.QtGui import QImage, QPainter

from desktop.core.district.loader import load_district
from desktop.core.district.resolve import resolve_district
from desktop.core.geo.crs import MapProjection
from desktop.qt.main_window import MainWindow


@pytest.fixture(scope="module")
def shinan():
    return load_district(resolve_district(None), MapProjection())


@pytest.fixture
def window(qtbot, shinan):
    w = MainWindow(shinan, MapProjection())
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def _paint(canvas):
    img = QImage(canvas.vp.width, canvas.vp.height, QImage.Format_ARGB32_Premultiplied)
    img.fill(0xFF000000)
    p = QPainter(img)
    canvas.render_to(p, allow_stale=False)
    p.end()
    return canvas.layer("labels").placed


def test_names_are_above_the_icons_and_never_overlap(window, shinan):
    canvas = window.canvas
    labels = canvas.layer("labels")
    assert labels.z > max(l.z for l in canvas.layers if l.static and l is not labels)  # drawn over cameras
    for zoom in (1.0, 2.5, 8.0):
        canvas.zoom_home()
        canvas.vp.zoom_at(zoom)
        canvas._view_moved()
        placed = _paint(canvas)
        assert placed, zoom
        for (a, ra), (b, rb) in itertools.combinations(placed, 2):
            assert not ra.intersects(rb), (zoom, a, b)
    # zoomed in, communities are named too; at the district view only sub-districts (and neighbours)
    subs = set(shinan.subdistricts())
    coms = set(shinan.communities())
    assert {n for n, _ in placed} & coms
    canvas.zoom_home()
    home = {n for n, _ in _paint(canvas)}
    assert len(home & subs) >= len(subs) // 2 and not home & coms


def test_names_follow_their_layers_visibility(window, shinan):
    canvas = window.canvas
    canvas.zoom_home()
    subs = set(shinan.subdistricts())
    assert {n for n, _ in _paint(canvas)} & subs
    canvas.layer("grid").set_visible(False)
    assert not {n for n, _ in _paint(canvas)} & subs
    canvas.layer("grid").set_visible(True)
    labels = canvas.layer("labels")
    labels.set_visible(False)  # the Layers panel's "Labels" switch
    labels.placed = []
    assert _paint(canvas) == []
