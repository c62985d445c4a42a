"""--self-test: every check passes on a good installation, and a missing part is named."""
import io

import numpy as np
import pytest

from desktop import selftest
from desktop.cli import main as cli_main


def test_self_test_passes_and_reports_every_check(capsys):
    assert cli_main(["--self-test"]) == 0
    out = capsys.readouterr().out
    for name in ("video", "crs", "map", "journal", "plugins", "resources"):
        assert any(line.startswith("ok") and f" {name} " in line for line in out.splitlines()), out
    assert "self-test passed: 6 checks" in out
    assert "EPSG:4549" in out and "市南区" in out


def test_missing_proj_database_is_named(monkeypatch, tmp_path):
    import pyproj
    monkeypatch.setattr(pyproj.datadir, "get_data_dir", lambda: str(tmp_path))
    results = {r.name: r for r in selftest.run_checks()}
    assert not results["crs"].ok and "proj.db" in results["crs"].detail
    # the others still ran and passed: one missing part does not hide the rest
    assert results["video"].ok and results["journal"].ok and results["map"].ok


def test_missing_plugins_and_resources_are_named(monkeypatch, tmp_path):
    import desktop.paths
    monkeypatch.setattr(desktop.paths, "PLUGINS", tmp_path / "no-plugins")
    monkeypatch.setattr(desktop.paths, "RESOURCES", tmp_path / "no-resources")
    out = io.StringIO()
    assert selftest.main(out=out) == 1
    text = out.getvalue()
    assert "FAIL plugins" in text and "no plugin found" in text
    assert "FAIL resources" in text and "translations" in text and "alarm sounds" in text
    assert "self-test FAILED: plugins, resources" in text


def test_broken_plugin_is_named(monkeypatch, tmp_path):
    import desktop.paths
    plug = tmp_path / "plugins" / "broken"
    plug.mkdir(parents=True)
    (plug / "plugin.toml").write_text(
        'id = "broken"\nname = "Broken"\nversion = "1"\napi = 1\nentry = "main:Plugin"\n', encoding="utf-8")
    (plug / "main.py").write_text("import module_that_is_not_installed\n", encoding="utf-8")
    monkeypatch.setattr(desktop.paths, "PLUGINS", tmp_path / "plugins")
    with pytest.raises(selftest.CheckFailed, match="broken: .*module_that_is_not_installed"):
        selftest.check_plugins()


def test_picture_without_a_district_is_refused():
    from desktop.qt.theme import MAP
    sea = tuple(int(MAP.sea.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    blank = np.zeros((480, 640, 3), np.uint8)
    blank[:] = sea
    ok, detail = selftest.district_in_picture(blank)
    assert not ok and "sea 100 %" in detail
    assert not selftest.district_in_picture(np.zeros((480, 640, 3), np.uint8))[0]  # black window
