"""The plugins' background pool: a long job does not hold short ones behind it, and the extra
threads it needed end when the work is done."""
import threading
import time

from desktop.qt.host import _WorkPool


def test_short_work_runs_while_long_jobs_hold_the_core_threads():
    pool = _WorkPool(workers=2, max_workers=4, idle_s=0.2)
    release = threading.Event()
    long_jobs = [pool.submit(release.wait) for _ in range(2)]
    short = pool.submit(lambda: 42)
    assert short.result(timeout=5) == 42  # not behind the two long ones
    assert pool.busy()[0] == 3
    release.set()
    for f in long_jobs:
        assert f.result(timeout=5) is True
    deadline = time.time() + 5
    while pool.busy()[0] > 2 and time.time() < deadline:
        time.sleep(0.05)
    assert pool.busy() == (2, 2)  # the extra thread ended, the two core ones wait


def test_the_pool_never_grows_past_its_cap():
    pool = _WorkPool(workers=1, max_workers=3, idle_s=0.2)
    release = threading.Event()
    futs = [pool.submit(release.wait) for _ in range(6)]
    time.sleep(0.2)
    assert pool.busy()[0] == 3
    release.set()
    assert all(f.result(timeout=5) for f in futs)  # the queued ones ran on the capped threads
    deadline = time.time() + 5
    while pool.busy()[0] > 1 and time.time() < deadline:
        time.sleep(0.05)
    assert pool.busy() == (1, 1)
