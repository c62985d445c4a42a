"""Decoding in separate processes: the shared-memory slot hands over whole pictures and counts
what the GUI missed; a pool's workers play real clips at their rate, follow a resize into a
bigger slot, pause, stop and leave no slot file behind; a killed decoder process is replaced
and its tiles come back; a player given a pool decodes there."""
from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from desktop.core.video.frames import Frame
from desktop.core.video.player import StreamPlayer
from desktop.core.video.procpool import DecodePool, sweep_stale_slot_files
from desktop.core.video.shm import ShmSlotReader, ShmSlotWriter, create_slot_file, slot_folder
from desktop.core.video.source import CameraStreams, StreamSpec


def _frame(seq, w=8, h=4, value=0):
    img = np.full((h, w, 4), value, np.uint8)
    return Frame(img, seq / 25.0, time.monotonic(), seq, seq % 5 == 0, (w * 2, h * 2), "sub")


def _files() -> set[str]:
    return {p.name for p in slot_folder().glob(f"pingan-frames-{os.getpid()}-*")}


def test_a_slot_hands_over_the_newest_whole_picture_and_counts_what_was_missed():
    path = create_slot_file(8 * 4 * 4)
    writer, reader = ShmSlotWriter(path), ShmSlotReader(path)
    os.unlink(path)  # both mapped: the name can go, the memory stays
    assert reader.take() is None and not reader.pending()
    for k in range(1, 4):
        writer.put(_frame(k, value=k))
    f = reader.take()
    assert f.seq == 3 and int(f.image[0, 0, 0]) == 3 and f.image.shape == (4, 8, 4)
    assert f.key_frame is False and f.source_size == (16, 8) and f.stream_kind == "sub" and f.pts == pytest.approx(0.12)
    assert f.image.flags.c_contiguous and f.bytes_per_line == 32
    assert reader.take() is None
    assert reader.counts() == (3, 1, 2)  # two pictures replaced before the GUI looked
    writer.put(_frame(4, w=16, h=8))  # bigger than the slot: not written (the GUI makes a bigger one)
    assert reader.take() is None
    bigger = create_slot_file(16 * 8 * 4)
    reader.switch_to(bigger)
    writer2 = ShmSlotWriter(bigger)
    os.unlink(bigger)
    assert reader.take() is None  # nothing in the new slot yet: still the old one
    writer2.put(_frame(1, w=16, h=8, value=9))
    f = reader.take()
    assert f.image.shape == (8, 16, 4) and int(f.image[7, 15, 3]) == 9
    assert reader.put_count == 4
    with pytest.raises(ValueError, match="positive capacity"):
        create_slot_file(0)


@pytest.fixture
def pool():
    p = DecodePool(2)
    yield p
    p.close()


def _wait_live(workers, timeout=15.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if all(w.state == "live" for w in workers):
            return True
        for w in workers:
            w.slot.take()
        time.sleep(0.02)
    return False


def test_pool_workers_play_at_their_rate_resize_pause_and_stop_clean(pool, video_clips):
    before = _files()
    clips = [p.sub for p in video_clips["pairs"]] * 2
    states = []
    ws = [pool.worker(StreamSpec(str(c), 640, 360, "sub"), (480, 270),
                      on_state=(lambda s, d: states.append(s)) if i == 0 else None).start()
          for i, c in enumerate(clips)]
    assert _wait_live(ws) and pool.processes() == 2
    got = {w.key: 0 for w in ws}
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.0:
        for w in ws:
            if w.slot.take() is not None:
                got[w.key] += 1
        time.sleep(0.005)
    assert all(40 <= n <= 60 for n in got.values()), got  # 25 fps each, in two processes
    assert "live" in states
    w = ws[0]
    f = w.slot.last
    assert f.image.shape == (270, 480, 4) and f.source_size == (640, 360)
    time.sleep(1.2)
    assert 20 <= w.stats.fps <= 30 and w.stats.delivered > 40  # the decoder's counters come back
    w.set_target_size(960, 540)  # bigger than the slot: a new one
    t0 = time.monotonic()
    while time.monotonic() - t0 < 5 and (w.slot.last is None or w.slot.last.width != 960):
        w.slot.take()
        time.sleep(0.02)
    assert w.slot.last.image.shape == (540, 960, 4)  # scaled to the bigger tile, in a bigger slot
    w.pause()
    time.sleep(0.3)
    w.slot.take()
    time.sleep(0.5)
    assert w.slot.take() is None  # paused: nothing new
    w.resume()
    for x in ws:
        x.stop()
    assert all(x.join(5) for x in ws)
    assert _files() == before  # every slot file's name is gone


def _nice_of_threads(pid: int) -> dict[int, int]:
    """The niceness of every thread of ``pid`` (Linux: field 19 of /proc/PID/task/TID/stat)."""
    from pathlib import Path
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return out


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="reads thread priorities from /proc")
def test_decoder_processes_and_their_decode_threads_run_nicer_than_the_gui(pool, video_clips):
    from desktop.core.video.procpool import DECODER_NICE
    ws = [pool.worker(StreamSpec(str(p.sub)), (320, 180)).start() for p in video_clips["pairs"][:2]]
    assert _wait_live(ws)
    ours = os.nice(0)
    want = min(19, ours + DECODER_NICE)
    assert DECODER_NICE > 0 and want > ours
    for dec in {w._dec for w in ws}:
        nice = _nice_of_threads(dec.proc.pid)
        assert len(nice) >= 2 and set(nice.values()) == {want}, nice  # the main thread and its decode threads
    for w in ws:
        w.stop(timeout=5)


