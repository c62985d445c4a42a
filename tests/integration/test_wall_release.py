"""A wall that keeps changing cameras keeps only what its visible tiles need.

Real RTSP from the GStreamer server, the real wall offscreen. One tile's camera is changed a
few hundred times (some changes wait for pictures, so those players had a scaler and frames;
most replace a player still connecting); then the live players, decode workers, decode
threads and the process's OS threads must come back to what the four visible tiles need.

The cyclic collector is disabled for the test: the program raises its thresholds and freezes
its start-up heap (``desktop.qt.app.tune_runtime``), so in production a tile freed only by the
collector waits for hundreds of others. Players and workers are counted through
``gc.get_objects()`` — everything the interpreter still holds, reachable or not — so the count
does not depend on any bookkeeping of the code under test.
"""
from __future__ import annotations

import gc
import os
import threading
import time

import pytest
from pytestqt.exceptions import TimeoutError  # what waitUntil raises (not the builtin)

from desktop.core.video.player import StreamPlayer
from desktop.core.video.source import CameraStreams, StreamSpec
from desktop.core.video.worker import DecodeWorker
from desktop.qt.video.wall import VideoWall

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CHANGES = 300
WAIT_EVERY = 25  # every this many changes, wait for the new camera's pictures


def _thread_names() -> list[str]:
    names = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:  # ended meanwhile
            pass
    return names


def _os_threads() -> int:
    """The process's OS threads, but for Qt's global thread pool ("Thread (pooled)"): Qt's
    raster engine borrows it to convert and scale large images; it holds at most one thread
    per core and lets idle ones go after 30 s, so it is bounded whatever the wall does."""
    return sum(1 for n in _thread_names() if n != "Thread (pooled)")


def _decode_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("decode:") and t.is_alive())


def _alive(cls) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def _camera(server, cid: str, clip: int) -> CameraStreams:
    mount = "cam1" if clip == 0 else "cam2"
    return CameraStreams(cid, f"Camera {cid}",
                         StreamSpec(server.url(mount), 1280, 720, "main", timeout_s=1.0),
                         StreamSpec(server.url(mount + "s"), 640, 360, "sub", timeout_s=1.0))


def _live(wall, index) -> bool:
    t = wall.tiles[index]
    return t.state == "live" and t.frames_shown > 0


@pytest.fixture
def no_collector():
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def test_a_tile_changing_camera_hundreds_of_times_keeps_only_what_the_tiles_need(
        qtbot, rtsp_server, tmp_path, no_collector):
    steady = {f"s{i}": _camera(rtsp_server, f"s{i}", i % 2) for i in range(1, 4)}
    rotating = [_camera(rtsp_server, f"r{i}", i % 2) for i in range(8)]
    wall = VideoWall(resolve=steady.get, settings_path=tmp_path / "layouts.json", layout="4", scheduler=False)
    qtbot.addWidget(wall)
    wall.resize(1280, 760)  # four tiles of about 640x380: the main stream, converted in the worker
    wall.show()
    qtbot.waitExposed(wall)
    qtbot.wait(200)
    base_threads = _os_threads()
    base_players, base_workers = _alive(StreamPlayer), _alive(DecodeWorker)
    try:
        wall.open_camera_ids(list(steady), start=1)
        wall.open_camera(rotating[0], 0)
        qtbot.waitUntil(lambda: all(_live(wall, i) for i in range(4)), timeout=20000)
        qtbot.wait(300)
        need = _os_threads()
        # one decode thread a tile and nothing more (no scaler threads: swscale would take
        # one per core for each picture size converted)
        assert need <= base_threads + 4, (base_threads, need, _thread_names())

        t0 = time.monotonic()
        for k in range(1, CHANGES + 1):
            wall.open_camera(rotating[k % len(rotating)], 0)
            if k % WAIT_EVERY == 0:
                qtbot.waitUntil(lambda: _live(wall, 0), timeout=15000)
            else:
                qtbot.wait(25)
        assert all(_live(wall, i) for i in (1, 2, 3))  # the other tiles played on undisturbed

        # the camera the tile already shows, asked for again (a tour page, an alarm's linkage)
        shown = wall.tiles[0].player
        wall.open_camera(wall.tiles[0].streams, 0)
        assert wall.tiles[0].player is shown
        del shown  # the test must not be what keeps a player alive

        def settled():
            return (_decode_threads() == 4 and _os_threads() <= need
                    and _alive(StreamPlayer) == base_players + 4 and _alive(DecodeWorker) == base_workers + 4)

        try:
            # stopped workers still opening a connection end when their open returns
            qtbot.waitUntil(settled, timeout=15000)
        except TimeoutError:
            pytest.fail(f"after {CHANGES} changes: {_alive(StreamPlayer) - base_players} players, "
                        f"{_alive(DecodeWorker) - base_workers} workers, {_decode_threads()} decode threads, "
                        f"{_os_threads()} OS threads (four live tiles need {need}, the empty wall had "
                        f"{base_threads})")
        assert time.monotonic() - t0 < 60

        # cleared: nothing of the video is left
        wall.close_all()
        try:
            qtbot.waitUntil(lambda: _decode_threads() == 0 and _alive(StreamPlayer) == base_players
                            and _alive(DecodeWorker) == base_workers and _os_threads() <= base_threads,
                            timeout=15000)
        except TimeoutError:
            pytest.fail(f"cleared: {_alive(StreamPlayer) - base_players} players, "
                        f"{_alive(DecodeWorker) - base_workers} workers, {_decode_threads()} decode threads, "
                        f"OS threads {_thread_names()} (the empty wall had {base_threads})")
    finally:
        wall.stop()


def test_a_smaller_layout_lets_the_hidden_tiles_go_and_a_larger_one_brings_them_back(
        qtbot, rtsp_server, tmp_path, no_collector):
    cams = {f"c{i}": _camera(rtsp_server, f"c{i}", i % 2) for i in range(4)}
    wall = VideoWall(resolve=cams.get, settings_path=tmp_path / "layouts.json", layout="4", scheduler=False)
    qtbot.addWidget(wall)
    wall.resize(1280, 760)
    wall.show()
    qtbot.waitExposed(wall)
    base_players = _alive(StreamPlayer)
    try:
        wall.open_camera_ids(list(cams))
        qtbot.waitUntil(lambda: all(_live(wall, i) for i in range(4)), timeout=20000)
        wall.set_layout("1")
        qtbot.waitUntil(lambda: _decode_threads() == 1 and _alive(StreamPlayer) == base_players + 1, timeout=10000)
        assert [t.camera_id for t in wall.tiles[:4]] == ["c0", "c1", "c2", "c3"]  # still assigned
        wall.set_layout("4")
        qtbot.waitUntil(lambda: all(_live(wall, i) for i in range(4)), timeout=20000)
        assert _decode_threads() == 4 and _alive(StreamPlayer) == base_players + 4
    finally:
        wall.stop()
