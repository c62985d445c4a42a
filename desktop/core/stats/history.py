"""A reproducible two-year alarm history for a district, so the statistics panel of the embedded
default is meaningful on first start (Qt-free).

What it holds, and why it looks like a district's record:

* **Types and volumes** — per year, about 2,200 one-key alarms, 9,000 perimeter intrusions,
  3,000 face matches, 1,500 radar targets at sea, 700 fires, 1,800 crowd gatherings and
  7,000 hazard reports from community staff. The second year changes the way field reports
  describe a center's effect: one-key (criminal incident) alarms −39.5 %, perimeter
  intrusions (residential burglary) −63 %, hazard reports +23 % (more staff reporting),
  crowds +8 %; the rates move over about two months around the turn of the two years.
* **Hours and seasons** — intrusions at night, hazard reports in working hours on weekdays,
  crowds in summer afternoons and at weekends, radar targets at dawn, fires in the evening.
* **Places** — each alarm is near a camera of the right kind (radar targets near the coastal
  cameras and radars, the rest near the street cameras), with some busier places than others.
* **Workflow** — acknowledged in tens of seconds (a little faster in the second year), false
  alarms declared after a look, the rest dispatched, the unit arriving minutes later,
  resolved within the hour or two; by eight operators on three shifts.
* **Cameras** — short drops (a reboot, a blip) and longer outages, a few chronically faulty
  cameras: an online rate around 98 %.

Reproducible: each calendar day is drawn from ``numpy.random.default_rng((seed, ordinal of the
day))``, so the same seed gives the same events for the same day, whenever it is generated.
The history ends yesterday (today belongs to the live journal); the first build covers
``years`` back, and on later days only the days since are added (seconds, not a rebuild). The
change from year one's rates to year two's is placed by the first build's span.

The history is written through the alarm journal (:class:`~desktop.core.alarms.journal.Journal`)
with its summaries, exactly as live alarms are.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, tzinfo
from pathlib import Path
from typing import Callable

import numpy as np

from desktop.core.alarms.journal import Journal
from desktop.core.alarms.model import Alarm, AlarmState, Transition

__all__ = ["HistoryPlan", "DEFAULT_PLAN", "history_end", "build_history", "HISTORY_VERSION",
           "history_is_current"]

HISTORY_VERSION = 1
OPERATORS = ("王敏", "李强", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽")


@dataclass(frozen=True)
class TypeProfile:
    """One alarm type in the history: yearly count in year one and two, hour-of-day weights,
    weekday weights (Monday first), summer factor, false-alarm share, where it happens."""

    type: str
    year1: int
    year2: int
    hours: tuple[float, ...]
    weekdays: tuple[float, ...] = (1, 1, 1, 1, 1, 1, 1)
    summer: float = 1.0
    false_share: float = 0.1
    priority: int = 3
    at_sea: bool = False


def _hours(*peaks: tuple[int, float], base: float = 0.3) -> tuple[float, ...]:
    w = np.full(24, base)
    for h, a in peaks:
        for d in range(24):
            dist = min(abs(d - h), 24 - abs(d - h))
            w[d] += a * math.exp(-dist * dist / 4.0)
    return tuple(float(x) for x in w / w.sum())


@dataclass(frozen=True)
class HistoryPlan:
    """The whole recipe: types, years, seed, camera behaviour."""

    seed: int = 370202
    years: int = 2
    types: tuple[TypeProfile, ...] = ()
    camera_drops_per_year: float = 6.0  # short drops per camera
    camera_outages_per_year: float = 6.0  # longer outages per camera
    chronic_share: float = 0.01  # cameras that fail often


DEFAULT_PLAN = HistoryPlan(types=(
    TypeProfile("one_key", 2200, 1331, _hours((21, 1.0), (1, 0.6)), false_share=0.08, priority=1),
    TypeProfile("perimeter", 9000, 3330, _hours((2, 1.2), (4, 0.8)), false_share=0.35, priority=2),
    TypeProfile("face_match", 3000, 3150, _hours((8, 0.8), (18, 1.0)), false_share=0.2, priority=2),
    TypeProfile("radar_target", 1500, 1400, _hours((5, 1.0), (23, 0.4)), summer=1.5, false_share=0.3,
                priority=3, at_sea=True),
    TypeProfile("fire", 700, 640, _hours((19, 1.0), (12, 0.4)), summer=0.7, false_share=0.15, priority=1),
    TypeProfile("crowd", 1800, 1944, _hours((15, 0.8), (20, 1.0)), weekdays=(0.8, 0.8, 0.8, 0.9, 1.1, 1.6, 1.6),
                summer=1.8, false_share=0.1, priority=3),
    TypeProfile("hazard_report", 7000, 8610, _hours((10, 1.0), (15, 0.9), base=0.02),
                weekdays=(1.25, 1.25, 1.25, 1.25, 1.2, 0.45, 0.35), false_share=0.03, priority=4),
))


def history_end(today: date) -> date:
    """The last day of the history shown on ``today``: yesterday (today is the live journal's)."""
    return today - timedelta(days=1)


def _meta(journal_path: Path) -> dict[str, str]:
    import sqlite3
    if not Path(journal_path).exists():
        return {}
    try:
        c = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)
        try:
            return dict(c.execute("SELECT key, value FROM meta WHERE key LIKE 'history_%'"))
        finally:
            c.close()
    except sqlite3.Error:
        return {}


