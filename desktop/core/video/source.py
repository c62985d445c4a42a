"""Stream sources: what a camera offers (main and sub stream), which one a tile should show,
and how a URL is opened (RTSP over TCP or UDP, or a local file played as pseudo-live).

Qt-free. Nothing here decodes; :mod:`desktop.core.video.worker` does.

Credentials often sit in camera URLs (``rtsp://admin:secret@10.0.0.5/...``). Anything that
shows or logs a URL goes through :func:`redact_url` first.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

StreamKind = Literal["main", "sub"]

#: Assumed sizes when a camera's configuration does not say: typical IP-camera defaults.
#: Only used to choose between main and sub; the decoder learns the real size when it opens.
DEFAULT_MAIN_SIZE = (1920, 1080)
DEFAULT_SUB_SIZE = (640, 360)

#: Seconds a blocked network read may take before FFmpeg gives up (docs/field.md, *Video decoding: network*: the error
#: arrives after about two of these).
DEFAULT_TIMEOUT_S = 3.0

_SECRET_KEYS = {"password", "passwd", "pwd", "pass", "token", "access_token", "auth", "key",
                "apikey", "api_key", "secret", "signature", "sig", "user", "username", "usr"}



#: a worker's detail while it waits for its stream's file (``StreamSpec.ready``) to be made
WAITING_FOR_FILE = "waiting for the clip to be made"

def redact_url(url: str) -> str:
    """``url`` with any user:password part and secret-looking query values replaced by ``***``.

    Safe on anything (paths, garbage, empty strings): what cannot be parsed is returned with
    a regex pass that still hides ``//user:pass@``.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@\s]*@", "//***@", url)
    if not parts.scheme or parts.scheme.lower() in ("file",) or len(parts.scheme) == 1:
        # plain paths (and Windows drive letters, which urlsplit takes for a scheme)
        return re.sub(r"//[^/@\s]*@", "//***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_KEYS for k, _ in pairs):
            query = urlencode([(k, "***" if k.lower() in _SECRET_KEYS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class StreamSpec:
    """One stream of a camera: its URL, its picture size when known, and whether it is the
    camera's main (full resolution) or sub (small, cheap) stream.

    ``transport`` applies to RTSP only: ``"tcp"`` (default: survives NAT and loss without
    smearing) or ``"udp"``. A URL without a network scheme is a local file, played as
    pseudo-live: looping, paced at its own frame rate.
    """

    url: str
    width: int | None = None
    height: int | None = None
    kind: StreamKind = "main"
    transport: Literal["tcp", "udp"] = "tcp"
    timeout_s: float = DEFAULT_TIMEOUT_S
    # Set by whoever hands in a file it is still making (the demo's clips, generated on the
    # demo's own threads): done once the file can be opened, or failed. The worker waits for
    # it as "connecting" and never makes anything itself. Not part of the stream's identity.
    ready: Future | None = field(default=None, compare=False, repr=False)

    @property
    def is_file(self) -> bool:
        """A local file (pseudo-live) rather than a network stream."""
        return _is_file_url(self.url)

    @property
    def is_live(self) -> bool:
        """A network stream: end of stream means the camera went away, not a loop point."""
        return not self.is_file

    @property
    def path(self) -> str:
        """The file system path of a file source (``file://`` stripped)."""
        return _file_path(self.url)

    @property
    def size(self) -> tuple[int, int]:
        """Known size, else the typical size of this kind of stream."""
        if self.width and self.height:
            return int(self.width), int(self.height)
        return DEFAULT_MAIN_SIZE if self.kind == "main" else DEFAULT_SUB_SIZE

    def safe_url(self) -> str:
        """The URL with credentials hidden, for labels and logs."""
        return redact_url(self.url)

    def open_options(self) -> dict[str, str]:
        """FFmpeg options for ``av.open`` (docs/field.md, *Video decoding: network*)."""
        if self.is_file:
            return {}
        opts = {
            # a stalled server must raise instead of blocking forever (microseconds)
            "timeout": str(int(self.timeout_s * 1_000_000)),
            # low-delay open: tens of ms instead of ~1 s of probing. Not fflags=nobuffer: it
            # throws away the packets read while probing - the first key frame among them -
            # so the first picture waits a whole GOP (measured: 2 s instead of 70 ms).
            "flags": "low_delay",
            "analyzeduration": "100000",
            "probesize": "32768",
        }
        if self.url.lower().startswith(("rtsp://", "rtsps://")):
            opts["rtsp_transport"] = self.transport
            if self.transport == "udp":
                # reorder buffer for UDP; TCP never reorders
                opts["reorder_queue_size"] = "64"
        return opts

    def __repr__(self) -> str:  # never print credentials, even in a traceback
        return (f"StreamSpec(url={self.safe_url()!r}, width={self.width}, height={self.height}, "
                f"kind={self.kind!r}, transport={self.transport!r})")


@dataclass(frozen=True)
class CameraStreams:
    """The streams one camera offers: a main stream and, usually, a smaller sub stream."""

    camera_id: str
    name: str
    main: StreamSpec
    sub: StreamSpec | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    def streams(self) -> list[StreamSpec]:
        """Main first, then sub when there is one."""
        return [self.main] + ([self.sub] if self.sub is not None else [])


def choose_stream(streams: CameraStreams, tile_w: int, tile_h: int) -> StreamSpec:
    """The stream to show in a ``tile_w`` × ``tile_h`` tile: the smallest stream whose size is at
    or above the tile's in both directions (no upscaling, least decoding); when none is that
    big, the largest one (normally the main stream).

    A tile smaller than the sub stream gets the sub stream; an enlarged tile gets the main.
    """
    candidates = streams.streams()
    if len(candidates) == 1:
        return candidates[0]
    tw, th = max(1, int(tile_w)), max(1, int(tile_h))
    big_enough = [s for s in candidates if s.size[0] >= tw and s.size[1] >= th]
    if big_enough:
        return min(big_enough, key=lambda s: (s.size[0] * s.size[1], s.kind != "sub"))
    return max(candidates, key=lambda s: (s.size[0] * s.size[1], s.kind == "main"))


def rtsp_server_answers(url: str, timeout: float = 1.0) -> bool:
    """True when the RTSP server of ``url`` replies to an OPTIONS request (any status).

    Tells a stream problem (the server is there but cannot describe or serve this stream:
    wrong path, bad source, corrupt data) from a server problem (down, hung): FFmpeg reports
    both as "Invalid data found when processing input".
    """
    import socket
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (322 if parts.scheme.lower() == "rtsps" else 554)
    except ValueError:
        return False
    if not host or parts.scheme.lower() != "rtsp":
        return False
    clean = urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path or "/", "", ""))
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(f"OPTIONS {clean} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: pingan-desk\r\n\r\n".encode())
            return sock.recv(16).startswith(b"RTSP/1.0")
    except OSError:
        return False


def streams_for_camera(camera, without_url: Callable[[str, str], CameraStreams] | None = None) -> CameraStreams | None:
    """CameraStreams for a district camera record (``desktop.core.district.model.Camera``).

    A camera with a ``main_url`` plays it (and ``sub_url`` when set); sizes come from the
    record's props (``main_width``/``main_height``/``sub_width``/``sub_height``) when the
    dataset has them. A camera without URLs gets ``without_url(id, name)`` — the caller's
    choice, e.g. the demo's generated clips
    (``desktop.core.video.demo_cameras.demo_streams_for``) — or None when no such function
    is given.
    """
    cid = str(getattr(camera, "id", ""))
    name = str(getattr(camera, "name", "") or cid)
    main_url = (getattr(camera, "main_url", "") or "").strip()
    sub_url = (getattr(camera, "sub_url", "") or "").strip()
    if not main_url and not sub_url:
        return without_url(cid, name) if without_url is not None else None
    # the workstation's camera credentials (kept apart from the dataset) go in only now
    from desktop.core.credentials import with_credentials
    main_url, sub_url = with_credentials(main_url, cid), with_credentials(sub_url, cid)
    props = getattr(camera, "props", None) or {}

    def _int(key):
        try:
            v = int(props.get(key) or 0)
            return v if v > 0 else None
        except (TypeError, ValueError):
            return None

    transport = "udp" if str(props.get("rtsp_transport", "")).lower() == "udp" else "tcp"
    main = StreamSpec(main_url or sub_url, _int("main_width"), _int("main_height"), "main", transport)
    sub = (StreamSpec(sub_url, _int("sub_width"), _int("sub_height"), "sub", transport)
           if sub_url and main_url else None)
    return CameraStreams(cid, name, main, sub)


def _is_file_url(url: str) -> bool:
    low = url.lower()
    if low.startswith("file:"):
        return True
    m = re.match(r"^([a-z][a-z0-9+.-]*)://", low)
    if m:
        return False
    return True  # a bare path (POSIX or C:\...)


def _file_path(url: str) -> str:
    if url.lower().startswith("file://"):
        p = unquote(urlsplit(url).path)
        if os.name == "nt" and re.match(r"^/[A-Za-z]:", p):
            p = p[1:]
        return p
    if url.lower().startswith("file:"):
        return unquote(url[5:])
    return str(Path(url))
