"""bench bundle: the built one-folder program (``bash installer/build.sh`` first).

Reports what the folder weighs and how long the built program takes from being started to
its first painted map frame: cold (every file of the folder dropped from the page cache
first, with ``posix_fadvise(DONTNEED)`` — the system's own libraries and fonts stay cached,
as on a workstation that has booted) and warm (started again at once). The program is run
as a user runs it, with the offline demo, offscreen (``--xvfb``: on a virtual X display
through the xcb platform plugin, the X server started once before the runs, as a
workstation's is running before the program starts); ``PINGAN_REPORT_FIRST_FRAME`` makes it
print its own figure (interpreter start → first frame) and quit at the first frame.

``python -m desktop.bench bundle [--dist dist/pingan-desk] [--runs 3] [--xvfb] --json``
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from desktop.bench.machine import machine_ref_ms
from desktop.paths import ROOT


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of everything under ``folder`` (symlinks not followed)."""
    total = files = 0
    for dirpath, _dirs, names in os.walk(folder):
        for n in names:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                total += os.path.getsize(p)
                files += 1
    return total, files


def evict(folder: Path) -> int:
    """Drop the folder's files from the page cache (ours only, not the machine's)."""
    n = 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                continue
            try:
                fd = os.open(p, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                n += 1
            finally:
                os.close(fd)
    return n


class XServer:
    """A virtual X display started once for all the runs (a workstation's X server is running
    before anyone starts the program: its start-up is not the program's). Stopped by PID."""

    def __init__(self):
        self.proc = None
        self.display = ""

    def __enter__(self) -> "XServer":
        for n in range(90, 140):
            if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
                continue
            self.proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    self.display = f":{n}"
                    time.sleep(0.2)
                    return self
                time.sleep(0.05)
            self.__exit__()
        raise RuntimeError("could not start Xvfb on a free display")

    def __exit__(self, *_exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def start_once(exe: Path, env: dict, xvfb: bool, timeout: float = 60.0) -> dict:
    """Start the program, wait for its first-frame line; wall ms from spawn to that line
    (with ``xvfb``, ``env`` names the display already running)."""
    cmd = [str(exe)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    figure = None
    wall_ms = None
    try:
        deadline = t0 + timeout
        for line in proc.stdout:
            if line.startswith("{") and "startup_to_first_frame_ms" in line:
                wall_ms = (time.perf_counter() - t0) * 1000.0
                figure = json.loads(line)["startup_to_first_frame_ms"]
                break
            if time.perf_counter() > deadline:
                break
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return {"wall_ms": wall_ms, "internal_ms": figure, "rc": proc.returncode}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench bundle")
    ap.add_argument("--dist", default=str(ROOT / "dist" / "pingan-desk"))
    ap.add_argument("--runs", type=int, default=3, help="warm starts after the cold one")
    ap.add_argument("--xvfb", action="store_true", help="on a virtual X display (xcb) instead of offscreen")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    dist = Path(args.dist)
    exe = dist / ("pingan-desk.exe" if os.name == "nt" else "pingan-desk")
    if not exe.exists():
        print(f"bench bundle: {exe} not found; build it first: bash installer/build.sh", file=sys.stderr)
        return 2
    if args.xvfb and shutil.which("Xvfb") is None:
        print("bench bundle: --xvfb needs Xvfb (xvfb in scripts/apt-packages.txt)", file=sys.stderr)
        return 2
    size, files = folder_size(dist)
    _log(f"bundle {dist}: {size / 1e6:.0f} MB in {files} files")
    tmp = Path(tempfile.mkdtemp(prefix="pingan-bench-bundle-"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PINGAN_LANG")}
    env.update(PINGAN_REPORT_FIRST_FRAME="1", PINGAN_CONFIG=str(tmp / "config"), PINGAN_DATA=str(tmp / "data"),
               PINGAN_AUDIO_DEVICE="null")
    if not args.xvfb:
        env["QT_QPA_PLATFORM"] = "offscreen"
    else:
        env.pop("QT_QPA_PLATFORM", None)
    import contextlib
    with XServer() if args.xvfb else contextlib.nullcontext() as xs:
        if xs is not None:
            env["DISPLAY"] = xs.display
        start_once(exe, env, args.xvfb)  # the first start writes the user's folders: not measured
        evicted = evict(dist)
        cold = start_once(exe, env, args.xvfb)
        _log(f"cold start ({evicted} files evicted): {cold}")
        warm = [start_once(exe, env, args.xvfb) for _ in range(max(args.runs, 1))]
        _log(f"warm starts: {warm}")
    ok = cold["wall_ms"] is not None and all(w["wall_ms"] is not None for w in warm)
    warm_ms = [w["wall_ms"] for w in warm if w["wall_ms"] is not None]
    result = {
        "bench": "bundle",
        "platform": "xcb (Xvfb)" if args.xvfb else "offscreen",
        "size_mb": round(size / 1e6, 1),
        "size_mib": round(size / 2**20, 1),
        "files": files,
        "cold_start_to_map_ms": round(cold["wall_ms"], 1) if cold["wall_ms"] else None,
        "cold_internal_first_frame_ms": cold["internal_ms"],
        "warm_start_to_map_ms_p50": round(statistics.median(warm_ms), 1) if warm_ms else None,
        "warm_internal_first_frame_ms": [w["internal_ms"] for w in warm],
        "targets": {"size_mb": 350, "cold_start_to_map_ms": 3000},
        "machine_ref_ms": machine_ref_ms(),
        "ok": ok,
    }
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    return 0 if ok else 1
