"""The video wall, offscreen, on real H.264 demo clips decoded by PyAV: layouts, frames, enlarge
(main stream), drop from the map, pausing hidden tiles, snapshots, tours, saved layouts, a
broken stream shown as an error without harm to the others."""
import json

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QImage

from desktop.core.video.source import CameraStreams, StreamSpec
from desktop.qt.video.layouts import LAYOUTS, layout_cells
from desktop.qt.video.wall import CAMERA_MIME, VideoWall


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


def test_layout_cells_cover_the_grid_exactly():
    for name, (n, cells) in LAYOUTS.items():
        covered = set()
        for c in cells:
            for r in range(c.row, c.row + c.rows):
                for k in range(c.col, c.col + c.cols):
                    assert (k, r) not in covered, name
                    covered.add((k, r))
        assert covered == {(k, r) for k in range(n) for r in range(n)}, name
    assert len(layout_cells("1+5")[1]) == 6 and len(layout_cells("1+7")[1]) == 8 and len(layout_cells("1+12")[1]) == 13
    with pytest.raises(KeyError, match="7x7"):
        layout_cells("7x7")


def test_sixteen_tiles_go_live_with_real_frames(wall, qtbot, cams):
    wall.set_layout("16")
    wall.open_camera_ids([f"cam{i}" for i in range(16)])
    qtbot.waitUntil(lambda: all(t.state == "live" and t.frames_shown > 3 for t in wall.tiles), timeout=20000)
    t = wall.tiles[5]
    assert t.image is not None and t.player.spec.kind == "sub"  # small tile: the sub stream
    img = wall.grab().toImage()
    assert len({img.pixel(x, y) for x in range(0, img.width(), 23) for y in range(40, img.height(), 23)}) > 100


def test_double_click_enlarges_on_the_main_stream_and_pauses_the_others(wall, qtbot):
    wall.open_camera_ids(["cam0", "cam1", "cam2"])
    qtbot.waitUntil(lambda: wall.tiles[0].state == "live", timeout=15000)
    qtbot.mouseDClick(wall.tiles[0], Qt.LeftButton)
    assert wall.enlarged == 0
    qtbot.waitUntil(lambda: wall.tiles[0].player.spec.kind == "main", timeout=5000)
    qtbot.waitUntil(lambda: wall.tiles[0].image is not None and wall.tiles[0].image.width() > 640, timeout=15000)
    assert wall.tiles[1].player.paused and wall.tiles[2].player.paused
    qtbot.mouseDClick(wall.tiles[0], Qt.LeftButton)
    assert wall.enlarged is None and not wall.tiles[1].player.paused


def test_drop_from_the_map_opens_the_camera_in_that_tile(wall, qtbot):
    mime = QMimeData()
    mime.setData(CAMERA_MIME, json.dumps({"ids": ["cam7"]}).encode())
    tile = wall.tiles[2]
    ev = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    tile.dropEvent(ev)
    assert tile.camera_id == "cam7"
    qtbot.waitUntil(lambda: tile.state == "live", timeout=15000)


def test_snapshot_saves_the_picture(wall, qtbot, tmp_path):
    wall.open_camera_ids(["cam0"])
    qtbot.waitUntil(lambda: wall.tiles[0].image is not None, timeout=15000)
    out = wall.snapshot(0, tmp_path / "snap.png")
    assert out is not None and QImage(str(out)).width() == wall.tiles[0].image.width()
    assert wall.snapshot(3) is None  # empty tile: a notice, no file


def test_tour_cycles_the_group_and_saved_layouts_restore(wall, qtbot):
    wall.start_tour([f"cam{i}" for i in range(10)], interval_s=0.3)
    first = [t.camera_id for t in wall.tiles]
    assert first == ["cam0", "cam1", "cam2", "cam3"]
    qtbot.waitUntil(lambda: [t.camera_id for t in wall.tiles] == ["cam4", "cam5", "cam6", "cam7"], timeout=3000)
    wall.stop_tour()
    wall.set_layout("1+5")
    wall.open_camera_ids(["cam9", "cam8"])
    wall.save_layout("夜班")
    wall.close_all()
    wall.set_layout("4")
    assert wall.restore_layout("夜班")
    assert wall.layout_name == "1+5" and [t.camera_id for t in wall.tiles][:2] == ["cam9", "cam8"]


def test_a_broken_stream_shows_error_and_the_others_play(wall, qtbot, video_clips):
    bad = CameraStreams("bad", "坏流", StreamSpec(str(video_clips["garbage"]), None, None, "main"), None)
    wall.open_camera(bad, 0)
    wall.open_camera_ids(["cam1"], start=1)
    qtbot.waitUntil(lambda: wall.tiles[0].state == "error", timeout=15000)
    qtbot.waitUntil(lambda: wall.tiles[1].state == "live", timeout=15000)
    wall.grab()  # paints the error overlay without raising
