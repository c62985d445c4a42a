"""The statistics panel plugin in the real window, on the real session, over a small journal
whose counts are worked out by hand: the charts show them, the filters narrow the charts and
the choropleth alike, a click on a bar (a real mouse click on the plot) or on a map cell lists
the alarms behind it, and the exports write a PNG of the size asked and a CSV a spreadsheet
opens with its Chinese intact."""
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from desktop.core.alarms import workflow
from desktop.core.alarms.journal import Journal
from desktop.core.alarms.model import Alarm
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection, gcj02_to_wgs84
from desktop.core.session import Session
from desktop.core.stats.places import GridLocator
from desktop.core.stats.summary import SummaryKeeper
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from tests.fixtures.district import LAT0, LON0

TZ = ZoneInfo("Asia/Shanghai")
D = 0.01  # the tiny district's grid step (degrees)


def _cell_point(gx, gy):
    """The middle of grid cell G{gx}{gy}, in WGS-84."""
    lon, lat = gcj02_to_wgs84(LON0 + (gx + 0.5) * D, LAT0 + (gy + 0.5) * D)
    return float(lon), float(lat)


def _alarm(aid, days_ago, hh, mm, typ, cell):
    day = datetime.now(TZ).date() - timedelta(days=days_ago)
    e = datetime(day.year, day.month, day.day, hh, mm, tzinfo=TZ).timestamp()
    lon, lat = _cell_point(*cell)
    sub = "一街道" if cell[0] == 0 else "二街道"
    return Alarm(id=aid, type=typ, priority=2, time=datetime.fromtimestamp(e, TZ).isoformat(), epoch=e, lon=lon,
                 lat=lat, crs="WGS84", lon_wgs=lon, lat_wgs=lat, lon_gcj=lon, lat_gcj=lat, source=f"src-{aid}",
                 received=e, last_epoch=e, subdistrict=sub, updated=e)


# id, days ago, hour, minute, type, grid cell (gx, gy)
ALARMS = [("a1", 2, 10, 15, "fire", (0, 0)), ("a2", 2, 21, 40, "fire", (1, 0)), ("a3", 5, 21, 5, "crowd", (0, 1)),
          ("a4", 40, 3, 0, "perimeter", (1, 1)), ("a5", 400, 9, 0, "fire", (0, 0))]  # a5: a year before


@pytest.fixture
def stats_ws(qtbot, tiny_district, tmp_path):
    grid = tiny_district / "grid.geojson"
    fc = json.loads(grid.read_text(encoding="utf-8"))
    for f in fc["features"]:  # a second sub-district: the cells of the east column
        if f["properties"]["id"].startswith("G1"):
            f["properties"]["subdistrict"] = "二街道"
    grid.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    journal = tmp_path / "alarms.sqlite"
    loc = GridLocator(d, w.projection)
    j = Journal(journal, summaries=SummaryKeeper(tz=TZ, cell_of=loc.cell_of, cells_of=loc.cells_of))
    with j.batch() as tx:
        for aid, days, hh, mm, typ, cell in ALARMS:
            a = _alarm(aid, days, hh, mm, typ, cell)
            tx.upsert_alarm(a)
            if aid == "a3":  # a false alarm
                a2, t = workflow.apply(a, "acknowledged", "op1", a.epoch + 30, "")
                tx.upsert_alarm(a2)
                tx.add_transition(t)
                a3, t = workflow.apply(a2, "false_alarm", "op1", a.epoch + 90, "")
                tx.upsert_alarm(a3)
                tx.add_transition(t)
    j.close()
    cfg = Config(operator="李警官")
    session = Session(cfg, d, w.projection, journal_path=journal, demo_feed=False)
    session.statistics.history_path = None  # this journal, not a bundled history
    session.start()
    mgr = start_plugins(w, cfg, d, bus=session.bus, services=session.services())
    w.resize(1600, 1000)
    w.show()
    rec = mgr.records["statistics"]
    assert rec.state == "enabled", rec.last_error
    plugin = rec.instance
    qtbot.waitUntil(lambda: "by_type" in plugin.charts and not plugin._busy, timeout=15000)
    yield w, session, plugin
    mgr.unload_all()
    session.stop()


def _values(chart, series=0):
    return dict(zip(chart.labels, list(chart.series.values())[series]))


def _refreshed(qtbot, plugin, change):
    before = plugin.charts
    change()
    qtbot.waitUntil(lambda: plugin.charts is not before and not plugin._busy, timeout=10000)


