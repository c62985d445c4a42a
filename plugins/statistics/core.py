"""The statistics panel's decisions, Qt-free: chart tables, choropleth classes, CSV export.

Every chart of the panel is a :class:`ChartData`: a title, axis names, category labels and
one or more series — what the chart draws, what its CSV holds and what a click on its bar
``i`` drills into (``keys[i]``), so the three can never disagree.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from desktop.sdk import tr, type_label

METRIC_NAMES = {"ack": "to acknowledge", "dispatch": "to dispatch", "arrive": "to arrival", "resolve": "to resolve"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CLASS_COLOURS = ("#1a3a4a", "#1f6f78", "#3aa17e", "#c9c33f", "#e8853a", "#d8412f")  # light → heavy on dark


@dataclass
class ChartData:
    """What one chart shows. ``series`` maps a series name to its values (one per label);
    ``keys[i]`` is what bar ``i`` stands for in a drill-down (a dict of filters)."""

    id: str
    title: str
    x_title: str
    y_title: str
    labels: list[str]
    series: dict[str, list[float]]
    keys: list[dict] = field(default_factory=list)
    kind: str = "bar"  # bar | line | heatmap | table
    target: float | None = None  # a horizontal target line (60 s, 98 %)
    extra_columns: dict[str, list[Any]] = field(default_factory=dict)  # CSV-only columns

    def rows(self) -> list[list[Any]]:
        """The CSV: a header, then one row per label."""
        head = [self.x_title] + list(self.series) + list(self.extra_columns)
        out = [head]
        for i, lab in enumerate(self.labels):
            row = [lab] + [_cell(v[i]) for v in self.series.values()] + [_cell(v[i]) for v in self.extra_columns.values()]
            out.append(row)
        return out


def _cell(v):
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return round(v, 3)
    return v


def write_csv(chart: ChartData, path: Path | str) -> Path:
    """Write the chart's data as CSV in UTF-8 with a BOM (a spreadsheet then reads the Chinese
    names right without an import dialog)."""
    path = Path(path)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(chart.rows())
    return path


def pct_text(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:+.1f} %"


# --- charts from figures --------------------------------------------------------------------
def over_time_chart(counts, months: bool) -> ChartData:
    """Alarms per day (or month) of the range, one series per type."""
    if months:
        ms, by = counts.months()
        labels = [f"{y}-{m:02d}" for y, m in ms]
        keys = [{"month": (y, m)} for y, m in ms]
    else:
        by = counts.by_day
        days = [date.fromordinal(int(d)) for d in counts.days]
        labels = [d.isoformat() for d in days]
        keys = [{"day": d} for d in days]
    series = {type_label(t): [float(x) for x in by[k]] for k, t in enumerate(counts.types)}
    return ChartData("over_time", tr("Alarms per month") if months else tr("Alarms per day"),
                     tr("Month") if months else tr("Day"), tr("Alarms"), labels, series, keys, kind="stacked")


def hour_chart(counts) -> ChartData:
    return ChartData("hour", tr("Alarms by hour of day"), tr("Hour"), tr("Alarms"),
                     [f"{h:02d}" for h in range(24)], {tr("Alarms"): [float(x) for x in counts.hour]},
                     [{"hour": h} for h in range(24)])


def weekday_hour_chart(counts) -> ChartData:
    labels = [tr(d) for d in WEEKDAYS]
    series = {f"{h:02d}": [float(counts.weekday_hour[w, h]) for w in range(7)] for h in range(24)}
    return ChartData("weekday_hour", tr("Alarms by weekday and hour"), tr("Weekday"), tr("Hour"), labels, series,
                     [{"weekday": w} for w in range(7)], kind="heatmap")


def type_chart(counts, changes) -> ChartData:
    """Per type: alarms, false-alarm share, cases (resolved), year over year and period over period."""
    ch = {c.type: c for c in changes}
    types = list(counts.types)
    share = counts.false_share()
    return ChartData(
        "by_type", tr("Alarms by type"), tr("Type"), tr("Alarms"), [type_label(t) for t in types],
        {tr("Alarms"): [float(x) for x in counts.total]}, [{"type_": t} for t in types],
        extra_columns={
            tr("Cases (resolved)"): [int(x) for x in counts.resolved],
            tr("False alarms"): [int(x) for x in counts.false],
            tr("False-alarm share %"): [float(s * 100) if not math.isnan(s) else math.nan for s in share],
            tr("A year before"): [ch[t].last_year if t in ch else 0 for t in types],
            tr("Year over year %"): [_opt(ch[t].yoy_pct) if t in ch else math.nan for t in types],
            tr("Period before"): [ch[t].previous if t in ch else 0 for t in types],
            tr("Period over period %"): [_opt(ch[t].pop_pct) if t in ch else math.nan for t in types],
        })


def _opt(v):
    return math.nan if v is None else float(v)


def subdistrict_chart(counts) -> ChartData:
    subs = [s for s in counts.subdistricts]
    total = counts.by_sub.sum(axis=1) if len(subs) else np.zeros(0)
    order = np.argsort(-total, kind="stable")
    return ChartData("by_subdistrict", tr("Alarms by sub-district"), tr("Sub-district"), tr("Alarms"),
                     [subs[i] or tr("(outside the grid)") for i in order], {tr("Alarms"): [float(total[i]) for i in order]},
                     [{"subdistrict": subs[i]} for i in order])


def response_chart(figures, metric: str, by: str, target_s: float) -> ChartData:
    rows = [f for f in figures if f.metric == metric]
    def label(g):
        if by == "type":
            return type_label(g)
        return g or "—"
    key = {"type": "type_", "subdistrict": "subdistrict"}.get(by)
    return ChartData(
        f"response_{metric}", tr("Response time {what} (seconds)", what=tr(METRIC_NAMES[metric])),
        {"type": tr("Type"), "subdistrict": tr("Sub-district"), "operator": tr("Operator"), "all": ""}[by],
        tr("Seconds"), [label(r.group) for r in rows],
        {tr("Median"): [r.median_s for r in rows], tr("90th percentile"): [r.p90_s for r in rows]},
        [({key: r.group} if key else {}) for r in rows], kind="bars2", target=target_s,
        extra_columns={tr("Count"): [r.n for r in rows],
                       tr("Within target %"): [r.within_target * 100 for r in rows]})


def camera_chart(cam) -> ChartData:
    days = [date.fromordinal(int(d)) for d in cam.days]
    return ChartData("camera_online", tr("Camera online rate (%)"), tr("Day"), "%", [d.isoformat() for d in days],
                     {tr("Online rate"): [float(r * 100) for r in cam.rate]}, [{"day": d} for d in days],
                     kind="line", target=98.0)


def coverage_chart(coverage, limit: int = 40) -> ChartData:
    """The blind spots: cells with the most uncovered ground first."""
    rows = sorted(coverage, key=lambda c: -c.blind_km2)[:limit]
    return ChartData("coverage", tr("Blind spots: uncovered ground per grid cell"), tr("Grid cell"), "km²",
                     [c.cell for c in rows], {tr("Uncovered km²"): [c.blind_km2 for c in rows]},
                     [{"cell": c.cell} for c in rows],
                     extra_columns={tr("Sub-district"): [c.subdistrict for c in rows],
                                    tr("Covered %"): [c.covered_share * 100 for c in rows],
                                    tr("Cameras"): [c.cameras for c in rows],
                                    tr("Cameras per km²"): [c.cameras_per_km2 for c in rows]})


# --- choropleth -------------------------------------------------------------------------------
def class_breaks(values: Sequence[float], n: int = 5) -> list[float]:
    """Upper bounds of ``n`` classes by quantiles of the non-zero values (zero is a class of
    its own: a cell with nothing stays dark). Ties collapse, so there may be fewer classes."""
    v = np.asarray([x for x in values if x > 0 and not math.isnan(x)], float)
    if not len(v):
        return []
    qs = np.quantile(v, np.linspace(0, 1, n + 1)[1:])
    out: list[float] = []
    for q in qs:
        q = float(q)
        if not out or q > out[-1]:
            out.append(q)
    return out


def classify(value: float, breaks: Sequence[float]) -> int:
    """0 for nothing, else 1 + the class index."""
    if not value or math.isnan(value) or value <= 0:
        return 0
    for i, b in enumerate(breaks):
        if value <= b:
            return i + 1
    return len(breaks)


def choropleth_values(cell_counts: dict[str, int], cells: Sequence[str], areas: dict[str, float],
                      per_km2: bool, unit: str = "cell", cell_sub: dict[str, str] | None = None) -> dict[str, float]:
    """The value of each cell (or, ``unit="subdistrict"``, of each sub-district, keyed by its
    name): the count, or the count per km² of ground."""
    if unit == "cell":
        out = {}
        for c in cells:
            n = float(cell_counts.get(c, 0))
            out[c] = n / areas[c] if per_km2 and areas.get(c) else n
        return out
    if cell_sub is None:
        raise ValueError("choropleth by sub-district needs each cell's sub-district")
    n_by: dict[str, float] = {}
    a_by: dict[str, float] = {}
    for c in cells:
        s = cell_sub.get(c, "")
        n_by[s] = n_by.get(s, 0.0) + cell_counts.get(c, 0)
        a_by[s] = a_by.get(s, 0.0) + areas.get(c, 0.0)
    return {s: (n_by[s] / a_by[s] if per_km2 and a_by[s] else n_by[s]) for s in n_by}


def legend_rows(breaks: Sequence[float], per_km2: bool) -> list[tuple[str, str]]:
    """(colour, text) per class, lightest first: "0", "1 – 12", …"""
    fmt = (lambda x: f"{x:.1f}") if per_km2 else (lambda x: f"{x:.0f}")
    rows = [(CLASS_COLOURS[0], "0")]
    lo = 0.0
    for i, b in enumerate(breaks):
        rows.append((CLASS_COLOURS[min(i + 1, len(CLASS_COLOURS) - 1)], f"{fmt(lo)} – {fmt(b)}"))
        lo = b
    return rows


def default_range(today: date, preset: str) -> tuple[date, date]:
    """The dates of a preset range ending yesterday (today is not over)."""
    end = today - timedelta(days=1)
    if preset == "last_7":
        return end - timedelta(days=6), end
    if preset == "last_30":
        return end - timedelta(days=29), end
    if preset == "this_year":
        return date(today.year, 1, 1), end if end.year == today.year else today
    return end - timedelta(days=364), end  # last_365