def _usable(meta: dict[str, str], plan: HistoryPlan) -> bool:
    return (meta.get("history_seed") == str(plan.seed) and meta.get("history_version") == str(HISTORY_VERSION)
            and meta.get("history_complete") == "1" and "history_anchor" in meta and "history_end" in meta)


def history_is_current(journal_path: Path, today: date, plan: HistoryPlan = DEFAULT_PLAN) -> bool:
    """True when the file holds this plan's history up to :func:`history_end` of ``today``."""
    meta = _meta(journal_path)
    return _usable(meta, plan) and meta["history_end"] >= history_end(today).isoformat()


def _iso(epoch: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(epoch, tz).isoformat(timespec="seconds")


def build_history(path: Path | str, district, locator, tz: tzinfo, today: date,
                  plan: HistoryPlan = DEFAULT_PLAN,
                  progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> dict:
    """Bring the history at ``path`` up to yesterday: a new one (``plan.years`` back) when the
    file is missing or from another seed or version — written aside and moved in place once
    complete — else the days since its last one are added. ``locator`` is a
    :class:`~desktop.core.stats.places.GridLocator`; ``progress(day, days)`` follows each day.
    Returns counts of what was written and the span the history covers."""
    from .summary import SummaryKeeper
    path = Path(path)
    end = history_end(today)
    n_days = int(round(365.25 * plan.years))
    meta = _meta(path)
    extend = _usable(meta, plan)
    if extend:
        anchor = date.fromisoformat(meta["history_anchor"])
        first_day = date.fromisoformat(meta["history_first"])
        start = date.fromisoformat(meta["history_end"]) + timedelta(days=1)
        target = path
    else:
        anchor = end
        first_day = start = end - timedelta(days=n_days - 1)
        target = path.with_name(path.name + ".building")
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
    days = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    counts = {"alarms": 0, "transitions": 0, "arrivals": 0, "camera_changes": 0, "days": len(days),
              "extended": extend}
    journal = Journal(target, synchronous="NORMAL", summaries=SummaryKeeper(tz=tz, cell_of=locator.cell_of,
                                                                            cells_of=locator.cells_of))
    try:
        gen = _Generator(district, locator, tz, plan, anchor - timedelta(days=n_days - 1), n_days)
        for k, day in enumerate(days):
            if cancelled is not None and cancelled():
                raise InterruptedError("history generation cancelled")
            alarms, transitions, arrivals, cam_changes = gen.day(day)
            with journal.batch() as tx:
                for a in alarms:
                    tx.upsert_alarm(a)
                for t in transitions:
                    tx.add_transition(t)
                for aid, unit, disp, arr in arrivals:
                    tx.add_arrival(aid, unit, disp, arr)
                for cam, status, epoch in cam_changes:
                    if tx.add_camera_status(cam, status, epoch, "history"):
                        counts["camera_changes"] += 1
                if k == len(days) - 1:
                    tx._c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                        ("history_end", end.isoformat()), ("history_first", first_day.isoformat()),
                        ("history_anchor", anchor.isoformat()), ("history_seed", str(plan.seed)),
                        ("history_version", str(HISTORY_VERSION)), ("history_complete", "1")])
            counts["alarms"] += len(alarms)
            counts["transitions"] += len(transitions)
            counts["arrivals"] += len(arrivals)
            if progress is not None:
                progress(k + 1, len(days))
    finally:
        journal.close()
    if not extend:
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(target, path)
    counts.update(first=first_day.isoformat(), last=end.isoformat())
    return counts