def test_charts_show_the_hand_counted_figures(stats_ws, qtbot):
    w, session, plugin = stats_ws
    by_type = plugin.charts["by_type"]
    counts = _values(by_type)
    assert sorted(counts.values()) == [1, 1, 2] and sum(counts.values()) == 4  # a5 is before the range
    rows = {r[0]: dict(zip(by_type.rows()[0], r)) for r in by_type.rows()[1:]}
    fire = next(r for k, r in rows.items() if counts[k] == 2)
    assert fire[plugin.charts["by_type"].rows()[0][3]] == 0  # fire: no false alarms
    assert 1 in [r[by_type.rows()[0][3]] for r in rows.values()]  # the crowd alarm was false
    yoy = [k for k in by_type.rows()[0] if "%" in str(k)]
    assert any(rows[k][col] == 100.0 for k in rows for col in yoy)  # fire: 2 against 1 a year before
    hours = plugin.charts["hour"].series
    hv = list(hours.values())[0]
    assert hv[10] == 1 and hv[21] == 2 and hv[3] == 1 and sum(hv) == 4
    subs = _values(plugin.charts["by_subdistrict"])
    assert subs == {"一街道": 2.0, "二街道": 2.0}
    # the table under the "by type" tab holds the same rows, and the charts are drawn
    assert plugin.panel.type_table.rowCount() == 3
    view = plugin.panel.views["hour"]
    assert view.draws == 0 and view.plot is None  # not on screen: made and drawn when it is
    plugin.panel.tabs.setCurrentWidget(view)
    items = view.plot.getPlotItem().items
    assert view.draws == 1 and any(type(i).__name__ == "BarGraphItem" for i in items)
    assert "4" in plugin.panel.status.text()
    # a refresh that finds the same figures does not rebuild the chart on screen; new ones do
    _refreshed(qtbot, plugin, plugin.refresh)
    assert view.draws == 1
    plugin.target_s = 30.0  # the response chart's target line moves
    plugin.panel.tabs.setCurrentWidget(plugin.panel.views["response"])
    drawn = plugin.panel.views["response"].draws
    _refreshed(qtbot, plugin, plugin.refresh)
    assert plugin.panel.views["response"].draws == drawn + 1


def test_filters_narrow_the_charts_and_the_choropleth(stats_ws, qtbot):
    w, session, plugin = stats_ws
    panel = plugin.panel
    panel.map_on.setChecked(True)
    layer = w.canvas.layer("choropleth")
    assert layer.visible and layer.values == {"G00": 1.0, "G01": 1.0, "G10": 1.0, "G11": 1.0}
    _refreshed(qtbot, plugin, lambda: panel.sub_box.setCurrentIndex(panel.sub_box.findData("二街道")))
    assert sum(list(plugin.charts["by_type"].series.values())[0]) == 2
    assert _values(plugin.charts["by_subdistrict"]) == {"二街道": 2.0}
    assert layer.values["G10"] == 1.0 and layer.values["G11"] == 1.0
    assert layer.values["G00"] == 0.0 and layer.class_of("G00") == 0 and layer.class_of("G10") > 0
    _refreshed(qtbot, plugin, lambda: panel.type_box.setCurrentIndex(panel.type_box.findData("fire")))
    assert layer.values["G10"] == 1.0 and layer.values["G11"] == 0.0  # the perimeter alarm filtered out
    # per km²: the cell's count over its ground
    panel.map_value.setCurrentIndex(panel.map_value.findData("per_km2"))
    assert layer.per_km2 and layer.values["G10"] == pytest.approx(1.0 / plugin.areas["G10"])
    # by sub-district: every cell of 二街道 carries the sub-district's count
    panel.map_value.setCurrentIndex(panel.map_value.findData("count"))
    panel.map_unit.setCurrentIndex(panel.map_unit.findData("subdistrict"))
    assert layer.values["G10"] == layer.values["G11"] == 1.0 and layer.values["G00"] == 0.0
    w.canvas.repaint()  # the fills and the legend paint without error
    # the legend is drawn in screen space, in the map's lower-left corner (not in the static
    # layers' off-screen margin)
    legend = w.canvas.layer("choropleth_legend")
    assert legend.visible
    vp = w.canvas.vp
    img = QImage(vp.width, vp.height, QImage.Format_ARGB32)
    img.fill(0)
    painter = QPainter(img)
    legend.paint(painter, vp)
    painter.end()
    drawn = [(x, y) for x in range(0, vp.width, 4) for y in range(0, vp.height, 4) if img.pixel(x, y) != 0]
    assert drawn and max(x for x, _ in drawn) < vp.width / 2 and min(y for _, y in drawn) > vp.height / 3
    panel.map_on.setChecked(False)
    assert not legend.visible and not layer.visible


