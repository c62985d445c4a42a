"""One chart of the statistics panel: a pyqtgraph plot of a :class:`ChartData`, clickable bars,
export to PNG at a chosen size (title and axes included) and to CSV."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from desktop.sdk import tr

from .core import ChartData

SERIES_COLOURS = ("#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#4db6ac", "#f06292", "#90a4ae")
pg.setConfigOptions(antialias=True, background="#0f1720", foreground="#cfd8dc")


class ChartView(QWidget):
    """A plot widget showing one chart; ``clicked(index)`` when a bar (or heat-map row) is clicked."""

    clicked = Signal(int, int)  # category index, column (heat map hour, else -1)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        # the plot is made when the chart first comes on screen: eight of them cost the
        # program's start-up ~150 ms, and only one tab is seen at a time
        self.plot: pg.PlotWidget | None = None
        self.data: ChartData | None = None
        self._drawn: tuple | None = None  # what the plot shows now (see _digest)
        self.draws = 0

    def _ensure_plot(self) -> pg.PlotWidget:
        if self.plot is None:
            self.plot = pg.PlotWidget()
            self.plot.setMenuEnabled(False)
            self.plot.showGrid(x=False, y=True, alpha=0.2)
            self._layout.addWidget(self.plot)
            self.plot.scene().sigMouseClicked.connect(self._on_click)
        return self.plot

    def show_chart(self, data: ChartData) -> None:
        """Show ``data``: drawn now if the chart is on screen and differs from what it shows,
        else when it next comes on screen. Rebuilding a plot costs the GUI thread ~10 ms, and
        the panel refreshes every chart while only one tab is seen — in an alarm flood too."""
        self.data = data
        if self.isVisible():
            self._draw_if_changed()

    def showEvent(self, ev) -> None:  # noqa: N802 (Qt)
        super().showEvent(ev)
        self._ensure_plot()
        self._draw_if_changed()

    @staticmethod
    def _digest(data: ChartData) -> tuple:
        return (data.id, data.kind, data.title, data.x_title, data.y_title, tuple(data.labels), repr(data.series),
                data.target)

    def _draw_if_changed(self) -> None:
        if self.data is not None and self._digest(self.data) != self._drawn:
            self._draw(self.data)

    def _draw(self, data: ChartData) -> None:
        self._drawn = self._digest(data)
        self.draws += 1
        pi = self._ensure_plot().getPlotItem()
        pi.clear()
        if pi.legend is not None:
            pi.legend.scene().removeItem(pi.legend) if pi.legend.scene() else None
            pi.legend = None
        pi.setTitle(data.title, size="11pt")
        pi.setLabel("bottom", data.x_title)
        pi.setLabel("left", data.y_title)
        for side in ("left", "bottom"):
            pi.getAxis(side).enableAutoSIPrefix(False)  # "0.06 km²", not "60 (x0.001)"
        n = len(data.labels)
        x = np.arange(n, dtype=float)
        names = list(data.series)
        if data.kind == "heatmap":
            img = np.array([data.series[k] for k in names], float)  # [hour, weekday]
            item = pg.ImageItem(img)
            item.setColorMap(pg.colormap.get("inferno"))
            pi.addItem(item)
            pi.setLabel("bottom", data.y_title)
            pi.setLabel("left", data.x_title)
            pi.getAxis("bottom").setTicks([[(h + 0.5, f"{h:02d}") for h in range(0, 24, 2)]])
            pi.getAxis("left").setTicks([[(w + 0.5, data.labels[w]) for w in range(n)]])
            pi.invertY(True)
            pi.setXRange(0, 24, padding=0)
            pi.setYRange(0, n, padding=0)
            return
        pi.invertY(False)
        if len(names) > 1 or data.kind in ("stacked", "bars2"):
            # on a dark panel of its own, so that a bar under it does not hide the names
            pi.addLegend(offset=(-10, 10), brush=pg.mkBrush(15, 23, 32, 220), pen=pg.mkPen("#37474f"))
        if data.kind == "line":
            for k, name in enumerate(names):
                y = np.array(data.series[name], float)
                pi.plot(x, y, pen=pg.mkPen(SERIES_COLOURS[k % len(SERIES_COLOURS)], width=2), name=name,
                        connect="finite")
        elif data.kind == "bars2":
            w = 0.38
            for k, name in enumerate(names):
                y = np.nan_to_num(np.array(data.series[name], float))
                # named by the bars themselves: the legend draws a bar item's own brush (a
                # symbol-only stand-in with no data showed pyqtgraph's default grey for every series)
                bar = pg.BarGraphItem(x=x + (k - 0.5) * w, height=y, width=w * 0.95,
                                      brush=SERIES_COLOURS[k % len(SERIES_COLOURS)])
                pi.addItem(bar)
                pi.legend.addItem(bar, name)
        else:  # bars, stacked by series
            base = np.zeros(n)
            for k, name in enumerate(names):
                y = np.nan_to_num(np.array(data.series[name], float))
                col = SERIES_COLOURS[k % len(SERIES_COLOURS)]
                bar = pg.BarGraphItem(x=x, y0=base, height=y, width=0.8, brush=col, pen=pg.mkPen(None))
                pi.addItem(bar)
                if pi.legend is not None:
                    pi.legend.addItem(bar, name)
                base = base + y
        if data.target is not None:
            pi.addItem(pg.InfiniteLine(pos=data.target, angle=0,
                                       pen=pg.mkPen("#ff5252", width=1.5, style=Qt.DashLine),
                                       label=tr("target {v:g}", v=data.target), labelOpts={"color": "#ff8a80",
                                                                                             "position": 0.05}))
        self._set_ticks()
        pi.enableAutoRange()
        if data.kind == "line":
            vals = np.array([v for s in data.series.values() for v in s], float)
            vals = vals[np.isfinite(vals)]
            lo = min(float(vals.min()) if len(vals) else 95.0, data.target or 100.0)
            pi.setYRange(max(0.0, lo - 0.5), 100.2)

    def _set_ticks(self) -> None:
        """As many category labels under the bars as fit the plot's width without overlapping."""
        if self.plot is None or self.data is None or self.data.kind == "heatmap" or not self.data.labels:
            return
        n = len(self.data.labels)
        longest = max(sum(2 if ord(c) > 0x2E80 else 1 for c in str(t)) for t in self.data.labels)  # CJK: 2
        fit = max(2, int(max(200, self.plot.width() - 80) / (longest * 8 + 14)))
        step = max(1, int(math.ceil(n / fit)))
        self.plot.getPlotItem().getAxis("bottom").setTicks(
            [[(i, self.data.labels[i]) for i in range(0, n, step)]])

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(ev)
        self._set_ticks()

    def _on_click(self, ev) -> None:
        if self.plot is None or self.data is None or not self.data.labels:
            return
        vb = self.plot.getPlotItem().vb
        if not self.plot.sceneBoundingRect().contains(ev.scenePos()):
            return
        pt = vb.mapSceneToView(ev.scenePos())
        if self.data.kind == "heatmap":
            w, h = int(math.floor(pt.y())), int(math.floor(pt.x()))
            if 0 <= w < len(self.data.labels) and 0 <= h < 24:
                self.clicked.emit(w, h)
            return
        i = int(round(pt.x()))
        if 0 <= i < len(self.data.labels) and pt.y() >= 0:
            self.clicked.emit(i, -1)

    def export_png(self, path: str, width: int = 1600, height: int = 900) -> str:
        """Render the chart (title, axes, legend) into a PNG of exactly ``width`` × ``height``.

        pyqtgraph's ImageExporter keeps the widget's aspect ratio (asking 1280 × 720 of a wide
        panel gave 3861 × 720), so the chart is laid out afresh in an off-screen view of the
        asked proportions; above 1600 px it is laid out smaller and scaled up, so that titles and
        tick labels stay legible on a 4K picture instead of shrinking to specks."""
        if self.data is None:
            raise ValueError("no chart to export yet")
        width, height = int(width), int(height)
        if width < 16 or height < 16:
            raise ValueError(f"a PNG of {width} × {height} pixels is too small for a chart")
        scale = max(1.0, min(width / 1600.0, height / 900.0))
        lw, lh = max(16, round(width / scale)), max(16, round(height / scale))
        view = ChartView()
        view.setAttribute(Qt.WA_DontShowOnScreen, True)
        try:
            view.resize(lw, lh)
            view.show()  # lays out the plot at the asked size (never on screen)
            view.data = self.data
            view._draw(self.data)
            QApplication.processEvents()
            img = QImage(width, height, QImage.Format_ARGB32)
            img.fill(QColor("#0f1720"))
            p = QPainter(img)
            try:
                p.setRenderHint(QPainter.Antialiasing)
                p.setRenderHint(QPainter.TextAntialiasing)
                view.plot.render(p, QRectF(0, 0, width, height), QRect(0, 0, lw, lh))
            finally:
                p.end()
        finally:
            view.close()
            view.deleteLater()
        if not img.save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return str(path)
