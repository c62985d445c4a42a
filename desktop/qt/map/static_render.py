"""The map's static layers rendered into an image, on a thread of its own or in place.

A full render of the static layers (basemap, grid, zones, cameras, labels …) costs tens of
milliseconds on an operator's PC: more than a frame. So the canvas asks for it here and
keeps painting its previous image (shifted and stretched to the new view) until the fresh
one is ready; a frame then costs one blit. QPainter on a QImage is supported in any thread
(Qt's raster engine), so the render thread paints the very layers the GUI thread shows.

Requests coalesce: while a render runs, newer requests replace the pending one, so a fast
pan or a zoom gesture renders at most one image behind the view, never a queue of them.

Layers painted here must read only their own data in ``paint`` (no widgets); a layer that
changes its data does so on the GUI thread and calls ``changed()``, which asks for a new
render. A ``paint`` never runs twice at once: the render thread and a synchronous render
(screenshots, tests) share one lock.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from PySide6.QtGui import QColor, QImage, QPainter

from desktop.core.geo.viewport import Viewport

log = logging.getLogger(__name__)

# While a render runs, the interpreter's switch interval is lowered to this (seconds). The
# render thread runs Python between Qt calls (layers' numpy and loops); every Qt call of the
# GUI thread gives the interpreter lock away and must win it back, which costs up to one
# switch interval each time: at the program's 1 ms a 25-call frame took 5.5 ms (p95) next
# to a thread running Python, against 0.2 ms alone, and 1.9 ms at 0.2 ms.
RENDER_SWITCH_INTERVAL_S = 0.0002


@dataclass(frozen=True)
class RenderJob:
    """What to render: the view (centre, scale, size in logical pixels), the layers, and the
    cache key the result will be valid for."""

    seq: int
    key: tuple
    cx: float
    cy: float
    scale: float
    width: int
    height: int
    dpr: float
    background: str
    layers: tuple


@dataclass
class RenderResult:
    """A rendered image and the job it answers; ``failures`` lists (layer, exception) of
    layers whose paint raised (the canvas hides and reports them on the GUI thread)."""

    job: RenderJob
    image: QImage
    ms: float
    failures: list = field(default_factory=list)


def render_static(job: RenderJob) -> RenderResult:
    """Paint ``job``'s layers into a new image (any thread). A failing layer is skipped."""
    t0 = time.perf_counter()
    img = QImage(int(job.width * job.dpr), int(job.height * job.dpr), QImage.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(job.dpr)
    img.fill(QColor(job.background))
    vp = Viewport(job.cx, job.cy, job.scale, job.width, job.height)
    failures = []
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    for layer in job.layers:
        p.save()
        try:
            # a plugin's paint comes wrapped in its guard, which disables the plugin when the
            # paint raises: that must happen on the GUI thread, so the failure goes back there
            getattr(layer.paint, "__wrapped__", layer.paint)(p, vp)
        except Exception as exc:  # noqa: BLE001 - one bad layer must not blank the map
            log.exception("map layer %s failed to paint", layer.id)
            failures.append((layer, exc))
        finally:
            p.restore()
    p.end()
    return RenderResult(job, img, (time.perf_counter() - t0) * 1000.0, failures)


class StaticRenderer:
    """A render thread with one pending job and one finished result.

    ``request`` replaces any job not started yet; ``take`` hands over the newest finished
    result (older ones are dropped). ``on_ready`` is called from the render thread after
    each result (the canvas emits a queued signal there to repaint on the GUI thread).
    """

    def __init__(self, on_ready: Callable[[], None] | None = None, name: str = "map-render"):
        self.on_ready = on_ready
        self.name = name
        self.paint_lock = threading.Lock()  # one paint of the layers at a time, in any thread
        self._cond = threading.Condition()
        self._pending: RenderJob | None = None
        self._running: RenderJob | None = None
        self._result: RenderResult | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.renders = 0
        self.render_ms: list[float] = []  # recent render costs on the render thread

    def request(self, job: RenderJob) -> None:
        with self._cond:
            if self._stopped:
                return
            self._pending = job
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def in_flight(self) -> RenderJob | None:
        """The job being rendered or waiting, the newest first (None when idle)."""
        with self._cond:
            return self._pending or self._running

    def take(self) -> RenderResult | None:
        with self._cond:
            r, self._result = self._result, None
            return r

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no job is pending or running (tests, screenshots); True when idle."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._running is not None:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self, *_args, timeout: float = 2.0) -> None:
        """End the render thread (also a slot for ``destroyed``, whose argument it ignores)."""
        with self._cond:
            self._stopped = True
            self._pending = None
            self._cond.notify_all()
            t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                job, self._pending = self._pending, None
                self._running = job
            before = sys.getswitchinterval()
            if before > RENDER_SWITCH_INTERVAL_S:
                sys.setswitchinterval(RENDER_SWITCH_INTERVAL_S)
            try:
                with self.paint_lock:
                    result = render_static(job)
            except Exception:  # noqa: BLE001 - keep the thread for the next request
                log.exception("static map render failed")
                result = None
            finally:  # give the program its own setting back, unless someone changed it meanwhile
                if sys.getswitchinterval() == RENDER_SWITCH_INTERVAL_S < before:
                    sys.setswitchinterval(before)
            with self._cond:
                self._running = None
                if result is not None:
                    self._result = result
                    self.renders += 1
                    self.render_ms.append(result.ms)
                    del self.render_ms[:-200]
                self._cond.notify_all()
                stopped = self._stopped
            if result is not None and not stopped and self.on_ready is not None:
                try:
                    self.on_ready()
                except RuntimeError:  # the canvas is gone (its C++ side deleted)
                    return
