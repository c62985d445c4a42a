"""The clocks: real, and simulated (start time, speed factor, pause, cancellable waits)."""
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from desktop.core.clock import CHINA_TZ, Clock, RealClock, SimClock, iso, parse_iso


def test_real_clock_follows_wall_time():
    c = RealClock()
    assert isinstance(c, Clock)
    assert abs(c.time() - time.time()) < 0.5
    assert c.now().tzinfo is not None


def test_sim_clock_starts_at_its_start_and_runs_at_its_speed():
    start = datetime(2024, 6, 1, 9, 0, tzinfo=CHINA_TZ)
    c = SimClock(start, speed=20.0)
    assert abs(c.time() - start.timestamp()) < 1.0
    time.sleep(0.2)
    assert 3.0 <= c.elapsed() <= 30.0  # 0.2 s real × 20 (a loaded CI machine oversleeps)
    assert c.now().utcoffset() == timedelta(hours=8)


def test_sim_clock_pause_resume_advance_and_speed_change_keep_time():
    c = SimClock(1000.0, speed=10.0, paused=True)
    assert c.time() == 1000.0
    time.sleep(0.05)
    assert c.time() == 1000.0  # paused: stands still
    c.advance(30)
    assert c.time() == 1030.0  # stepping works while paused
    c.resume()
    time.sleep(0.1)
    t = c.time()
    assert 1030.5 < t < 1033.0
    c.set_speed(1.0)  # time already passed is kept
    assert abs(c.time() - t) < 0.2
    c.pause()
    frozen = c.time()
    time.sleep(0.05)
    assert c.time() == frozen
    c.set_time(5000.0)
    assert c.time() == 5000.0


@pytest.mark.parametrize("bad", [0, -1, "fast", None])
def test_sim_clock_rejects_bad_speed(bad):
    with pytest.raises(ValueError):
        SimClock(0.0, speed=bad)


def test_sim_sleep_until_honours_speed():
    c = SimClock(0.0, speed=50.0)
    t0 = time.monotonic()
    assert c.sleep_until(5.0)  # 5 simulated seconds at 50× = 0.1 s
    took = time.monotonic() - t0
    assert 0.08 <= took < 3.0
    assert c.time() >= 5.0


def test_sim_sleep_is_cancellable_and_wakes_on_resume():
    c = SimClock(0.0, speed=1.0, paused=True)
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    t0 = time.monotonic()
    assert c.sleep_until(10.0, cancel) is False
    assert time.monotonic() - t0 < 1.0

    woke = []
    th = threading.Thread(target=lambda: woke.append(c.sleep_until(2.0)))
    th.start()
    time.sleep(0.1)
    assert not woke  # paused: still waiting
    c.advance(2.0)  # the jump reaches the target
    th.join(2.0)
    assert woke == [True]


def test_real_clock_sleep_cancel():
    cancel = threading.Event()
    cancel.set()
    assert RealClock().sleep(5.0, cancel) is False


def test_iso_and_parse_iso():
    assert parse_iso("2024-06-01T01:00:00Z").timestamp() == datetime(2024, 6, 1, 1, tzinfo=timezone.utc).timestamp()
    assert parse_iso("2024-06-01T09:00:00+08:00") == parse_iso("2024-06-01T01:00:00Z")
    assert parse_iso("2024-06-01T09:00:00").utcoffset() == timedelta(hours=8)  # field devices omit the zone
    for bad in ("", "yesterday", "2024-13-01T00:00:00"):
        with pytest.raises(ValueError):
            parse_iso(bad)
    text = iso(0.0, timezone.utc)
    assert text.startswith("1970-01-01T00:00:00.000") and parse_iso(text).timestamp() == 0.0
