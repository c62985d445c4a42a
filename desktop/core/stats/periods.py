"""Date ranges of the statistics: the filter (a range of local days, types, sub-districts), the
same dates a year before (同比) and the period before (环比), per-cent change, nearest-rank
percentiles, and the split of a range into whole months and partial spans (Qt-free)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from .summary import day_index, month_index

__all__ = ["StatsError", "StatsFilter", "same_range_last_year", "previous_period", "pct_change",
           "percentile_nearest_rank", "split_months", "merge_spans"]


class StatsError(ValueError):
    """A statistics question that cannot be answered; the message names the culprit."""


@dataclass(frozen=True)
class StatsFilter:
    """A range of local days (both ends included), and optionally types and sub-districts."""

    first: date
    last: date
    types: tuple[str, ...] | None = None
    subdistricts: tuple[str, ...] | None = None

    def __post_init__(self):
        if not isinstance(self.first, date) or not isinstance(self.last, date):
            raise StatsError(f"the date range must be two dates, got {self.first!r} … {self.last!r}")
        if self.last < self.first:
            raise StatsError(f"the date range ends ({self.last}) before it starts ({self.first})")
        for name in ("types", "subdistricts"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, tuple(str(x) for x in v))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def shifted(self, first: date, last: date) -> "StatsFilter":
        return StatsFilter(first, last, self.types, self.subdistricts)


def same_range_last_year(first: date, last: date) -> tuple[date, date]:
    """The same dates a year earlier (29 February becomes the 28th)."""
    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:  # 29 Feb
            return d.replace(year=d.year - 1, day=28)
    return back(first), back(last)


def previous_period(first: date, last: date) -> tuple[date, date]:
    """The period of the same length ending the day before ``first`` (环比). Whole months
    compare with as many whole months before them."""
    if first.day == 1 and (last + timedelta(days=1)).day == 1:
        months = (last.year - first.year) * 12 + last.month - first.month + 1
        m = first.year * 12 + first.month - 1 - months
        start = date(m // 12, m % 12 + 1, 1)
        return start, first - timedelta(days=1)
    n = (last - first).days + 1
    return first - timedelta(days=n), first - timedelta(days=1)


def pct_change(now: float, before: float) -> float | None:
    """Change in per cent from ``before`` to ``now`` (None when there was nothing before)."""
    if before == 0:
        return None
    return (now - before) * 100.0 / before


def percentile_nearest_rank(values: np.ndarray, counts: np.ndarray, p: float) -> float:
    """The nearest-rank ``p``-th percentile of samples given as sorted distinct ``values`` with
    ``counts``: the smallest value with at least p % of the samples at or below it."""
    total = int(np.sum(counts))
    if total == 0:
        return math.nan
    rank = max(1, math.ceil(p / 100.0 * total))
    return float(values[int(np.searchsorted(np.cumsum(counts), rank))])


def split_months(first: date, last: date) -> tuple[list[tuple[date, date]], list[int]]:
    """The range as day spans (partial months at either end) and whole months between."""
    spans: list[tuple[date, date]] = []
    months: list[int] = []
    d = first
    while d <= last:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        end = min(last, nxt - timedelta(days=1))
        if d.day == 1 and end == nxt - timedelta(days=1):
            months.append(month_index(d))
        else:
            spans.append((d, end))
        d = nxt
    return spans, months


def merge_spans(spans: list[tuple[date, date]]) -> list[tuple[int, int]]:
    return [(day_index(a), day_index(b)) for a, b in spans]
