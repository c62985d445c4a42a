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
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

from desktop.core.i18n import tr
from desktop.core.video.frames import Frame
from desktop.core.video.player import StreamPlayer
from desktop.core.video.source import CameraStreams

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
                 "frames_shown")

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
        self.frame_clock = time.strftime("%H:%M:%S", time.localtime(time.time() - (time.monotonic() - frame.wall_time)))

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
    def overlay_state(self, selected: bool, font_scale: float = 1.0) -> tuple:
        """Everything the overlay shows; a change means re-rendering it."""
        p = self.player
        fps = 0
        kind = ""
        kf = False
        if p is not None:
            st = p.stats
            fps = int(round(st.fps))
            kind = p.spec.kind
            kf = p.keyframes_only
        return (self.rect.width(), self.rect.height(), self.streams.name if self.streams else None,
                self.state, self.detail if self.state in ("error", "offline", "reconnecting") else "",
                fps, kind, kf, self.frame_clock, self.qimage is not None, selected, self.tour_label,
                round(font_scale, 2))

    def render_overlay(self, selected: bool, font_scale: float = 1.0) -> QImage | None:
        """Re-render the cached overlay if what it shows changed; returns it."""
        key = self.overlay_state(selected, font_scale)
        if key == self.overlay_key and self.overlay is not None:
            return self.overlay
        self.overlay_key = key
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
            self._paint_overlay(p, w, h, selected, font_scale)
        finally:
            p.end()
        self.overlay = img
        return img

    def _paint_overlay(self, p: QPainter, w: int, h: int, selected: bool, font_scale: float) -> None:
        # type scales with the tile: legible on a 36-tile wall, not shouting on one tile
        basis = min(h, w * 9 // 16)  # a tall narrow tile sizes type by its width
        px = max(11, min(26, int(basis / 15 * font_scale)))
        small = max(10, min(20, int(px * 0.8)))
        pad = max(4, px // 3)
        name_font = QFont()
        name_font.setPixelSize(px)
        name_font.setBold(True)
        info_font = QFont()
        info_font.setPixelSize(small)
        info_font.setBold(True)

        if self.streams is None:
            p.setPen(TEXT_DIM)
            big = QFont()
            big.setPixelSize(max(14, min(48, h // 6)))
            big.setBold(True)
            p.setFont(big)
            p.drawText(QRect(0, 0, w, h * 3 // 5), Qt.AlignHCenter | Qt.AlignBottom, str(self.index + 1))
            p.setFont(info_font)
            p.drawText(QRect(0, h * 3 // 5, w, h * 2 // 5), Qt.AlignHCenter | Qt.AlignTop, tr("Drop a camera here"))
            return

        band = px + 2 * pad
        # top band: the name first; the clock of the last picture only where it fits
        p.fillRect(QRect(0, 0, w, band), QColor(0, 0, 0, 150))
        fm_info = QFontMetrics(info_font)
        fm = QFontMetrics(name_font)
        name = self.streams.name
        if self.tour_label:
            name = f"{name}  ·  {self.tour_label}"
        name_w = fm.horizontalAdvance(name)
        clock_w = fm_info.horizontalAdvance(self.frame_clock) if self.frame_clock else 0
        show_clock = clock_w and name_w + clock_w + 4 * pad <= w
        p.setPen(TEXT)
        if show_clock:
            p.setFont(info_font)
            p.drawText(QRect(w - clock_w - pad, 0, clock_w, band), Qt.AlignRight | Qt.AlignVCenter, self.frame_clock)
        p.setFont(name_font)
        name = fm.elidedText(name, Qt.ElideRight, max(10, w - 2 * pad))
        p.drawText(QRect(pad, 0, w - 2 * pad, band), Qt.AlignLeft | Qt.AlignVCenter, name)

        # bottom band: state (left), fps and stream (right), each measured so neither is cut
        fm_small = fm_info
        bband = small + 2 * pad
        p.fillRect(QRect(0, h - bband, w, bband), QColor(0, 0, 0, 150))
        color = QColor(STATE_COLORS.get(self.state, "#9e9e9e"))
        dot = max(6, small * 2 // 3)
        p.setPen(Qt.NoPen)
        p.setBrush(color)
        p.drawEllipse(QRectF(pad, h - bband + (bband - dot) / 2, dot, dot))
        label = state_label(self.state or "connecting")
        info = ""
        if self.player is not None:
            key = self.overlay_key
            fps, kind = key[5], key[6]
            # "fps" is a unit, the same in every language
            kind_text = _cap(tr("main") if kind == "main" else tr("sub"))
            label_w = fm_small.horizontalAdvance(label)
            for candidate in (f"{fps} fps  {kind_text}", f"{fps} fps", ""):
                if fm_small.horizontalAdvance(candidate) + label_w + dot + 4 * pad <= w:
                    info = candidate
                    break
        p.setFont(info_font)
        if info:
            iw = fm_small.horizontalAdvance(info)
            p.setPen(TEXT)
            p.drawText(QRect(w - iw - pad, h - bband, iw, bband), Qt.AlignRight | Qt.AlignVCenter, info)
        else:
            iw = 0
        left = pad + dot + pad // 2 + 2
        p.setPen(color)
        p.drawText(QRect(left, h - bband, max(10, w - left - iw - 2 * pad), bband), Qt.AlignLeft | Qt.AlignVCenter,
                   fm_small.elidedText(label, Qt.ElideRight, max(10, w - left - iw - 2 * pad)))
        if self.player is not None:
            if self.player.keyframes_only:
                # the overload fallback must be visible: an operator must not take a
                # two-second-old picture for a live one
                text = _cap(tr("key frames only"))
                bw = fm_small.horizontalAdvance(text) + 2 * pad
                r = QRect((w - bw) // 2, band + pad, bw, small + pad)
                p.setPen(Qt.NoPen)
                p.setBrush(QColor(0, 0, 0, 190))
                p.drawRoundedRect(r, 4, 4)
                p.setPen(KEYFRAME_BADGE)
                p.drawText(r, Qt.AlignCenter, text)

        if self.state != "live":
            # a big centred message, over the last picture when there is one
            msg = label
            detail = self.detail if self.state in ("error", "offline", "reconnecting") else ""
            box_h = min(h - band - bband - 2 * pad, px * 2 + (small * 3 if detail else 0) + 2 * pad)
            if box_h > px:
                r = QRect(pad * 2, (h - box_h) // 2, w - 4 * pad, box_h)
                p.setPen(Qt.NoPen)
                p.setBrush(QColor(0, 0, 0, 170 if self.qimage is not None else 90))
                p.drawRoundedRect(r, 6, 6)
                big = QFont()
                big.setPixelSize(max(12, min(40, int(px * 1.3))))
                big.setBold(True)
                p.setFont(big)
                p.setPen(color)
                top = QRect(r.x(), r.y() + pad, r.width(), QFontMetrics(big).height())
                p.drawText(top, Qt.AlignHCenter | Qt.AlignVCenter, msg)
                if detail:
                    p.setFont(info_font)
                    p.setPen(TEXT_DIM)
                    rest = QRect(r.x() + pad, top.bottom() + pad // 2, r.width() - 2 * pad, r.bottom() - top.bottom() - pad)
                    p.drawText(rest, Qt.AlignHCenter | Qt.AlignTop | Qt.TextWordWrap, detail)

        if selected:
            pen = QPen(ACCENT)
            pen.setWidth(3)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            p.drawRect(QRect(1, 1, w - 3, h - 3))