class _Generator:
    """Draws the events of one calendar day; day ``d`` always from ``default_rng((seed, d.toordinal()))``."""

    def __init__(self, district, locator, tz, plan: HistoryPlan, ramp_first: date, n_days: int):
        self.locator, self.tz, self.plan = locator, tz, plan
        self.ramp_first, self.n_days = ramp_first, n_days
        cams = self.cams = district.cameras
        kinds = np.asarray(cams.kind)
        self.land = np.flatnonzero(np.isin(kinds, [0, 1, 3]))  # hd, checkpoint, ptz
        self.sea = np.flatnonzero(np.isin(kinds, [2, 4]))  # coastal, radar
        if not len(self.land):
            raise ValueError("the district has no street cameras to place the history's alarms near")
        if not len(self.sea):
            self.sea = self.land
        base = np.random.default_rng((plan.seed, 0))
        # Busier places: a heavy-tailed weight per camera, fixed for the whole history.
        self.w_land = base.gamma(0.6, 1.0, len(self.land))
        self.w_land /= self.w_land.sum()
        self.w_sea = base.gamma(1.0, 1.0, len(self.sea))
        self.w_sea /= self.w_sea.sum()
        self.ids = [str(x) for x in cams.ids]
        self.chronic = set(base.choice(len(self.ids), max(1, int(len(self.ids) * plan.chronic_share)),
                                       replace=False).tolist())
        self.units = [f"巡{k:02d}" for k in range(1, 21)]

    def day(self, day: date):
        plan, tz, cams = self.plan, self.tz, self.cams
        rng = np.random.default_rng((plan.seed, day.toordinal()))
        frac = (day - self.ramp_first).days / max(1, self.n_days - 1)  # 0 → 1 across the first build's span
        midnight = datetime.combine(day, dtime(0), tz).timestamp()
        doy = day.timetuple().tm_yday
        season = 0.5 - 0.5 * math.cos(2 * math.pi * (doy - 15) / 365.25)  # 0 in mid-January, 1 in mid-July
        alarms: list[Alarm] = []
        transitions: list[Transition] = []
        arrivals: list[tuple] = []
        seq = 0
        for prof in plan.types:
            # year one's rate, then year two's, moving over about two months between them
            yearly = prof.year1 + (prof.year2 - prof.year1) * max(0.0, min(1.0, (frac - 0.45) / 0.1))
            mean = yearly / 365.25 * prof.weekdays[day.weekday()] / (sum(prof.weekdays) / 7)
            mean *= 1.0 + (prof.summer - 1.0) * (season - 0.5) * 2 / (1 + abs(prof.summer - 1.0))
            n = int(rng.poisson(max(0.0, mean)))
            if n == 0:
                continue
            hours = rng.choice(24, n, p=np.asarray(prof.hours))
            secs = hours * 3600 + rng.uniform(0, 3600, n)
            if prof.at_sea:
                at = self.sea[rng.choice(len(self.sea), n, p=self.w_sea)]
                jitter = 0.004
            else:
                at = self.land[rng.choice(len(self.land), n, p=self.w_land)]
                jitter = 0.0006
            lon = cams.lon_wgs[at] + rng.normal(0, jitter, n)
            lat = cams.lat_wgs[at] + rng.normal(0, jitter * 0.8, n)
            cells = self.locator.cells_of(lon, lat)
            for i in range(n):
                seq += 1
                epoch = float(midnight + secs[i])
                aid = f"H{plan.seed}-{day.isoformat()}-{seq:04d}"
                cell = cells[i]
                cam_id = self.ids[int(at[i])]
                sub = self.locator.subdistrict.get(cell, "") if cell else str(
                    cams.records[int(at[i])].props.get("subdistrict", ""))
                a = Alarm(id=aid, type=prof.type, priority=prof.priority, time=_iso(epoch, tz), epoch=epoch,
                          lon=float(lon[i]), lat=float(lat[i]), crs="WGS84", lon_wgs=float(lon[i]),
                          lat_wgs=float(lat[i]), lon_gcj=float(lon[i]), lat_gcj=float(lat[i]),
                          source=cam_id, camera_ids=(cam_id,), text="", state=AlarmState.NEW, received=epoch,
                          count=1, last_time=_iso(epoch, tz), last_epoch=epoch, last_received=epoch,
                          subdistrict=sub, updated=epoch)
                hist, state, updated, unit = _workflow(rng, a, prof, frac, tz, self.units)
                transitions.extend(hist)
                if unit is not None:
                    arrivals.append(unit)
                alarms.append(Alarm(**{**a.__dict__, "state": state, "updated": updated,
                                       "assigned_unit": unit[1] if unit else ""}))
        return alarms, transitions, arrivals, _camera_day(rng, self.ids, self.chronic, plan, midnight)


