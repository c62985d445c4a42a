"""--tiles and --datum on the command line: the raster basemap drawn under the map, a missing
path refused before any window opens, the datum set as the configuration file would."""
import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from desktop.cli import build_parser, config_from_args
from desktop.core.config import ConfigError
from desktop.core.district.loader import load_district
from tests.qt.test_tiles import make_mbtiles

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_NO_DEMO_FEED="1")


def run(*args, timeout=90):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV)


def red_share(img: QImage) -> float:
    hits = total = 0
    for x in range(0, img.width(), 9):
        for y in range(0, img.height(), 9):
            c = img.pixelColor(x, y)
            total += 1
            hits += c.red() > 200 and c.green() < 60 and c.blue() < 60
    return hits / total


def test_tiles_from_the_command_line_are_the_basemap(tiny_district, tmp_path):
    d = load_district(tiny_district)
    minx, miny, maxx, maxy = d.map_bounds()
    mb = tmp_path / "base.mbtiles"
    make_mbtiles(mb, (minx - 20000, miny - 20000, maxx + 20000, maxy + 20000))  # red tiles
    with_tiles, without = tmp_path / "tiles.png", tmp_path / "plain.png"
    res = run("--district", str(tiny_district), "--tiles", str(mb), "--screenshot", str(with_tiles), "--after", "1")
    assert res.returncode == 0, res.stderr
    res = run("--district", str(tiny_district), "--screenshot", str(without), "--after", "1")
    assert res.returncode == 0, res.stderr
    assert red_share(QImage(str(with_tiles))) > 0.05  # the tiles' red around the district
    assert red_share(QImage(str(without))) < 0.01


def test_a_missing_tile_path_is_refused_with_its_name(tmp_path):
    res = run("--tiles", str(tmp_path / "nowhere.mbtiles"), "--screenshot", str(tmp_path / "x.png"))
    assert res.returncode == 2 and "nowhere.mbtiles" in res.stderr and "--tiles" in res.stderr


def test_tiles_and_datum_land_in_the_configuration(tmp_path):
    mb = tmp_path / "t.mbtiles"
    mb.write_bytes(b"")
    cfg = config_from_args(build_parser().parse_args(["--tiles", str(mb), "--datum", "wgs84"]))
    assert cfg.tiles == str(mb) and cfg.map_datum == "WGS84"
    conf = tmp_path / "c.toml"
    conf.write_text(f'[map]\ntiles = "{tmp_path / "other"}"\ndatum = "GCJ02"\n', encoding="utf-8")
    cfg = config_from_args(build_parser().parse_args(["--config", str(conf), "--tiles", str(mb)]))
    assert cfg.tiles == str(mb) and cfg.map_datum == "GCJ02"  # the command line wins over the file
    with pytest.raises(ConfigError, match="map_datum"):
        config_from_args(build_parser().parse_args(["--datum", "BD09"]))
