"""How a decode worker's failures count: the exceptions its packet loop raises, whether a
failure is the data's (``error``: retrying will not fix it soon) or the network's
(``reconnecting``, then ``offline``), and the message a tile shows, credentials redacted.

Qt-free. Used by :mod:`desktop.core.video.worker` (the state machine) and
:mod:`desktop.core.video.playback` (the packet loop).
"""
from __future__ import annotations

import re

from desktop.core.video.source import StreamSpec


class Disconnected(Exception):
    """The live source went away (end of stream on a network source)."""


class BadData(Exception):
    """The source delivers something we cannot show (no video, undecodable)."""


class Interrupted(Exception):
    """stop(), pause() or a restart request: leave the packet loop."""


def classify_error(exc: BaseException) -> str:
    """``"data"`` for problems retrying will not fix soon (garbage, no video stream, no
    decoder, 4xx), ``"net"`` for the rest (refused, reset, timeout, EOF, 5xx)."""
    import av.error as averr
    if isinstance(exc, BadData):
        return "data"
    if isinstance(exc, (averr.InvalidDataError, averr.DecoderNotFoundError, averr.PatchWelcomeError,
                        averr.HTTPClientError, averr.BugError)):
        return "data"
    if isinstance(exc, FileNotFoundError):
        return "data"
    return "net"


def is_stream_problem(exc: BaseException) -> bool:
    """True for what a stream can do to a worker (FFmpeg and OS errors, bad data, a
    disconnect); anything else is a bug of ours and deserves a traceback in the log."""
    import av.error
    return isinstance(exc, (av.error.FFmpegError, OSError, EOFError, BadData, Disconnected))


def judge(spec: StreamSpec, exc: BaseException, phase: str) -> tuple[str, str]:
    """(``"data"`` or ``"net"``, redacted message) for a failure of the latest connection to
    ``spec``; ``phase`` is ``"open"`` while the stream was being opened, else ``"play"``."""
    # a file that fails is a bad file: there is no server to come back
    kind = "data" if spec.is_file else classify_error(exc)
    msg = describe(spec, exc)
    if kind == "data" and phase == "open" and spec.is_live and isinstance(exc, ValueError):
        # FFmpeg says "invalid data" both when the server hangs and when it cannot serve
        # this stream; only a server that still answers means the stream is bad
        from desktop.core.video.source import rtsp_server_answers
        if not rtsp_server_answers(spec.url, min(2.0, spec.timeout_s)):
            kind = "net"
            msg = "no answer from the server (" + msg + ")"
    return kind, msg


def describe(spec: StreamSpec, exc: BaseException) -> str:
    """``exc`` as a short message: its class and text, without credentials or a file's folder."""
    text = str(exc) or type(exc).__name__
    # FFmpeg quotes the URL in its messages: hide credentials
    text = text.replace(spec.url, spec.safe_url())
    text = re.sub(r"//[^/@\s'\"]*@", "//***@", text)  # any other spelling of a user:password@
    if spec.is_file:
        text = text.replace(spec.path, spec.path.rsplit("/", 1)[-1])
    return f"{type(exc).__name__}: {text}"[:300]