def test_a_click_on_a_bar_lists_the_alarms_and_one_shows_on_the_map(stats_ws, qtbot):
    w, session, plugin = stats_ws
    panel = plugin.panel
    view = panel.views["hour"]
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.isVisible() and view.plot is not None and view.plot.width() > 100, timeout=5000)
    qtbot.wait(300)  # the tab's plot lays itself out (its view range) after it is shown
    vb = view.plot.getPlotItem().vb
    pos = view.plot.mapFromScene(vb.mapViewToScene(QPointF(21, 0.5)))
    QTest.mousePress(view.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pos)
    QTest.mouseRelease(view.plot.viewport(), Qt.LeftButton, Qt.NoModifier, pos, 50)
    t = panel.drill_table
    qtbot.waitUntil(lambda: t.rowCount() == 2, timeout=5000)
    assert {t.item(r, 5).text() for r in range(2)} == {"a2", "a3"}
    assert all(":" in t.item(r, 0).text() and "T" not in t.item(r, 0).text() for r in range(2))  # local, readable
    assert "2" in panel.drill_title.text()
    row = next(r for r in range(2) if t.item(r, 5).text() == "a2")
    plugin.show_alarm(row)
    x, y = w.projection.forward(*_cell_point(1, 0), "WGS84")
    assert abs(w.canvas.vp.cx - float(x)) < 1 and abs(w.canvas.vp.cy - float(y)) < 1


def test_a_click_on_a_choropleth_cell_lists_its_alarms(stats_ws, qtbot):
    w, session, plugin = stats_ws
    plugin.panel.map_on.setChecked(True)
    layer = w.canvas.layer("choropleth")
    x, y = w.projection.forward(*_cell_point(0, 1), "WGS84")
    hit = layer.hit_test(float(x), float(y), w.canvas.vp)
    assert hit is not None and hit.id == "G01"
    w.canvas.selected.emit(hit)  # what a click on the map sends
    t = plugin.panel.drill_table
    qtbot.waitUntil(lambda: t.rowCount() == 1 and t.item(0, 5) is not None, timeout=5000)
    assert t.item(0, 5).text() == "a3" and "G01" in plugin.panel.drill_title.text()


def test_exports_png_at_the_chosen_size_and_csv_with_bom(stats_ws, tmp_path, monkeypatch):
    w, session, plugin = stats_ws
    panel = plugin.panel
    panel.tabs.setCurrentWidget(panel.views["by_subdistrict"])
    target = {"path": ""}
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (target["path"], "")))
    target["path"] = str(tmp_path / "subs.png")
    panel.size_box.setCurrentIndex(panel.size_box.findText("1280 × 720"))
    panel.png_btn.click()
    img = QImage(target["path"])
    assert not img.isNull() and (img.width(), img.height()) == (1280, 720)
    colours = {img.pixel(x, y) for x in range(0, 1280, 16) for y in range(0, 720, 16)}
    assert len(colours) > 5  # bars, title and axes drawn, not a blank picture
    target["path"] = str(tmp_path / "subs.csv")
    panel.csv_btn.click()
    raw = (tmp_path / "subs.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and {ln.split(",")[0] for ln in lines[1:]} == {"一街道", "二街道"}
    assert {ln.split(",")[1] for ln in lines[1:]} == {"2.0"}


def test_coverage_chart_and_layer_agree_with_the_cells(stats_ws):
    w, session, plugin = stats_ws
    cov = plugin.charts["coverage"]
    assert sorted(cov.labels) == ["G00", "G01", "G10", "G11"]
    blind = list(cov.series.values())[0]
    assert blind == sorted(blind, reverse=True)  # the worst blind spots first
    by_cell = {c.cell: c for c in plugin.coverage}
    for cell, b in zip(cov.labels, blind):
        c = by_cell[cell]
        assert 0.0 <= c.covered_share <= 1.0 and b == pytest.approx(c.area_km2 * (1 - c.covered_share), rel=1e-6)
    # 40 cameras of 120 m range and 90° field: some ground covered, most not
    assert 0 < sum(c.covered_share for c in plugin.coverage) / 4 < 0.5
    assert sum(c.cameras for c in plugin.coverage) == 40
    plugin.panel.map_on.setChecked(True)
    plugin.panel.map_value.setCurrentIndex(plugin.panel.map_value.findData("coverage"))
    layer = w.canvas.layer("choropleth")
    assert layer.values["G00"] == pytest.approx(by_cell["G00"].covered_share * 100)
