"""Settings declared in a plugin's manifest, validated by the host."""
import pytest

from desktop.core.plugin_api.manifest import ManifestError, parse_manifest
from desktop.core.plugin_api.settings import parse_settings, validate_settings

DECL = {
    "ack_target_s": {"type": "float", "default": 60, "min": 1, "max": 3600},
    "sound": {"type": "bool", "default": True},
    "priorities": {"type": "list[int]", "default": [1, 2], "min": 1, "max": 4},
    "mode": {"type": "str", "default": "auto", "choices": ["auto", "manual"]},
}


def test_defaults_then_values():
    specs = parse_settings(DECL, "p.toml")
    out, errors = validate_settings(specs, {"ack_target_s": 30, "mode": "manual"}, "plugins.x")
    assert errors == []
    assert out == {"ack_target_s": 30.0, "sound": True, "priorities": [1, 2], "mode": "manual"}
    assert isinstance(out["ack_target_s"], float)


@pytest.mark.parametrize("key,value,words", [
    ("ack_target_s", "soon", "a number 1…3600, not 'soon'"),
    ("ack_target_s", 0, "a number 1…3600"),
    ("sound", "yes", "true or false"),
    ("priorities", [1, 9], "item 9: above 4"),
    ("priorities", 2, "a list of whole numbers"),
    ("mode", "fast", "auto | manual"),
])
def test_a_wrong_value_keeps_its_default_and_is_named(key, value, words):
    specs = parse_settings(DECL, "p.toml")
    out, errors = validate_settings(specs, {key: value, "sound": False} if key != "sound" else {key: value},
                                    "plugins.x")
    assert len(errors) == 1 and errors[0].startswith(f"plugins.x.{key}: ") and words in errors[0]
    assert out[key] == validate_settings(specs, {}, "plugins.x")[0][key]
    if key != "sound":
        assert out["sound"] is False  # the rest is kept


def test_unknown_key_is_named_with_the_known_ones():
    _, errors = validate_settings(parse_settings(DECL, "p"), {"ack_target": 5}, "plugins.x")
    assert errors == ["plugins.x: unknown key 'ack_target' (known: ack_target_s, mode, priorities, sound)"]


@pytest.mark.parametrize("decl,words", [
    ({"a": {"type": "number", "default": 1}}, "type must be one of"),
    ({"a": {"type": "int"}}, "'default' is required"),
    ({"a": {"type": "int", "default": "x"}}, "the default must be a whole number"),
    ({"a": {"type": "int", "default": 1, "maximum": 3}}, "unknown field(s) maximum"),
    ({"a": 3}, "must be a table"),
])
def test_a_bad_declaration_fails_the_manifest_naming_the_key(decl, words):
    data = {"id": "x", "name": "X", "version": "1", "api": 1, "entry": "m:C", "settings": decl}
    with pytest.raises(ManifestError) as err:
        parse_manifest(data, "plugins/x/plugin.toml")
    assert "plugins/x/plugin.toml: settings.a" in str(err.value) and words in str(err.value)


def test_contributions_must_be_lists_of_ids():
    data = {"id": "x", "name": "X", "version": "1", "api": 1, "entry": "m:C", "contributes": {"panels": "queue"}}
    with pytest.raises(ManifestError, match="contributes.panels must be a list of strings"):
        parse_manifest(data, "x.toml")
