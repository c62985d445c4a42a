"""Demo clips: camera-like encoding parameters, deterministic choice, cache behaviour."""
from __future__ import annotations

import numpy as np
import pytest

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


def test_demo_streams_are_deterministic_and_spread(tmp_path):
    a = clips.demo_streams_for("HD00042", "A", folder=tmp_path)
    b = clips.demo_streams_for("HD00042", "B", folder=tmp_path)
    assert a.main == b.main and a.sub == b.sub
    variants = {clips.demo_streams_for(f"HD{i:05d}", "x", folder=tmp_path).extra["demo_variant"]
                for i in range(200)}
    assert variants == set(range(clips.DEFAULT_COUNT))


def test_ensure_reports_progress_and_reuses_the_cache(tmp_path):
    calls = []
    pairs = clips.ensure_demo_clips(lambda d, t: calls.append((d, t)), count=1, seconds=0.4, folder=tmp_path)
    assert pairs[0].exists() and calls[-1] == (10, 10)
    assert not list(tmp_path.glob("*.tmp*"))  # temp files renamed away
    calls.clear()
    clips.ensure_demo_clips(lambda d, t: calls.append((d, t)), count=1, seconds=0.4, folder=tmp_path)
    assert calls == [(0, 0)]


def test_missing_demo_clip_is_made_on_demand(tmp_path):
    pair = clips.clip_pair(3, 0.4, tmp_path)
    assert not pair.exists()
    assert clips.ensure_clip_for_path(str(pair.sub))
    assert pair.exists()
    assert not clips.ensure_clip_for_path(str(tmp_path / "someone-elses.mp4"))


def test_bitmap_font_covers_the_osd():
    m = clips.text_mask("CAM-01 2025-06-18 08:30:00", 2)
    assert m.shape == (14, 26 * 6 * 2) and m.any()
    y = np.full((60, 400), 128, np.uint8)
    clips.burn_text(y, "PIER 6", 5, 5, 3)
    assert (y == 235).any() and (y == 20).any()


@pytest.mark.parametrize("url", ["demo-v1-09-20s-main.mp4"])
def test_unknown_variant_names_are_not_generated(tmp_path, url):
    # variant numbers wrap modulo the variant count; the helper never raises
    assert clips.ensure_clip_for_path(str(tmp_path / "nope" / "x.mp4")) is False


def test_a_demo_stream_is_generated_by_the_worker_when_it_opens_it(tmp_path):
    """The decode thread runs the stream's own prepare step: the missing pair is made there."""
    from desktop.core.video.worker import DecodeWorker
    pair = clips.clip_pair(2, seconds=1.0, folder=tmp_path)
    streams = pair.streams("HD0002", "Pier")
    assert not pair.exists()
    w = DecodeWorker(streams.sub, (160, 90), realtime=False, loop=False)
    w.start()
    w.join()
    assert pair.exists()
    assert w.stats.decoded > 0, w.stats.last_error
