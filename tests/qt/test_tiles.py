"""Offline raster basemap: MBTiles and XYZ folders drawn under the vector layers; bad paths reported."""
import sqlite3

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QColor, QImage, QPainter

from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.geo.tiles import TileSource, TileSourceError, tile_bounds, tiles_in_view
from desktop.qt.main_window import MainWindow


def png(color: str) -> bytes:
    img = QImage(256, 256, QImage.Format_RGB32)
    img.fill(QColor(color))
    buf = QByteArray()
    dev = QBuffer(buf)
    dev.open(QIODevice.WriteOnly)
    img.save(dev, "PNG")
    return bytes(buf)


def make_mbtiles(path, bounds, zooms=(11, 12, 13)):
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    con.execute("CREATE TABLE tiles (zoom_level INT, tile_column INT, tile_row INT, tile_data BLOB)")
    con.execute("INSERT INTO metadata VALUES ('format', 'png')")
    data = png("#ff0000")
    for z in zooms:
        for x, y in tiles_in_view(*bounds, z):
            con.execute("INSERT INTO tiles VALUES (?,?,?,?)", (z, x, (1 << z) - 1 - y, data))
    con.commit()
    con.close()


def test_tile_math_round_trips():
    for z, x, y in ((0, 0, 0), (12, 3418, 1584), (17, 109400, 50700)):
        minx, miny, maxx, maxy = tile_bounds(z, x, y)
        assert tiles_in_view(minx + 1, miny + 1, maxx - 1, maxy - 1, z) == [(x, y)]


def test_mbtiles_basemap_is_drawn_in_the_window(qtbot, tiny_district, tmp_path):
    d = load_district(tiny_district)
    minx, miny, maxx, maxy = d.map_bounds()
    pad = 3000
    mb = tmp_path / "base.mbtiles"
    make_mbtiles(mb, (minx - pad, miny - pad, maxx + pad, maxy + pad))
    w = MainWindow(d, MapProjection(), tiles=str(mb))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    canvas = w.canvas
    layer = canvas.layer("tiles")
    assert layer is not None
    img = QImage(canvas.vp.width, canvas.vp.height, QImage.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    canvas.render_to(p, allow_stale=False)
    p.end()
    assert layer.last_drawn > 0
    # just outside the district, to the right (sea in the vector basemap): the tile's red shows
    sx, sy = canvas.vp.to_screen(maxx + 300, (miny + maxy) / 2)
    c = img.pixelColor(int(sx), int(sy))
    assert c.red() > 200 and c.green() < 60


def test_bad_tile_path_is_a_notice_not_a_crash(qtbot, tiny_district, tmp_path):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection(), tiles=str(tmp_path / "missing.mbtiles"))
    qtbot.addWidget(w)
    assert w.canvas.layer("tiles") is None
    assert "missing.mbtiles" in w.notice_label.text()
    with pytest.raises(TileSourceError):
        TileSource(tmp_path)  # an empty folder has no zoom levels
