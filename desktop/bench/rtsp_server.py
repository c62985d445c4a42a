#!/usr/bin/python3
"""A small RTSP server for tests and the video benchmark: Debian's GStreamer RTSP server
serving raw H.264 (Annex-B) files in a loop, like cameras.

Run it with Debian's ``/usr/bin/python3`` (python3-gi is not in the venv)::

    /usr/bin/python3 desktop/bench/rtsp_server.py --port 8554 \
        --mount cam1=/path/main.h264 --mount cam1s=/path/sub.h264

Each ``--mount NAME=FILE`` is served at ``rtsp://HOST:PORT/NAME``. When the server listens it
prints ``READY <port>`` on stdout. Stop it with SIGTERM/SIGINT (or kill it; tests do).

Method: ``multifilesrc loop=true`` → ``h264parse`` → ``rtph264pay
config-interval=1``. h264parse gives only DTS on a raw file, so a buffer probe on its source
pad copies DTS into PTS; without it the server bursts at hundreds of fps and clients take
seconds to open. Media are shared by default: a second viewer joins the running stream (and
waits for its next key frame), as with a real camera.

From the venv, :class:`RtspServer` starts and controls such a process (tests and the video
benchmark use it): start on a free port and wait until it answers, stop by PID, freeze
(SIGSTOP), thaw (SIGCONT), kill -9 and restart on the same port.

This file imports only the standard library at module level and nothing from the project
(it runs outside the venv); GStreamer is imported inside :func:`serve`.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

SYSTEM_PYTHON = os.environ.get("PINGAN_GST_PYTHON", "/usr/bin/python3")


def _pts_from_dts(_pad, info):
    from gi.repository import Gst
    buf = info.get_buffer()
    if buf is not None and buf.pts == Gst.CLOCK_TIME_NONE and buf.dts != Gst.CLOCK_TIME_NONE:
        buf.pts = buf.dts
    return Gst.PadProbeReturn.OK


def _on_media_configure(_factory, media):
    from gi.repository import Gst
    element = media.get_element()
    parse = element.get_by_name("parse")
    if parse is not None:
        parse.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, _pts_from_dts)


def make_factory(path: str, fps: int, shared: bool):
    from gi.repository import GstRtspServer
    factory = GstRtspServer.RTSPMediaFactory()
    loc = path.replace("\\", "/").replace('"', '\\"')
    factory.set_launch(
        f'( multifilesrc location="{loc}" loop=true '
        f'caps="video/x-h264,stream-format=byte-stream,framerate={fps}/1" '
        f"! h264parse name=parse ! rtph264pay name=pay0 pt=96 config-interval=1 )")
    factory.set_shared(shared)
    factory.connect("media-configure", _on_media_configure)
    return factory


def serve(argv=None) -> int:
    """The server process (run by Debian's python3)."""
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8554, help="0 picks a free port")
    ap.add_argument("--mount", action="append", default=[], metavar="NAME=FILE",
                    help="serve FILE (raw H.264, Annex-B) at /NAME; repeatable")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--not-shared", action="store_true", help="one pipeline per viewer")
    args = ap.parse_args(argv)
    if not args.mount:
        ap.error("at least one --mount NAME=FILE")

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    # one thread per client: by default a single thread serves everyone, and a mount whose
    # media never prerolls (a corrupt file) would hang the whole server
    server.get_thread_pool().set_max_threads(64)
    mounts = server.get_mount_points()
    for item in args.mount:
        name, _, path = item.partition("=")
        if not path:
            ap.error(f"bad --mount {item!r}: expected NAME=FILE")
        mounts.add_factory("/" + name.strip("/"), make_factory(path, args.fps, not args.not_shared))
    if server.attach(None) == 0:
        print(f"cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 3
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    try:
        loop.run()
    finally:
        # sessions are torn down with the process; nothing to flush
        pass
    return 0


def main(argv=None) -> int:
    return serve(argv)


# --------------------------------------------------------------------------------------------
# controlling a server process from the venv
# --------------------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gst_rtsp_available() -> str:
    """Empty string when the server can run here, else the reason it cannot."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    res = subprocess.run([SYSTEM_PYTHON, "-c",
                          "import gi; gi.require_version('Gst','1.0'); gi.require_version('GstRtspServer','1.0');"
                          "from gi.repository import Gst, GstRtspServer"],
                         capture_output=True, text=True, timeout=30, env=_clean_env())
    return "" if res.returncode == 0 else f"GStreamer RTSP server not importable: {res.stderr.strip()[-200:]}"


def rtsp_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when an RTSP OPTIONS request gets an ``RTSP/1.0 200`` reply."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(f"OPTIONS rtsp://{host}:{port}/ RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            return s.recv(64).startswith(b"RTSP/1.0 200")
    except OSError:
        return False


def _clean_env() -> dict:
    # the system interpreter must not see the venv
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


class RtspServer:
    """A server process: ``start``, ``stop`` (by PID), ``kill`` (SIGKILL), ``freeze``
    (SIGSTOP), ``thaw`` (SIGCONT), ``restart`` (same port). ``url(mount)`` builds stream URLs.

    ``mounts`` maps a mount name to a raw H.264 (Annex-B) file.
    """

    def __init__(self, mounts: dict, host: str = "127.0.0.1", port: int | None = None,
                 shared: bool = True, log_path: Path | None = None):
        self.mounts = {k: Path(v) for k, v in mounts.items()}
        self.host = host
        self.port = port or free_port()
        self.shared = shared
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def url(self, mount: str, user: str | None = None, password: str | None = None) -> str:
        cred = f"{user}:{password}@" if user else ""
        return f"rtsp://{cred}{self.host}:{self.port}/{mount}"

    def start(self, timeout: float = 15.0) -> "RtspServer":
        """Launch and wait until it prints READY and answers OPTIONS."""
        cmd = [SYSTEM_PYTHON, str(Path(__file__).resolve()), "--host", self.host, "--port", str(self.port)]
        for name, path in self.mounts.items():
            cmd += ["--mount", f"{name}={path}"]
        if not self.shared:
            cmd.append("--not-shared")
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, env=_clean_env())
        ready = threading.Event()
        box: list = []

        def read_ready():
            box.append(self.proc.stdout.readline())
            ready.set()

        threading.Thread(target=read_ready, daemon=True).start()
        deadline = time.monotonic() + timeout
        if not ready.wait(timeout) or not box or not box[0].startswith(b"READY"):
            self.stop()
            raise RuntimeError(f"RTSP server did not start: {box!r}")
        while time.monotonic() < deadline:
            if rtsp_answers(self.host, self.port, 0.5):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("RTSP server started but does not answer OPTIONS")

    def _signal(self, sig) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def freeze(self) -> None:
        """SIGSTOP: the process hangs with its sockets open (a stalled camera)."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: the server dies at once, like a camera losing power."""
        if self.proc is None:
            return
        self._signal(signal.SIGKILL)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._close_pipes()

    def restart(self, timeout: float = 15.0) -> "RtspServer":
        """Start again on the same port (after :meth:`kill`)."""
        if self.proc is not None and self.proc.poll() is None:
            self.stop()
        deadline = time.monotonic() + timeout
        while True:  # the port may linger briefly
            try:
                return self.start(max(1.0, deadline - time.monotonic()))
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop by PID: SIGCONT (in case it is frozen), SIGTERM, then SIGKILL."""
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                p.terminate()
                p.wait(3)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    p.kill()
                    p.wait(3)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    sys.exit(serve())
