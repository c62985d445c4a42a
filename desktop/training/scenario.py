"""A training scenario as the training mode reads it: the timeline, the clips standing in for
cameras and the expected responses, checked against the district on load (Qt-free).

The folder (documented in the README, "Training scenarios")::

    scenario.toml     name, description, duration_s, speed, start, seed (optional)
    timeline.jsonl    {"t": s, "topic": ..., "payload": {...}} a line: alarms, patrol positions,
                      camera status (failures and recoveries), radar target reports
    expected.toml     [defaults] and [alarms."<id>"]: the state to reach and by when, the time
                      to acknowledge, the right cameras, how many of the best units count
    clips.toml        optional: [cameras."<id>"] clip = "file.mp4" (relative to the folder) or
                      variant = N (a generated demo clip); other cameras play their demo clip

:func:`load_training_scenario` reads it through :func:`desktop.core.feeds.scenario.load_scenario`
and then checks every payload against the feed schemas and every camera named against the
district, so a trainee never meets a broken scenario half-way through a session. Every error
names the file, the line and the field (:class:`ScenarioProblem`); all of them are reported
at once.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.feeds.scenario import Scenario, ScenarioError, load_scenario
from desktop.core.feeds.schema import PayloadError, parse, topic_kind
from desktop.training._i18n import tr

__all__ = ["AlarmExpectation", "ClipChoice", "TrainingScenario", "ScenarioProblem", "ScenarioInvalid",
           "load_training_scenario", "ALARM_KEYS", "DEFAULT_KEYS"]

# keys of an [alarms."<id>"] table, and of [defaults]
ALARM_KEYS = {"state", "within_s", "ack_within_s", "cameras", "units_best", "note"}
DEFAULT_KEYS = {"ack_within_s", "units_best"}
_STATES = ("acknowledged", "dispatched", "resolved", "false_alarm")


@dataclass(frozen=True)
class ScenarioProblem:
    """One thing wrong in a scenario: where (file, line, field) and what."""

    file: str
    line: int  # 0 when the file as a whole is meant
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


class ScenarioInvalid(ScenarioError):
    """A scenario that cannot be trained on; ``problems`` lists every one found."""

    def __init__(self, problems: list[ScenarioProblem]):
        self.problems = list(problems)
        head = str(self.problems[0]) if self.problems else "invalid scenario"
        more = tr(" (and {n} more problems)", n=len(self.problems) - 1) if len(self.problems) > 1 else ""
        super().__init__(head + more)


@dataclass(frozen=True)
class AlarmExpectation:
    """What the trainee should do with one alarm.

    ``state`` within ``within_s`` of its arrival (``false_alarm`` for an alarm that is false);
    acknowledged (any move out of *new*) within ``ack_within_s``; ``cameras``: the right ones
    to look at — those whose field of view covers the alarm's point, plus any listed; a
    dispatch is right when the unit is among the ``units_best`` fastest by travel time at
    the moment it is sent.
    """

    alarm_id: str
    state: str
    within_s: float
    ack_within_s: float
    cameras: tuple[str, ...]
    units_best: int
    note: str = ""
    line: int = 0

    @property
    def false_alarm(self) -> bool:
        return self.state == "false_alarm"

    @property
    def needs_dispatch(self) -> bool:
        return self.state in ("dispatched", "resolved")


@dataclass(frozen=True)
class ClipChoice:
    """The clip a camera shows in this scenario: a file, or a demo variant."""

    camera_id: str
    path: Path | None = None
    variant: int | None = None


@dataclass
class TrainingScenario:
    """A validated scenario: the player's :class:`Scenario` and what training adds to it."""

    base: Scenario
    expectations: list[AlarmExpectation]
    clips: dict[str, ClipChoice] = field(default_factory=dict)
    seed: int = 0
    alarm_cameras: dict[str, tuple[str, ...]] = field(default_factory=dict)  # alarm id -> covering cameras
    alarm_points: dict[str, tuple[float, float]] = field(default_factory=dict)  # alarm id -> WGS84

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def path(self) -> Path | None:
        return self.base.path

    @property
    def duration_s(self) -> float:
        return self.base.duration_s

    def expectation(self, alarm_id: str) -> AlarmExpectation | None:
        return next((e for e in self.expectations if e.alarm_id == alarm_id), None)

    def right_cameras(self, alarm_id: str) -> set[str]:
        exp = self.expectation(alarm_id)
        return set(self.alarm_cameras.get(alarm_id, ())) | set(exp.cameras if exp else ())

    def camera_events(self) -> list[tuple[float, str, str]]:
        """(t, camera id, status) of the timeline's camera failures and recoveries."""
        out = []
        for ev in self.base.events:
            kind = topic_kind(ev.topic)
            if kind and kind[0] == "camera_status":
                out.append((ev.t, kind[1], str(ev.payload.get("status", ""))))
        return out


