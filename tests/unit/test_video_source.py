"""Stream sources: URL redaction, stream choice by tile size, camera records → streams."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from desktop.core.video.source import (CameraStreams, StreamSpec, choose_stream, redact_url,
                                       rtsp_server_answers, streams_for_camera)


@pytest.mark.parametrize("url, expected", [
    ("rtsp://admin:s3cret@10.0.0.5:554/Streaming/Channels/101",
     "rtsp://***@10.0.0.5:554/Streaming/Channels/101"),
    ("rtsp://admin@10.0.0.5/live", "rtsp://***@10.0.0.5/live"),
    ("rtsp://10.0.0.5/live?channel=1", "rtsp://10.0.0.5/live?channel=1"),
    ("http://cam/api?user=bob&password=hunter2&ch=2", "http://cam/api?user=***&password=***&ch=2"),
    ("rtsp://u:p%40ss@[fe80::1]:8554/x", "rtsp://***@[fe80::1]:8554/x"),
    ("/home/op/clips/a.mp4", "/home/op/clips/a.mp4"),
    ("", ""),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_redact_url_survives_garbage():
    for junk in ("rtsp://[bad", "::::", "rtsp://a:b@", "file:///x@y"):
        out = redact_url(junk)
        assert isinstance(out, str)
    assert "b@" not in redact_url("rtsp://a:b@")


def test_spec_kinds_and_options():
    rtsp = StreamSpec("rtsp://u:pw@h/x", 1920, 1080, "main")
    assert rtsp.is_live and not rtsp.is_file
    opts = rtsp.open_options()
    assert opts["rtsp_transport"] == "tcp"
    assert int(opts["timeout"]) == 3_000_000  # FFmpeg wants microseconds
    assert "nobuffer" not in opts.get("fflags", "")  # it throws away the first key frame
    assert StreamSpec("rtsp://h/x", transport="udp").open_options()["rtsp_transport"] == "udp"
    f = StreamSpec("/tmp/a.mp4")
    assert f.is_file and f.open_options() == {} and f.path == "/tmp/a.mp4"
    assert StreamSpec("file:///tmp/b%20c.mp4").path == "/tmp/b c.mp4"
    assert "pw" not in repr(rtsp)


def _cam(main=(1280, 720), sub=(640, 360)):
    return CameraStreams("c", "C", StreamSpec("rtsp://h/main", *main, "main"),
                         StreamSpec("rtsp://h/sub", *sub, "sub") if sub else None)


@pytest.mark.parametrize("tile, kind", [
    ((320, 180), "sub"), ((480, 270), "sub"), ((640, 360), "sub"),  # at or below the sub's size
    ((641, 360), "main"), ((640, 361), "main"), ((960, 540), "main"),
    ((2560, 1440), "main"),  # bigger than every stream: the largest
])
def test_choose_stream_nearest_at_or_above(tile, kind):
    assert choose_stream(_cam(), *tile).kind == kind


def test_choose_stream_without_sub_or_sizes():
    assert choose_stream(_cam(sub=None), 100, 100).kind == "main"
    unknown = CameraStreams("c", "C", StreamSpec("rtsp://h/m"), StreamSpec("rtsp://h/s", kind="sub"))
    assert choose_stream(unknown, 480, 270).kind == "sub"  # assumed 640x360
    assert choose_stream(unknown, 1280, 720).kind == "main"  # assumed 1920x1080


@dataclass
class _Camera:
    id: str
    name: str
    main_url: str = ""
    sub_url: str = ""
    props: dict = field(default_factory=dict)


def test_streams_for_camera_with_urls():
    s = streams_for_camera(_Camera("K1", "Gate", "rtsp://a:b@h/1", "rtsp://a:b@h/2",
                                   {"main_width": "2560", "main_height": 1440, "rtsp_transport": "udp"}))
    assert s.camera_id == "K1" and s.main.url.endswith("/1") and s.sub.url.endswith("/2")
    assert s.main.size == (2560, 1440) and s.sub.size == (640, 360)
    assert s.main.transport == "udp"
    only_main = streams_for_camera(_Camera("K2", "X", "rtsp://h/1"))
    assert only_main.sub is None


def test_streams_for_camera_without_urls_plays_what_the_caller_hands_in(video_clips):
    from functools import partial

    from desktop.core.video.demo_cameras import ClipPreparer, demo_streams_for
    assert streams_for_camera(_Camera("HD0001", "Harbour 1")) is None  # nothing to play
    folder, seconds = video_clips["folder"], video_clips["pairs"][0].seconds
    demo = partial(demo_streams_for, count=2, seconds=seconds, folder=folder, preparer=ClipPreparer())
    s = streams_for_camera(_Camera("HD0001", "Harbour 1"), without_url=demo)
    assert s.main.is_file and s.sub.is_file
    assert (s.main.width, s.main.height, s.sub.width, s.sub.height) == (1280, 720, 640, 360)
    assert s.main.path in {str(p.main) for p in video_clips["pairs"]}
    assert s.main.ready is None  # in the cache already: nothing to wait for


def test_rtsp_probe_on_closed_port():
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    assert rtsp_server_answers(f"rtsp://127.0.0.1:{port}/x", 0.5) is False
    assert rtsp_server_answers("/not/rtsp.mp4") is False


def test_the_video_core_does_not_import_the_demo_clips():
    """Demo content is handed to the player from outside: only the demo's own modules import
    the clips (source, worker, player and the rest never do, so no import cycle either)."""
    import ast
    from pathlib import Path
    core = Path(__file__).resolve().parents[2] / "desktop" / "core" / "video"
    demo = {"clips.py", "demo_cameras.py"}
    names = sorted(p.name for p in core.glob("*.py") if p.name not in demo)
    assert {"source.py", "worker.py", "playback.py", "player.py"} <= set(names)
    for name in names:
        tree = ast.parse((core / name).read_text())
        mods = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        mods |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not mods & {"desktop.core.video.clips", "desktop.core.video.demo_cameras"}, name
        assert not any(isinstance(n, ast.ImportFrom) and n.module == "desktop.core.video"
                       and {a.name for a in n.names} & {"clips", "demo_cameras"} for n in ast.walk(tree)), name
