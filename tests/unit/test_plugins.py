"""Plugin layer without Qt: manifests, discovery, lazy import, isolation, symmetric removal."""
import sys
import textwrap

import pytest

from desktop.core.plugin_api.host import PluginHost, PluginManager
from desktop.core.plugin_api.manifest import ManifestError, parse_manifest


class RecordingHost(PluginHost):
    """A host whose only facility is a list of 'panels' (enough to check symmetry)."""

    panels: list = []

    def add_panel(self, panel_id, title, widget, area="right"):
        RecordingHost.panels.append(panel_id)
        self._track(f"panel {panel_id}", lambda: RecordingHost.panels.remove(panel_id))


def write_plugin(root, pid, body, manifest_extra=""):
    d = root / pid
    d.mkdir(parents=True)
    (d / "plugin.toml").write_text(textwrap.dedent(f"""\
        id = "{pid}"
        name = "Plugin {pid}"
        version = "1.2.3"
        api = 1
        entry = "main:P"
        {manifest_extra}
        """), encoding="utf-8")
    (d / "main.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return d


GOOD = """
    IMPORTED = True
    class P:
        def __init__(self, host):
            self.host = host
        def register(self):
            self.host.add_panel("queue", "Queue", None)
            self.host.add_panel("map", "Map", None)
        def unregister(self):
            pass
"""

RAISES_EVERYWHERE = """
    raise_on_import = False
    class P:
        def __init__(self, host):
            self.host = host
        def register(self):
            self.host.add_panel("bad", "Bad", None)
            raise RuntimeError("boom in register")
        def unregister(self):
            raise RuntimeError("boom in unregister")
"""


@pytest.fixture(autouse=True)
def clean_panels():
    RecordingHost.panels = []
    yield


def make_manager(**kw):
    notes = []
    m = PluginManager(host_class=RecordingHost, notify=lambda t, l: notes.append((l, t)), **kw)
    return m, notes


def test_discovery_reads_manifests_without_importing_code(tmp_path):
    for name in [m for m in sys.modules if m.startswith("pingan_plugins.")]:
        del sys.modules[name]  # left by other tests' plugins of the same id
    write_plugin(tmp_path, "good", GOOD)
    m, _ = make_manager()
    recs = m.discover([tmp_path], entry_points=False)
    assert [r.id for r in recs] == ["good"] and recs[0].manifest.version == "1.2.3"
    assert not any(name.startswith("pingan_plugins.good") for name in sys.modules)


def test_enable_then_disable_is_symmetric(tmp_path):
    write_plugin(tmp_path, "good", GOOD)
    m, _ = make_manager()
    m.discover([tmp_path], entry_points=False)
    m.enable_all()
    rec = m.records["good"]
    assert rec.state == "enabled" and rec.load_ms is not None
    assert RecordingHost.panels == ["queue", "map"]
    m.disable("good")
    assert RecordingHost.panels == [] and rec.state == "disabled"
    assert m.enable("good") and RecordingHost.panels == ["queue", "map"]  # and back again


def test_a_plugin_raising_in_every_hook_is_disabled_and_cleaned_up(tmp_path):
    write_plugin(tmp_path, "bad", RAISES_EVERYWHERE)
    write_plugin(tmp_path, "good", GOOD)
    m, notes = make_manager()
    m.discover([tmp_path], entry_points=False)
    m.enable_all()
    assert m.records["bad"].state == "failed"
    assert "boom in register" in m.records["bad"].last_error
    assert m.records["good"].state == "enabled"
    assert RecordingHost.panels == ["queue", "map"]  # the bad plugin's panel was removed
    assert any(level == "error" and "Plugin bad" in text for level, text in notes)


def test_a_failing_callback_disables_only_its_plugin(tmp_path):
    write_plugin(tmp_path, "good", GOOD)
    write_plugin(tmp_path, "other", GOOD.replace('"queue"', '"q2"').replace('"map"', '"m2"'))
    m, notes = make_manager()
    m.discover([tmp_path], entry_points=False)
    m.enable_all()

    def cb(x):
        raise ValueError(f"bad value {x}")
    guarded = m.records["good"].host.guard(cb, "message on pingan/alarm")
    assert guarded(3) is None  # swallowed
    assert m.records["good"].state == "disabled" or m.records["good"].state == "failed"
    assert "bad value 3" in m.records["good"].last_error
    assert m.records["other"].state == "enabled"
    assert RecordingHost.panels == ["q2", "m2"]
    assert guarded(4) is None  # late callbacks of a disabled plugin are dropped


def test_import_error_and_bad_manifests_are_reported_not_raised(tmp_path):
    write_plugin(tmp_path, "broken", "import not_a_module_anywhere\n")
    (tmp_path / "nomanifest").mkdir()
    (tmp_path / "nomanifest" / "plugin.toml").write_text('id = "x"\n', encoding="utf-8")
    m, _ = make_manager()
    m.discover([tmp_path], entry_points=False)
    assert any("'name' is required" in e for e in m.discovery_errors)
    m.enable_all()
    assert m.records["broken"].state == "failed"
    assert "not_a_module_anywhere" in m.records["broken"].last_error


def test_requires_mode_api_and_config(tmp_path):
    write_plugin(tmp_path, "base", GOOD)
    write_plugin(tmp_path, "child", GOOD.replace('"queue"', '"c1"').replace('"map"', '"c2"'), 'requires = ["base"]')
    write_plugin(tmp_path, "wallonly", GOOD, 'modes = ["wall"]')
    write_plugin(tmp_path, "future", GOOD).joinpath("plugin.toml").write_text(
        'id = "future"\nname = "F"\nversion = "9"\napi = 99\nentry = "main:P"\n', encoding="utf-8")
    m, _ = make_manager(disabled=["base"])
    m.discover([tmp_path], entry_points=False)
    m.enable_all()
    assert m.records["base"].state == "disabled"
    assert m.records["child"].state == "blocked" and "base" in m.records["child"].last_error
    assert m.records["wallonly"].state == "not-for-mode"
    assert m.records["future"].state == "blocked" and "API 99" in m.records["future"].last_error
    # enabling the dependency later makes the dependant loadable; disabling it blocks it again
    m.records["base"].state = "discovered"
    assert m.enable("base") and m.enable("child")
    m.disable("base")
    assert m.records["child"].state == "blocked"


@pytest.mark.parametrize("data,needle", [
    ({"name": "x", "version": "1", "api": 1, "entry": "a:B"}, "'id' is required"),
    ({"id": "Bad Id", "name": "x", "version": "1", "api": 1, "entry": "a:B"}, "lower-case"),
    ({"id": "ok", "name": "x", "version": "1", "api": 1, "entry": "nocolon"}, "module:Class"),
    ({"id": "ok", "name": "x", "version": "1", "api": 1, "entry": "a:B", "modes": ["kiosk"]}, "kiosk"),
])
def test_manifest_errors_name_the_key(data, needle):
    with pytest.raises(ManifestError, match=needle):
        parse_manifest(data, "test")
