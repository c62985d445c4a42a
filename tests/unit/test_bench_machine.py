"""The benchmarks' machine reference and hog processes, and the video ceiling arithmetic."""
import ast
import os
import time
from pathlib import Path

import pytest

from desktop.bench.machine import Hogs
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