def _line_of(lines: list[str], table: str, key: str | None = None) -> int:
    """1-based line of ``[table]`` (or of ``key = `` inside it) in a TOML text; 0 when not found."""
    header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(
        r'(?:"' + re.escape(p) + r'"|' + re.escape(p) + r")" for p in table.split("\x00")) + r"\s*\]\s*(#.*)?$")
    start = 0
    for i, ln in enumerate(lines, 1):
        if header.match(ln):
            start = i
            break
    if not start or key is None:
        return start
    kre = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        ln = lines[i]
        if ln.lstrip().startswith("["):
            break
        if kre.match(ln):
            return i + 1
    return start


def _number(value, lo: float = 0.0) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value >= lo


def _read_expected(path: Path, problems: list[ScenarioProblem]) -> tuple[dict, list[str]]:
    if not path.is_file():
        problems.append(ScenarioProblem(path.name, 0, "", tr("missing: a training scenario needs its expected responses")))
        return {}, []
    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text.splitlines()
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problems.append(ScenarioProblem(path.name, int(m.group(1)) if m else 0, "", str(exc)))
        return {}, []


def _expectations(path: Path, data: dict, lines: list[str], known_alarms: dict[str, int],
                  cameras: set[str], problems: list[ScenarioProblem]) -> list[AlarmExpectation]:
    name = path.name
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(ScenarioProblem(name, _line_of(lines, "defaults"), "defaults", tr("must be a table")))
        defaults = {}
    for key in sorted(set(defaults) - DEFAULT_KEYS):
        problems.append(ScenarioProblem(name, _line_of(lines, "defaults", key), f"defaults.{key}",
                                        tr("unknown key (known: {keys})", keys=", ".join(sorted(DEFAULT_KEYS)))))
    ack_default = defaults.get("ack_within_s", 60)
    best_default = defaults.get("units_best", 3)
    if not _number(ack_default, 0):
        problems.append(ScenarioProblem(name, _line_of(lines, "defaults", "ack_within_s"), "defaults.ack_within_s",
                                        tr("must be a number of seconds >= 0")))
        ack_default = 60
    if isinstance(best_default, bool) or not isinstance(best_default, int) or best_default < 1:
        problems.append(ScenarioProblem(name, _line_of(lines, "defaults", "units_best"), "defaults.units_best",
                                        tr("must be a whole number >= 1")))
        best_default = 3
    out = []
    alarms = data.get("alarms", {})
    if not isinstance(alarms, dict):
        problems.append(ScenarioProblem(name, _line_of(lines, "alarms"), "alarms", tr("must be a table of alarms")))
        alarms = {}
    if not alarms:
        problems.append(ScenarioProblem(name, 0, "alarms", tr("no expected response: nothing to score")))
    for alarm_id, spec in alarms.items():
        table = "alarms\x00" + alarm_id
        where = f"alarms.{alarm_id}"
        line = _line_of(lines, table)

        def bad(key: str, msg: str) -> None:
            problems.append(ScenarioProblem(name, _line_of(lines, table, key), f"{where}.{key}", msg))

        if not isinstance(spec, dict):
            problems.append(ScenarioProblem(name, line, where, tr("must be a table")))
            continue
        for key in sorted(set(spec) - ALARM_KEYS):
            bad(key, tr("unknown key (known: {keys})", keys=", ".join(sorted(ALARM_KEYS))))
        if alarm_id not in known_alarms:
            problems.append(ScenarioProblem(name, line, where, tr("no alarm with this id in timeline.jsonl")))
        state = spec.get("state")
        if state not in _STATES:
            bad("state", tr("must be one of {states}, not {value!r}", states=", ".join(_STATES), value=state))
            continue
        within = spec.get("within_s")
        if not _number(within, 0):
            bad("within_s", tr("must be a number of seconds >= 0, not {value!r}", value=within))
            continue
        ack = spec.get("ack_within_s", ack_default)
        if not _number(ack, 0):
            bad("ack_within_s", tr("must be a number of seconds >= 0, not {value!r}", value=ack))
            ack = ack_default
        best = spec.get("units_best", best_default)
        if isinstance(best, bool) or not isinstance(best, int) or best < 1:
            bad("units_best", tr("must be a whole number >= 1, not {value!r}", value=best))
            best = best_default
        cams = spec.get("cameras", [])
        if not isinstance(cams, list) or not all(isinstance(c, str) for c in cams):
            bad("cameras", tr("must be a list of camera ids"))
            cams = []
        for c in cams:
            if cameras and c not in cameras:
                bad("cameras", tr("camera {id} is not in the district", id=c))
        out.append(AlarmExpectation(str(alarm_id), state, float(within), float(ack), tuple(cams), int(best),
                                    str(spec.get("note", "")), line))
    return out


