"""File → Import layer… in the window: a KML becomes a layer with its Layers-dock entry, drawn in
its colours, its features clickable; a broken file changes nothing and says why; a layer can
be removed. And the radar layer: targets drawn at their place in their state's colour."""
import json
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from desktop.core.district.loader import load_district
from desktop.core.feeds.schema import RADAR_FILTER
from desktop.core.geo.crs import MapProjection
from desktop.core.radar.waters import WatchedWaters
from desktop.qt.main_window import MainWindow
from desktop.qt.map.radar_layer import STATE_COLORS, RadarLayer
from tests.fixtures.district import LAT0, LON0
from tests.radar_district import report, write_coastal_district

KML = f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Style id="s"><LineStyle><color>ff0000ff</color></LineStyle><PolyStyle><color>ff0000ff</color></PolyStyle></Style>
<Placemark><name>临时管控区</name><styleUrl>#s</styleUrl><Polygon><outerBoundaryIs><LinearRing><coordinates>
{LON0 + 0.002},{LAT0 + 0.002} {LON0 + 0.008},{LAT0 + 0.002} {LON0 + 0.008},{LAT0 + 0.008} {LON0 + 0.002},{LAT0 + 0.008}
{LON0 + 0.002},{LAT0 + 0.002}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>集合点</name><ExtendedData><Data name="contact"><value>110</value></Data></ExtendedData>
<Point><coordinates>{LON0 + 0.012},{LAT0 + 0.012}</coordinates></Point></Placemark>
<Placemark><name>坏点</name><Point><coordinates>oops</coordinates></Point></Placemark>
</Document></kml>"""


def render(w) -> QImage:
    c = w.canvas
    img = QImage(c.vp.width, c.vp.height, QImage.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    c.render_to(p, allow_stale=False)
    p.end()
    return img


@pytest.fixture
def window(qtbot, tiny_district):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection(), wall_factory=None)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    w.layer_importer.dialogs = False
    return w


def entry(w, title):
    panel = w.layers_panel
    return next((panel.topLevelItem(i) for i in range(panel.topLevelItemCount())
                 if panel.topLevelItem(i).text(0) == title), None)


def test_an_imported_kml_is_a_layer_with_its_entry_colours_and_features(qtbot, window, tmp_path):
    w = window
    p = tmp_path / "演练.kml"
    p.write_text(KML, encoding="utf-8")
    assert any(a.objectName() == "import-layer" for a in w.menu_file.actions())
    before = len(w.canvas.layers)
    w.layer_importer.import_file(p)
    qtbot.waitUntil(lambda: len(w.canvas.layers) == before + 1, timeout=10000)
    layer = w.layer_importer.layers[0]
    assert layer.title == "演练" and w.canvas.layer(layer.id) is layer
    item = entry(w, "演练")
    assert item is not None and not item.icon(0).isNull() and item.checkState(0) == Qt.Checked
    assert any("演练.kml" in t and "坏点" in t for _, _, t in w.notices)  # the skipped feature, named
    # drawn in the file's red, inside the polygon
    x, y = w.projection.forward(LON0 + 0.005, LAT0 + 0.005, "WGS84")
    sx, sy = w.canvas.vp.to_screen(x, y)
    c = render(w).pixelColor(int(sx), int(sy))
    assert c.red() > 90 and c.green() < 80 and c.blue() < 80, c.name()
    # the point is clickable, with its data
    px, py = w.projection.forward(LON0 + 0.012, LAT0 + 0.012, "WGS84")
    hit = w.canvas.hit_test(*map(float, w.canvas.vp.to_screen(px, py)))
    assert hit is not None and hit.kind == "user_feature" and hit.props["contact"] == "110"
    assert hit.props["layer"] == "演练" and "集合点" in hit.title
    # unchecking the entry hides it; removing it takes it and its entry away
    item.setCheckState(0, Qt.Unchecked)
    assert not layer.visible
    w.layer_importer.remove(layer)
    assert w.canvas.layer(layer.id) is None and entry(w, "演练") is None and len(w.canvas.layers) == before


def test_a_broken_file_changes_nothing_and_says_why(qtbot, window, tmp_path):
    w = window
    bad = tmp_path / "broken.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    titles = [l.title for l in w.canvas.layers]
    w.layer_importer.import_file(bad)
    qtbot.waitUntil(lambda: w.layer_importer.last_error is not None, timeout=10000)
    assert "broken.geojson" in w.layer_importer.last_error
    assert "broken.geojson" in w.notice_label.text()
    assert [l.title for l in w.canvas.layers] == titles
    good = tmp_path / "ok.geojson"
    good.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "哨位"},
         "geometry": {"type": "Point", "coordinates": [LON0 + 0.01, LAT0 + 0.01]}}]}), encoding="utf-8")
    w.layer_importer.import_file(good)  # the next import works as if nothing happened
    qtbot.waitUntil(lambda: entry(w, "ok") is not None, timeout=10000)


def test_radar_targets_are_drawn_where_they_are_in_their_state_colour(qtbot, tmp_path):
    d = load_district(write_coastal_district(tmp_path / "coast"))
    w = MainWindow(d, MapProjection(), wall_factory=None)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    layer = RadarLayer(w.projection, WatchedWaters.from_district(d))
    w.add_map_layer(layer)
    t0 = time.time()
    outside, inside = (LON0 + 0.004, LAT0 - 0.012), (LON0 + 0.009, LAT0 - 0.003)
    layer.on_messages([("pingan/radar/RAD1/targets", report("RAD1", t0 - 4, [("T1", *outside, 90, 6)])),
                       ("pingan/radar/RAD1/targets", report("RAD1", t0, [("T1", outside[0] + 0.001, outside[1], 90, 6),
                                                                         ("T2", *inside, 0, 12)])),
                       ("pingan/radar/RAD1/targets", {"radar": "RAD1", "time": "junk"})])
    assert layer.ignored == 1 and len(layer.board) == 2
    ox, oy = w.projection.forward(outside[0] + 0.001, outside[1], "GCJ02")
    ix, iy = w.projection.forward(*inside, "GCJ02")
    w.canvas.vp.fit(min(ox, ix) - 800, min(oy, iy) - 800, max(ox, ix) + 800, max(oy, iy) + 800)
    img = render(w)

    def near(x, y, colour, r=6):
        sx, sy = map(int, w.canvas.vp.to_screen(x, y))
        want = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
        return any(max(abs(img.pixelColor(sx + dx, sy + dy).red() - want[0]),
                       abs(img.pixelColor(sx + dx, sy + dy).green() - want[1]),
                       abs(img.pixelColor(sx + dx, sy + dy).blue() - want[2])) < 40
                   for dx in range(-r, r + 1) for dy in range(-r, r + 1))
    assert near(ox, oy, STATE_COLORS["sea"]) and not near(ox, oy, STATE_COLORS["watched"], r=3)
    assert near(ix, iy, STATE_COLORS["watched"])
    hit = layer.hit_test(ix, iy, w.canvas.vp)
    assert hit.id == "RAD1/T2" and hit.props["speed_kn"] == 12.0
    layer.expire(t0 + 60)  # the radars have gone quiet: both grey
    img = render(w)
    assert near(ix, iy, STATE_COLORS["lost"]) and not near(ix, iy, STATE_COLORS["watched"], r=3)
    assert RADAR_FILTER == "pingan/radar/+/targets"
