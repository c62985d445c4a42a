"""What a plugin remembers between runs: one JSON file per plugin, written whole; bad values
and bad files are refused or set aside without losing the rest."""
from __future__ import annotations

import json

import pytest

from desktop.core.plugin_api.memory import MAX_BYTES, PluginMemory


def test_values_survive_a_new_instance_and_unchanged_ones_are_not_rewritten(tmp_path):
    m = PluginMemory("alarms", tmp_path)
    assert m.recall("volume", 80) == 80
    m.remember("volume", 30)
    m.remember("filters", {"types": ["fire"], "open_only": True})
    assert PluginMemory("alarms", tmp_path).recall("volume") == 30
    assert PluginMemory("alarms", tmp_path).recall("filters") == {"types": ["fire"], "open_only": True}
    before = (tmp_path / "alarms.json").stat().st_mtime_ns
    m.remember("volume", 30)
    assert (tmp_path / "alarms.json").stat().st_mtime_ns == before
    assert not list(tmp_path.glob("*.tmp*"))


def test_what_is_not_json_or_too_big_is_refused_and_the_rest_kept(tmp_path):
    m = PluginMemory("p", tmp_path)
    m.remember("a", 1)
    with pytest.raises(ValueError, match="'b' cannot be remembered"):
        m.remember("b", object())
    with pytest.raises(ValueError, match="KB"):
        m.remember("c", "x" * (MAX_BYTES + 1))
    assert json.loads((tmp_path / "p.json").read_text()) == {"a": 1}
    with pytest.raises(ValueError, match="cannot name a file"):
        PluginMemory("../evil", tmp_path)


def test_an_unreadable_file_is_set_aside_and_the_defaults_used(tmp_path):
    (tmp_path / "p.json").write_text("[1, 2", encoding="utf-8")
    m = PluginMemory("p", tmp_path)
    assert m.recall("a", "default") == "default"
    assert (tmp_path / "p.json.unreadable").read_text() == "[1, 2"
    m.remember("a", 2)
    assert PluginMemory("p", tmp_path).recall("a") == 2


def test_without_a_folder_the_memory_lasts_for_the_process_only(tmp_path):
    m = PluginMemory("p")
    m.remember("a", 1)
    assert m.recall("a") == 1 and PluginMemory("p").recall("a") is None
