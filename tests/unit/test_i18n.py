"""Every user-facing string literal passed to tr() has a zh_CN translation (catalogs merged as at run time)."""
import ast
import json
import pathlib

from desktop.core import i18n

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _tr_literals():
    for path in list((ROOT / "desktop").rglob("*.py")) + list((ROOT / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                yield path.relative_to(ROOT), node.args[0].value


def _zh_catalog():
    cat = json.loads((ROOT / "resources" / "i18n" / "zh_CN.json").read_text(encoding="utf-8"))
    for extra in list(ROOT.glob("plugins/*/i18n/zh_CN.json")) + list(ROOT.glob("desktop/**/i18n_zh.json")):
        cat.update(json.loads(extra.read_text(encoding="utf-8")))
    return cat


def test_every_tr_literal_has_a_chinese_translation():
    cat = _zh_catalog()
    missing = sorted({f"{p}: {s!r}" for p, s in _tr_literals() if s not in cat})
    assert missing == [], "untranslated:\n" + "\n".join(missing)


def test_translation_keeps_the_format_fields():
    import string
    cat = _zh_catalog()
    for src, dst in cat.items():
        fields = {f for _, f, _, _ in string.Formatter().parse(src) if f}
        got = {f for _, f, _, _ in string.Formatter().parse(dst) if f}
        assert fields == got, f"{src!r} → {dst!r}"


def test_switching_locale_translates_and_falls_back():
    try:
        assert i18n.set_locale("zh_CN") == "zh_CN"
        assert i18n.tr("Layers") == "图层"
        assert i18n.tr("an untranslated sentence") == "an untranslated sentence"
        assert i18n.set_locale("xx_YY") == "en"
        assert i18n.tr("Layers") == "Layers"
    finally:
        i18n.set_locale("en")
