"""What machine a benchmark ran on: the reference workload (``machine_ref_ms``) and busy
"hog" processes that take cores away from the program, and a slowdown that makes the
machine as slow as a slower one.

``machine_ref_ms`` is the CPU time per frame of ``ffmpeg -threads 1`` decoding a fixed 720p
H.264 clip (1280×720, 25 fps, ~2 Mbit/s, 2 s GOP, no B-frames, generated once from
``testsrc2`` with noise and cached). A figure measured at ``machine_ref_ms`` 1.4 and one
measured at 2.4 are on machines whose single core differs by that ratio; every benchmark
prints it so figures from different PCs can be compared.

:class:`Hogs` starts N processes that spin on the CPU (each a plain ``python -c`` busy
loop) for as long as the benchmark runs: a core taken by another program, as on an
operator's PC running something else. They are separate processes, so they do not share our
interpreter lock; they are killed by their pid when the benchmark ends.

:class:`Slowdown` makes this machine behave like a slower one of its class for the
benchmarks whose targets are times (``--slow-to MS`` of the map and alarm benchmarks): one
realtime process per core takes the share ``1 - machine_ref_ms / MS`` of every millisecond
of that core (a busy wait, then a sleep to the next millisecond), so everything else on the
core runs at the speed of a machine whose ``machine_ref_ms`` is ``MS``, in the small: a
message handled in 2 ms takes 2 ms × MS / ref of wall time, as it would on the slower CPU.
A CPU quota (cgroups) would not do this: it lets a program run at full speed until its
budget for the period is spent, so a program using less than its quota is not slowed at
all. What the slowed machine really gives is checked, corrected and reported: the
reference workload's *wall* time per frame with the slowdown running (``slowed_ref_wall_ms``;
its CPU time does not change: the time is taken from it, not made dearer) should be ``MS`` ×
the wall/CPU ratio measured just before (``slowed_ref_wall_ms_wanted``), and the share is
corrected until it is, within 5 %, at most twice (the slowing processes cost their cores a
little more than their share, and a shared host drifts between measurements). Needs
permission to run a realtime process (root, or CAP_SYS_NICE); each slowing process ends by
itself when its parent is gone.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time

REF_CLIP_ARGS = ["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=25,noise=alls=12:allf=t", "-t", "20",
                 "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2M", "-g", "50", "-keyint_min", "50",
                 "-sc_threshold", "0", "-bf", "0"]
REF_FRAMES = 500


def _ref_clip(exe: str):
    from desktop.paths import cache_dir
    clip = cache_dir() / "bench" / "ref-720p-testsrc2-noise.mp4"
    if not clip.exists():
        clip.parent.mkdir(parents=True, exist_ok=True)
        tmp = clip.with_suffix(".part.mp4")
        subprocess.run([exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *REF_CLIP_ARGS, str(tmp)],
                       check=True)
        tmp.rename(clip)
    return clip


def _ref_decodes(runs: int) -> list[tuple[float, float]] | None:
    """(CPU s, wall s) of each of ``runs`` decodes of the reference clip by ``ffmpeg -threads
    1`` (the clip made once and cached); None without ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    clip = _ref_clip(exe)
    out = []
    for _ in range(runs):
        r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "1", "-i", str(clip),
                        "-f", "null", "-"], check=True)
        wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
        out.append(((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime), wall))
    return out


def machine_ref_ms(runs: int = 3) -> float | None:
    """CPU ms per frame of ``ffmpeg -threads 1`` decoding the reference 720p clip (made once
    and cached); the best of ``runs``. None without ffmpeg."""
    runs_done = _ref_decodes(runs)
    return None if runs_done is None else round(1000.0 * min(c for c, _w in runs_done) / REF_FRAMES, 3)


def ref_now_ms(runs: int = 3) -> tuple[float, float] | None:
    """(CPU ms, wall ms) a frame of the reference workload, each the best of ``runs``, from
    the same runs: a :class:`Slowdown` shows in the wall time (the CPU time does not change:
    the time is taken from the workload, not made dearer). None without ffmpeg."""
    runs_done = _ref_decodes(runs)
    if runs_done is None:
        return None
    return (round(1000.0 * min(c for c, _w in runs_done) / REF_FRAMES, 3),
            round(1000.0 * min(w for _c, w in runs_done) / REF_FRAMES, 3))


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


# One per core: pinned to it, realtime (so it takes its share the moment it is due, whatever
# else the core runs), busy for ``busy`` of every ``period`` seconds. It ends when its parent
# is gone, so a benchmark that crashes does not leave the machine slowed.
_SLOW = r"""
import os, sys, time
cpu, busy, period, parent = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
os.sched_setaffinity(0, {cpu})
try:
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
except PermissionError:
    sys.exit(3)
print("ready", flush=True)
mono = time.monotonic
t = mono()
n = 0
while True:
    end = t + busy
    while mono() < end:
        pass
    t += period
    n += 1
    if n % 100 == 0 and os.getppid() != parent:
        break
    d = t - mono()
    if d > 0:
        time.sleep(d)
    else:
        t = mono()
"""


