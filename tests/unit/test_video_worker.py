"""The decode worker on local files: pacing, looping, conversion, key frames only, pause,
and bad inputs (garbage, truncated, missing) that must end in the error state, not a crash."""
from __future__ import annotations

import time

import pytest

from desktop.core.video.source import StreamSpec
from desktop.core.video.worker import DecodeWorker, wait_for_state

pytestmark = pytest.mark.timeout(60)


def _drain(w, seconds):
    frames, t0 = [], time.monotonic()
    while time.monotonic() - t0 < seconds:
        f = w.slot.take()
        if f is not None:
            frames.append(f)
        time.sleep(0.005)
    return frames


@pytest.fixture
def sub_clip(video_clips):
    return video_clips["pairs"][0].sub


@pytest.fixture
def main_clip(video_clips):
    return video_clips["pairs"][0].main


def test_file_plays_as_pseudo_live_at_its_rate(sub_clip):
    states = []
    w = DecodeWorker(StreamSpec(str(sub_clip), 640, 360, "sub"), (480, 270),
                     on_state=lambda s, d: states.append(s)).start()
    try:
        assert wait_for_state(w, "live", 10)
        frames = _drain(w, 2.0)
        assert 40 <= len(frames) <= 60  # 25 fps
        f = frames[-1]
        assert f.image.shape == (270, 480, 4) and f.image.dtype.name == "uint8" and f.image.flags.c_contiguous
        assert f.source_size == (640, 360) and f.stream_kind == "sub"
        assert states[0] == "live"
        st = w.stats
        assert 20 <= st.fps <= 30 and st.decoded >= len(frames) and st.last_error == ""
    finally:
        assert w.stop(timeout=5)


def test_file_loops_with_a_continuous_clock(sub_clip):
    # as fast as possible: the 6 s clip loops several times in a moment
    w = DecodeWorker(StreamSpec(str(sub_clip)), (160, 90), realtime=False).start()
    pts = []
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10 and (not pts or pts[-1] < 14.0):
            f = w.slot.take()
            if f is not None:
                pts.append(f.pts)
            time.sleep(0.001)  # a spinning consumer would starve the worker of the GIL
        assert pts[-1] >= 14.0  # past two laps
        assert all(b > a for a, b in zip(pts, pts[1:]))  # never jumps back on a loop
    finally:
        w.stop(timeout=5)


def test_target_size_change_and_width_multiple_of_4(main_clip):
    w = DecodeWorker(StreamSpec(str(main_clip)), (483, 300)).start()
    try:
        assert wait_for_state(w, "live", 10)
        _drain(w, 0.2)
        f = _drain(w, 0.3)[-1]
        assert f.width % 4 == 0 and f.width <= 483 and f.image.flags.c_contiguous
        w.set_target_size(1001, 1000)
        _drain(w, 0.3)
        f = _drain(w, 0.3)[-1]
        assert f.width % 4 == 0 and f.width <= 1001 and abs(f.width / f.height - 16 / 9) < 0.03
    finally:
        w.stop(timeout=5)


def test_keyframes_only_decodes_one_picture_per_gop_and_comes_back(sub_clip):
    w = DecodeWorker(StreamSpec(str(sub_clip)), (320, 180)).start()
    try:
        assert wait_for_state(w, "live", 10)
        w.set_keyframes_only(True)
        time.sleep(0.1)
        _drain(w, 0.1)
        frames = _drain(w, 4.1)
        assert 1 <= len(frames) <= 3 and all(f.key_frame for f in frames)  # GOP 2 s
        assert w.stats.keyframes_only
        w.set_keyframes_only(False)
        frames = _drain(w, 3.5)
        assert len(frames) >= 30  # full rate again from the next key frame (<= 2 s)
        assert all(b.pts - a.pts < 0.05 for a, b in zip(frames[-20:], frames[-19:]))
    finally:
        w.stop(timeout=5)


def test_pause_stops_decoding_and_resume_continues(sub_clip):
    w = DecodeWorker(StreamSpec(str(sub_clip)), (320, 180)).start()
    try:
        assert wait_for_state(w, "live", 10)
        w.pause()
        time.sleep(0.3)
        n = w.stats.decoded
        time.sleep(0.8)
        assert w.stats.decoded == n and w.paused
        w.resume()
        time.sleep(0.8)
        assert w.stats.decoded > n + 10
    finally:
        w.stop(timeout=5)


def test_garbage_truncated_and_missing_files_are_errors(video_clips, tmp_path):
    garbage = video_clips["garbage"]
    truncated = tmp_path / "truncated.mp4"
    data = video_clips["pairs"][0].sub.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])  # the index (moov) is at the end: unusable
    workers = [DecodeWorker(StreamSpec(str(p)), (320, 180)) for p in (garbage, truncated, tmp_path / "none.mp4")]
    for w in workers:
        w.ERROR_RETRY_S = 0.2
        w.start()
    try:
        for w in workers:
            assert wait_for_state(w, "error", 10), (w.spec, w.state)
            assert w.detail and w.slot.take() is None
        time.sleep(0.5)  # retried: still error, still alive
        assert all(w.state == "error" and w.is_alive() for w in workers)
    finally:
        for w in workers:
            assert w.stop(timeout=5)