def test_a_killed_decoder_is_replaced_and_its_tiles_come_back(pool, video_clips):
    w = pool.worker(StreamSpec(str(video_clips["pairs"][0].sub)), (320, 180)).start()
    assert _wait_live([w])
    os.kill(w._dec.proc.pid, signal.SIGKILL)
    t0 = time.monotonic()
    seen = set()
    while time.monotonic() - t0 < 15 and not (seen >= {"reconnecting"} and w.state == "live"):
        seen.add(w.state)
        w.slot.take()
        time.sleep(0.02)
    assert "reconnecting" in seen and w.state == "live" and pool.restarts == 1
    assert w.slot.take() is not None or (time.sleep(0.2) or w.slot.take() is not None)
    w.stop(timeout=5)


def test_a_missing_file_is_an_error_and_a_player_decodes_in_its_pool(pool, video_clips, tmp_path):
    bad = pool.worker(StreamSpec(str(tmp_path / "nothing.mp4")), (320, 180)).start()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10 and bad.state != "error":
        time.sleep(0.05)
    assert bad.state == "error" and "no such file" in bad.detail
    bad.stop(timeout=5)
    pair = video_clips["pairs"][1]
    streams = CameraStreams("cam", "cam", StreamSpec(str(pair.main), 1280, 720, "main"),
                            StreamSpec(str(pair.sub), 640, 360, "sub"))
    player = StreamPlayer(streams, (480, 270), pool=pool)
    try:
        assert type(player.worker).__name__ == "RemoteDecodeWorker" and player.spec.kind == "sub"
        t0 = time.monotonic()
        f = None
        while time.monotonic() - t0 < 10 and f is None:
            f = player.take()
            time.sleep(0.02)
        assert f is not None and player.state == "live"
    finally:
        player.stop()


def test_remote_stats_count_frames_due_and_dropped_on_the_same_clock():
    """The decoder reports once a second; the slot's counts are live. Frames due must move
    with the slot, or the scheduler sees a second of drops against no frames due."""
    import itertools
    from types import SimpleNamespace

    from desktop.core.video.procpool import RemoteDecodeWorker
    from desktop.core.video.worker import WorkerStats

    w = RemoteDecodeWorker(SimpleNamespace(_keys=itertools.count(1)), StreamSpec("clip.mp4"), (8, 4))
    path = create_slot_file(8 * 4 * 4)
    try:
        writer, w.slot = ShmSlotWriter(path), ShmSlotReader(path)
        # the decoder's last report: 30 due, 2 of them skipped late, 28 published
        w._child_stats = WorkerStats(frames_due=30, delivered=28, late_skipped=2)
        for seq in range(1, 29):
            writer.put(_frame(seq))
            w.slot.take()
        st = w.stats
        assert (st.frames_due, st.delivered, st.dropped) == (30, 28, 2)
        # a second later, before the next report: 25 more published, 5 of them never taken
        for seq in range(29, 54):
            writer.put(_frame(seq))
            if seq % 5:
                w.slot.take()
        st = w.stats
        assert st.delivered == 53 and st.frames_due == 55
        assert st.dropped == 2 + 5  # the newest waiting one is not dropped yet: 5 were replaced
        # the report catches up (the same frames): nothing moves
        w._child_stats = WorkerStats(frames_due=55, delivered=53, late_skipped=2)
        assert w.stats.frames_due == 55
        # a restarted decoder starts its counters from 0; the slot's run on
        w._child_stats = WorkerStats(frames_due=3, delivered=3)
        assert w.stats.frames_due == 53
    finally:
        os.unlink(path)


def test_stale_slot_files_of_dead_processes_are_swept():
    dead = slot_folder() / "pingan-frames-999999999-deadbeef0000"
    dead.write_bytes(b"x")
    mine = create_slot_file(64)
    try:
        assert sweep_stale_slot_files() >= 1
        assert not dead.exists() and mine.exists()
    finally:
        mine.unlink()