class Slowdown:
    """Make every core of this machine as slow as one whose ``machine_ref_ms`` is
    ``target_ms`` (see the module docstring), while the ``with`` block runs. ``ref_ms`` is
    this machine's own figure; a machine already that slow is left alone (``busy_share`` 0).
    Raises :class:`RuntimeError` naming what is missing when realtime processes cannot run."""

    PERIOD_S = 0.001
    #: at most this share of every core is taken (a machine up to 4x slower)
    MAX_BUSY_SHARE = 0.75
    #: corrections of the share after measuring the slowed reference, and the error accepted
    CALIBRATE_ROUNDS = 2
    CALIBRATE_TOLERANCE = 0.05

    def __init__(self, target_ms: float | None, ref_ms: float | None):
        if target_ms is not None and not (target_ms > 0):
            raise ValueError(f"--slow-to must be a machine_ref_ms above 0, not {target_ms}")
        if target_ms is not None and ref_ms is None:
            raise RuntimeError("--slow-to needs ffmpeg, to measure this machine's machine_ref_ms")
        self.target_ms = target_ms
        self.ref_ms = ref_ms
        self.busy_share = self._share(target_ms, ref_ms)
        self.procs: list[subprocess.Popen] = []
        # the reference's wall time before the slowdown and with it (measured by start)
        self.ref_wall_ms: float | None = None
        self.slowed_ref_wall_ms: float | None = None
        self.want_wall_ms: float | None = None  # what the slowed reference should come out at

    def _share(self, target_ms: float | None, ref_ms: float | None) -> float:
        share = 0.0 if target_ms is None else max(0.0, 1.0 - ref_ms / target_ms)
        if share > self.MAX_BUSY_SHARE:
            # beyond this the machine is mostly the slowing processes' (and the kernel lets
            # realtime work take at most 95 % of a core): no longer a slower PC, a frozen one
            raise ValueError(f"--slow-to {target_ms} is more than {1 / (1 - self.MAX_BUSY_SHARE):.0f}x slower "
                             f"than this machine (machine_ref_ms {ref_ms}); it would take "
                             f"{100 * share:.0f} % of every core")
        return share

    def __enter__(self) -> "Slowdown":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "Slowdown":
        """Start the slowing processes (none when there is nothing to slow), then check what
        they made of the reference and correct the share up to :attr:`CALIBRATE_ROUNDS` times:
        the wall time a frame should come out at ``target_ms`` × this machine's wall/CPU ratio
        (within :attr:`CALIBRATE_TOLERANCE`). The correction is for what a share does not
        foresee: the slowing processes' own cost to the core, and a machine that has drifted
        since ``machine_ref_ms`` was measured (a shared host's neighbours)."""
        if self.target_ms is None:
            return self
        now = ref_now_ms()
        if now is not None:
            # the machine as it is now (a shared host drifts): the share and the wall time to aim
            # at come from the same runs, CPU and wall
            self.ref_ms, self.ref_wall_ms = now
            self.busy_share = self._share(self.target_ms, self.ref_ms)
        self.slowed_ref_wall_ms = self.ref_wall_ms
        if self.busy_share <= 0.0:
            return self
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if not cpus:
            raise RuntimeError("--slow-to needs a system that can pin a process to a core (Linux)")
        self.want_wall_ms = round(self.target_ms * self.ref_wall_ms / self.ref_ms, 3)
        try:
            self._spawn(cpus)
            # what the slowdown makes of the reference, before the benchmark's own processes run
            self.slowed_ref_wall_ms = self._slowed_wall()
            for _ in range(self.CALIBRATE_ROUNDS):
                ratio = self.slowed_ref_wall_ms / self.want_wall_ms
                if abs(ratio - 1.0) <= self.CALIBRATE_TOLERANCE:
                    break
                # the share left to the program scales the wall time inversely
                share = min(self.MAX_BUSY_SHARE, max(0.0, 1.0 - (1.0 - self.busy_share) * ratio))
                if abs(share - self.busy_share) < 0.005:
                    break
                self.busy_share = share
                self.stop()
                self._spawn(cpus)
                self.slowed_ref_wall_ms = self._slowed_wall()
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _slowed_wall() -> float | None:
        now = ref_now_ms()
        return None if now is None else now[1]

    def _spawn(self, cpus: list[int]) -> None:
        busy = self.busy_share * self.PERIOD_S
        for cpu in cpus:
            p = subprocess.Popen([sys.executable, "-c", _SLOW, str(cpu), repr(busy), repr(self.PERIOD_S),
                                  str(os.getpid())], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            self.procs.append(p)
            if p.stdout.readline().strip() != "ready":
                code = p.wait(timeout=10)
                raise RuntimeError("--slow-to needs permission to run a realtime process (root or CAP_SYS_NICE)"
                                   if code == 3 else f"the slowing process for core {cpu} ended (exit {code})")

    def stop(self) -> None:
        """End the slowing processes (by their pid)."""
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait(timeout=10)
            if p.stdout is not None:
                p.stdout.close()
        self.procs.clear()

    def report(self) -> dict:
        """What a benchmark adds to its JSON: the target, the share taken, and the reference
        workload's wall time per frame without and with the slowdown (measured as it started)."""
        if self.target_ms is None:
            return {}
        return {"slow_to_ms": self.target_ms, "slowdown_busy_share": round(self.busy_share, 3),
                "ref_now_ms": self.ref_ms, "ref_wall_ms": self.ref_wall_ms,
                "slowed_ref_wall_ms": self.slowed_ref_wall_ms, "slowed_ref_wall_ms_wanted": self.want_wall_ms}


def run_loaded(name: str, args, ref_ms: float | None, run):
    """``run(args)`` while ``args.hog`` hogs run and, with ``args.slow_to``, a
    :class:`Slowdown`: the benchmark's result dict with the slowdown's :meth:`~Slowdown.report`
    added, or an exit code (``run``'s own, or 2 when the slowdown cannot start: the reason
    goes to stderr, prefixed with ``bench NAME``)."""
    try:
        slow = Slowdown(getattr(args, "slow_to", None), ref_ms).start()
    except (RuntimeError, ValueError) as exc:
        print(f"bench {name}: {exc}", file=sys.stderr)
        return 2
    try:
        with Hogs(args.hog):
            result = run(args)
        if not isinstance(result, int):
            result.update(slow.report())
        return result
    finally:
        slow.stop()
