"""The widgets a wall region is made of: a map piece, the alarm ticker and the clock.

Everything here is read from ten metres: type is sized from the region's height (not from the
desktop's font), bright on the dark theme, nothing interactive (a wall has no operator).
"""
from __future__ import annotations

import time

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from desktop.core.i18n import tr
from desktop.core.localtime import format_local, local_datetime
from desktop.core.wall.takeover import Claim
from desktop.qt.map.canvas import MapCanvas
from desktop.qt.theme import ACCENT, BORDER, TEXT, TEXT_DIM

PRIORITY_COLOURS = {1: "#ff1744", 2: "#ff9100", 3: "#ffd600", 4: "#9ccc65"}
WALL_BG = QColor("#05080b")
STATE_LABELS = {"new": "New", "acknowledged": "Acknowledged", "dispatched": "Dispatched",
                "resolved": "Resolved", "false_alarm": "False alarm"}


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setFamilies(["Noto Sans CJK SC", "Noto Sans", "DejaVu Sans"])
    f.setPixelSize(max(10, int(px)))
    f.setBold(bold)
    return f


class WallMapPiece(MapCanvas):
    """A map canvas showing one screen's part of a map region (see desktop.core.wall.geometry).

    ``set_view(cx, cy, scale)`` takes the centre of the *whole* region; the piece shifts it by
    where it sits in the region, so the pieces on two screens line up across the bezel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(1, 1)
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.NoFocus)
        self.src = (0, 0, 1, 1)
        self.region_size = (1, 1)
        self.label = ""
        self.marker: tuple | None = None  # map x, y of an alarm shown here
        self._region_view: tuple | None = None

    def place(self, src: tuple, region_size: tuple) -> None:
        self.src, self.region_size = tuple(src), tuple(region_size)
        self._apply_view()

    def set_view(self, cx: float, cy: float, scale: float) -> None:
        self._region_view = (cx, cy, scale)
        self._apply_view()

    def _apply_view(self) -> None:
        if self._region_view is None:
            return
        cx, cy, scale = self._region_view
        sx, sy, sw, sh = self.src
        rw, rh = self.region_size
        # the piece's centre, in region pixels, relative to the region's centre
        dx = sx + sw / 2.0 - rw / 2.0
        dy = sy + sh / 2.0 - rh / 2.0
        self.vp.scale = scale
        self.vp.cx = cx + dx / scale
        self.vp.cy = cy - dy / scale
        self._view_moved()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._apply_view()

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self.marker and not (self.label and self.src[:2] == (0, 0)):
            return
        p = QPainter(self)
        try:
            p.setRenderHint(QPainter.Antialiasing)
            if self.marker:
                sx, sy = self.vp.to_screen(*self.marker)
                phase = (time.monotonic() * 1.5) % 1.0
                r = 18 + 40 * phase
                pen = QPen(QColor(255, 23, 68, int(255 * (1 - phase))))
                pen.setWidth(6)
                p.setPen(pen)
                p.setBrush(Qt.NoBrush)
                p.drawEllipse(QRectF(float(sx) - r, float(sy) - r, 2 * r, 2 * r))
                p.setBrush(QColor("#ff1744"))
                p.setPen(QPen(QColor("#ffffff"), 3))
                p.drawEllipse(QRectF(float(sx) - 12, float(sy) - 12, 24, 24))
            if self.label and self.src[:2] == (0, 0):
                _caption(p, self.label, self.width(), max(28, self.region_size[1] // 18))
        finally:
            p.end()


def _caption(p: QPainter, text: str, width: int, px: int) -> None:
    p.setFont(_font(int(px * 0.7), bold=True))
    h = int(px * 1.6)
    p.fillRect(0, 0, width, h, QColor(180, 10, 30, 230))
    p.setPen(QColor("#ffffff"))
    text = p.fontMetrics().elidedText(text, Qt.ElideRight, int(width - px))
    p.drawText(QRectF(px * 0.5, 0, width - px, h), Qt.AlignVCenter | Qt.AlignLeft, text)


class CaptionOverlay(QWidget):
    """A red banner over a video region taken by an alarm (what the wall is showing, and why)."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.text = ""

    def set_text(self, text: str) -> None:
        self.text = text
        self.setVisible(bool(text))
        self.update()

    def paintEvent(self, e) -> None:  # noqa: N802
        if self.text:
            p = QPainter(self)
            _caption(p, self.text, self.width(), max(16, int(self.height() / 1.6)))
            p.end()


