"""The benchmarks' machine reference and hog processes, and the video ceiling arithmetic."""
import ast
import os
import time
from pathlib import Path

import pytest

import subprocess
import sys

from desktop.bench import machine
from desktop.bench.machine import Hogs, Slowdown
from desktop.bench.video import ceiling_tiles

BENCH = Path(__file__).resolve().parents[2] / "desktop" / "bench"
# modules of desktop/bench that are helpers, not benchmarks
HELPERS = {"__init__", "__main__", "machine", "mosquitto", "rtsp_server"}


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_hog_takes_a_core_and_goes_away():
    with Hogs(1) as hogs:
        (proc,) = hogs.procs
        time.sleep(0.3)
        t0 = _cpu_ticks(proc.pid)
        time.sleep(0.6)
        busy = (_cpu_ticks(proc.pid) - t0) / os.sysconf("SC_CLK_TCK")
        assert busy > 0.2, f"the hog used only {busy:.2f} s of CPU in 0.6 s"
    assert proc.poll() is not None and not hogs.procs


def test_hog_count_must_not_be_negative():
    with pytest.raises(ValueError, match="--hog"):
        Hogs(-1)


def test_slowdown_takes_the_share_that_makes_the_reference_as_slow_as_the_target():
    assert Slowdown(2.4, 1.2).busy_share == pytest.approx(0.5)
    assert Slowdown(3.0, 2.4).busy_share == pytest.approx(0.2)
    assert Slowdown(2.0, 2.4).busy_share == 0.0  # already slower: nothing to take
    assert Slowdown(None, 1.5).busy_share == 0.0 and Slowdown(None, 1.5).report() == {}
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="--slow-to"):
            Slowdown(bad, 1.5)
    with pytest.raises(RuntimeError, match="ffmpeg"):
        Slowdown(2.4, None)
    with pytest.raises(ValueError, match="more than 4x slower than this machine"):
        Slowdown(10.0, 1.5)  # would take 85 % of every core
    assert Slowdown(6.0, 1.5).busy_share == pytest.approx(0.75)  # 4x: still allowed


def _slowing(monkeypatch, share: float, overshoot: float = 1.0) -> Slowdown:
    """A started Slowdown whose reference workload is simulated (no ffmpeg in a unit test): 1 ms
    a frame unslowed, and ``overshoot`` × what the share predicts while the slowing processes run."""
    holder = []

    def fake_now(runs=3):
        s = holder[0] if holder else None
        return 1.0, (1.0 if s is None or not s.procs else overshoot / (1.0 - s.busy_share))
    monkeypatch.setattr(machine, "ref_now_ms", fake_now)
    slow = Slowdown(1.0 / (1.0 - share), 1.0)
    holder.append(slow)
    try:
        return slow.start()
    except RuntimeError as exc:
        if "permission" in str(exc):
            pytest.skip(str(exc))
        raise


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="realtime processes pinned to a core: Linux")
def test_slowdown_runs_one_realtime_process_pinned_to_each_core_and_ends_them(monkeypatch):
    slow = _slowing(monkeypatch, 0.1)
    try:
        cpus = sorted(os.sched_getaffinity(0))
        assert len(slow.procs) == len(cpus)
        for cpu, p in zip(cpus, slow.procs):
            assert p.poll() is None
            assert os.sched_getscheduler(p.pid) == os.SCHED_FIFO
            assert os.sched_getaffinity(p.pid) == {cpu}
        assert slow.report() == {"slow_to_ms": pytest.approx(1.0 / 0.9), "slowdown_busy_share": pytest.approx(0.1),
                                 "ref_now_ms": 1.0, "ref_wall_ms": 1.0, "slowed_ref_wall_ms": pytest.approx(1.0 / 0.9),
                                 "slowed_ref_wall_ms_wanted": pytest.approx(1.0 / 0.9, abs=1e-3)}
    finally:
        slow.stop()
    assert not slow.procs


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="realtime processes pinned to a core: Linux")
def test_slowdown_corrects_its_share_until_the_reference_comes_out_as_slow_as_wanted(monkeypatch):
    # the slowing processes slow the reference 10 % more than their share says: the share shrinks
    slow = _slowing(monkeypatch, 0.2, overshoot=1.1)
    try:
        rep = slow.report()
        assert rep["slowed_ref_wall_ms_wanted"] == pytest.approx(1.25, abs=1e-3)
        assert rep["slowed_ref_wall_ms"] == pytest.approx(1.25, rel=Slowdown.CALIBRATE_TOLERANCE)
        assert rep["slowdown_busy_share"] < 0.2
        assert len(slow.procs) == len(os.sched_getaffinity(0))  # the first ones were replaced, not added to
    finally:
        slow.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="realtime processes pinned to a core: Linux")
def test_a_slowing_process_ends_by_itself_when_its_benchmark_is_gone(monkeypatch):
    """A benchmark killed without cleaning up must not leave the machine slowed."""
    code = ("import os, sys\n"
            "from desktop.bench import machine\n"
            "machine.ref_now_ms = lambda runs=3: (1.0, 1.0)\n"
            "try:\n"
            "    slow = machine.Slowdown(1.0 / 0.9, 1.0).start()\n"
            "except RuntimeError as exc:\n"
            "    print('skip', exc, flush=True); sys.exit(0)\n"
            "print(' '.join(str(p.pid) for p in slow.procs), flush=True)\n"
            "os._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[2])
    line = out.stdout.strip()
    assert line, out.stderr
    if line.startswith("skip"):
        pytest.skip(line)
    pids = [int(x) for x in line.split()]
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.05)
    assert all(_gone(p) for p in pids), f"slowing processes {pids} outlived their parent"


def test_every_benchmark_reports_machine_ref_ms():
    """A benchmark module (one with a main) imports the shared reference and puts it in its JSON."""
    for path in sorted(BENCH.glob("*.py")):
        if path.stem in HELPERS:
            continue
        tree = ast.parse(path.read_text())
        if not any(isinstance(n, ast.FunctionDef) and n.name == "main" for n in tree.body):
            continue
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "desktop.bench.machine"
                   and any(a.name == "machine_ref_ms" for a in n.names)]
        assert imports, f"{path.name}: does not import machine_ref_ms from desktop.bench.machine"
        assert '"machine_ref_ms"' in path.read_text(), f"{path.name}: no machine_ref_ms key in its result"


def test_ceiling_tiles():
    # two cores, 0.5 ms a frame at 25 fps: 2000 ms of CPU a second / 12.5 ms a tile-second
    assert ceiling_tiles(2, 0.5) == pytest.approx(160.0)
    assert ceiling_tiles(2, 1.6) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="ffmpeg ms"):
        ceiling_tiles(2, 0.0)


@pytest.mark.parametrize("bench", ["alarms", "map"])
def test_benchmarks_with_times_for_targets_take_slow_to_and_refuse_a_bad_one(bench, monkeypatch, capsys):
    import importlib
    monkeypatch.setattr(machine, "machine_ref_ms", lambda runs=3: 1.5)
    main = importlib.import_module(f"desktop.bench.{bench}").main
    assert main(["--slow-to", "-2"]) == 2
    assert "--slow-to must be a machine_ref_ms above 0, not -2.0" in capsys.readouterr().err