def test_a_missing_file_is_an_error_and_the_worker_makes_nothing(tmp_path):
    """The worker opens what it is given: a missing file (even one named like a demo clip) is
    the error a tile shows for a failed source, and nothing is generated or written."""
    from desktop.core.video.clips import clip_pair
    missing = clip_pair(3, 0.4, tmp_path).main  # a demo clip's name, in an empty folder
    states = []
    w = DecodeWorker(StreamSpec(str(missing)), (320, 180), on_state=lambda s, d: states.append((s, d)))
    w.ERROR_RETRY_S = 0.2
    w.start()
    try:
        assert wait_for_state(w, "error", 5), (w.state, w.detail)
        time.sleep(0.6)  # retried a few times
        assert w.state == "error" and w.is_alive()
        assert "no such file" in w.detail and missing.name in w.detail and str(tmp_path) not in w.detail
        assert [s for s, _ in states] == ["error"]  # never live, never anything in between
        assert w.stats.decoded == 0 and w.slot.take() is None
    finally:
        assert w.stop(timeout=5)
    assert not list(tmp_path.iterdir())  # no clip, no temporary file


def test_a_stream_still_being_made_waits_as_connecting_then_plays(sub_clip, tmp_path):
    """A file its owner is still making (``spec.ready``): connecting until done, then live."""
    import shutil
    from concurrent.futures import Future
    later = tmp_path / "later.mp4"
    ready = Future()
    w = DecodeWorker(StreamSpec(str(later), ready=ready), (160, 90)).start()
    try:
        time.sleep(0.6)
        assert w.state == "connecting" and "waiting for the clip" in w.detail
        w.pause()
        time.sleep(0.4)
        w.resume()  # a hidden tile shown again waits on
        assert w.state == "connecting" and w.is_alive()
        shutil.copy(sub_clip, later)
        ready.set_result(None)
        assert wait_for_state(w, "live", 10), (w.state, w.detail)
    finally:
        assert w.stop(timeout=5)
    # stopped while waiting: the thread ends at once
    w2 = DecodeWorker(StreamSpec(str(tmp_path / "never.mp4"), ready=Future()), (160, 90)).start()
    time.sleep(0.3)
    t0 = time.monotonic()
    assert w2.stop(timeout=5) and time.monotonic() - t0 < 1.0


def test_corrupted_bitstream_never_crashes(video_clips, tmp_path):
    import random
    src = video_clips["h264"]["0sub"].read_bytes()
    rnd = random.Random(5)
    buf = bytearray(src)
    for _ in range(3000):  # flip bytes all over, headers included
        i = rnd.randrange(len(buf))
        buf[i] = rnd.getrandbits(8)
    bad = tmp_path / "flipped.h264"
    bad.write_bytes(bytes(buf))
    w = DecodeWorker(StreamSpec(str(bad)), (320, 180), realtime=False)
    w.ERROR_RETRY_S = 0.2
    w.start()
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            w.slot.take()
            assert w.state in ("connecting", "live", "error"), w.detail
            time.sleep(0.01)
        assert w.is_alive()
    finally:
        assert w.stop(timeout=5)


def test_a_failing_state_callback_does_not_kill_the_worker(sub_clip):
    def boom(state, detail):
        raise RuntimeError("observer bug")
    w = DecodeWorker(StreamSpec(str(sub_clip)), (320, 180), on_state=boom).start()
    try:
        assert wait_for_state(w, "live", 10)
        assert len(_drain(w, 0.5)) > 5
    finally:
        w.stop(timeout=5)


def test_file_without_loop_ends_offline(sub_clip):
    w = DecodeWorker(StreamSpec(str(sub_clip)), (160, 90), realtime=False, loop=False).start()
    assert wait_for_state(w, "offline", 20)
    assert w.stop(timeout=5)
    assert w.stats.decoded == 150


def test_player_switches_streams_on_files(video_clips):
    from desktop.core.video.player import StreamPlayer
    streams = video_clips["pairs"][1].streams("X1", "Cam X1")
    p = StreamPlayer(streams, (320, 180))
    try:
        assert p.spec.kind == "sub"
        p.set_force_main(True)
        assert p.spec.kind == "main"
        t0 = time.monotonic()
        f = None
        while time.monotonic() - t0 < 10:
            f = p.take()
            if f is not None and f.stream_kind == "main":
                break
            time.sleep(0.01)
        assert f is not None and f.stream_kind == "main" and f.image.shape[:2] == (180, 320)
        assert p.previous is None
        p.set_force_main(False)
        assert p.spec.kind == "sub"
    finally:
        p.stop()


def test_unreachable_camera_reconnects_with_backoff_then_shows_offline():
    import socket
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    states = []
    w = DecodeWorker(StreamSpec(f"rtsp://user:pw@127.0.0.1:{port}/x", timeout_s=0.5), (320, 180),
                     on_state=lambda s, d: states.append((time.monotonic(), s)))
    w.BACKOFF_FIRST_S, w.OFFLINE_AFTER_S = 0.1, 1.0
    t0 = time.monotonic()
    w.start()
    try:
        assert wait_for_state(w, "reconnecting", 3)
        assert wait_for_state(w, "offline", 5)
        t_off = next(t for t, s in states if s == "offline")
        assert t_off - t0 >= 1.0  # refused at once, but not "offline" before OFFLINE_AFTER_S
        assert "pw" not in w.detail and "refused" in w.detail.lower()
        assert w.stats.reconnects >= 3
    finally:
        assert w.stop(timeout=5)
