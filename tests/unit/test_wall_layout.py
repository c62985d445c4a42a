"""The wall layout document, its geometry over screens, the last layout on disk, the [wall] config."""
import json

import pytest

from desktop.core.config import ConfigError, load_config
from desktop.core.wall.geometry import ScreenRect, place_regions, virtual_screens
from desktop.core.wall.layout import LayoutError, default_layout, next_revision, parse_layout
from desktop.core.wall.store import LastLayoutStore


def doc(**over):
    d = default_layout("main").with_revision(5).to_json()
    d.update(over)
    return d


def test_round_trip_and_cameras():
    d = doc()
    d["regions"][1]["video"] = {"layout": "4", "tiles": ["C1", None, "C3"],
                                "tour": {"cameras": ["C7", "C1"], "interval_s": 5}}
    lay = parse_layout(json.dumps(d).encode())
    assert lay.revision == 5 and lay.cols == 4 and len(lay.regions) == 4
    assert lay.region("video").video["tiles"] == ["C1", None, "C3", None]  # padded to the layout
    assert lay.cameras() == ["C1", "C3", "C7"]
    assert parse_layout(lay.dumps()) == lay
    d["priority_hint"] = "high"  # a field of a later minor version: kept, not refused
    assert parse_layout(d).to_json()["priority_hint"] == "high"


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(schema="other"), "schema"),
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(revision=0), "revision"),
    (lambda d: d.update(revision="7"), "revision"),
    (lambda d: d.update(wall=""), "wall"),
    (lambda d: d["grid"].update(cols=0), "grid.cols"),
    (lambda d: d.update(regions=[]), "regions"),
    (lambda d: d["regions"][0].update(kind="radar"), "regions[0].kind"),
    (lambda d: d["regions"][0].update(colspan=9), "regions[0].colspan"),
    (lambda d: d["regions"][1].update(col=1), "regions[1]"),  # overlaps the map
    (lambda d: d["regions"][1].update(id="map"), "regions[1].id"),
    (lambda d: d["regions"][1].update(video={"layout": "7", "tiles": []}), "regions[1].video"),
    (lambda d: d["regions"][1].update(video={"layout": "4", "tiles": [3]}), "regions[1].video.tiles[0]"),
    (lambda d: d["regions"][0].update(view={"lon": 500, "lat": 36}), "regions[0].view.lon"),
    (lambda d: d["regions"][0].update(view={"lon": 120, "lat": 36, "crs": "EPSG:3857"}), "regions[0].view.crs"),
    (lambda d: d["regions"][2].update(ticker={"priorities": [0]}), "regions[2].ticker.priorities"),
])
def test_bad_documents_name_the_field(change, field):
    d = doc()
    change(d)
    with pytest.raises(LayoutError) as err:
        parse_layout(d)
    assert err.value.field == field, str(err.value)


def test_hostile_bytes_and_other_wall():
    for raw in (b"\xff\xfe", b"[1,2]", b"{", b"x" * 300_000):
        with pytest.raises(LayoutError):
            parse_layout(raw)
    with pytest.raises(LayoutError) as err:
        parse_layout(doc(wall="annex"), wall="main")
    assert err.value.field == "wall"


def test_next_revision_beats_known_and_time():
    assert next_revision(0, now=1000.0) == 1_000_000
    assert next_revision(5_000_000, now=1000.0) == 5_000_001


def test_bezel_compensation_lines_up_a_map_across_two_screens():
    lay = parse_layout(doc(grid={"cols": 2, "rows": 1}, regions=[
        {"id": "m", "kind": "map", "col": 0, "row": 0, "colspan": 2},
    ]))
    screens = [ScreenRect("a", 0, 0, 1920, 1080), ScreenRect("b", 1920, 0, 1920, 1080)]
    assert virtual_screens(screens, (40, 0)) == [(0, 0, 1920, 1080), (1960, 0, 1920, 1080)]
    pieces = place_regions(lay, screens, (40, 0), gap_px=0)
    assert [p.screen for p in pieces] == [0, 1]
    a, b = pieces
    assert a.region_size == b.region_size == (3880, 1080)
    # the second piece starts 40 px after the first ends: the frame hides that strip of the map
    assert b.src[0] - (a.src[0] + a.src[2]) == 40
    assert a.rect == (0, 0, 1920, 1080) and b.rect == (0, 0, 1920, 1080)


def test_video_is_not_cut_by_a_frame():
    lay = parse_layout(doc(grid={"cols": 3, "rows": 1}, regions=[
        {"id": "v", "kind": "video", "col": 0, "row": 0, "colspan": 2, "video": {"layout": "4", "tiles": []}},
        {"id": "c", "kind": "clock", "col": 2, "row": 0}]))
    screens = [ScreenRect("a", 0, 0, 1920, 1080), ScreenRect("b", 1920, 0, 1920, 1080)]
    pieces = {p.region_id: p for p in place_regions(lay, screens, (0, 0), gap_px=0)}
    assert pieces["v"].screen == 0 and pieces["v"].rect == (0, 0, 1920, 1080)  # the larger part
    assert pieces["c"].screen == 1


def test_store_keeps_the_last_layout_and_sets_aside_a_damaged_file(tmp_path):
    path = tmp_path / "wall-main.json"
    store = LastLayoutStore(path, "main")
    assert store.load() is None
    lay = parse_layout(doc())
    store.save(lay)
    assert LastLayoutStore(path, "main").load() == lay
    path.write_text("{not json")
    s2 = LastLayoutStore(path, "main")
    assert s2.load() is None
    assert "not JSON" in s2.error and not path.exists()
    assert len(list(tmp_path.glob("wall-main.json.unreadable-*"))) == 1


def test_wall_config_section(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[wall]\nid = "annex"\nscreens = [1, 2]\nspan = false\nbezel_px = 30\ndwell_s = 5\nwindow = true\n')
    cfg = load_config(p)
    assert cfg.wall_id == "annex" and cfg.wall.screens == (1, 2) and cfg.wall.bezel_px == (30, 30)
    assert cfg.wall.span is False and cfg.wall.window is True and cfg.wall.dwell_s == 5.0
    for bad, key in (('screens = "all"', "wall.screens"), ("span = 1", "wall.span"), ("bezels = 3", "wall.bezels"),
                     ('id = "a/b"', "wall.id")):
        p.write_text(f"[wall]\n{bad}\n")
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            load_config(p)
