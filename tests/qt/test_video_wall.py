"""The video wall, offscreen, on real H.264 demo clips decoded by PyAV: layouts, frames, enlarge
(main stream), drops from the map, swapping tiles, pausing hidden tiles, sub/main by tile size,
snapshots, tours, saved layouts, overload fallback shown on the tile, and a broken stream shown
as an error without harm to the others."""
from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QImage

from desktop.core.video.layouts import LAYOUT_NAMES, get_layout
from desktop.core.video.source import CameraStreams, StreamSpec, choose_stream
from desktop.qt.video.wall import CAMERA_MIME, VideoWall

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cams(video_clips):
    pairs = video_clips["pairs"]
    return {f"cam{i}": pairs[i % len(pairs)].streams(f"cam{i}", f"测试 {i}") for i in range(20)}


@pytest.fixture
def wall(qtbot, cams, tmp_path):
    w = VideoWall(resolve=cams.get, settings_path=tmp_path / "layouts.json", layout="4")
    qtbot.addWidget(w)
    w.resize(1280, 760)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.stop()


def _center(wall, i) -> QPoint:
    return wall.tile_rect(i).center()


def _drop(wall, i, payload: dict) -> bool:
    mime = QMimeData()
    mime.setData(CAMERA_MIME, json.dumps(payload).encode("utf-8"))
    ev = QDropEvent(QPointF(_center(wall, i)), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    # QApplication.sendEvent() does not deliver a drop outside a real drag: call the handler
    wall.view.dropEvent(ev)
    return ev.isAccepted()


def test_every_layout_places_its_tiles_inside_the_view(wall):
    W, H = wall.view.width(), wall.view.height()
    for name in LAYOUT_NAMES:
        wall.set_layout(name)
        vis = [t for t in wall.tiles if t.visible]
        assert len(vis) == get_layout(name).count == wall.tile_count
        for t in vis:
            assert 0 <= t.rect.left() and t.rect.right() < W and t.rect.bottom() < H
    wall.set_layout("1+5")
    big, small = wall.tile_rect(0), wall.tile_rect(1)
    assert big.width() > 1.9 * small.width()
    with pytest.raises(KeyError):
        wall.set_layout("7x7")


def test_sixteen_tiles_go_live_with_real_frames(wall, qtbot):
    wall.set_layout("16")
    states = []
    wall.tile_state_changed.connect(lambda i, cid, s: states.append((i, s)))
    assert wall.open_camera_ids([f"cam{i}" for i in range(16)]) == 16
    qtbot.waitUntil(lambda: all(t.state == "live" and t.frames_shown > 3 for t in wall.tiles[:16]), timeout=30000)
    t = wall.tiles[5]
    assert t.image is not None and t.player.spec.kind == "sub"  # small tile: the sub stream
    assert t.image.width() % 4 == 0 and t.image.width() <= t.rect.width()
    assert {s for _, s in states} >= {"connecting", "live"}
    img = wall.grab().toImage()
    colours = {img.pixel(x, y) for x in range(0, img.width(), 23) for y in range(40, img.height(), 23)}
    assert len(colours) > 100  # pictures, not flat fills
    assert wall.painted_frames > 16


def test_open_camera_goes_to_the_next_free_tile_and_is_not_duplicated(wall, cams):
    assert wall.open_camera(cams["cam3"]) == 0
    assert wall.open_camera(cams["cam4"]) == 1
    assert wall.open_camera(cams["cam3"]) == 0  # already shown: not twice
    assert wall.open_camera(cams["cam5"], 3) == 3
    assert wall.layout_state() == {"layout": "4", "tiles": ["cam3", "cam4", None, "cam5"]}
    # more than the layout holds: a larger square layout
    wall.open_cameras([cams[f"cam{i}"] for i in range(6, 12)])
    assert wall.layout_name == "9" and sum(t.streams is not None for t in wall.tiles) == 9
    wall.close_all()
    assert all(t.player is None for t in wall.tiles)


def test_double_click_enlarges_on_the_main_stream_and_pauses_the_others(wall, qtbot):
    wall.open_camera_ids(["cam0", "cam1", "cam2"])
    qtbot.waitUntil(lambda: wall.tiles[0].state == "live", timeout=15000)
    qtbot.mouseDClick(wall.view, Qt.LeftButton, pos=_center(wall, 0))
    assert wall.enlarged == 0 and wall.tile_rect(0).size() == wall.view.size()
    assert wall.tiles[0].player.spec.kind == "main"
    qtbot.waitUntil(lambda: wall.tiles[0].image is not None and wall.tiles[0].image.width() > 640, timeout=15000)
    assert wall.tiles[1].player.paused and wall.tiles[2].player.paused
    qtbot.mouseDClick(wall.view, Qt.LeftButton, pos=_center(wall, 0))
    assert wall.enlarged is None and not wall.tiles[1].player.paused
    # back in its tile: the stream for the tile's size again (sub once it is at most 640x360)
    r = wall.tile_rect(0)
    want = choose_stream(wall.tiles[0].streams, r.width(), r.height()).kind
    qtbot.waitUntil(lambda: wall.tiles[0].player.spec.kind == want, timeout=5000)
    wall.set_layout("9")
    qtbot.waitUntil(lambda: wall.tiles[0].player.spec.kind == "sub", timeout=5000)


def test_sub_or_main_follows_the_tile_size(wall, qtbot):
    wall.set_layout("1")
    wall.open_camera_ids(["cam1"])
    qtbot.waitUntil(lambda: wall.tiles[0].player.spec.kind == "main", timeout=5000)  # 1280 px wide tile
    qtbot.waitUntil(lambda: wall.tiles[0].frame is not None and wall.tiles[0].frame.stream_kind == "main", timeout=15000)
    wall.set_layout("16")
    qtbot.waitUntil(lambda: wall.tiles[0].player.spec.kind == "sub", timeout=5000)
    qtbot.waitUntil(lambda: wall.tiles[0].frame.stream_kind == "sub", timeout=15000)
    assert wall.tiles[0].player.previous is None  # the main worker was let go


def test_drop_from_the_map_opens_cameras_from_that_tile_on(wall, qtbot):
    assert _drop(wall, 2, {"ids": ["cam7", "cam8"]})
    assert wall.tiles[2].camera_id == "cam7" and wall.tiles[3].camera_id == "cam8"
    assert wall.selected == 2
    qtbot.waitUntil(lambda: wall.tiles[2].state == "live", timeout=15000)
    notices = []
    wall.notice.connect(lambda text, level: notices.append(text))
    assert not _drop(wall, 0, {"ids": ["nope"]})
    assert notices and "nope" in notices[0]


def test_dragging_a_tile_onto_another_swaps_them_without_reconnecting(wall, qtbot):
    wall.open_camera_ids(["cam1", "cam2"])
    p0, p1 = wall.tiles[0].player, wall.tiles[1].player
    assert _drop(wall, 3, {"ids": ["cam1"], "from_tile": 0, "wall": id(wall)})
    assert wall.tiles[3].camera_id == "cam1" and wall.tiles[3].player is p0
    assert wall.tiles[0].streams is None and wall.tiles[1].player is p1


def test_snapshot_saves_the_picture(wall, qtbot, tmp_path):
    wall.open_camera_ids(["cam0"])
    qtbot.waitUntil(lambda: wall.tiles[0].image is not None, timeout=15000)
    out = wall.snapshot(0, tmp_path / "snap.png")
    assert out is not None and QImage(str(out)).width() == wall.tiles[0].image.width()
    notices = []
    wall.notice.connect(lambda text, level: notices.append(level))
    assert wall.snapshot(3, tmp_path / "empty.png") is None and notices == ["warning"]


def test_tour_pages_through_the_group_and_saved_layouts_restore(wall, qtbot):
    wall.start_tour([f"cam{i}" for i in range(10)], interval_s=0.3)
    assert [t.camera_id for t in wall.tiles[:4]] == ["cam0", "cam1", "cam2", "cam3"]
    assert wall.tiles[0].tour_label.endswith("1/3")
    qtbot.waitUntil(lambda: [t.camera_id for t in wall.tiles[:4]] == ["cam4", "cam5", "cam6", "cam7"], timeout=3000)
    qtbot.waitUntil(lambda: [t.camera_id for t in wall.tiles[:4]] == ["cam8", "cam9", None, None], timeout=3000)
    wall.stop_tour()
    assert not wall.touring
    wall.set_layout("1+5")
    wall.open_camera_ids(["cam9", "cam8"], start=0)
    wall.save_layout("夜班")
    wall.close_all()
    wall.set_layout("4")
    assert wall.saved_layouts() == ["夜班"]
    assert wall.restore_layout("夜班")
    assert wall.layout_name == "1+5" and [t.camera_id for t in wall.tiles][:2] == ["cam9", "cam8"]
    assert not wall.restore_layout("nothing")


def test_single_tile_tour_and_enlarge_tour(wall, qtbot):
    wall.start_tour(["cam1", "cam2", "cam3"], interval_s=0.25, tile_index=2)
    seen = set()
    qtbot.waitUntil(lambda: seen.add(wall.tiles[2].camera_id) or len(seen) == 3, timeout=3000)
    wall.stop_tour()
    wall.close_all()
    wall.open_camera_ids(["cam4", "cam5"])
    wall.start_enlarge_tour(interval_s=0.25)
    assert wall.enlarged == 0
    qtbot.waitUntil(lambda: wall.enlarged == 1, timeout=3000)
    wall.stop_tour()
    assert wall.enlarged is None


def test_hidden_wall_decodes_nothing(wall, qtbot):
    wall.open_camera_ids(["cam0", "cam1"])
    qtbot.waitUntil(lambda: wall.tiles[1].state == "live", timeout=15000)
    wall.hide()
    assert all(t.player.paused for t in wall.tiles[:2])
    qtbot.wait(300)
    n = wall.tiles[0].player.stats.decoded
    qtbot.wait(600)
    assert wall.tiles[0].player.stats.decoded == n
    wall.show()
    qtbot.waitUntil(lambda: wall.tiles[0].player.stats.decoded > n + 5, timeout=5000)
    # tiles outside a smaller layout let their players go but keep their cameras, which come
    # back with a larger layout
    old = wall.tiles[1].player
    wall.set_layout("1")
    assert wall.tiles[1].player is None and wall.tiles[1].camera_id == "cam1"
    assert old.closed and not wall.tiles[0].player.paused
    wall.set_layout("4")
    assert wall.tiles[1].player is not None and not wall.tiles[1].player.paused
    qtbot.waitUntil(lambda: wall.tiles[1].state == "live" and wall.tiles[1].frames_shown > 0, timeout=15000)


def test_overload_puts_the_smallest_tiles_on_key_frames_visibly_and_back(wall, qtbot):
    wall.set_layout("1+5")
    wall.open_camera_ids(["cam0", "cam1", "cam2"], start=0)
    qtbot.waitUntil(lambda: all(t.state == "live" for t in wall.tiles[:3]), timeout=15000)
    sched = wall.scheduler
    sched.grace_s = 0.0
    sched.cpu_high = -1.0  # every measurement is an overload
    qtbot.waitUntil(lambda: bool(sched.degraded), timeout=5000)
    assert 0 not in sched.degraded  # the big tile is the last to go
    k = next(iter(sched.degraded))
    assert wall.tiles[k].player.keyframes_only
    qtbot.waitUntil(lambda: wall.tiles[k].overlay_key is not None and wall.tiles[k].overlay_key[7], timeout=3000)
    sched.cpu_high, sched.cpu_low, sched.drop_low = 10.0, 10.0, 10.0  # calm
    sched.hold_s = sched.base_hold_s = 0.3
    qtbot.waitUntil(lambda: not bool(sched.degraded), timeout=15000)
    assert not wall.tiles[k].player.keyframes_only


def test_a_broken_stream_shows_error_and_the_others_play(wall, qtbot, video_clips):
    bad = CameraStreams("bad", "坏流", StreamSpec(str(video_clips["garbage"]), None, None, "main"), None)
    wall.open_camera(bad, 0)
    wall.open_camera_ids(["cam1"], start=1)
    qtbot.waitUntil(lambda: wall.tiles[0].state == "error", timeout=15000)
    qtbot.waitUntil(lambda: wall.tiles[1].state == "live", timeout=15000)
    assert wall.tiles[0].detail and "Errno" not in wall.tiles[0].detail
    wall.grab()  # paints the error overlay without raising
    assert wall.tiles[0].overlay_key[3] == "error"


def test_a_layout_state_moving_a_camera_to_another_tile_keeps_its_player(wall, qtbot):
    wall.apply_layout_state({"layout": "4", "tiles": ["cam1", "cam2", "cam3", "cam4"]})
    players = {wall.tiles[i].camera_id: wall.tiles[i].player for i in range(4)}
    wall.apply_layout_state({"layout": "4", "tiles": ["cam3", "cam4", "cam7", None]})
    assert [wall.tiles[i].camera_id for i in range(4)] == ["cam3", "cam4", "cam7", None]
    assert wall.tiles[0].player is players["cam3"] and wall.tiles[1].player is players["cam4"]
    assert players["cam1"].closed and players["cam2"].closed
    assert wall.layout_state()["tiles"] == ["cam3", "cam4", "cam7", None]


def test_a_tile_whose_demo_clip_is_being_made_says_so_not_just_connecting(qapp):
    from desktop.core.i18n import tr
    from desktop.core.video.source import WAITING_FOR_FILE
    from desktop.qt.video.tile import Tile
    t = Tile(0)
    t.state, t.detail = "connecting", WAITING_FOR_FILE
    assert t.shown_detail() == tr("Preparing the demo clip…") != ""
    t.detail = ""
    assert t.shown_detail() == ""  # plain connecting: the state says it all
    t.state, t.detail = "error", "no route to host"
    assert t.shown_detail() == "no route to host"
