"""The operator window on the tiny district, offscreen: layers paint, hit-test, select, toggle."""
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter

from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.qt.main_window import MainWindow


@pytest.fixture
def window(qtbot, tiny_district):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection(), coord_crs="GCJ02")
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def _render(canvas) -> QImage:
    img = QImage(canvas.vp.width, canvas.vp.height, QImage.Format_ARGB32_Premultiplied)
    img.fill(0xFF000000)  # black: whatever the canvas leaves unpainted shows
    p = QPainter(img)
    canvas.render_to(p, allow_stale=False)
    p.end()
    return img


def test_every_district_layer_is_on_the_canvas_and_in_the_layers_panel(window):
    ids = {l.id for l in window.canvas.layers}
    assert {"basemap", "grid", "zones", "patrol", "risk", "boundary", "cameras", "checkpoints", "coastal"} <= ids
    assert window.layers_panel.topLevelItemCount() == len(window.canvas.layers)


def test_the_layers_panel_follows_a_layer_shown_or_hidden_elsewhere(window):
    def box(layer_id):
        panel = window.layers_panel
        item = next(panel.topLevelItem(i) for i in range(panel.topLevelItemCount())
                    if panel.topLevelItem(i).data(0, Qt.UserRole) == layer_id)
        return item.checkState(0)
    grid = window.canvas.layer("grid")
    assert grid.visible and box("grid") == Qt.Checked
    grid.set_visible(False)  # as a plugin or a command would
    assert box("grid") == Qt.Unchecked
    grid.set_visible(True)
    assert box("grid") == Qt.Checked and grid.visible
    from desktop.qt.map.layer import MapLayer
    extra = MapLayer()
    extra.id, extra.title = "extra", "Extra"
    window.add_map_layer(extra)
    extra.set_visible(False)
    assert box("extra") == Qt.Unchecked


def test_hover_and_click_select_a_camera_and_show_its_details(window, qtbot):
    canvas = window.canvas
    cam = window.district.cameras.records[0]
    sx, sy = canvas.vp.to_screen(cam.x, cam.y)
    hit = canvas.hit_test(float(sx), float(sy))
    assert hit is not None and hit.kind == "camera" and hit.id == cam.id
    qtbot.mouseClick(canvas, Qt.LeftButton, pos=QPoint(int(round(sx)), int(round(sy))))
    assert canvas.selection is not None and canvas.selection.id == cam.id
    assert cam.name in window.details.title.text()
    assert window.details.open_btn.isVisibleTo(window.details)


def test_toggling_a_layer_hides_its_pixels(window):
    canvas = window.canvas
    cam = window.district.cameras.records[0]
    sx, sy = (int(round(v)) for v in canvas.vp.to_screen(cam.x, cam.y))
    before = _render(canvas).pixelColor(sx, sy)
    item = next(window.layers_panel.topLevelItem(i) for i in range(window.layers_panel.topLevelItemCount())
                if window.layers_panel.topLevelItem(i).data(0, Qt.UserRole) == "cameras")
    item.setCheckState(0, Qt.Unchecked)
    assert not canvas.layer("cameras").visible
    after = _render(canvas).pixelColor(sx, sy)
    assert before != after
    assert canvas.hit_test(sx, sy) is None or canvas.hit_test(sx, sy).kind != "camera"


def test_wheel_zoom_and_keys_move_the_view_and_home_restores_it(window, qtbot):
    canvas = window.canvas
    home = (canvas.vp.cx, canvas.vp.cy, canvas.vp.scale)
    qtbot.keyClick(canvas, Qt.Key_Plus)
    assert canvas.vp.scale > home[2]
    qtbot.keyClick(canvas, Qt.Key_Left)
    assert canvas.vp.cx < home[0]
    qtbot.keyClick(canvas, Qt.Key_Home)
    assert (canvas.vp.cx, canvas.vp.cy, canvas.vp.scale) == pytest.approx(home)


