"""Every user-facing string has its zh_CN translation (English is the source language).

Read from the sources, for the program and each plugin:
- every ``tr("literal")`` has an entry in a catalog that applies to that code (the host's
  ``resources/i18n/zh_CN.json`` and the modules' ``i18n_zh.json``; for a plugin, its own
  ``i18n/zh_CN.json`` and the host's);
- no literal English reaches a widget, a menu, a dialog or a notice without ``tr`` (the Qt
  text setters and constructors, ``show_notice``, message boxes).
Strings computed at run time (headers and labels built from tables, layer titles, alarm types)
are checked on the running window in ``tests/qt/test_translations_ui.py``.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST_CATALOG = ROOT / "resources" / "i18n" / "zh_CN.json"

# Qt calls that put their string argument(s) on screen
TEXT_CALLS = {"QLabel", "QPushButton", "QAction", "QGroupBox", "QCheckBox", "QRadioButton", "QToolButton",
              "QMenu", "QDockWidget", "setText", "setWindowTitle", "setToolTip", "setPlaceholderText",
              "setStatusTip", "setTitle", "addMenu", "addTab", "insertTab", "setTabText", "addItem", "addItems",
              "setHorizontalHeaderLabels", "setVerticalHeaderLabels", "setHeaderLabels", "show_notice",
              "showMessage", "setLabelText",
              "setWindowIconText", "setSpecialValueText", "setSuffix", "setPrefix", "setFormat"}
# words that are the same in Chinese text: units, standards, product and protocol names
TECHNICAL = {"MQTT", "RTSP", "URL", "ID", "IDs", "GCJ", "GCJ-02", "WGS84", "CGCS2000", "EPSG", "GK", "PROJ",
             "Qt", "PyAV", "FFmpeg", "GEOS", "SQLite", "NumPy", "HD", "PTZ", "NVR", "CSV", "PNG", "JSON", "TOML",
             "KML", "GeoJSON", "MBTiles", "XYZ", "km", "m", "ms", "px", "fps", "kn", "Hz", "dB", "UTC", "CPU",
             "OK", "Pingan", "Desk", "E", "N", "W", "S", "z", "x", "of", "py", "QSettings", "INI", "YoY", "PoP",
             "ETA", "mqtt", "mqtts", "HOST", "PORT", "tcp", "udp", "zh_CN", "en", "HH", "MM", "SS",
             # key names, as keyboards print them
             "Home", "End", "Ctrl", "Shift", "Alt", "Esc", "Tab", "Enter", "Return", "PgUp", "PgDown", "Del",
             "Ins", "Space", "Backspace", "Meta", "Up", "Down", "Left", "Right"}


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def host_catalog() -> dict:
    cat = _load(HOST_CATALOG)
    for extra in sorted((ROOT / "desktop").rglob("i18n_zh*.json")):
        cat.update(_load(extra))
    return cat


def plugin_catalog(plugin_dir: Path) -> dict:
    cat = host_catalog()
    for extra in sorted(plugin_dir.rglob("*.json")):
        if extra.parent.name == "i18n" and extra.stem == "zh_CN":
            cat.update(_load(extra))
    return cat


MESSAGE_BOX = {"information", "warning", "critical", "question", "about"}  # QMessageBox.<these>


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Attribute) and f.attr in MESSAGE_BOX:
        # QMessageBox.warning(...) puts text on screen; log.warning(...) does not
        return f.attr if isinstance(f.value, ast.Name) and f.value.id == "QMessageBox" else ""
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _literal_strings(node) -> list[str]:
    """String literals an argument puts on screen (a constant, or a list/tuple of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def looks_english(text: str) -> bool:
    """Words a Chinese operator would need translated (not units, ids, names of standards)."""
    text = re.sub(r"<[^>]+>", " ", text)  # rich-text markup
    text = re.sub(r"\S*[/\\]\S*", " ", text)  # paths and URLs: data, not words
    words = re.findall(r"[A-Za-z][A-Za-z0-9'\-]*", re.sub(r"\{[^}]*\}", " ", text))
    return any(len(w) >= 2 and w not in TECHNICAL and w.strip("-") not in TECHNICAL
               and not re.fullmatch(r"F\d{1,2}|[A-Z]{1,4}\d+", w) for w in words)  # F2, GCJ02, H264


def _screen_args(name: str, args: list) -> list:
    """The arguments of a call that reach the screen: a combo box's ``addItem(text, data)`` or
    ``addItem(icon, text, data)`` shows only its text; its data is a key, never seen."""
    if name not in ("addItem", "insertItem") or len(args) < 2:
        return args
    first = args[0]
    textual = isinstance(first, (ast.Constant, ast.JoinedStr)) or (
        isinstance(first, ast.Call) and _call_name(first) == "tr")
    return args[:1] if textual else args[1:2]


def scan(path: Path, catalog: dict) -> tuple[list[str], list[str]]:
    """(tr literals without a translation, English literals put on screen without tr) in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    missing, bare = [], []
    rel = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if name == "tr" and node.args:
            for s in _literal_strings(node.args[0]):
                if looks_english(s) and s not in catalog:
                    missing.append(f"{rel}:{node.lineno}: {s!r}")
        elif name in TEXT_CALLS or name in MESSAGE_BOX:
            for arg in _screen_args(name, node.args):
                for s in _literal_strings(arg):
                    if looks_english(s) and s not in ("info", "warning", "error") \
                            and not s.startswith(("dock-", "action-")):
                        bare.append(f"{rel}:{node.lineno}: {name}({s!r})")
    return missing, bare


def _sources(folder: Path):
    skip = ("bench", "tests", "make_scenario", "make_sea_scenario", "generate", "__main__")
    for py in sorted(folder.rglob("*.py")):
        if any(part in skip or part.startswith(skip) for part in py.relative_to(ROOT).parts):
            continue
        yield py


def host_files():
    # user-facing host code: the Qt views, the core's labels and notices, training, self-test
    return [p for p in _sources(ROOT / "desktop")]


def plugin_dirs():
    return sorted(p.parent for p in (ROOT / "plugins").glob("*/plugin.toml"))


def _report(kind: str, found: list[str]) -> str:
    return f"{len(found)} {kind}:\n  " + "\n  ".join(found[:80])


def test_scanner_finds_what_it_should(tmp_path):
    f = ROOT / "tests" / "unit" / "_tr_probe.py"
    f.write_text('from desktop.core.i18n import tr\nQLabel("Open the gate")\ntr("Zoom to district")\n'
                 'tr("A string nobody translated")\nQLabel("MQTT")\nQLabel(tr("Zoom to district"))\n', encoding="utf-8")
    try:
        missing, bare = scan(f, host_catalog())
    finally:
        f.unlink()
    assert missing == ["tests/unit/_tr_probe.py:4: 'A string nobody translated'"]
    assert bare == ["tests/unit/_tr_probe.py:2: QLabel('Open the gate')"]


# Code whose catalog its owner has not committed yet: checked all the same, reported as an
# expected failure until the catalog lands (then the entry goes, and the check is binding).
PENDING: dict[str, str] = {}  # area prefix -> why its strings are expected to fail for now


def _pending(prefix: str):
    return pytest.param(prefix, marks=pytest.mark.xfail(reason=PENDING[prefix], strict=False), id=prefix)


def _findings(files, catalog_for) -> str | None:
    missing, bare = [], []
    for py in files:
        m, b = scan(py, catalog_for(py))
        missing += m
        bare += b
    if not missing and not bare:
        return None
    return _report("tr() strings without zh_CN", missing) + "\n" + _report("English strings on screen without tr()", bare)


def _is_pending(py: Path) -> bool:
    rel = py.relative_to(ROOT).as_posix()
    return any(rel.startswith(p + "/") for p in PENDING)


@pytest.mark.parametrize("area", ["desktop", *[_pending(p) for p in PENDING if p.startswith("desktop/")]])
def test_every_host_string_is_translated(area):
    cat = host_catalog()
    if area == "desktop":
        files = [p for p in host_files() if not _is_pending(p)]
    else:
        files = [p for p in host_files() if p.relative_to(ROOT).as_posix().startswith(area + "/")]
    found = _findings(files, lambda _py: cat)
    assert found is None, found


def _plugin_params():
    for d in plugin_dirs():
        rel = d.relative_to(ROOT).as_posix()
        yield _pending(rel) if rel in PENDING else pytest.param(rel, id=rel)


@pytest.mark.parametrize("plugin", list(_plugin_params()))
def test_every_plugin_string_is_translated(plugin):
    folder = ROOT / plugin
    cat = plugin_catalog(folder)
    found = _findings(sorted(folder.rglob("*.py")), lambda _py: cat)
    assert found is None, found


def test_catalogs_are_valid_and_keep_placeholders():
    """A translation must keep the source's {placeholders}, or tr() raises at run time."""
    bad = []
    for path in [HOST_CATALOG, *sorted((ROOT / "desktop").rglob("i18n_zh*.json")),
                 *sorted((ROOT / "plugins").glob("*/i18n/zh_CN.json"))]:
        for src, dst in _load(path).items():
            want = set(re.findall(r"\{(\w+)[^}]*\}", src))
            got = set(re.findall(r"\{(\w+)[^}]*\}", dst))
            if want != got:
                bad.append(f"{path.relative_to(ROOT)}: {src!r} -> {dst!r}")
    assert not bad, "\n".join(bad)
