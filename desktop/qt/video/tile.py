"""One tile of the video wall: its camera, its player, its latest picture and its overlay.

A tile is not a widget: the wall paints all tiles in one pass (one QPainter per display frame
instead of one paint event per tile and frame). The overlay (name, clock, fps, state, the
"key frames only" badge) is rendered into a cached transparent image and re-rendered only
when what it shows changes, at most about once a second per tile; a video frame then costs
one ``drawImage`` of a picture already converted to the tile's size in the worker.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter

from desktop.core.i18n import tr
from desktop.core.localtime import format_local
from desktop.core.video.frames import Frame
from desktop.core.video.player import StreamPlayer
from desktop.core.video.source import WAITING_FOR_FILE, CameraStreams

STATE_COLORS = {
    "connecting": "#29b6f6",
    "live": "#66bb6a",
    "reconnecting": "#ffb300",
    "offline": "#9e9e9e",
    "error": "#ef5350",
}
TILE_BG = QColor("#06090c")
EMPTY_BG = QColor("#0b1015")
TEXT = QColor("#eef3f7")
TEXT_DIM = QColor("#7d8e9c")
KEYFRAME_BADGE = QColor("#ffca28")
ACCENT = QColor("#29b6f6")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def state_label(state: str) -> str:
    """The translated label of a worker state (the state names are catalog keys)."""
    return _cap(tr(state)) if state else ""


class Tile:
    """A tile's data; the wall owns the list and decides layout, visibility and input."""

    __slots__ = ("index", "streams", "player", "frame", "qimage", "rect", "state", "detail",
                 "visible", "overlay", "overlay_key", "frame_clock", "opened_at", "tour_label",
                 "frames_shown", "overlay_parts", "clock_rect", "shown_fps", "empty_hint")

    def __init__(self, index: int):
        self.index = index
        self.streams: CameraStreams | None = None
        self.player: StreamPlayer | None = None
        self.frame: Frame | None = None
        self.qimage: QImage | None = None
        self.rect = QRect()
        self.state = ""
        self.detail = ""
        self.visible = False
        self.overlay: QImage | None = None
        self.overlay_key = None
        self.frame_clock = ""
        self.opened_at = 0.0
        self.tour_label = ""
        self.frames_shown = 0
        self.overlay_parts: list[QRect] = []
        self.clock_rect: QRect | None = None
        self.shown_fps = 0
        self.empty_hint = True  # "drop a camera here" on an empty tile (not on the unattended wall)

    @property
    def camera_id(self) -> str | None:
        return self.streams.camera_id if self.streams is not None else None

    @property
    def image(self) -> QImage | None:
        """The picture shown now (tile-sized, RGB32), or None."""
        return self.qimage


    def set_frame(self, frame: Frame) -> None:
        """Wrap the worker's BGRA array (no copy: RGB32 is BGRA in memory). The Frame is kept
        so the array outlives the QImage that points into it."""
        self.frame = frame
        self.frames_shown += 1
        self.qimage = QImage(frame.image.data, frame.width, frame.height, frame.bytes_per_line,
                             QImage.Format_RGB32)
        # the district's time of day, not the PC's zone
        self.frame_clock = format_local(time.time() - (time.monotonic() - frame.wall_time), date=False)

    def clear_picture(self) -> None:
        self.frames_shown = 0
        self.frame = None
        self.qimage = None
        self.frame_clock = ""

    def image_rect(self) -> QRect:
        """Where the picture goes: centred, aspect kept (letterboxed)."""
        r = self.rect
        img = self.qimage
        if img is None or img.width() <= 0 or img.height() <= 0:
            return QRect(r)
        iw, ih = img.width(), img.height()
        if abs(iw - r.width()) <= 4 and ih <= r.height() or iw <= r.width() and abs(ih - r.height()) <= 2:
            # the worker already converted to this size: no scaling in paint
            return QRect(r.x() + (r.width() - iw) // 2, r.y() + (r.height() - ih) // 2, iw, ih)
        s = min(r.width() / iw, r.height() / ih)
        w, h = int(iw * s), int(ih * s)
        return QRect(r.x() + (r.width() - w) // 2, r.y() + (r.height() - h) // 2, w, h)

    # -- overlay -----------------------------------------------------------------------------
    def overlay_state(self, selected: bool = False, font_scale: float = 1.0) -> tuple:
        """Everything the cached overlay shows; a change means re-rendering it. The clock is
        not in it (one shared image per second for all tiles, see :func:`clock_image`), nor
        the selection frame (drawn directly), and fps only moves by 2 or more, or by 0.2 below 2 fps
        (``shown_fps``)."""
        p = self.player
        kind = ""
        kf = False
        if p is not None:
            kind = p.spec.kind
            kf = p.keyframes_only
        return (self.rect.width(), self.rect.height(), self.streams.name if self.streams else None,
                self.state, self.shown_detail(),
                self.shown_fps, kind, kf, self.qimage is not None, self.tour_label, round(font_scale, 2))

    def shown_detail(self) -> str:
        """The detail under the state: why a tile is in error, offline or reconnecting, and
        that a demo clip is still being made (else "connecting" for seconds looks like a camera
        that does not answer)."""
        if self.state in ("error", "offline", "reconnecting"):
            return self.detail
        if self.state == "connecting" and self.detail == WAITING_FOR_FILE:
            return tr("Preparing the demo clip…")
        return ""

    def update_fps(self) -> bool:
        """Refresh ``shown_fps`` from the player with hysteresis (24↔25 flicker would
        re-render the overlay every second); True when it changed."""
        raw = self.player.stats.fps if self.player is not None else 0.0
        # below 2 fps (key frames only: one picture a GOP) a tenth counts: "0 fps" would read
        # as a dead camera; above, whole numbers
        fps = round(raw, 1) if 0.05 < raw < 1.95 else int(round(raw))
        small = fps < 2 or self.shown_fps < 2
        if (abs(fps - self.shown_fps) >= (0.2 if small else 2)
                or (fps == 0) != (self.shown_fps == 0)):
            self.shown_fps = fps
            return True
        return False

    def render_overlay(self, selected: bool = False, font_scale: float = 1.0) -> QImage | None:
        """Re-render the cached overlay if what it shows changed; returns it. Only the
        rectangles in ``overlay_parts`` carry paint: the wall blends just those (the bands are
        a quarter of the tile; blending a whole transparent tile 25 times a second per tile
        would cost the GUI thread more than the video itself)."""
        key = self.overlay_state(selected, font_scale)
        if key == self.overlay_key and self.overlay is not None:
            return self.overlay
        self.overlay_key = key
        self.overlay_parts = []
        self.clock_rect = None
        w, h = self.rect.width(), self.rect.height()
        if w < 8 or h < 8:
            self.overlay = None
            return None
        img = QImage(w, h, QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.transparent)
        p = QPainter(img)
        try:
            p.setRenderHint(QPainter.Antialiasing, True)
            p.setRenderHint(QPainter.TextAntialiasing, True)
            self._paint_overlay(p, w, h, font_scale)
        finally:
            p.end()
        self.overlay = img
        return img

    def fonts(self, font_scale: float = 1.0) -> tuple[int, int, int]:
        """(name px, info px, padding) for this tile's size."""
        w, h = self.rect.width(), self.rect.height()
        basis = min(h, w * 9 // 16)  # a tall narrow tile sizes type by its width
        # the cap grows with the scale: the display wall is read from ten metres
        px = max(11, min(int(26 * max(1.0, font_scale / 1.4)), int(basis / 15 * font_scale)))
        small = max(10, min(20, int(px * 0.8)))
        return px, small, max(4, px // 3)

    def _paint_overlay(self, p: QPainter, w: int, h: int, font_scale: float) -> None:
        # type scales with the tile: legible on a 36-tile wall, not shouting on one tile
        px, small, pad = self.fonts(font_scale)
        name_font = _font(px)
        info_font = _font(small)
        parts = self.overlay_parts

        if self.streams is None:
            p.setPen(TEXT_DIM)
            p.setFont(_font(max(14, min(48, h // 6))))
            p.drawText(QRect(0, 0, w, h * 3 // 5), Qt.AlignHCenter | Qt.AlignBottom, str(self.index + 1))
            if self.empty_hint:
                p.setFont(info_font)
                p.drawText(QRect(0, h * 3 // 5, w, h * 2 // 5), Qt.AlignHCenter | Qt.AlignTop, tr("Drop a camera here"))
            parts.append(QRect(0, 0, w, h))
            return

        band = px + 2 * pad
        # top band: the name first; the clock of the last picture only where it fits
        p.fillRect(QRect(0, 0, w, band), QColor(0, 0, 0, 150))
        parts.append(QRect(0, 0, w, band))
        fm_info = QFontMetrics(info_font)
        fm = QFontMetrics(name_font)
        name = self.streams.name
        if self.tour_label:
            name = f"{name}  ·  {self.tour_label}"
        name_w = fm.horizontalAdvance(name)
        clock_w = fm_info.horizontalAdvance("00:00:00")
        if name_w + clock_w + 4 * pad <= w:
            self.clock_rect = QRect(w - clock_w - pad, 0, clock_w, band)
        p.setPen(TEXT)
        p.setFont(name_font)
        name = fm.elidedText(name, Qt.ElideRight, max(10, w - 2 * pad))
        p.drawText(QRect(pad, 0, w - 2 * pad, band), Qt.AlignLeft | Qt.AlignVCenter, name)

        # bottom band: state (left), fps and stream (right), each measured so neither is cut
        bband = small + 2 * pad
        p.fillRect(QRect(0, h - bband, w, bband), QColor(0, 0, 0, 150))
        parts.append(QRect(0, h - bband, w, bband))
        color = QColor(STATE_COLORS.get(self.state, "#9e9e9e"))
        dot = max(6, small * 2 // 3)
        p.setPen(Qt.NoPen)
        p.setBrush(color)
        p.drawEllipse(QRectF(pad, h - bband + (bband - dot) / 2, dot, dot))
        label = state_label(self.state or "connecting")
        info = ""
        if self.player is not None:
            # "fps" is a unit, the same in every language
            kind_text = _cap(tr("main") if self.player.spec.kind == "main" else tr("sub"))
            label_w = fm_info.horizontalAdvance(label)
            for candidate in (f"{self.shown_fps} fps  {kind_text}", f"{self.shown_fps} fps", ""):
                if fm_info.horizontalAdvance(candidate) + label_w + dot + 4 * pad <= w:
                    info = candidate
                    break
        p.setFont(info_font)
        iw = fm_info.horizontalAdvance(info) if info else 0
        if info:
            p.setPen(TEXT)
            p.drawText(QRect(w - iw - pad, h - bband, iw, bband), Qt.AlignRight | Qt.AlignVCenter, info)
        left = pad + dot + pad // 2 + 2
        p.setPen(color)
        room = max(10, w - left - iw - 2 * pad)
        p.drawText(QRect(left, h - bband, room, bband), Qt.AlignLeft | Qt.AlignVCenter,
                   fm_info.elidedText(label, Qt.ElideRight, room))

        if self.player is not None and self.player.keyframes_only:
            # the overload fallback must be visible: an operator must not take a
            # two-second-old picture for a live one
            text = _cap(tr("key frames only"))
            bw = fm_info.horizontalAdvance(text) + 2 * pad
            r = QRect((w - bw) // 2, band + pad, bw, small + pad)
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(0, 0, 0, 190))
            p.drawRoundedRect(r, 4, 4)
            p.setPen(KEYFRAME_BADGE)
            p.drawText(r, Qt.AlignCenter, text)
            parts.append(r)

        if self.state != "live":
            # a big centred message, over the last picture when there is one
            detail = self.shown_detail()
            box_h = min(h - band - bband - 2 * pad, px * 2 + (small * 3 if detail else 0) + 2 * pad)
            if box_h > px:
                r = QRect(pad * 2, (h - box_h) // 2, w - 4 * pad, box_h)
                p.setPen(Qt.NoPen)
                p.setBrush(QColor(0, 0, 0, 170 if self.qimage is not None else 90))
                p.drawRoundedRect(r, 6, 6)
                big = _font(max(12, min(40, int(px * 1.3))))
                p.setFont(big)
                p.setPen(color)
                top = QRect(r.x(), r.y() + pad, r.width(), QFontMetrics(big).height())
                p.drawText(top, Qt.AlignHCenter | Qt.AlignVCenter, label)
                if detail:
                    p.setFont(info_font)
                    p.setPen(TEXT_DIM)
                    rest = QRect(r.x() + pad, top.bottom() + pad // 2, r.width() - 2 * pad, r.bottom() - top.bottom() - pad)
                    p.drawText(rest, Qt.AlignHCenter | Qt.AlignTop | Qt.TextWordWrap, detail)
                parts.append(r)


def _font(px: int) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(True)
    return f


_clock_cache: dict = {}


def clock_image(text: str, px: int, height: int) -> QImage:
    """The clock text as a small image, shared by every tile showing the same second."""
    key = (text, px, height)
    img = _clock_cache.get(key)
    if img is None:
        if len(_clock_cache) > 64:
            _clock_cache.clear()
        font = _font(px)
        w = QFontMetrics(font).horizontalAdvance(text) + 2
        img = QImage(max(1, w), max(1, height), QImage.Format_ARGB32_Premultiplied)
        img.fill(Qt.transparent)  # drawn over the band, which has its shade already
        p = QPainter(img)
        try:
            p.setRenderHint(QPainter.TextAntialiasing, True)
            p.setFont(font)
            p.setPen(TEXT)
            p.drawText(QRect(0, 0, w, height), Qt.AlignRight | Qt.AlignVCenter, text)
        finally:
            p.end()
        _clock_cache[key] = img
    return img
