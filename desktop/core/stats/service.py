"""The statistics service a plugin gets as ``host.service("statistics")`` (Qt-free).

It knows which journals to count (the workstation's alarm journal and, on the embedded
default, the bundled history beside it), the district's zone and grid (the same locator the
journal's summaries use), and builds what is slow once, on demand: the history (about half a
minute, with progress) and the camera coverage (a second). Everything it answers comes from
a :class:`~desktop.core.stats.reader.StatsReader`.
"""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Callable

from .history import DEFAULT_PLAN, HistoryPlan, build_history, history_is_current
from .places import GridLocator
from .reader import StatsReader

log = logging.getLogger("pingan.stats")

__all__ = ["StatisticsService", "attach_statistics"]


class StatisticsService:
    """Statistics of one workstation: its journals, the district's grid and zone, and the
    bundled history (``history_path``; None on a live workstation that has its own record)."""

    def __init__(self, journal_path: Path, district, projection, tz, history_path: Path | None = None,
                 clock: Callable[[], float] | None = None, plan: HistoryPlan = DEFAULT_PLAN):
        self.journal_path = Path(journal_path)
        self.history_path = Path(history_path) if history_path is not None else None
        self.district = district
        self.projection = projection
        self.tz = tz
        self.plan = plan
        self.locator = GridLocator(district, projection)
        self._clock = clock
        self._lock = threading.Lock()
        self._reader: StatsReader | None = None
        self._coverage = None

    # --- what to count ------------------------------------------------------------------------
    def now(self) -> float:
        import time
        return float(self._clock()) if self._clock is not None else time.time()

    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), self.tz).date()

    def history_needed(self) -> bool:
        """True when the bundled history should be (re)built before the figures mean anything."""
        return self.history_path is not None and not history_is_current(self.history_path, self.today(), self.plan)

    def build_history(self, progress: Callable[[int, int], None] | None = None,
                      cancelled: Callable[[], bool] | None = None) -> dict:
        """Generate the bundled history (reproducible; ~30 s for the bundled district)."""
        if self.history_path is None:
            raise RuntimeError("this workstation has no bundled history (it counts its own journal)")
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None
        out = build_history(self.history_path, self.district, self.locator, self.tz, self.today(), self.plan,
                            progress=progress, cancelled=cancelled)
        log.info("statistics history built: %s", out)
        return out

    def journals(self) -> list[Path]:
        out = [self.journal_path]
        if self.history_path is not None and self.history_path.exists():
            out.insert(0, self.history_path)
        return out

    def reader(self) -> StatsReader:
        """The reader over the current journals (reused; safe from any thread)."""
        with self._lock:
            paths = self.journals()
            if self._reader is None or self._reader.paths != paths:
                if self._reader is not None:
                    self._reader.close()
                self._reader = StatsReader(paths, self.tz)
            return self._reader

    # --- places ---------------------------------------------------------------------------------
    def cell_of(self, lon_wgs: float, lat_wgs: float) -> str:
        return self.locator.cell_of(lon_wgs, lat_wgs)

    def cells_in(self, subdistricts) -> list[str]:
        return self.locator.cells_in(subdistricts)

    def cell_subdistrict(self, cell: str) -> str:
        return self.locator.subdistrict.get(cell, "")

    def cell_area_km2(self, cell: str) -> float:
        import math
        g = self.locator.geoms[cell]
        _, lat = self.projection.inverse(g.centroid.x, g.centroid.y, "WGS84")
        k = math.cos(math.radians(float(lat)))
        return float(g.area) * k * k / 1e6

    def coverage(self, progress: Callable[[int, int], None] | None = None):
        """Camera coverage per grid cell (:class:`~desktop.core.stats.coverage.CellCoverage`), computed once."""
        with self._lock:
            if self._coverage is not None:
                return self._coverage
        from .coverage import camera_coverage
        cams = self.district.cameras
        cells = [(str(c.id), str(c.props.get("subdistrict", "")), c.map_geom) for c in self.district.grid]
        lat = float(cams.lat_wgs.mean()) if len(cams) else 30.0
        cov = camera_coverage(cells, cams.x, cams.y, cams.heading, cams.fov, cams.range_m, lat, progress)
        with self._lock:
            self._coverage = cov
        return cov

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None


def attach_statistics(session) -> StatisticsService:
    """Give the session's alarm journal the district's zone and grid for its summaries, and
    make the statistics service (with the bundled history on the offline demo)."""
    from desktop.core.localtime import zone
    try:
        tz = zone(session.district.info.timezone)
    except ValueError:
        tz = zone("Asia/Shanghai")
    history = None
    if not session.cfg.broker:
        tag = session.district.info.adcode or "district"
        history = session.journal_path.with_name(f"history-{tag}.sqlite")
    svc = StatisticsService(session.journal_path, session.district, session.projection, tz, history,
                            clock=session.clock.time)
    journal = getattr(session.alarms, "journal", None)  # in-process only; the feed process keeps its own
    keeper = getattr(journal, "summaries", None)
    if keeper is not None:
        keeper.tz = tz
        keeper.cell_of = svc.locator.cell_of
        keeper.cells_of = svc.locator.cells_of
    return svc
