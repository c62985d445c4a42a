"""Plugins import the program only through its SDK (desktop.sdk), never its internals."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_FILES = sorted([*(ROOT / "plugins").rglob("*.py"), *(ROOT / "docs" / "examples").rglob("*.py")])


def _project_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append(node.module)
    return [m for m in out if m == "desktop" or m.startswith("desktop.")]


def test_there_are_plugins_to_check():
    assert len(PLUGIN_FILES) >= 5


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugin_imports_only_the_sdk(path):
    bad = [m for m in _project_imports(path) if m != "desktop.sdk" and not m.startswith("desktop.sdk.")]
    assert not bad, f"{path.relative_to(ROOT)} imports program internals {bad}: use desktop.sdk"


def test_the_check_sees_a_violation(tmp_path):
    f = tmp_path / "p.py"
    f.write_text("from desktop.qt.map.layer import MapLayer\nimport desktop.core.i18n\nfrom desktop.sdk import tr\n")
    assert _project_imports(f) == ["desktop.qt.map.layer", "desktop.core.i18n", "desktop.sdk"]
