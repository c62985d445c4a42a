"""Wall layouts (geometry) and named layout states (JSON store)."""
from __future__ import annotations

import json

import pytest

from desktop.core.video.layouts import (LAYOUT_NAMES, LAYOUTS, MAX_TILES, LayoutStore, get_layout,
                                        layout_for_count, validate_state)


def test_layouts_cover_their_grid_exactly_once():
    for name, lay in LAYOUTS.items():
        covered = set()
        for c, r, cs, rs in lay.cells:
            for y in range(r, r + rs):
                for x in range(c, c + cs):
                    assert (x, y) not in covered, name
                    covered.add((x, y))
        assert covered == {(x, y) for x in range(lay.cols) for y in range(lay.rows)}, name
    counts = {n: get_layout(n).count for n in LAYOUT_NAMES}
    assert counts == {"1": 1, "4": 4, "9": 9, "16": 16, "25": 25, "36": 36, "64": 64, "100": 100,
                      "1+5": 6, "1+7": 8, "1+12": 13}
    assert MAX_TILES == 100
    assert layout_for_count(37) == layout_for_count(500) == "36"  # 64 and 100 are chosen, not grown into
    assert get_layout("1+12").cells[0] == (1, 1, 2, 2)  # the big tile in the middle
    with pytest.raises(KeyError, match="7x7"):
        get_layout("7x7")


@pytest.mark.parametrize("name", LAYOUT_NAMES)
def test_tile_rects_fill_the_area_without_overlap(name):
    W, H, gap = 1917, 1079, 2
    rects = get_layout(name).rects(W, H, gap)
    area = 0
    for i, (x, y, w, h) in enumerate(rects):
        assert 0 <= x and 0 <= y and x + w <= W and y + h <= H
        area += w * h
        for (x2, y2, w2, h2) in rects[i + 1:]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y
    lay = get_layout(name)
    gaps = (lay.cols - 1) * gap * H + (lay.rows - 1) * gap * W
    assert area >= W * H - gaps - 4 * gap * gap * lay.cols * lay.rows


def test_layout_for_count():
    assert [layout_for_count(n) for n in (0, 1, 2, 5, 16, 17, 40)] == ["1", "1", "4", "9", "16", "25", "36"]


def test_store_saves_restores_and_survives_damage(tmp_path):
    path = tmp_path / "sub" / "video_layouts.json"
    store = LayoutStore(path)
    assert store.names() == [] and store.load("x") is None
    store.save("夜班", {"layout": "1+5", "tiles": ["a", None, "c"]})
    store.save("day", {"layout": "4", "tiles": ["a", "b", "c", "d", "e"]})
    assert store.names() == ["day", "夜班"]
    assert store.load("夜班") == {"layout": "1+5", "tiles": ["a", None, "c", None, None, None]}
    assert store.load("day")["tiles"] == ["a", "b", "c", "d"]
    assert json.loads(path.read_text(encoding="utf-8"))["layouts"]["夜班"]["layout"] == "1+5"
    assert store.delete("day") and not store.delete("day")
    path.write_text("{not json", encoding="utf-8")
    assert store.names() == []  # a damaged file is set aside, not fatal
    assert (tmp_path / "sub" / "video_layouts.damaged.json").exists()
    with pytest.raises(ValueError):
        validate_state({"layout": "7", "tiles": []})
    with pytest.raises(ValueError):
        store.save("bad", {"layout": "4", "tiles": "abc"})