def _clips(folder: Path, cameras: set[str], problems: list[ScenarioProblem]) -> dict[str, ClipChoice]:
    path = folder / "clips.toml"
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        problems.append(ScenarioProblem(path.name, int(m.group(1)) if m else 0, "", str(exc)))
        return {}
    out = {}
    for cam, spec in (data.get("cameras") or {}).items():
        table = "cameras\x00" + cam
        where = f"cameras.{cam}"
        if cameras and cam not in cameras:
            problems.append(ScenarioProblem(path.name, _line_of(lines, table), where, tr("camera not in the district")))
            continue
        if not isinstance(spec, dict) or (("clip" in spec) == ("variant" in spec)):
            problems.append(ScenarioProblem(path.name, _line_of(lines, table), where,
                                            tr("needs exactly one of clip = \"file\" or variant = N")))
            continue
        if "clip" in spec:
            clip = spec["clip"]
            p = (folder / clip) if isinstance(clip, str) else None
            if p is None or not p.is_file():
                problems.append(ScenarioProblem(path.name, _line_of(lines, table, "clip"), f"{where}.clip",
                                                tr("no such file {path}", path=clip)))
                continue
            out[cam] = ClipChoice(cam, path=p.resolve())
        else:
            v = spec["variant"]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(ScenarioProblem(path.name, _line_of(lines, table, "variant"), f"{where}.variant",
                                                tr("must be a whole number >= 0")))
                continue
            out[cam] = ClipChoice(cam, variant=v)
    return out


def _timeline_lines(path: Path) -> dict[int, int]:
    """Event index (in file order, blank and comment lines skipped) -> 1-based line number."""
    out, n = {}, 0
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            s = line.strip()
            if s and not s.startswith("//"):
                out[n] = lineno
                n += 1
    return out


def radar_alarms(events, district, start_epoch: float) -> list[tuple[float, dict]]:
    """The alarms the district's sea watch raises for the timeline's radar reports:
    ``[(t, payload)]`` — what the program itself will add to the timeline's own alarms."""
    from desktop.core.clock import SimClock
    from desktop.core.feeds.bus import EventBus
    from desktop.core.radar.feed import RadarFeed
    radar = [e for e in events if e.topic.startswith("pingan/radar/")]
    if not radar or district is None:
        return []
    bus = EventBus("scenario-check")
    clock = SimClock(start_epoch, paused=True)
    raised: list[tuple[float, dict]] = []
    bus.subscribe("pingan/alarm", lambda _topic, payload: raised.append((clock.time() - start_epoch, payload)))
    feed = RadarFeed(bus, district, clock=clock, expire_s=0.0).start()
    try:
        for e in radar:
            clock.set_time(start_epoch + e.t)
            bus.publish(e.topic, e.payload)
            feed.expire()
    finally:
        feed.stop()
    return raised