class TickerWidget(QWidget):
    """The alarm ticker: open alarms, most urgent and newest first, with their workflow state."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self.items: list = []
        self.title = tr("Alarms")

    def set_items(self, items: list) -> None:
        self.items = list(items)
        self.update()

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), WALL_BG)
            w, h = self.width(), self.height()
            rows = max(1, len(self.items)) if self.items else 1
            line = max(24, min(h // (rows + 1), h // 3))
            px = int(line * 0.55)
            p.setPen(QColor(TEXT_DIM))
            p.setFont(_font(int(px * 0.8), bold=True))
            p.drawText(QRectF(px * 0.5, 0, w, line), Qt.AlignVCenter | Qt.AlignLeft, self.title)
            if not self.items:
                p.setPen(QColor(TEXT_DIM))
                p.setFont(_font(px))
                p.drawText(QRectF(px * 0.5, line, w, line), Qt.AlignVCenter | Qt.AlignLeft,
                           tr("No open alarms"))
                return
            now = time.time()
            for k, it in enumerate(self.items):
                y = line * (k + 1)
                if y + line > h + 2:
                    break
                closed = it.state in ("resolved", "false_alarm")
                col = QColor(PRIORITY_COLOURS.get(it.priority, ACCENT))
                if closed:
                    col.setAlpha(90)
                p.fillRect(QRectF(px * 0.3, y + line * 0.15, px * 0.4, line * 0.7), col)
                p.setFont(_font(px, bold=not closed))
                p.setPen(QColor(TEXT if not closed else TEXT_DIM))
                when = format_local(it.epoch, now=now)
                state = tr(STATE_LABELS.get(it.state, it.state))
                text = f"P{it.priority}  {when}  {it.text or it.type}  · {state}"
                p.drawText(QRectF(px * 1.1, y, w - px * 1.6, line), Qt.AlignVCenter | Qt.AlignLeft,
                           p.fontMetrics().elidedText(text, Qt.ElideRight, int(w - px * 1.6)))
                p.setPen(QColor(BORDER))
                p.drawLine(int(px * 0.3), int(y + line - 1), int(w - px * 0.3), int(y + line - 1))
        finally:
            p.end()


class ClockWidget(QWidget):
    """The district's time, large, with the date below (the district's zone, not the PC's)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WA_OpaquePaintEvent)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.update)
        self._timer.start(500)

    def paintEvent(self, e) -> None:  # noqa: N802
        p = QPainter(self)
        try:
            p.fillRect(self.rect(), WALL_BG)
            dt = local_datetime(time.time())
            w, h = self.width(), self.height()
            px = int(min(h * 0.45, w / 5.2))
            p.setPen(QColor(TEXT))
            p.setFont(_font(px, bold=True))
            p.drawText(QRectF(0, 0, w, h * 0.68), Qt.AlignHCenter | Qt.AlignBottom, dt.strftime("%H:%M:%S"))
            p.setPen(QColor(TEXT_DIM))
            p.setFont(_font(int(px * 0.32)))
            p.drawText(QRectF(0, h * 0.7, w, h * 0.3), Qt.AlignHCenter | Qt.AlignTop, dt.strftime("%Y-%m-%d"))
        finally:
            p.end()


__all__ = ["WallMapPiece", "CaptionOverlay", "TickerWidget", "ClockWidget", "Claim"]
