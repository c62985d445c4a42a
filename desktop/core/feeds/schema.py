"""Payload schemas of the feeds (README, *Live feeds (MQTT)*) and their validation.

Every feed message is UTF-8 JSON. A payload that cannot be decoded or that breaks its
schema raises :class:`PayloadError`, which names the topic, the field and a ``reason`` —
a short key the UI counts rejections by (:data:`REASONS`). Validation is strict about
types (``"120.3"`` is not a longitude, ``true`` is not a priority) and lenient about extra
fields (a newer sender may add some).

Positions are converted on ingest to WGS84 (distances, linkage) and GCJ-02 (the map's
default datum). The conversion is vectorised: parse with ``convert=False`` and call
:func:`fill_positions` on a whole batch, which costs one numpy pass per CRS instead of a
GCJ-02 inversion per message.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

import numpy as np

from desktop.core.alarms.model import AlarmState
from desktop.core.clock import parse_iso
from desktop.core.geo.crs import CGCS2000, GCJ02, WGS84, CRSError, normalize_crs, to_wgs84, wgs84_to_gcj02
from desktop.core.i18n import tr

__all__ = ["PayloadError", "REASONS", "AlarmMessage", "PatrolPosition", "StateMessage",
           "CameraStatus", "decode", "topic_kind", "parse", "parse_alarm", "parse_patrol",
           "parse_state", "parse_camera_status", "fill_positions", "convert_positions",
           "ALARM_TOPIC", "PATROL_KINDS", "CAMERA_STATUSES", "ACCEPTED_CRS",
           "RadarTarget", "RadarReport", "parse_radar", "RADAR_TOPIC", "RADAR_FILTER", "RADAR_MAX_TARGETS"]

ALARM_TOPIC = "pingan/alarm"
PATROL_KINDS = ("car", "ebike", "foot", "boat")
CAMERA_STATUSES = ("online", "offline", "fault")
ACCEPTED_CRS = (WGS84, GCJ02, CGCS2000)
RADAR_TOPIC = "pingan/radar/{radar}/targets"  # what a coastal video radar sees, one report per sweep
RADAR_FILTER = "pingan/radar/+/targets"
RADAR_MAX_TARGETS = 500  # per report; a radar over a busy anchorage tracks a few dozen
_MAX_ID = 128  # ids end up in topics, file names and table keys: keep them sane
_MAX_TEXT = 4000
_SCALAR_MAX = 32  # up to this many points of one CRS are converted one by one (see convert_positions)

# Rejection reasons (counter keys) and their English descriptions for the UI.
REASONS: dict[str, str] = {
    "invalid_utf8": "Not UTF-8",
    "invalid_json": "Not valid JSON",
    "not_object": "Not a JSON object",
    "missing_field": "Missing field",
    "wrong_type": "Wrong field type",
    "out_of_range": "Value out of range",
    "bad_value": "Invalid value",
    "bad_crs": "Unsupported coordinate system",
    "bad_time": "Invalid time",
    "topic_mismatch": "Topic and payload disagree",
    "unknown_topic": "Unknown topic",
}


class PayloadError(ValueError):
    """A rejected payload. ``topic``, ``reason`` (a :data:`REASONS` key) and ``field`` say where and why."""

    def __init__(self, topic: str, reason: str, field: str, detail: str):
        self.topic = topic
        self.reason = reason
        self.field = field
        self.detail = detail
        if field:
            text = tr("{topic}: field '{field}': {detail}", topic=topic, field=field, detail=detail)
        else:
            text = tr("{topic}: {detail}", topic=topic, detail=detail)
        super().__init__(text)


# --- messages -----------------------------------------------------------------------------

_NAN = float("nan")


@dataclass(frozen=True)
class AlarmMessage:
    """A valid ``pingan/alarm`` payload."""

    id: str
    type: str
    priority: int
    time: str
    epoch: float
    lon: float
    lat: float
    crs: str
    source: str
    camera_ids: tuple[str, ...] = ()
    text: str = ""
    lon_wgs: float = _NAN
    lat_wgs: float = _NAN
    lon_gcj: float = _NAN
    lat_gcj: float = _NAN
    payload: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PatrolPosition:
    """A valid ``pingan/patrol/<unit>/position`` payload."""

    unit: str
    kind: str
    time: str
    epoch: float
    lon: float
    lat: float
    crs: str
    speed_kmh: float
    heading_deg: float
    lon_wgs: float = _NAN
    lat_wgs: float = _NAN
    lon_gcj: float = _NAN
    lat_gcj: float = _NAN


@dataclass(frozen=True)
class StateMessage:
    """A valid ``pingan/alarm/<id>/state`` payload (a workflow change made somewhere)."""

    alarm_id: str
    state: AlarmState
    operator: str
    time: str
    epoch: float
    origin: str
    note: str = ""
    unit: str = ""
    alarm: Any = None  # the alarm itself (an AlarmMessage), when the payload carries it: see parse_state


@dataclass(frozen=True)
class CameraStatus:
    """A valid ``pingan/camera/<id>/status`` payload: ``{"status": online|offline|fault, "time", "reason"?}``."""

    camera_id: str
    status: str
    time: str
    epoch: float
    reason: str = ""


@dataclass(frozen=True)
class RadarTarget:
    """One target of a radar report: where it is (``crs`` of the report), its course over ground
    (``heading_deg``, 0 = north, clockwise) and speed (``speed_kn``, knots), and when it was seen."""

    id: str
    time: str
    epoch: float
    lon: float
    lat: float
    crs: str
    heading_deg: float
    speed_kn: float
    lon_wgs: float = _NAN
    lat_wgs: float = _NAN
    lon_gcj: float = _NAN
    lat_gcj: float = _NAN


@dataclass(frozen=True)
class RadarReport:
    """A valid ``pingan/radar/<radar>/targets`` payload: every target one radar tracks now.

    ``{"radar": id (optional, = the topic's), "time": ISO 8601, "crs": WGS84|GCJ02|EPSG:4490,
    "targets": [{"id", "lon", "lat", "heading_deg", "speed_kn", "time" (optional, = the
    report's)}, ...]}`` — an empty list says the radar is alive and sees nothing."""

    radar: str
    time: str
    epoch: float
    crs: str
    targets: tuple[RadarTarget, ...] = ()


# --- decoding -----------------------------------------------------------------------------

def _no_constants(name: str):
    raise ValueError(f"{name} is not JSON")


def decode(topic: str, raw: bytes | bytearray | memoryview | str | dict) -> dict:
    """The payload as a dict: UTF-8, JSON, an object — or :class:`PayloadError`."""
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, (bytes, bytearray, memoryview)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError(topic, "invalid_utf8", "",
                               tr("payload is not UTF-8 (byte {pos})", pos=exc.start)) from None
    if not isinstance(raw, str):
        raise PayloadError(topic, "not_object", "", tr("payload must be JSON text"))
    try:
        # NaN/Infinity are not JSON; Python would accept them and poison a coordinate.
        data = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        raise PayloadError(topic, "invalid_json", "", tr("payload is not valid JSON ({err})", err=exc)) from None
    if not isinstance(data, dict):
        raise PayloadError(topic, "not_object", "",
                           tr("payload must be a JSON object, got {kind}", kind=type(data).__name__))
    return data


def topic_kind(topic: str) -> tuple[str, str] | None:
    """``("alarm", "")``, ``("alarm_state", id)``, ``("patrol", unit)``, ``("camera_status", id)``,
    ``("radar", radar)`` or None."""
    if topic == ALARM_TOPIC:
        return ("alarm", "")
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == "pingan" and parts[2]:
        if parts[1] == "alarm" and parts[3] == "state":
            return ("alarm_state", parts[2])
        if parts[1] == "patrol" and parts[3] == "position":
            return ("patrol", parts[2])
        if parts[1] == "camera" and parts[3] == "status":
            return ("camera_status", parts[2])
        if parts[1] == "radar" and parts[3] == "targets":
            return ("radar", parts[2])
    return None


def parse(topic: str, raw: Any, convert: bool = True):
    """Decode and validate any known topic's payload; returns the matching message record."""
    kind = topic_kind(topic)
    if kind is None:
        raise PayloadError(topic, "unknown_topic", "", tr("no schema for this topic"))
    data = decode(topic, raw)
    name, key = kind
    if name == "alarm":
        return parse_alarm(topic, data, convert)
    if name == "alarm_state":
        return parse_state(topic, data, key)
    if name == "patrol":
        return parse_patrol(topic, data, key, convert)
    if name == "radar":
        return parse_radar(topic, data, key, convert)
    return parse_camera_status(topic, data, key)


# --- field checks -------------------------------------------------------------------------

class _Fields:
    """Typed access to a payload's fields, raising PayloadError that names topic and field."""

    def __init__(self, topic: str, data: dict):
        self.topic = topic
        self.data = data

    def fail(self, reason: str, name: str, detail: str):
        raise PayloadError(self.topic, reason, name, detail)

    def _get(self, name: str, required: bool):
        if name not in self.data or self.data[name] is None:
            if required:
                self.fail("missing_field", name, tr("required field is missing"))
            return None
        return self.data[name]

    def string(self, name: str, required: bool = True, max_len: int = _MAX_ID, default: str = "") -> str:
        v = self._get(name, required)
        if v is None:
            return default
        if not isinstance(v, str):
            self.fail("wrong_type", name, tr("must be a string, got {kind}", kind=type(v).__name__))
        v = v.strip()
        if required and not v:
            self.fail("bad_value", name, tr("must not be empty"))
        if len(v) > max_len:
            self.fail("out_of_range", name, tr("longer than {n} characters", n=max_len))
        return v

    def number(self, name: str, lo: float | None = None, hi: float | None = None,
               required: bool = True, default: float = 0.0) -> float:
        v = self._get(name, required)
        if v is None:
            return default
        # bool is an int in Python, but `true` is not a number in anyone's schema.
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail("wrong_type", name, tr("must be a number, got {kind}", kind=type(v).__name__))
        v = float(v)
        if not math.isfinite(v):
            self.fail("out_of_range", name, tr("must be finite"))
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            self.fail("out_of_range", name, tr("{value} is outside {lo}..{hi}", value=v, lo=lo, hi=hi))
        return v

    def time(self, name: str = "time") -> tuple[str, float]:
        text = self.string(name, max_len=64)
        try:
            return text, parse_iso(text).timestamp()
        except ValueError:
            self.fail("bad_time", name, tr("{value!r} is not an ISO 8601 time", value=text))

    def crs(self, name: str = "crs") -> str:
        text = self.string(name, max_len=32)
        try:
            crs = normalize_crs(text)
        except CRSError:
            crs = None
        if crs not in ACCEPTED_CRS:
            self.fail("bad_crs", name, tr("{value!r} is not one of WGS84, GCJ02, EPSG:4490", value=text))
        return crs

    def position(self) -> tuple[float, float, str]:
        crs = self.crs()
        lon = self.number("lon", -180.0, 180.0)
        lat = self.number("lat", -90.0, 90.0)
        return lon, lat, crs


class _ItemFields(_Fields):
    """Fields of one element of a list (``targets[3]``): errors name ``targets[3].lon``."""

    def __init__(self, topic: str, data: dict, prefix: str):
        super().__init__(topic, data)
        self.prefix = prefix

    def fail(self, reason: str, name: str, detail: str):
        raise PayloadError(self.topic, reason, f"{self.prefix}.{name}", detail)


# --- schemas ------------------------------------------------------------------------------

def parse_alarm(topic: str, data: dict, convert: bool = True) -> AlarmMessage:
    """Validate a ``pingan/alarm`` payload (already decoded)."""
    f = _Fields(topic, data)
    alarm_id = f.string("id")
    alarm_type = f.string("type", max_len=64)
    pr = data.get("priority")
    if pr is None:
        f.fail("missing_field", "priority", tr("required field is missing"))
    if isinstance(pr, bool) or not isinstance(pr, int):
        # 2.0 is accepted as 2 (some encoders write every number as a float); 2.5 is not.
        if isinstance(pr, float) and pr.is_integer():
            pr = int(pr)
        else:
            f.fail("wrong_type", "priority", tr("must be an integer 1-4, got {value!r}", value=pr))
    if not 1 <= pr <= 4:
        f.fail("out_of_range", "priority", tr("must be 1-4 (1 highest), got {value}", value=pr))
    time_text, epoch = f.time()
    lon, lat, crs = f.position()
    source = f.string("source", max_len=256)
    cams = data.get("camera_ids")
    if cams is None:
        cams = ()
    elif not isinstance(cams, list) or not all(isinstance(c, str) and c.strip() for c in cams):
        f.fail("wrong_type", "camera_ids", tr("must be a list of non-empty strings"))
    else:
        cams = tuple(c.strip() for c in cams)
    text = f.string("text", required=False, max_len=_MAX_TEXT)
    msg = AlarmMessage(id=alarm_id, type=alarm_type, priority=pr, time=time_text, epoch=epoch,
                       lon=lon, lat=lat, crs=crs, source=source, camera_ids=cams, text=text,
                       payload=data)
    return fill_positions([msg])[0] if convert else msg


def parse_patrol(topic: str, data: dict, unit_from_topic: str = "", convert: bool = True) -> PatrolPosition:
    """Validate a ``pingan/patrol/<unit>/position`` payload."""
    f = _Fields(topic, data)
    unit = f.string("unit")
    if unit_from_topic and unit != unit_from_topic:
        f.fail("topic_mismatch", "unit", tr("{value!r} does not match the topic's {expected!r}",
                                            value=unit, expected=unit_from_topic))
    kind = f.string("kind", max_len=16)
    if kind not in PATROL_KINDS:
        f.fail("bad_value", "kind", tr("{value!r} is not one of {options}", value=kind,
                                       options=", ".join(PATROL_KINDS)))
    time_text, epoch = f.time()
    lon, lat, crs = f.position()
    speed = f.number("speed_kmh", 0.0, 400.0)
    heading = f.number("heading_deg", -360.0, 720.0) % 360.0
    msg = PatrolPosition(unit=unit, kind=kind, time=time_text, epoch=epoch, lon=lon, lat=lat,
                         crs=crs, speed_kmh=speed, heading_deg=heading)
    return fill_positions([msg])[0] if convert else msg


def parse_state(topic: str, data: dict, alarm_id_from_topic: str = "") -> StateMessage:
    """Validate a ``pingan/alarm/<id>/state`` payload."""
    f = _Fields(topic, data)
    alarm_id = f.string("id", required=not alarm_id_from_topic, default=alarm_id_from_topic)
    if alarm_id_from_topic and alarm_id != alarm_id_from_topic:
        f.fail("topic_mismatch", "id", tr("{value!r} does not match the topic's {expected!r}",
                                          value=alarm_id, expected=alarm_id_from_topic))
    state_text = f.string("state", max_len=32)
    try:
        state = AlarmState(state_text.lower())
    except ValueError:
        f.fail("bad_value", "state", tr("{value!r} is not one of {options}", value=state_text,
                                        options=", ".join(s.value for s in AlarmState)))
    operator = f.string("operator", max_len=128)
    time_text, epoch = f.time()
    origin = f.string("origin", max_len=128)
    note = f.string("note", required=False, max_len=_MAX_TEXT)
    unit = f.string("unit", required=False)
    # A retained state carries its alarm, so a workstation or wall that starts after the alarm
    # was sent (the broker keeps no alarm history) can show it with its current state.
    alarm = None
    embedded = data.get("alarm")
    if isinstance(embedded, dict):
        try:
            alarm = parse_alarm("pingan/alarm", embedded, convert=False)
        except PayloadError:
            alarm = None  # the state itself is still good
        if alarm is not None and alarm.id != alarm_id:
            alarm = None
    return StateMessage(alarm_id=alarm_id, state=state, operator=operator, time=time_text,
                        epoch=epoch, origin=origin, note=note, unit=unit, alarm=alarm)


def parse_camera_status(topic: str, data: dict, camera_id_from_topic: str = "") -> CameraStatus:
    """Validate a ``pingan/camera/<id>/status`` payload."""
    f = _Fields(topic, data)
    status = f.string("status", max_len=16).lower()
    if status not in CAMERA_STATUSES:
        f.fail("bad_value", "status", tr("{value!r} is not one of {options}", value=status,
                                         options=", ".join(CAMERA_STATUSES)))
    time_text, epoch = f.time()
    reason = f.string("reason", required=False, max_len=_MAX_TEXT)
    cam = f.string("camera_id", required=False, default=camera_id_from_topic)
    if camera_id_from_topic and cam != camera_id_from_topic:
        f.fail("topic_mismatch", "camera_id", tr("{value!r} does not match the topic's {expected!r}",
                                                 value=cam, expected=camera_id_from_topic))
    return CameraStatus(camera_id=cam, status=status, time=time_text, epoch=epoch, reason=reason)


def parse_radar(topic: str, data: dict, radar_from_topic: str = "", convert: bool = True) -> RadarReport:
    """Validate a ``pingan/radar/<radar>/targets`` payload (see :class:`RadarReport`).

    One bad target rejects the whole report, naming the target (``targets[3].lon``): a
    radar that sends garbage for one target cannot be trusted for the others of that sweep,
    and the next sweep comes within seconds."""
    from desktop.core.radar._i18n import tr as rtr  # the radar core's own catalog
    f = _Fields(topic, data)
    radar = f.string("radar", required=not radar_from_topic, default=radar_from_topic)
    if radar_from_topic and radar != radar_from_topic:
        f.fail("topic_mismatch", "radar", tr("{value!r} does not match the topic's {expected!r}",
                                             value=radar, expected=radar_from_topic))
    time_text, epoch = f.time()
    crs = f.crs()
    raw = data.get("targets")
    if raw is None:
        f.fail("missing_field", "targets", tr("required field is missing"))
    if not isinstance(raw, list):
        f.fail("wrong_type", "targets", rtr("must be a list of target objects, got {kind}",
                                            kind=type(raw).__name__))
    if len(raw) > RADAR_MAX_TARGETS:
        f.fail("out_of_range", "targets", rtr("{n} targets in one report; at most {max}",
                                              n=len(raw), max=RADAR_MAX_TARGETS))
    rows: list[tuple] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        prefix = f"targets[{i}]"
        if not isinstance(item, dict):
            f.fail("wrong_type", prefix, rtr("must be a list of target objects, got {kind}",
                                             kind=type(item).__name__))
        t = _ItemFields(topic, item, prefix)
        tid = t.string("id")
        if tid in seen:
            t.fail("bad_value", "id", rtr("target {value!r} appears twice in one report", value=tid))
        seen.add(tid)
        lon = t.number("lon", -180.0, 180.0)
        lat = t.number("lat", -90.0, 90.0)
        heading = t.number("heading_deg", -360.0, 720.0) % 360.0
        speed = t.number("speed_kn", 0.0, 100.0)
        t_text, t_epoch = (time_text, epoch) if item.get("time") is None else t.time()
        rows.append((tid, t_text, t_epoch, lon, lat, heading, speed))
    if convert and rows:
        # one conversion pass for the whole sweep, and each record built once (no replace())
        lw, aw, lg, ag = convert_positions([r[3] for r in rows], [r[4] for r in rows], [crs] * len(rows))
        targets = [RadarTarget(r[0], r[1], r[2], r[3], r[4], crs, r[5], r[6], float(lw[i]), float(aw[i]),
                               float(lg[i]), float(ag[i])) for i, r in enumerate(rows)]
    else:
        targets = [RadarTarget(r[0], r[1], r[2], r[3], r[4], crs, r[5], r[6]) for r in rows]
    return RadarReport(radar=radar, time=time_text, epoch=epoch, crs=crs, targets=tuple(targets))


# --- positions ----------------------------------------------------------------------------

def convert_positions(lon: Sequence[float], lat: Sequence[float], crs: Sequence[str]):
    """Arrays (lon_wgs, lat_wgs, lon_gcj, lat_gcj) for points each in its own CRS; one numpy pass per CRS."""
    lon_a = np.asarray(lon, float)
    lat_a = np.asarray(lat, float)
    crs_a = np.asarray(crs, dtype=object)
    lon_w, lat_w = lon_a.copy(), lat_a.copy()
    lon_g, lat_g = lon_a.copy(), lat_a.copy()
    for name in set(crs_a.tolist()):
        m = crs_a == name
        idx = np.flatnonzero(m)
        if len(idx) <= _SCALAR_MAX:
            # A few points (a paced feed gives small batches): plain floats take the crs
            # module's math fast path; numpy's per-call overhead would dominate.
            for i in idx:
                x, y = float(lon_a[i]), float(lat_a[i])
                lon_w[i], lat_w[i] = to_wgs84(x, y, name)
                lon_g[i], lat_g[i] = (x, y) if name == GCJ02 else wgs84_to_gcj02(float(lon_w[i]), float(lat_w[i]))
            continue
        if name == GCJ02:
            # GCJ-02 in, so the GCJ-02 copy is exact; only the inverse iterates.
            w = to_wgs84(lon_a[m], lat_a[m], GCJ02)
            lon_w[m], lat_w[m] = w
        else:
            lon_w[m], lat_w[m] = to_wgs84(lon_a[m], lat_a[m], name)
            lon_g[m], lat_g[m] = wgs84_to_gcj02(lon_w[m], lat_w[m])
    return lon_w, lat_w, lon_g, lat_g


def fill_positions(messages: Iterable):
    """The same messages with ``lon_wgs``/``lat_wgs``/``lon_gcj``/``lat_gcj`` filled in."""
    msgs = list(messages)
    if not msgs:
        return msgs
    lw, aw, lg, ag = convert_positions([m.lon for m in msgs], [m.lat for m in msgs],
                                       [m.crs for m in msgs])
    return [replace(m, lon_wgs=float(lw[i]), lat_wgs=float(aw[i]), lon_gcj=float(lg[i]),
                    lat_gcj=float(ag[i])) for i, m in enumerate(msgs)]