def load_training_scenario(folder: Path | str, district=None) -> TrainingScenario:
    """Load and check a scenario folder for training; ``district`` (a loaded
    :class:`~desktop.core.district.model.District`) lets camera ids and coverage be checked.

    Raises :class:`ScenarioInvalid` listing every problem (file, line, field), or
    :class:`~desktop.core.feeds.scenario.ScenarioError` for a folder that cannot be read at all.
    """
    folder = Path(folder)
    base = load_scenario(folder)
    problems: list[ScenarioProblem] = []
    cam_ids: set[str] = set()
    cams = None
    if district is not None and len(district.cameras):
        from desktop.core.alarms.linkage import CameraArrays
        cams = CameraArrays.from_table(district.cameras)
        cam_ids = set(str(c) for c in cams.ids.tolist())
    # every payload against its schema, with the line it came from (the loader sorted them by
    # time: re-read in file order to name lines)
    line_of = _timeline_lines(folder / "timeline.jsonl")
    raw_events = []
    with (folder / "timeline.jsonl").open(encoding="utf-8") as fh:
        for s in fh:
            s = s.strip()
            if s and not s.startswith("//"):
                raw_events.append(json.loads(s))
    known_alarms: dict[str, int] = {}
    points: dict[str, tuple[float, float]] = {}
    named: dict[str, tuple[str, ...]] = {}
    for i, ev in enumerate(raw_events):
        line = line_of.get(i, 0)
        topic = ev["topic"]
        kind = topic_kind(topic)
        if kind is None:
            problems.append(ScenarioProblem("timeline.jsonl", line, "topic",
                                            tr("{topic}: no schema for this topic", topic=topic)))
            continue
        try:
            msg = parse(topic, ev["payload"])
        except PayloadError as exc:
            problems.append(ScenarioProblem("timeline.jsonl", line, f"payload.{exc.field}" if exc.field else "payload",
                                            exc.detail))
            continue
        if kind[0] == "alarm":
            if msg.id not in known_alarms:
                known_alarms[msg.id] = line
                points[msg.id] = (msg.lon_wgs, msg.lat_wgs)
                named[msg.id] = tuple(msg.camera_ids)
            for c in msg.camera_ids:
                if cam_ids and c not in cam_ids:
                    problems.append(ScenarioProblem("timeline.jsonl", line, "payload.camera_ids",
                                                    tr("camera {id} is not in the district", id=c)))
        elif kind[0] == "camera_status" and cam_ids and kind[1] not in cam_ids:
            problems.append(ScenarioProblem("timeline.jsonl", line, "topic",
                                            tr("camera {id} is not in the district", id=kind[1])))
    # alarms the program raises itself from the timeline (the sea watch, from radar reports)
    for t, payload in radar_alarms(base.events, district, base.start.timestamp()):
        try:
            msg = parse("pingan/alarm", payload)
        except PayloadError:
            continue
        if msg.id not in known_alarms:
            known_alarms[msg.id] = 0
            points[msg.id] = (msg.lon_wgs, msg.lat_wgs)
            named[msg.id] = tuple(msg.camera_ids)
    data, lines = _read_expected(folder / "expected.toml", problems)
    exps = _expectations(folder / "expected.toml", data, lines, known_alarms, cam_ids, problems)
    clips = _clips(folder, cam_ids, problems)
    meta = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    seed = meta.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        problems.append(ScenarioProblem("scenario.toml", 0, "seed", tr("must be a whole number")))
        seed = 0
    alarm_cameras: dict[str, tuple[str, ...]] = {}
    if cams is not None:
        from desktop.core.alarms.linkage import cameras_covering
        for aid, (lon, lat) in points.items():
            cover = [c for c, _ in cameras_covering(lon, lat, cams)]
            alarm_cameras[aid] = tuple(dict.fromkeys([*[c for c in named.get(aid, ()) if c in cam_ids], *cover]))
        for e in exps:
            if e.alarm_id in alarm_cameras and not alarm_cameras[e.alarm_id] and not e.cameras:
                problems.append(ScenarioProblem("expected.toml", e.line, f"alarms.{e.alarm_id}",
                                                tr("no camera covers this alarm's point: list the right ones in 'cameras'")))
    if problems:
        raise ScenarioInvalid(problems)
    return TrainingScenario(base, exps, clips, int(seed), alarm_cameras, points)
