"""The statistics panel: the figures a center reports, from the journal's summary tables.

A date range and filters (type, sub-district) drive every chart — alarms over time, by hour,
by weekday × hour, by type (cases, false alarms, year over year, period over period), by
sub-district, response times against the 60 s line, the camera online rate against 98 %, and
the blind spots of camera coverage — and the choropleth on the map. A click on a bar or on a
cell lists the alarms behind it; a double-click on one shows it on the map. Each chart exports
to PNG (at a chosen size) and its data to CSV (UTF-8 with BOM).
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (QComboBox, QDateEdit, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from desktop.sdk import ALARM_TYPES, Plugin, StatsFilter, format_local, tr, type_label

from . import core
from .charts import ChartView
from .map_layer import ChoroplethLayer, ChoroplethLegend

HERE = Path(__file__).resolve().parent
PNG_SIZES = ((1600, 900), (1920, 1080), (1280, 720), (3840, 2160))


class StatisticsPanel(QWidget):
    """Filters on top, chart tabs in the middle, the drill-down list below."""

    def __init__(self, plugin: "StatisticsPlugin"):
        super().__init__()
        self.plugin = plugin
        g = plugin.host.guard
        top = QHBoxLayout()
        self.preset = QComboBox()
        for key, text in (("last_365", tr("Last 12 months")), ("this_year", tr("This year")),
                          ("last_30", tr("Last 30 days")), ("last_7", tr("Last 7 days")), ("custom", tr("Custom"))):
            self.preset.addItem(text, key)
        self.first = QDateEdit()
        self.last = QDateEdit()
        for w in (self.first, self.last):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
        self.type_box = QComboBox()
        self.type_box.addItem(tr("All types"), None)
        for t in ALARM_TYPES:
            self.type_box.addItem(type_label(t), t)
        self.sub_box = QComboBox()
        self.sub_box.addItem(tr("All sub-districts"), None)
        for s in plugin.subdistricts:
            self.sub_box.addItem(s, s)
        self.apply_btn = QPushButton(tr("Show"))
        for w in (QLabel(tr("Range")), self.preset, self.first, QLabel("–"), self.last, self.type_box, self.sub_box,
                  self.apply_btn):
            top.addWidget(w)
        top.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.tabs = QTabWidget()
        self.views: dict[str, ChartView] = {}
        for key, title in (("over_time", tr("Over time")), ("hour", tr("Hour of day")),
                           ("weekday_hour", tr("Weekday × hour")), ("by_type", tr("By type")),
                           ("by_subdistrict", tr("By sub-district")), ("response", tr("Response times")),
                           ("camera_online", tr("Camera online rate")), ("coverage", tr("Coverage"))):
            v = ChartView()
            v.clicked.connect(g(lambda i, h, key=key: plugin.drill(key, i, h), f"drill {key}"))
            self.views[key] = v
            self.tabs.addTab(v, title)
        self.type_table = QTableWidget(0, 0)
        self.response_by = QComboBox()
        for key, text in (("type", tr("by type")), ("subdistrict", tr("by sub-district")),
                          ("operator", tr("by operator"))):
            self.response_by.addItem(text, key)
        self.metric = QComboBox()
        for m, text in core.METRIC_NAMES.items():  # the names are in this plugin's catalog
            self.metric.addItem(tr(text), m)

        chart_row = QHBoxLayout()
        chart_row.addWidget(QLabel(tr("Response")))
        chart_row.addWidget(self.metric)
        chart_row.addWidget(self.response_by)
        chart_row.addStretch(1)
        self.size_box = QComboBox()
        for w, h in PNG_SIZES:
            self.size_box.addItem(f"{w} × {h}", (w, h))
        self.png_btn = QPushButton(tr("Export PNG…"))
        self.csv_btn = QPushButton(tr("Export CSV…"))
        chart_row.addWidget(self.size_box)
        chart_row.addWidget(self.png_btn)
        chart_row.addWidget(self.csv_btn)

        map_row = QHBoxLayout()
        self.map_on = QPushButton(tr("Choropleth on the map"))
        self.map_on.setCheckable(True)
        self.map_value = QComboBox()
        for key, text in (("count", tr("alarms")), ("per_km2", tr("alarms per km²")),
                          ("coverage", tr("camera coverage %"))):
            self.map_value.addItem(text, key)
        self.map_unit = QComboBox()
        self.map_unit.addItem(tr("per grid cell"), "cell")
        self.map_unit.addItem(tr("per sub-district"), "subdistrict")
        for w in (self.map_on, self.map_value, self.map_unit):
            map_row.addWidget(w)
        map_row.addStretch(1)

        self.drill_title = QLabel(tr("Click a bar or a cell to list the alarms behind it"))
        self.drill_table = QTableWidget(0, 6)
        self.drill_table.setHorizontalHeaderLabels([tr("Time"), tr("Type"), tr("Sub-district"), tr("State"),
                                                    tr("Source"), tr("Alarm")])
        self.drill_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.drill_table.setSelectionBehavior(QTableWidget.SelectRows)
        self.drill_table.verticalHeader().setVisible(False)
        self.drill_table.horizontalHeader().setStretchLastSection(True)

        lower = QWidget()
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.drill_title)
        ll.addWidget(self.drill_table)
        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addWidget(self.tabs, 3)
        ul.addWidget(self.type_table, 1)
        split = QSplitter(Qt.Horizontal)  # chart beside the list: a bottom dock is wide, not tall
        split.addWidget(upper)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addLayout(chart_row)
        lay.addLayout(map_row)
        lay.addWidget(split, 1)

        self.preset.currentIndexChanged.connect(g(self._preset_changed, "range preset"))
        self.apply_btn.clicked.connect(g(plugin.refresh, "statistics refresh"))
        for box in (self.type_box, self.sub_box, self.response_by, self.metric):
            box.currentIndexChanged.connect(g(plugin.refresh, "statistics filter"))
        for w in (self.first, self.last):
            w.dateChanged.connect(g(lambda _d: self.preset.setCurrentIndex(self.preset.findData("custom"))
                                    if not self._setting else None, "custom range"))
        self.png_btn.clicked.connect(g(self._export_png, "PNG export"))
        self.csv_btn.clicked.connect(g(self._export_csv, "CSV export"))
        self.map_on.toggled.connect(g(plugin.set_map_visible, "choropleth"))
        self.map_value.currentIndexChanged.connect(g(plugin.update_map, "choropleth value"))
        self.map_unit.currentIndexChanged.connect(g(plugin.update_map, "choropleth unit"))
        self.tabs.currentChanged.connect(g(self._tab_changed, "tab"))
        self.drill_table.cellDoubleClicked.connect(g(lambda r, _c: plugin.show_alarm(r), "show alarm"))
        self._setting = False
        self._preset_changed()

    def _tab_changed(self, _i=None) -> None:
        self.type_table.setVisible(self.current_key() == "by_type")

    def _preset_changed(self, _i=None) -> None:
        key = self.preset.currentData()
        if key == "custom":
            return
        a, b = core.default_range(self.plugin.today(), key)
        self._setting = True
        self.first.setDate(QDate(a.year, a.month, a.day))
        self.last.setDate(QDate(b.year, b.month, b.day))
        self._setting = False
        self.plugin.refresh()

    def current_filter(self) -> StatsFilter:
        a, b = self.first.date(), self.last.date()
        t = self.type_box.currentData()
        s = self.sub_box.currentData()
        return StatsFilter(date(a.year(), a.month(), a.day()), date(b.year(), b.month(), b.day()),
                           types=(t,) if t else None, subdistricts=(s,) if s else None)

    def current_key(self) -> str:
        return list(self.views)[self.tabs.currentIndex()]

    def _export_png(self) -> None:
        view = self.views[self.current_key()]
        if view.data is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, tr("Export chart as PNG"), f"{view.data.id}.png", "PNG (*.png)")
        if path:
            w, h = self.size_box.currentData()
            view.export_png(path, w, h)
            self.plugin.host.show_notice(tr("Chart saved to {path}", path=path))

    def _export_csv(self) -> None:
        view = self.views[self.current_key()]
        if view.data is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, tr("Export chart data as CSV"), f"{view.data.id}.csv",
                                              "CSV (*.csv)")
        if path:
            core.write_csv(view.data, path)
            self.plugin.host.show_notice(tr("Data saved to {path}", path=path))


class StatisticsPlugin(Plugin):
    """The statistics panel and its choropleth layer."""

    def register(self) -> None:
        self.host.load_translations(HERE / "i18n")
        self.stats = self.host.service("statistics")
        if self.stats is None:
            raise RuntimeError("no statistics service in this host")
        self.district = self.host.service("district")
        self.projection = self.host.service("projection")
        st = self.host.settings()
        self.min_drop_s = float(st["min_drop_s"])
        self.target_s = float(st["target_s"])
        self.refresh_s = float(st["refresh_s"])
        self.subdistricts = list(self.district.subdistricts()) if self.district is not None else []
        self.charts: dict[str, core.ChartData] = {}
        self.cell_counts: dict[str, int] = {}
        self.coverage = None
        self.drilled: list = []
        self._busy = False
        self._again = False
        self._building = False
        self._areas: dict[str, float] | None = None  # km² per cell, when first needed (per-km² classes)
        self.panel = StatisticsPanel(self)
        self.host.add_panel("statistics", tr("Statistics"), self.panel, area="bottom")
        self.layer = ChoroplethLayer(self.district)
        self.host.add_map_layer(self.layer)
        self.legend = ChoroplethLegend(self.layer)
        self.host.add_map_layer(self.legend)
        self.host.on_map_selected(self._map_selected)
        self.panel._tab_changed()
        if self.stats.history_needed():
            self.build_history()
        else:
            self.refresh()
        if self.refresh_s > 0:
            # today's figures move as alarms come in; a panel nobody sees is not refreshed
            self.host.timer(int(self.refresh_s * 1000), self._auto_refresh)

    def _auto_refresh(self) -> None:
        if not self._building and not self._busy and self.panel.isVisible():
            self.refresh()

    def today(self) -> date:
        return self.stats.today() if getattr(self, "stats", None) is not None else date.today()

    # --- the history ----------------------------------------------------------------------------
    def build_history(self) -> None:
        """Generate the bundled history in the background, with its progress in the panel."""
        self._building = True
        bar = self.panel.progress
        bar.setVisible(True)
        bar.setRange(0, 100)
        bar.setValue(0)
        bar.setFormat(tr("Building the district's two-year history… %p%"))
        state = {"done": 0, "total": 1}

        def progress(done, total):
            state["done"], state["total"] = done, total

        tick = self.host.timer(200, lambda: bar.setValue(int(100 * state["done"] / max(1, state["total"]))))

        def done(result):
            tick.stop()
            self._building = False
            bar.setVisible(False)
            self.host.show_notice(tr("Statistics history ready: {n} alarms from {a} to {b}", n=result["alarms"],
                                     a=result["first"], b=result["last"]))
            self.refresh()

        def failed(exc):
            tick.stop()
            self._building = False
            bar.setVisible(False)
            self.panel.status.setText(tr("The history could not be built: {err}", err=exc))
            self.host.show_notice(tr("The history could not be built: {err}", err=exc), "error")
            self.refresh()

        # Disabling the plugin (or closing the window) stops the build at its next step.
        self.host.run_in_background(lambda: self.stats.build_history(progress, cancelled=lambda: self.host.closed),
                                    done, failed, what="statistics history")

    # --- figures ------------------------------------------------------------------------------
    def refresh(self, *_a) -> None:
        if self._building or not hasattr(self, "panel"):
            return
        if self._busy:
            self._again = True
            return
        try:
            f = self.panel.current_filter()
        except ValueError as exc:
            self.panel.status.setText(str(exc))
            return
        self._busy = True
        by = self.panel.response_by.currentData()
        metric = self.panel.metric.currentData()
        cells = self.stats.cells_in(f.subdistricts) if f.subdistricts else None
        n_cams = max(1, len(self.district.cameras)) if self.district is not None else 1
        now = self.stats.now()
        need_cov = self.coverage is None

        def work():
            r = self.stats.reader()
            counts = r.counts(f)
            charts = {
                "over_time": core.over_time_chart(counts, months=f.days > 92),
                "hour": core.hour_chart(counts),
                "weekday_hour": core.weekday_hour_chart(counts),
                "by_type": core.type_chart(counts, r.changes(f)),
                "by_subdistrict": core.subdistrict_chart(counts),
                "response": core.response_chart(r.response(f, by, self.target_s), metric, by, self.target_s),
            }
            cam = r.cameras(f, n_cams, self.min_drop_s, now=now)
            charts["camera_online"] = core.camera_chart(cam)
            cov = self.stats.coverage() if need_cov else None
            return f, charts, r.cells(f, cells), cam, cov, int(counts.total.sum())

        def failed(exc):
            self._busy = False
            self.panel.status.setText(tr("Statistics: {err}", err=exc))
            self.host.show_notice(tr("Statistics: {err}", err=exc), "error")

        self.host.run_in_background(work, self._got, failed, what="statistics")

    def _got(self, result) -> None:
        self._busy = False
        f, charts, cells, cam, cov, total = result
        if cov is not None:
            self.coverage = cov
        charts["coverage"] = core.coverage_chart(self.coverage or [])
        self.filter = f
        self.charts = charts
        self.cell_counts = cells
        for key, data in charts.items():
            self.panel.views[key].show_chart(data)
        self._fill_type_table(charts["by_type"])
        worst = ", ".join(f"{c} ({s / 3600:.0f} h)" for c, s, _n in cam.worst[:5])
        self.panel.status.setText(tr(
            "{first} – {last}: {n} alarms · camera online rate {rate} · most down: {worst}",
            first=f.first.isoformat(), last=f.last.isoformat(), n=total,
            rate=f"{cam.overall * 100:.2f} %" if cam.overall == cam.overall else "—", worst=worst or "—"))
        self.update_map()
        if self._again:
            self._again = False
            self.refresh()

    def _fill_type_table(self, data: core.ChartData) -> None:
        rows = data.rows()
        t = self.panel.type_table
        t.setColumnCount(len(rows[0]))
        t.setRowCount(len(rows) - 1)
        t.setHorizontalHeaderLabels([str(h) for h in rows[0]])
        for i, row in enumerate(rows[1:]):
            for j, v in enumerate(row):
                if "%" in str(rows[0][j]) and isinstance(v, (int, float)):
                    text = core.pct_text(v)
                elif isinstance(v, float) and v.is_integer():
                    text = str(int(v))  # counts: 2007, not 2007.0
                else:
                    text = str(v)
                if v == "":
                    text = "—"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter if j else Qt.AlignLeft | Qt.AlignVCenter)
                t.setItem(i, j, item)
        t.resizeColumnsToContents()

    # --- the map ----------------------------------------------------------------------------
    def set_map_visible(self, on: bool) -> None:
        self.layer.set_visible(bool(on))
        self.legend.set_visible(bool(on))
        if on:
            self.update_map()

    def map_values(self) -> tuple[dict[str, float], str, bool, str]:
        """What the choropleth shows for the current filter: values, unit, per km², caption."""
        value = self.panel.map_value.currentData()
        unit = self.panel.map_unit.currentData()
        f = getattr(self, "filter", None)
        cells = self.stats.cells_in(f.subdistricts) if f is not None and f.subdistricts else self.stats.locator.ids
        if value == "coverage":
            cov = {c.cell: c.covered_share * 100 for c in (self.coverage or [])}
            keep = set(cells)
            if unit == "subdistrict":
                by: dict[str, list[float]] = {}
                for c in self.coverage or []:
                    if c.cell in keep:
                        a = by.setdefault(c.subdistrict, [0.0, 0.0])
                        a[0] += c.covered_share * c.area_km2
                        a[1] += c.area_km2
                vals = {s: 100 * a[0] / a[1] for s, a in by.items() if a[1] > 0}
            else:
                vals = {c: v for c, v in cov.items() if c in keep}
            return vals, unit, True, tr("Camera coverage (%)")
        per = value == "per_km2"
        vals = core.choropleth_values(self.cell_counts, cells, self.areas, per, unit, self.stats.locator.subdistrict)
        return vals, unit, per, tr("Alarms per km²") if per else tr("Alarms")

    @property
    def areas(self) -> dict[str, float]:
        if self._areas is None:
            self._areas = {c: self.stats.cell_area_km2(c) for c in self.stats.locator.ids}
        return self._areas

    def update_map(self, *_a) -> None:
        if not self.layer.visible:
            return
        vals, unit, per, caption = self.map_values()
        self.layer.set_values(vals, unit, per, caption)

    def _map_selected(self, hit) -> None:
        if hit is not None and getattr(hit, "layer_id", "") == self.layer.id and self.layer.visible:
            self.drill_cell(hit.id)

    # --- drill-down -----------------------------------------------------------------------------
    def drill(self, key: str, index: int, column: int = -1) -> None:
        data = self.charts.get(key)
        if data is None or not (0 <= index < len(data.keys)):
            return
        k = dict(data.keys[index])
        if key == "weekday_hour" and column >= 0:
            k["hour"] = column
        if "cell" in k:
            self.drill_cell(k["cell"])
            return
        self._list(k, f"{data.title}: {data.labels[index]}" + (f" {column:02d}:00" if column >= 0 else ""))

    def drill_cell(self, cell: str) -> None:
        self._list({"cell": cell, "cell_of": self.stats.cell_of, "bbox_wgs": self.stats.locator.bbox_wgs(cell)},
                   tr("Grid cell {cell}", cell=cell))

    def _list(self, kwargs: dict, title: str) -> None:
        f = getattr(self, "filter", None)
        if f is None:
            return
        self.panel.drill_title.setText(tr("{title} — loading…", title=title))

        def done(alarms):
            self.drilled = alarms
            t = self.panel.drill_table
            t.setRowCount(len(alarms))
            for i, a in enumerate(alarms):
                for j, text in enumerate((format_local(a.epoch), type_label(a.type), a.subdistrict, a.state.label,
                                          a.source, a.id)):
                    t.setItem(i, j, QTableWidgetItem(text))
            t.resizeColumnsToContents()
            self.panel.drill_title.setText(tr("{title}: {n} alarms (double-click one to show it on the map)",
                                              title=title, n=len(alarms)))

        self.host.run_in_background(lambda: self.stats.reader().alarms_behind(f, limit=2000, **kwargs), done,
                                    what="statistics drill-down")

    def show_alarm(self, row: int) -> None:
        if 0 <= row < len(self.drilled):
            a = self.drilled[row]
            x, y = self.projection.forward(a.lon_wgs, a.lat_wgs, "WGS84")
            self.host.center_map(float(x), float(y), min_scale=0.5)