def _operator(hour: int, day_k: int) -> str:
    # three shifts (08–16, 16–24, 00–08), two operators each, the rota turning every week
    shift = 0 if 8 <= hour < 16 else 1 if hour >= 16 else 2
    return OPERATORS[(shift * 2 + (day_k // 7) + (hour % 2)) % len(OPERATORS)]


def _workflow(rng, a: Alarm, prof: TypeProfile, frac: float, tz, units):
    """The alarm's transitions: ack, then false alarm, or dispatch → arrival → resolve."""
    hour = datetime.fromtimestamp(a.epoch, tz).hour
    op = _operator(hour, int(a.epoch // 86400))
    faster = 1.0 - 0.25 * frac  # the center gets quicker over the two years
    t = a.epoch + max(3.0, rng.lognormal(math.log(24 * faster), 0.6))
    out = [Transition(a.id, AlarmState.NEW, AlarmState.ACKNOWLEDGED, op, t, _iso(t, tz), origin="history")]
    if rng.random() < prof.false_share:
        t2 = t + rng.uniform(20, 300)
        out.append(Transition(a.id, AlarmState.ACKNOWLEDGED, AlarmState.FALSE_ALARM, op, t2, _iso(t2, tz),
                              origin="history"))
        return out, AlarmState.FALSE_ALARM, t2, None
    t2 = t + max(5.0, rng.lognormal(math.log(45 * faster), 0.5))
    unit = units[int(rng.integers(len(units)))]
    out.append(Transition(a.id, AlarmState.ACKNOWLEDGED, AlarmState.DISPATCHED, op, t2, _iso(t2, tz),
                          origin="history", unit=unit))
    arrived = t2 + max(60.0, rng.lognormal(math.log(420 * faster), 0.45))
    t3 = arrived + max(120.0, rng.lognormal(math.log(1800), 0.6))
    out.append(Transition(a.id, AlarmState.DISPATCHED, AlarmState.RESOLVED, op, t3, _iso(t3, tz),
                          origin="history"))
    return out, AlarmState.RESOLVED, t3, (a.id, unit, t2, arrived)


def _camera_day(rng, ids: list[str], chronic: set[int], plan: HistoryPlan, midnight: float):
    """Status changes of one day: drops (minutes) and outages (hours), each followed by the
    camera coming back (possibly on a later day: the change is written when it happens)."""
    n = len(ids)
    p_drop = plan.camera_drops_per_year / 365.25
    p_out = plan.camera_outages_per_year / 365.25
    out: list[tuple[str, str, float]] = []
    drops = np.flatnonzero(rng.random(n) < p_drop)
    outs = np.flatnonzero(rng.random(n) < p_out)
    chronic_today = [c for c in chronic if rng.random() < 0.08]
    for idx, dur in ((drops, lambda: rng.uniform(20, 600)), (outs, lambda: rng.lognormal(math.log(12 * 3600), 0.8)),
                     (np.array(chronic_today, int), lambda: rng.uniform(6, 40) * 3600)):
        for c in idx.tolist():
            start = midnight + float(rng.uniform(0, 86400))
            status = "fault" if rng.random() < 0.3 else "offline"
            out.append((ids[c], status, start))
            out.append((ids[c], "online", start + float(dur())))
    out.sort(key=lambda x: x[2])
    return out
