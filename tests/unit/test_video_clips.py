"""Demo clips: camera-like encoding parameters, cache behaviour, the on-screen display font.
(Which camera plays which clip, and who makes it when: tests/unit/test_video_demo_cameras.py.)"""
from __future__ import annotations

import numpy as np

from desktop.core.video import clips


def test_clip_pairs_look_like_camera_streams(video_clips):
    import av
    pair = video_clips["pairs"][0]
    for path, size, kbps in ((pair.main, (1280, 720), 2000), (pair.sub, (640, 360), 512)):
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            assert (s.codec_context.width, s.codec_context.height) == size
            assert s.codec_context.name == "h264" and float(s.average_rate) == 25
            keys, n = [], 0
            for pkt in c.demux(s):
                if pkt.size == 0:
                    continue
                if pkt.is_keyframe:
                    keys.append(n)
                n += 1
            assert n == 150  # 6 s at 25 fps
            assert keys == [0, 50, 100]  # 2 s GOP, no scene-cut key frames
            rate = path.stat().st_size * 8 / 6 / 1000
            assert 0.6 * kbps < rate < 1.4 * kbps, rate


def test_ensure_reports_progress_and_reuses_the_cache(tmp_path):
    calls = []
    pairs = clips.ensure_demo_clips(lambda d, t: calls.append((d, t)), count=1, seconds=0.4, folder=tmp_path)
    assert pairs[0].exists() and calls[-1] == (10, 10)
    assert not list(tmp_path.glob("*.tmp*"))  # temp files renamed away
    calls.clear()
    clips.ensure_demo_clips(lambda d, t: calls.append((d, t)), count=1, seconds=0.4, folder=tmp_path)
    assert calls == [(0, 0)]


def test_bitmap_font_covers_the_osd():
    from desktop.core.video import clip_scene
    m = clip_scene.text_mask("CAM-01 2025-06-18 08:30:00", 2)
    assert m.shape == (14, 26 * 6 * 2) and m.any()
    y = np.full((60, 400), 128, np.uint8)
    clip_scene.burn_text(y, "PIER 6", 5, 5, 3)
    assert (y == 235).any() and (y == 20).any()


def test_unfinished_clip_files_of_a_gone_process_are_swept(tmp_path):
    import os
    import subprocess
    import sys

    from desktop.core.video.clips import sweep_stale_temp_files
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer runs
    stale = tmp_path / f"demo-v1-01-8s-main.mp4.tmp{gone.pid}-1234.mp4"
    mine = tmp_path / f"demo-v1-02-8s-main.mp4.tmp{os.getpid()}-99.mp4"  # this process: may be under way
    done = tmp_path / "demo-v1-01-8s-main.mp4"
    for p in (stale, mine, done):
        p.write_bytes(b"x")
    assert sweep_stale_temp_files(tmp_path) == 1
    assert not stale.exists() and mine.exists() and done.exists()
