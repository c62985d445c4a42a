"""What machine a benchmark ran on: the reference workload (``machine_ref_ms``) and busy
"hog" processes that take cores away from the program.

``machine_ref_ms`` is the CPU time per frame of ``ffmpeg -threads 1`` decoding a fixed 720p
H.264 clip (1280×720, 25 fps, ~2 Mbit/s, 2 s GOP, no B-frames, generated once from
``testsrc2`` with noise and cached). A figure measured at ``machine_ref_ms`` 1.4 and one
measured at 2.4 are on machines whose single core differs by that ratio; every benchmark
prints it so figures from different PCs can be compared.

:class:`Hogs` starts N processes that spin on the CPU (each a plain ``python -c`` busy
loop) for as long as the benchmark runs: a core taken by another program, as on an
operator's PC running something else. They are separate processes, so they do not share our
interpreter lock; they are killed by their pid when the benchmark ends.
"""
from __future__ import annotations

import resource
import shutil
import subprocess
import sys

REF_CLIP_ARGS = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25,noise=alls=12:allf=t", "-t", "20",
                 "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2M", "-g", "50", "-keyint_min", "50",
                 "-sc_threshold", "0", "-bf", "0"]
REF_FRAMES = 500


def machine_ref_ms(runs: int = 3) -> float | None:
    """CPU ms per frame of ``ffmpeg -threads 1`` decoding the reference 720p clip (made once
    and cached); the best of ``runs``. None without ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    from desktop.paths import cache_dir
    clip = cache_dir() / "bench" / "ref-720p-testsrc2-noise.mp4"
    if not clip.exists():
        clip.parent.mkdir(parents=True, exist_ok=True)
        tmp = clip.with_suffix(".part.mp4")
        subprocess.run([exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *REF_CLIP_ARGS, str(tmp)],
                       check=True)
        tmp.rename(clip)
    best = None
    for _ in range(runs):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(clip),
                        "-f", "null", "-"], check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        best = cpu if best is None else min(best, cpu)
    return round(1000.0 * best / REF_FRAMES, 3)


_HOG = "import time\nwhile True:\n    sum(range(10000))\n"


class Hogs:
    """``n`` busy processes, each taking one core, while the ``with`` block runs."""

    def __init__(self, n: int):
        if n < 0:
            raise ValueError(f"--hog must be 0 or more, not {n}")
        self.n = n
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Hogs":
        for _ in range(self.n):
            self.procs.append(subprocess.Popen([sys.executable, "-c", _HOG], stdin=subprocess.DEVNULL))
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait(timeout=10)
        self.procs.clear()
