#!/usr/bin/python3
"""A small RTSP server for tests and the video benchmark: Debian's GStreamer RTSP server
serving raw H.264 (Annex-B) files in a loop, like cameras.

Run it with Debian's ``/usr/bin/python3`` (python3-gi is not in the venv)::

    /usr/bin/python3 desktop/bench/rtsp_server.py --port 8554 \
        --mount cam1=/path/main.h264 --mount cam1s=/path/sub.h264

Each ``--mount NAME=FILE`` is served at ``rtsp://HOST:PORT/NAME``. When the server listens it
prints ``READY <port>`` on stdout. Stop it with SIGTERM/SIGINT (or kill it; tests do).

Method (FIELD-NOTES §4): ``multifilesrc loop=true`` → ``h264parse`` → ``rtph264pay
config-interval=1``. h264parse gives only DTS on a raw file, so a buffer probe on its source
pad copies DTS into PTS; without it the server bursts at hundreds of fps and clients take
seconds to open. Media are shared by default: a second viewer joins the running stream (and
waits for its next key frame), as with a real camera.

This file must not import anything from the project (it runs outside the venv).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def _pts_from_dts(_pad, info):
    buf = info.get_buffer()
    if buf is not None and buf.pts == Gst.CLOCK_TIME_NONE and buf.dts != Gst.CLOCK_TIME_NONE:
        buf.pts = buf.dts
    return Gst.PadProbeReturn.OK


def _on_media_configure(_factory, media):
    element = media.get_element()
    parse = element.get_by_name("parse")
    if parse is not None:
        parse.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, _pts_from_dts)


def make_factory(path: str, fps: int, shared: bool) -> GstRtspServer.RTSPMediaFactory:
    factory = GstRtspServer.RTSPMediaFactory()
    loc = path.replace("\\", "/").replace('"', '\\"')
    factory.set_launch(
        f'( multifilesrc location="{loc}" loop=true '
        f'caps="video/x-h264,stream-format=byte-stream,framerate={fps}/1" '
        f"! h264parse name=parse ! rtph264pay name=pay0 pt=96 config-interval=1 )")
    factory.set_shared(shared)
    factory.connect("media-configure", _on_media_configure)
    return factory


def main(argv=None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
