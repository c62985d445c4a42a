"""The Qt-free video wall model: tiles, free-tile choice, states and tour plans."""
import pytest

from desktop.core.video.wall_model import VideoWallModel


def test_free_tile_states_and_a_shrinking_layout_keeps_hidden_cameras():
    m = VideoWallModel("4")
    for cid in ("a", "b", "c", "d"):
        m.assign(m.free_tile(), cid)
    assert m.state() == {"layout": "4", "tiles": ["a", "b", "c", "d"]}
    assert m.free_tile(selected=2) == 2  # full: the selected tile
    assert [m.free_tile(), m.free_tile()] == [0, 1]  # no selection: in turn
    m.set_layout("1")
    assert m.state() == {"layout": "1", "tiles": ["a"]} and m.index_of("c") is None
    m.set_layout("4")
    assert m.shown() == ["a", "b", "c", "d"]  # they come back with the larger layout
    m.swap(0, 3)
    assert m.shown() == ["d", "b", "c", "a"]
    with pytest.raises(KeyError):
        m.set_layout("7")
    with pytest.raises(ValueError):
        m.apply_state({"layout": "7", "tiles": []})
    assert VideoWallModel.from_state({"layout": "1+5", "tiles": ["x"]}).state()["tiles"] == ["x"] + [None] * 5


def test_page_tour_single_tile_tour_and_enlarge_tour():
    m = VideoWallModel("4")
    m.start_tour([f"c{i}" for i in range(6)], 5.0)
    step1 = m.tour_step()
    assert [(a.kind, a.tile, a.camera) for a in step1] == [("open", k, f"c{k}") for k in range(4)]
    assert step1[0].label == "Tour 1/2"
    step2 = m.tour_step()
    assert [(a.kind, a.camera) for a in step2] == [("open", "c4"), ("open", "c5"), ("close", None), ("close", None)]
    assert m.shown() == ["c4", "c5", None, None]
    assert m.state(with_tour=True)["tour"] == {"cameras": [f"c{i}" for i in range(6)], "interval_s": 5.0, "tile": None}
    m.start_tour(["x", "y"], 3.0, tile=1)
    assert [a.camera for a in m.tour_step() + m.tour_step() + m.tour_step()] == ["x", "y", "x"]
    assert m.shown()[1] == "x"
    m.start_enlarge_tour()
    assert [a.tile for a in m.tour_step(None)] == [0]
    assert m.tour_step(enlarged=1) == []  # the next one is enlarged already
    m.apply_state({"layout": "4", "tiles": []})
    assert m.tour is None
    assert m.start_enlarge_tour() is None  # nothing open: nothing to tour
