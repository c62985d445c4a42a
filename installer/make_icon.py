"""Draw the program icon (a shield over a map grid, in the control-room colours) into
resources/icons/pingan-desk.png (256 px: the window, the Linux desktop entry, and the Windows
executable, which PyInstaller converts to .ico with Pillow). Run once when the design changes:
``QT_QPA_PLATFORM=offscreen .venv/bin/python installer/make_icon.py``."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPainterPath, QPen

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"


def draw(size: int) -> QImage:
    img = QImage(size, size, QImage.Format_ARGB32)
    img.fill(Qt.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.Antialiasing)
    s = size / 256.0
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#11161c"))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 44 * s, 44 * s)
    # the map grid behind the shield
    p.setPen(QPen(QColor("#2f4b5e"), max(1.0, 5 * s)))
    for i in range(1, 4):
        p.drawLine(QPointF(8 * s + i * 60 * s, 28 * s), QPointF(8 * s + i * 60 * s, 228 * s))
        p.drawLine(QPointF(28 * s, 8 * s + i * 60 * s), QPointF(228 * s, 8 * s + i * 60 * s))
    shield = QPainterPath()
    shield.moveTo(128 * s, 34 * s)
    shield.lineTo(204 * s, 62 * s)
    shield.cubicTo(204 * s, 140 * s, 176 * s, 192 * s, 128 * s, 222 * s)
    shield.cubicTo(80 * s, 192 * s, 52 * s, 140 * s, 52 * s, 62 * s)
    shield.closeSubpath()
    p.setPen(QPen(QColor("#4fc3f7"), max(1.5, 10 * s)))
    p.setBrush(QColor("#1f2d3a"))
    p.drawPath(shield)
    # a location pin inside it
    p.setPen(Qt.NoPen)
    p.setBrush(QColor("#ffca28"))
    pin = QPainterPath()
    pin.addEllipse(QPointF(128 * s, 108 * s), 30 * s, 30 * s)
    tip = QPainterPath()
    tip.moveTo(102 * s, 122 * s)
    tip.lineTo(128 * s, 178 * s)
    tip.lineTo(154 * s, 122 * s)
    tip.closeSubpath()
    p.drawPath(pin.united(tip))
    p.setBrush(QColor("#1f2d3a"))
    p.drawEllipse(QPointF(128 * s, 108 * s), 12 * s, 12 * s)
    p.end()
    return img


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    ok = draw(256).save(str(OUT / "pingan-desk.png"))
    print(f"icons {'written to' if ok else 'FAILED in'} {OUT}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