def test_status_bar_shows_cursor_coordinates_in_the_chosen_crs(window):
    cam = window.district.cameras.records[0]
    window._cursor_moved(cam.x, cam.y)
    assert f"{cam.lon:.4f}" in window.coord_label.text()
    window.crs_box.setCurrentIndex(window.crs_box.findData("EPSG:4549"))
    window._cursor_moved(cam.x, cam.y)
    assert window.coord_label.text().startswith("E 53")


def test_dataset_warnings_reach_the_status_bar(qtbot, tiny_district):
    (tiny_district / "zones.geojson").write_text("{broken", encoding="utf-8")
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    assert "problems in the dataset" in w.notice_label.text()
    assert any("zones.geojson" in text for _, _, text in w.notices)


def test_a_jump_past_the_cache_margin_leaves_no_unpainted_edge(window):
    canvas = window.canvas
    _render(canvas)
    canvas.center_on(canvas.vp.cx + 900 / canvas.vp.scale, canvas.vp.cy)  # as auto-centre on an alarm does
    img = _render(canvas)
    for x, y in ((2, 2), (canvas.vp.width - 3, 2), (2, canvas.vp.height - 3), (canvas.vp.width // 2, 5)):
        c = img.pixelColor(x, y)
        assert (c.red(), c.green(), c.blue()) != (0, 0, 0), (x, y)


def test_an_area_lists_its_cameras_for_a_tour(window):
    cell = window.district.grid[0]
    x, y = cell.map_geom.representative_point().coords[0]
    hit = window.canvas.layer("grid").hit_test(x, y, window.canvas.vp)
    assert hit is not None and hit.kind == "grid" and hit.id == cell.id
    window.details.show_hit(hit)
    assert window.details.tour_btn.isVisibleTo(window.details)
    ids = window.cameras_in_area(hit)
    expect = {c.id for c in window.district.cameras.records if cell.map_geom.contains(__import__("shapely").Point(c.x, c.y))}
    assert set(ids) == expect and ids


def test_the_selected_camera_shows_its_view_cone(window):
    canvas = window.canvas
    cam = next(c for c in window.district.cameras.records if c.kind == "hd")
    sx, sy = canvas.vp.to_screen(cam.x, cam.y)
    hit = canvas.hit_test(float(sx), float(sy))
    assert hit is not None and hit.id == cam.id
    # a point inside the cone, 60 % of the range along the heading
    import math
    d = 0.6 * cam.range_m / canvas.vp.ground_metres_per_pixel()
    px = int(sx + d * math.sin(math.radians(cam.heading_deg)))
    py = int(sy - d * math.cos(math.radians(cam.heading_deg)))
    before = _render(canvas).pixelColor(px, py)
    canvas.select(hit)
    after = _render(canvas).pixelColor(px, py)
    assert after.lightness() > before.lightness()


@pytest.mark.parametrize("mode", ["operator", "wall"])
def test_operator_tools_in_the_window(qtbot, tiny_district, tmp_path, mode, qapp):
    from desktop.core.config import Config
    from desktop.core.session import Session
    from desktop.qt.app import attach_operator_tools
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(mode=mode, operator="值班员甲")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "t.sqlite", demo_feed=False).start()
    try:
        attach_operator_tools(qapp, w, session, cfg, d)
        file_items = [a.text() for a in w.menu_file.actions()]
        tools = [a.text() for a in w.menu_tools.actions()]
        assert "Audit log…" in tools
        if mode == "operator":
            assert file_items[0] == "Hand over the shift…" and "值班员甲" in w.duty_label.text()
            session.duty.hand_over("值班员乙")
            assert "值班员乙" in w.duty_label.text() and "took over" in w.notice_label.text()
        else:  # a wall has nobody at it to hand over
            assert "Hand over the shift…" not in file_items and not w.duty_label.isVisibleTo(w)
        assert w.feed_label.isVisibleTo(w)
    finally:
        session.stop()
