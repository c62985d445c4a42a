"""The post schedule (tours) of a dataset: ``patrol_schedule.toml``, read, checked, expanded.

The format (documented in the README's dataset section)::

    timezone = "Asia/Shanghai"   # the local time the times below are in (IANA name)

    [defaults]                   # for every post, unless the post says otherwise
    radius_m = 50                # a unit this close to the post is at the post
    dwell_s = 60                 # … and must stay this long for its visit to count
    tolerance_s = 60             # on time: checked in within ± this of the scheduled time
    early_s = 60                 # early: up to this much before the on-time window
    late_s = 120                 # late: up to this much after it; later = missed
    kinds = ["car", "ebike", "foot"]   # which units can make the visit

    [posts."P370202-01"]         # a post id of patrol.geojson
    every_min = 20               # a visit every 20 minutes …
    from = "07:03"               # … from this time of day (default 00:00) …
    until = "22:43"              # … up to this one, inclusive (default 23:59:59)
    times = ["23:30"]            # and/or visits at these times ("HH:MM" or "HH:MM:SS")
    days = ["mon", "tue", "wed", "thu", "fri"]   # optional: only on these weekdays

A scheduled visit at time *T* has one window, from ``T - tolerance - early`` (it opens) to
``T + tolerance + late`` (it closes); two windows of one post must not overlap.

Every error names the file, the post and the field (:class:`ScheduleError`); the loader
skips a bad post and reports it, like a bad feature of a layer.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from desktop.core.district.loader import DatasetError
from ._i18n import tr

from .units import KINDS, LAND_KINDS

__all__ = ["SCHEDULE_FILE", "ScheduleError", "PostSchedule", "PatrolSchedule", "VisitWindow",
           "load_schedule", "parse_schedule", "schedule_toml", "DEFAULTS", "DAYS"]

SCHEDULE_FILE = "patrol_schedule.toml"
DEFAULT_TZ = "Asia/Shanghai"  # China keeps one time zone; a dataset may say otherwise
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # datetime.weekday() order

# Defaults when neither the post nor [defaults] gives a value.
DEFAULTS = {"radius_m": 50.0, "dwell_s": 60.0, "tolerance_s": 60.0, "early_s": 60.0, "late_s": 120.0,
            "kinds": LAND_KINDS}
_NUMBERS = {"radius_m": (1.0, 5000.0), "dwell_s": (0.0, 86400.0), "tolerance_s": (0.0, 43200.0),
            "early_s": (0.0, 43200.0), "late_s": (0.0, 43200.0)}
_POST_KEYS = set(_NUMBERS) | {"kinds", "times", "every_min", "from", "until", "days"}
_TOP_KEYS = {"timezone", "defaults", "posts"}


class ScheduleError(DatasetError):
    """A schedule that cannot be used; ``path``, ``post`` and ``field`` say where, the message why."""

    def __init__(self, path: Path | str, detail: str, post: str | None = None, field: str | None = None):
        self.path = Path(path)
        self.post = post
        self.feature = post  # as a DatasetError: the offending entry
        self.field = field
        self.detail = detail
        where = self.path.name
        if post is not None:
            where += ", " + tr("post {post}", post=post)
        if field is not None:
            where += ", " + tr("field '{field}'", field=field)
        ValueError.__init__(self, f"{where}: {detail}")


@dataclass(frozen=True)
class PostSchedule:
    """When one post must be visited: times of day (seconds after local midnight, sorted) on
    ``days`` (weekday numbers, Monday = 0), and how a visit is recognised and judged."""

    post: str
    times_s: tuple[int, ...]
    radius_m: float
    dwell_s: float
    tolerance_s: float
    early_s: float
    late_s: float
    kinds: tuple[str, ...]
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)

    @property
    def before_s(self) -> float:
        """How long before the scheduled time the window opens."""
        return self.tolerance_s + self.early_s

    @property
    def after_s(self) -> float:
        """How long after the scheduled time the window closes."""
        return self.tolerance_s + self.late_s


@dataclass(frozen=True)
class VisitWindow:
    """One scheduled visit: the post, the scheduled time and its window edges (epoch s).

    early: ``opens <= c < on_from``; on time: ``on_from <= c <= on_until``;
    late: ``on_until < c <= closes``; no check-in by ``closes``: missed.
    """

    post: str
    scheduled: float
    opens: float
    on_from: float
    on_until: float
    closes: float

    def classify(self, checkin: float) -> str | None:
        """The state a check-in at ``checkin`` gives this visit, or None outside the window."""
        if checkin < self.opens or checkin > self.closes:
            return None
        if checkin < self.on_from:
            return "early"
        if checkin <= self.on_until:
            return "on_time"
        return "late"


@dataclass(frozen=True)
class PatrolSchedule:
    """A dataset's post schedule: a time zone and one :class:`PostSchedule` per post."""

    timezone: str
    posts: dict[str, PostSchedule] = field(default_factory=dict)
    path: Path | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_time(self, epoch: float) -> datetime:
        """``epoch`` as an aware datetime in the schedule's zone."""
        return datetime.fromtimestamp(epoch, self.tz)

    def windows(self, t0: float, t1: float, posts: Iterable[str] | None = None) -> list[VisitWindow]:
        """Every visit window that opens in ``[t0, t1)``, sorted by opening time then post."""
        tz = self.tz
        wanted = self.posts.values() if posts is None else [self.posts[p] for p in posts if p in self.posts]
        if not wanted or t1 <= t0:
            return []
        pre = max(p.before_s for p in wanted)
        first = datetime.fromtimestamp(t0, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(t1 + pre, tz).date()
        out = []
        day = first
        while day <= last:
            wd = day.weekday()
            midnight = datetime.combine(day, time(0), tzinfo=tz)
            nxt = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            # One offset all day (no DST change that day, as in China): the times of day are
            # plain seconds after midnight. Otherwise each is placed at its wall-clock time.
            steady = midnight.utcoffset() == nxt.utcoffset()
            m_epoch = midnight.timestamp()
            for ps in wanted:
                if wd not in ps.days:
                    continue
                if steady:
                    sched = m_epoch + np.asarray(ps.times_s, float)
                else:
                    sched = np.array([datetime.combine(day, time(s // 3600, s // 60 % 60, s % 60),
                                                       tzinfo=tz).timestamp() for s in ps.times_s])
                opens = sched - ps.before_s
                for s in sched[(opens >= t0) & (opens < t1)].tolist():
                    out.append(VisitWindow(ps.post, s, s - ps.before_s, s - ps.tolerance_s, s + ps.tolerance_s,
                                           s + ps.after_s))
            day += timedelta(days=1)
        out.sort(key=lambda w: (w.opens, w.post))
        return out


# --- reading --------------------------------------------------------------------------------

def _clock_text(value, path, post, name) -> int:
    """Seconds after midnight of "HH:MM" or "HH:MM:SS" (a TOML local time is accepted too)."""
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if not isinstance(value, str):
        raise ScheduleError(path, tr("must be a time of day \"HH:MM\", got {value!r}", value=value), post, name)
    parts = value.strip().split(":")
    try:
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise ValueError
        h, m = int(parts[0]), int(parts[1])
        s = int(parts[2]) if len(parts) == 3 else 0
        if not (0 <= h <= 23 and 0 <= m <= 59 and 0 <= s <= 59):
            raise ValueError
    except ValueError:
        raise ScheduleError(path, tr("{value!r} is not a time of day (\"HH:MM\" or \"HH:MM:SS\", 00:00-23:59)",
                                     value=value), post, name) from None
    return h * 3600 + m * 60 + s


def _number(value, path, post, name) -> float:
    lo, hi = _NUMBERS[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ScheduleError(path, tr("must be a number, got {value!r}", value=value), post, name)
    if not lo <= value <= hi:
        raise ScheduleError(path, tr("{value} is outside {lo}..{hi}", value=value, lo=lo, hi=hi), post, name)
    return float(value)


def _kinds(value, path, post) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
        raise ScheduleError(path, tr("must be a list of unit kinds ({kinds})", kinds=", ".join(KINDS)), post, "kinds")
    bad = [k for k in value if k not in KINDS]
    if bad:
        raise ScheduleError(path, tr("{value!r} is not one of {kinds}", value=bad[0], kinds=", ".join(KINDS)),
                            post, "kinds")
    return tuple(dict.fromkeys(value))


def _hhmm(sec: int) -> str:
    return f"{sec // 3600:02d}:{sec // 60 % 60:02d}" + (f":{sec % 60:02d}" if sec % 60 else "")


def _post(post_id: str, spec, defaults: dict, path: Path) -> PostSchedule:
    if not isinstance(spec, dict):
        raise ScheduleError(path, tr("must be a table of settings"), post_id)
    unknown = sorted(set(spec) - _POST_KEYS)
    if unknown:
        raise ScheduleError(path, tr("unknown setting (expected one of {keys})", keys=", ".join(sorted(_POST_KEYS))),
                            post_id, unknown[0])
    vals = {k: _number(spec[k], path, post_id, k) if k in spec else defaults[k] for k in _NUMBERS}
    kinds = _kinds(spec["kinds"], path, post_id) if "kinds" in spec else defaults["kinds"]
    times: set[int] = set()
    if "times" in spec:
        raw = spec["times"]
        if not isinstance(raw, list):
            raise ScheduleError(path, tr("must be a list of times of day"), post_id, "times")
        for i, v in enumerate(raw):
            times.add(_clock_text(v, path, post_id, f"times[{i}]"))
    if "every_min" in spec:
        every = spec["every_min"]
        if isinstance(every, bool) or not isinstance(every, (int, float)) or not (1 <= every <= 1440):
            raise ScheduleError(path, tr("must be a number of minutes 1..1440, got {value!r}", value=every),
                                post_id, "every_min")
        start = _clock_text(spec.get("from", "00:00"), path, post_id, "from")
        end = _clock_text(spec.get("until", "23:59:59"), path, post_id, "until")
        if end < start:
            raise ScheduleError(path, tr("{until} is before 'from' ({start})", until=_hhmm(end), start=_hhmm(start)),
                                post_id, "until")
        step = float(every) * 60.0
        times.update(int(round(start + k * step)) for k in range(int((end - start) // step) + 1))
    else:
        for k in ("from", "until"):
            if k in spec:
                raise ScheduleError(path, tr("only goes with 'every_min'"), post_id, k)
    if not times:
        raise ScheduleError(path, tr("no visits: give 'times' or 'every_min'"), post_id)
    days = tuple(range(7))
    if "days" in spec:
        raw = spec["days"]
        if (not isinstance(raw, list) or not raw
                or not all(isinstance(d, str) and d.strip().lower()[:3] in DAYS for d in raw)):
            raise ScheduleError(path, tr("must be a list of weekdays ({days})", days=", ".join(DAYS)), post_id, "days")
        days = tuple(sorted({DAYS.index(d.strip().lower()[:3]) for d in raw}))
    ps = PostSchedule(post_id, tuple(sorted(times)), kinds=kinds, days=days, **vals)
    # Windows must not overlap, or one check-in would count for two visits. The last visit
    # of a day is checked against the first of the next day as well.
    ts = list(ps.times_s) + [ps.times_s[0] + 86400]
    gap = ps.before_s + ps.after_s
    for a, b in zip(ts, ts[1:]):
        if b - a <= gap:
            name = "every_min" if "every_min" in spec and "times" not in spec else "times"
            raise ScheduleError(path, tr("the visits at {a} and {b} are {gap} s apart, but each window spans "
                                         "{span} s (tolerance, early and late): windows must not overlap",
                                         a=_hhmm(a % 86400), b=_hhmm(b % 86400), gap=b - a, span=int(gap)),
                                post_id, name)
    return ps


def parse_schedule(text: str, path: Path | str, post_ids: Iterable[str] | None = None,
                   report: Callable[[ScheduleError], None] | None = None) -> PatrolSchedule:
    """Parse schedule text. ``post_ids``: the dataset's posts (an unknown post is an error).

    ``report``: called with each bad post, which is then left out (the loader's way); without
    it the first error is raised. An error in the file as a whole is always raised.
    """
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(path, tr("not valid TOML: {err}", err=exc)) from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ScheduleError(path, tr("unknown setting (expected one of {keys})", keys=", ".join(sorted(_TOP_KEYS))),
                            None, unknown[0])
    tz_name = data.get("timezone", DEFAULT_TZ)
    if not isinstance(tz_name, str) or not tz_name.strip():
        raise ScheduleError(path, tr("must be a time zone name such as \"Asia/Shanghai\""), None, "timezone")
    try:
        ZoneInfo(tz_name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(path, tr("{value!r} is not a known time zone (such as \"Asia/Shanghai\")", value=tz_name),
                            None, "timezone") from None
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, dict):
        raise ScheduleError(path, tr("must be a table of settings"), None, "defaults")
    unknown = sorted(set(raw_defaults) - (set(_NUMBERS) | {"kinds"}))
    if unknown:
        raise ScheduleError(path, tr("unknown setting (expected one of {keys})",
                                     keys=", ".join(sorted(set(_NUMBERS) | {"kinds"}))), None, f"defaults.{unknown[0]}")
    defaults = dict(DEFAULTS)
    for k in _NUMBERS:
        if k in raw_defaults:
            try:
                defaults[k] = _number(raw_defaults[k], path, None, k)
            except ScheduleError as exc:
                raise ScheduleError(path, exc.detail, None, f"defaults.{k}") from None
    if "kinds" in raw_defaults:
        try:
            defaults["kinds"] = _kinds(raw_defaults["kinds"], path, None)
        except ScheduleError as exc:
            raise ScheduleError(path, exc.detail, None, "defaults.kinds") from None
    raw_posts = data.get("posts", {})
    if not isinstance(raw_posts, dict):
        raise ScheduleError(path, tr("must be a table of posts ([posts.\"<id>\"])"), None, "posts")
    known = set(post_ids) if post_ids is not None else None
    posts: dict[str, PostSchedule] = {}
    for post_id, spec in raw_posts.items():
        try:
            if known is not None and post_id not in known:
                raise ScheduleError(path, tr("no post with this id in the dataset (patrol.geojson)"), post_id)
            posts[post_id] = _post(post_id, spec, defaults, path)
        except ScheduleError as exc:
            if report is None:
                raise
            report(exc)
    return PatrolSchedule(tz_name.strip(), posts, path)


def load_schedule(path: Path | str, post_ids: Iterable[str] | None = None,
                  report: Callable[[ScheduleError], None] | None = None) -> PatrolSchedule:
    """Read a schedule file (see :func:`parse_schedule`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScheduleError(path, tr("missing")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScheduleError(path, tr("cannot be read: {err}", err=exc)) from None
    return parse_schedule(text, path, post_ids, report)


# --- writing (the dataset generator) --------------------------------------------------------

def schedule_toml(posts: Sequence[tuple[str, str]], rng: np.random.Generator, *, every_min: int = 20,
                  first_hour: int = 7, last_hour: int = 22, timezone: str = DEFAULT_TZ) -> str:
    """The schedule text the dataset generator writes for ``posts`` (``(id, name)`` pairs).

    Every post is visited every ``every_min`` minutes through the day (``first_hour`` to
    ``last_hour``). The posts' minute offsets within the cycle are spread evenly and dealt
    out by ``rng``, so the tours are staggered over the district (not every post at :00)
    and reproducible for one seed.
    """
    n = len(posts)
    offsets = [(k * every_min) // max(n, 1) for k in range(n)]  # evenly over one cycle
    slot = rng.permutation(n).tolist() if n else []  # which post gets which offset
    lines = [
        "# Patrol post schedule (tours): when each post must be visited, in local time.",
        "# Generated with the dataset (fixed seed); the format is described in the README.",
        f"timezone = \"{timezone}\"",
        "",
        "[defaults]",
        f"radius_m = {DEFAULTS['radius_m']:g}",
        f"dwell_s = {DEFAULTS['dwell_s']:g}",
        f"tolerance_s = {DEFAULTS['tolerance_s']:g}",
        f"early_s = {DEFAULTS['early_s']:g}",
        f"late_s = {DEFAULTS['late_s']:g}",
        "kinds = [" + ", ".join(f'"{k}"' for k in DEFAULTS["kinds"]) + "]",
    ]
    last_start = (last_hour * 60 + 60 - every_min)  # the last cycle of the last hour
    for i, (pid, name) in enumerate(posts):
        off = offsets[slot[i]]
        start = first_hour * 60 + off
        end = last_start + off
        lines += ["", f"[posts.\"{pid}\"]  # {name}", f"every_min = {every_min}",
                  f"from = \"{start // 60:02d}:{start % 60:02d}\"", f"until = \"{end // 60:02d}:{end % 60:02d}\""]
    return "\n".join(lines) + "\n"
