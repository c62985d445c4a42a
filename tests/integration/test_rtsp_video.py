"""The video pipeline against a real RTSP server (Debian's GStreamer RTSP server): first frame,
server killed and restarted, server stalled, a stream that cannot be served, main/sub switching."""
from __future__ import annotations

import time

import pytest

from desktop.core.video.player import StreamPlayer
from desktop.core.video.source import CameraStreams, StreamSpec
from desktop.core.video.worker import DecodeWorker, wait_for_state

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def _worker(url: str, size=(480, 270), transport="tcp", states=None) -> DecodeWorker:
    spec = StreamSpec(url, 1280, 720, "main", transport=transport, timeout_s=1.0)
    w = DecodeWorker(spec, size, on_state=(lambda s, d: states.append(s)) if states is not None else None)
    # quick retries keep the fault tests short; the policy is the same
    w.BACKOFF_FIRST_S, w.BACKOFF_MAX_S, w.ERROR_RETRY_S = 0.25, 1.0, 1.0
    return w


def _wait_frame(source, timeout: float, pred=lambda f: True):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f = source.take() if hasattr(source, "take") and not hasattr(source, "slot") else source.slot.take()
        if f is not None and pred(f):
            return f
        time.sleep(0.01)
    return None


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_first_frame_arrives(rtsp_server, transport):
    w = _worker(rtsp_server.url("cam1"), transport=transport).start()
    try:
        f = _wait_frame(w, 10)
        assert f is not None, (w.state, w.detail)
        assert w.state == "live"
        assert f.image.shape == (270, 480, 4) and f.image.flags.c_contiguous
        assert f.source_size == (1280, 720)
        assert w.stats.ttff_s is not None and w.stats.ttff_s < 5
        # frames keep coming at the camera's rate
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 2.0:
            if w.slot.take() is not None:
                n += 1
            time.sleep(0.005)
        assert 35 <= n <= 60, n
    finally:
        assert w.stop(timeout=5)


def test_credentials_never_in_state_or_logs(rtsp_server, caplog):
    url = rtsp_server.url("nosuchmount", user="admin", password="s3cret-pw")
    w = _worker(url)
    caplog.set_level("DEBUG")
    w.start()
    try:
        assert wait_for_state(w, ("error", "reconnecting", "offline"), 10)
        assert "s3cret-pw" not in w.detail and "s3cret-pw" not in w.stats.last_error
        assert "s3cret-pw" not in repr(w) and "s3cret-pw" not in repr(w.spec)
    finally:
        w.stop(timeout=5)
    assert "s3cret-pw" not in caplog.text


def test_server_killed_reconnects_when_it_returns(rtsp_server):
    states: list[str] = []
    w = _worker(rtsp_server.url("cam1"), states=states).start()
    try:
        assert _wait_frame(w, 10) is not None, w.detail
        rtsp_server.kill()
        # a killed server just ends the stream: that is a disconnect on a live source
        assert wait_for_state(w, ("reconnecting", "offline"), 3), w.state
        assert "reconnecting" in states
        time.sleep(1.0)  # a few refused attempts meanwhile
        rtsp_server.restart()
        w.slot.take()
        assert wait_for_state(w, "live", 15), (w.state, w.detail)
        assert _wait_frame(w, 5) is not None
        assert w.stats.reconnects >= 1
        assert states[-1] == "live"
    finally:
        assert w.stop(timeout=5)


def test_server_stalled_times_out_and_reconnects(rtsp_server):
    w = _worker(rtsp_server.url("cam1")).start()
    try:
        assert _wait_frame(w, 10) is not None, w.detail
        t0 = time.monotonic()
        rtsp_server.freeze()
        # the read must not block forever: the timeout option turns the stall into an error
        assert wait_for_state(w, ("reconnecting", "offline"), 8), w.state
        assert time.monotonic() - t0 < 8
        assert "timed out" in w.stats.last_error.lower() or "no answer" in w.stats.last_error.lower()
        rtsp_server.thaw()
        w.slot.take()
        assert wait_for_state(w, "live", 15), (w.state, w.detail)
        assert _wait_frame(w, 5) is not None
    finally:
        rtsp_server.thaw()
        assert w.stop(timeout=5)


def test_corrupt_stream_is_an_error_state_not_a_crash(rtsp_server):
    bad = _worker(rtsp_server.url("garbage")).start()
    good = _worker(rtsp_server.url("cam2")).start()
    try:
        assert wait_for_state(bad, "error", 15), (bad.state, bad.detail)
        assert bad.is_alive()  # still retrying quietly
        assert bad.slot.take() is None
        # another tile is not disturbed
        assert _wait_frame(good, 10) is not None
        assert good.state == "live"
        time.sleep(1.5)  # a retry of the bad stream: still an error, still no crash
        assert bad.state == "error" and bad.is_alive()
    finally:
        assert bad.stop(timeout=5)
        assert good.stop(timeout=5)


def test_sub_and_main_switch_on_resize(rtsp_server):
    streams = CameraStreams("c1", "Camera 1",
                            StreamSpec(rtsp_server.url("cam1"), 1280, 720, "main", timeout_s=1.0),
                            StreamSpec(rtsp_server.url("cam1s"), 640, 360, "sub", timeout_s=1.0))
    p = StreamPlayer(streams, (480, 270))
    try:
        assert p.spec.kind == "sub"
        f = _wait_frame(p, 10)
        assert f is not None and f.source_size == (640, 360) and f.stream_kind == "sub"
        # enlarged: the tile is bigger than the sub stream, so the main one is chosen
        assert p.resize(1200, 680)
        assert p.spec.kind == "main"
        f = _wait_frame(p, 10, lambda f: f.stream_kind == "main")
        assert f is not None and f.source_size == (1280, 720)
        assert f.image.shape[1] % 4 == 0 and f.image.shape[1] <= 1200 and f.image.shape[0] <= 680
        assert p.previous is None  # the sub worker was released once main showed a picture
        assert p.resize(320, 180)
        f = _wait_frame(p, 10, lambda f: f.stream_kind == "sub")
        assert f is not None and f.image.shape[:2] == (180, 320)
        assert p.switches == 2
    finally:
        p.stop()
