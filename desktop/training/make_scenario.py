"""Build the default demo / training scenario for a district dataset folder.

    python -m desktop.training.make_scenario [DATASET] [--out DIR] [--seed N] [--duration S]

Reads the dataset (cameras, patrol routes and posts, boundary) and writes
``DATASET/scenario/`` (or ``--out``): ``scenario.toml``, ``timeline.jsonl`` and
``expected.toml`` (format: :mod:`desktop.core.feeds.scenario`). About ten minutes of:

* every alarm type (one_key, perimeter, face_match, radar_target, fire, crowd,
  hazard_report), each placed *in front of a real camera* of a fitting kind — inside its
  range and field of view — so that linkage finds the camera; radar targets lie at sea
  (outside the land boundary) in front of a radar or coastal camera;
* alarms in mixed coordinate systems (WGS84 from phones and radar, GCJ-02 from platform
  integrations, EPSG:4490 from surveying-grade systems), converted exactly from the same
  WGS84 point, so all of them land where intended;
* a burst of 12 repeats from one fence sensor in 24 s (flood control folds them into one);
* patrol units moving along the dataset's routes (level 1 → cars, level 2 → e-bikes; a closed
  route is driven round, an open one to and fro) and a boat off the coast when the district
  has one;
* foot patrols visiting the posts per the dataset's schedule (``patrol_schedule.toml``): for
  every visit whose window falls inside the scenario, most check in on time, two late, one
  early and exactly one is missed (its walker's radio goes silent on the way, so it also goes
  stale and offline). The result is checked by playing the patrol timeline through the patrol
  core's tours, and written to ``expected.toml`` (``[visits."<post>@HH:MM"]``). Without a
  schedule, foot patrols walk small loops around posts;
* one camera failure (offline, back online three minutes later);
* the expected operator responses (the 60-second rapid response standard drives the
  dispatch deadlines of the urgent alarms).

Nothing is special to one district, and the output is reproducible (fixed seed, sorted
output, rounded coordinates).
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from desktop.core.alarms.linkage import SPEED_KMH, CameraArrays, cameras_covering
from desktop.core.clock import iso, parse_iso
from desktop.core.district.loader import load_district
from desktop.core.district.model import District
from desktop.core.geo.crs import WGS84, haversine_m, to_wgs84, transform

__all__ = ["build_scenario", "main", "DEFAULT_START"]

DEFAULT_START = "2024-06-01T09:00:00+08:00"
_R = 6371008.8


@dataclass(frozen=True)
class _Plan:
    t: float
    type: str
    priority: int
    kinds: tuple[str, ...]  # camera kinds to place it in front of, in order of preference
    crs: str
    source: str  # "camera", "app", "grid", "radar": how the alarm's source is named
    text: str
    expect: tuple[str, float]  # (state, within_s)
    with_camera_ids: bool = False


# The alarm programme (times for a 600 s scenario; scaled for other durations). The first
# alarm comes 5 s in, so the offline demo shows the workflow at once.
_PLAN = [
    _Plan(5, "perimeter", 2, ("hd", "ptz"), "GCJ02", "camera", "围界入侵：有人翻越护栏 / fence climbed",
          ("dispatched", 180), True),
    _Plan(40, "one_key", 1, ("hd",), "WGS84", "app", "一键报警：有人尾随 / caller being followed",
          ("dispatched", 90)),
    _Plan(75, "face_match", 2, ("checkpoint", "hd"), "GCJ02", "camera",
          "人脸比对命中：重点人员 / watch-list face match", ("dispatched", 180), True),
    _Plan(110, "fire", 1, ("hd", "ptz"), "EPSG:4490", "camera", "烟火识别：疑似明火 / smoke and flame",
          ("dispatched", 90)),
    _Plan(150, "crowd", 3, ("hd",), "GCJ02", "camera", "人员聚集：超过阈值 / crowd over threshold",
          ("acknowledged", 120)),
    _Plan(190, "radar_target", 2, ("radar", "coastal", "ptz"), "WGS84", "radar",
          "视频雷达：不明船只靠近 / unidentified vessel approaching", ("dispatched", 180)),
    _Plan(260, "hazard_report", 4, ("hd",), "GCJ02", "grid", "隐患上报：井盖缺失 / missing manhole cover",
          ("acknowledged", 300)),
    _Plan(320, "one_key", 1, ("hd",), "GCJ02", "app", "一键报警：发生纠纷 / fight reported",
          ("dispatched", 90)),
    _Plan(360, "face_match", 2, ("checkpoint", "hd"), "WGS84", "camera", "人脸比对命中 / watch-list face match",
          ("dispatched", 180), True),
    _Plan(400, "radar_target", 1, ("radar", "coastal", "ptz"), "GCJ02", "radar",
          "视频雷达：船只进入禁航区 / vessel in restricted water", ("dispatched", 120)),
    _Plan(430, "fire", 2, ("hd",), "WGS84", "camera", "烟火识别：冒烟 / smoke", ("dispatched", 180)),
    _Plan(470, "crowd", 2, ("hd",), "EPSG:4490", "camera", "人员聚集：快速增加 / crowd growing fast",
          ("acknowledged", 120)),
    _Plan(510, "hazard_report", 3, ("hd",), "WGS84", "grid", "隐患上报：电线裸露 / exposed wiring",
          ("acknowledged", 300)),
    _Plan(550, "perimeter", 2, ("hd", "ptz"), "EPSG:4490", "camera", "围界入侵：夜间闯入 / intrusion",
          ("dispatched", 180), True),
    _Plan(580, "one_key", 1, ("hd",), "WGS84", "app", "一键报警：老人走失 / elderly person lost",
          ("dispatched", 90)),
]
_BURST_T, _BURST_N, _BURST_EVERY = 210.0, 12, 2.0
_FAIL_T, _RECOVER_T = 300.0, 480.0


# Seconds to acknowledge an alarm in, by priority: the field's 60-second rapid response for the
# urgent ones, more for the rest.
ACK_WITHIN_S = {1: 60.0, 2: 60.0, 3: 120.0, 4: 300.0}


def expected_header() -> list[str]:
    """The comment and ``[defaults]`` that open an ``expected.toml``."""
    return ["# Expected operator responses, scored per alarm (simulated time, from the alarm's arrival):",
            "#   state         the state it should reach (or one after it): acknowledged, dispatched,",
            "#                 resolved, or false_alarm for an alarm that is false",
            "#   within_s      ... within this many seconds",
            "#   ack_within_s  acknowledged (any move out of new) within this many seconds",
            "#   cameras       right cameras besides those whose field of view covers the alarm's point",
            "#   units_best    a dispatch is right when the unit is among this many fastest free units",
            "#                 by travel time at that moment",
            "",
            "[defaults]",
            "ack_within_s = 60",
            "units_best = 3",
            ""]


def _destination(lon: float, lat: float, bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """The point ``dist_m`` from (lon, lat) along ``bearing_deg`` (great circle)."""
    d = dist_m / _R
    b = math.radians(bearing_deg)
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(l2), math.degrees(p2)


def _bearing(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    return math.degrees(math.atan2(math.sin(dl) * math.cos(p2),
                                   math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl))) % 360


class _Builder:
    def __init__(self, district: District, seed: int, duration_s: float, start: datetime):
        self.d = district
        self.crs = district.info.crs
        self.rng = random.Random(seed)
        self.duration = float(duration_s)
        self.scale = self.duration / 600.0
        self.start = start
        self.cams = CameraArrays.from_table(district.cameras)
        self.kind_names = np.array([c.kind for c in district.cameras.records], dtype=object)
        # Land = the district and its neighbours (the context layer), so "at sea" is at sea,
        # not across the border in the next district. Dataset CRS.
        land = [district.boundary.geom] + [f.geom for f in district.context
                                           if f.geom.geom_type in ("Polygon", "MultiPolygon")]
        self.land = shapely.union_all(land)
        shapely.prepare(self.land)
        self.used: set[str] = set()
        self.events: list[tuple[float, int, str, dict]] = []
        self.expected: dict[str, tuple[str, float, str]] = {}
        self.visits: list[dict] = []  # the scheduled post visits planned (post_visits)
        self.ack_within: dict[str, float] = {}  # alarm id -> seconds to acknowledge it in
        self._n = 0

    # --- helpers -------------------------------------------------------------------------

    def time_at(self, t: float) -> str:
        return iso(self.start.timestamp() + t, self.start.tzinfo)

    def emit(self, t: float, topic: str, payload: dict) -> None:
        self._n += 1
        self.events.append((round(t, 1), self._n, topic, payload))

    def on_land(self, lon_w: float, lat_w: float) -> bool:
        x, y = transform(lon_w, lat_w, WGS84, self.crs)
        return bool(self.land.contains(Point(x, y)))

    @staticmethod
    def in_crs(lon_w: float, lat_w: float, crs: str) -> tuple[float, float]:
        x, y = transform(lon_w, lat_w, WGS84, crs)
        return round(float(x), 7), round(float(y), 7)

    def place(self, kinds: tuple[str, ...], at_sea: bool = False) -> tuple[str, float, float] | None:
        """A camera of a preferred kind and a point in front of it that linkage confirms."""
        for kind in kinds:
            rows = [i for i in np.flatnonzero(self.kind_names == kind)
                    if self.cams.ids[i] not in self.used and self.cams.range_m[i] >= 20]
            self.rng.shuffle(rows)
            for i in rows[:200]:
                cam = str(self.cams.ids[i])
                c_lon, c_lat = float(self.cams.lon[i]), float(self.cams.lat[i])
                if not np.isfinite(c_lon) or not np.isfinite(c_lat):
                    continue
                fov = float(self.cams.fov_deg[i])
                heading = float(self.cams.heading_deg[i])
                rng_m = float(self.cams.range_m[i])
                for _ in range(6):
                    spread = 360.0 if fov >= 360 else fov / 4.0
                    bearing = heading + self.rng.uniform(-spread / 2, spread / 2) if fov < 360 \
                        else self.rng.uniform(0, 360)
                    lo, hi = (0.45, 0.8) if at_sea else (0.25, 0.6)
                    lon, lat = _destination(c_lon, c_lat, bearing, rng_m * self.rng.uniform(lo, hi))
                    if at_sea and self.on_land(lon, lat):
                        continue
                    if cam in {c for c, _ in cameras_covering(lon, lat, self.cams)}:
                        self.used.add(cam)
                        return cam, lon, lat
        return None

    # --- content -------------------------------------------------------------------------

    def alarms(self) -> None:
        n = 0
        for plan in _PLAN:
            spot = None
            if plan.type == "radar_target":
                spot = self.place(plan.kinds, at_sea=True)
            spot = spot or self.place(plan.kinds) or self.place(("hd", "checkpoint", "ptz", "coastal", "radar"))
            if spot is None:
                raise SystemExit("the dataset has no camera an alarm can be placed in front of")
            cam, lon_w, lat_w = spot
            n += 1
            alarm_id = f"DEMO-{n:03d}"
            source = {"camera": cam, "radar": f"radar-{cam}", "app": f"app-user-{self.rng.randrange(10**4):04d}",
                      "grid": f"grid-worker-{self.rng.randrange(1, 1300):04d}"}[plan.source]
            t = plan.t * self.scale
            lon, lat = self.in_crs(lon_w, lat_w, plan.crs)
            payload = {"id": alarm_id, "type": plan.type, "priority": plan.priority,
                       "time": self.time_at(t), "lon": lon, "lat": lat, "crs": plan.crs,
                       "source": source, "text": plan.text}
            if plan.with_camera_ids:
                payload["camera_ids"] = [cam]
            self.emit(t, "pingan/alarm", payload)
            self.expected[alarm_id] = (plan.expect[0], plan.expect[1], f"{plan.type}, seen by {cam}")
            self.ack_within[alarm_id] = ACK_WITHIN_S[plan.priority]

    def burst(self) -> None:
        """One fence sensor repeating: flood control must fold these into one alarm."""
        spot = self.place(("hd", "ptz", "checkpoint"))
        if spot is None:
            return
        cam, lon_w, lat_w = spot
        lon, lat = self.in_crs(lon_w, lat_w, "GCJ02")
        t0 = _BURST_T * self.scale
        for k in range(_BURST_N):
            t = t0 + k * _BURST_EVERY
            self.emit(t, "pingan/alarm", {
                "id": f"DEMO-B{k + 1:02d}", "type": "perimeter", "priority": 3, "time": self.time_at(t),
                "lon": lon, "lat": lat, "crs": "GCJ02", "source": f"fence-{cam}", "camera_ids": [cam],
                "text": "振动光纤报警（大风？）/ fence vibration (wind?)"})
        self.expected["DEMO-B01"] = ("false_alarm", 180.0,
                                     f"{_BURST_N} repeats from fence-{cam} in {int(_BURST_N * _BURST_EVERY)} s: one alarm, a false one")

    def camera_failure(self) -> None:
        rows = [i for i in np.flatnonzero(self.kind_names == "hd") if self.cams.ids[i] not in self.used]
        if not rows:
            rows = [i for i in range(len(self.cams)) if self.cams.ids[i] not in self.used]
        if not rows:
            return
        cam = str(self.cams.ids[self.rng.choice(rows)])
        self.used.add(cam)
        t1, t2 = _FAIL_T * self.scale, _RECOVER_T * self.scale
        self.emit(t1, f"pingan/camera/{cam}/status", {"status": "offline", "time": self.time_at(t1),
                                                       "reason": "视频信号丢失 / video signal lost"})
        self.emit(t2, f"pingan/camera/{cam}/status", {"status": "online", "time": self.time_at(t2)})

    def _route_wgs(self, geom) -> np.ndarray | None:
        lines = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        line = max(lines, key=lambda g: g.length)
        xy = np.asarray(line.coords, float)[:, :2]
        if len(xy) < 2:
            return None
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], self.crs)
        return np.column_stack([np.asarray(lon, float), np.asarray(lat, float)])

    def _move_along(self, unit: str, kind: str, pts: np.ndarray, every_s: float, crs: str) -> None:
        seg = np.asarray(haversine_m(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1]), float).reshape(-1)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        total = float(cum[-1])
        if total < 1.0:
            return
        # A closed route (a patrol loop) is driven round and round; an open one to and fro.
        closed = bool(np.allclose(pts[0], pts[-1], atol=1e-9))
        speed_kmh = SPEED_KMH[kind] * self.rng.uniform(0.6, 1.0)
        v = speed_kmh / 3.6
        s0 = self.rng.uniform(0, total)
        t = self.rng.uniform(0, every_s)
        while t <= self.duration:
            if closed:
                s, forward = (s0 + v * t) % total, True
            else:
                s = (s0 + v * t) % (2 * total)
                forward = s <= total
                s = s if forward else 2 * total - s  # ping-pong along the route
            j = int(min(np.searchsorted(cum, s, side="right") - 1, len(seg) - 1))
            f = 0.0 if seg[j] <= 0 else (s - cum[j]) / seg[j]
            lon_w = pts[j, 0] + f * (pts[j + 1, 0] - pts[j, 0])
            lat_w = pts[j, 1] + f * (pts[j + 1, 1] - pts[j, 1])
            a, b = (pts[j], pts[j + 1]) if forward else (pts[j + 1], pts[j])
            heading = _bearing(a[0], a[1], b[0], b[1])
            lon, lat = self.in_crs(lon_w, lat_w, crs)
            t_out = round(t, 1)  # the timeline's resolution; the payload time says the same
            self.emit(t_out, f"pingan/patrol/{unit}/position", {
                "unit": unit, "kind": kind, "time": self.time_at(t_out), "lon": lon, "lat": lat,
                "crs": crs, "speed_kmh": round(speed_kmh, 1), "heading_deg": round(heading, 1) % 360.0})
            t += every_s

    def patrols(self) -> None:
        routes = {1: [], 2: []}
        for r in self.d.patrol_routes:
            try:
                level = int(r.props.get("level", 2))
            except (TypeError, ValueError):
                level = 2
            routes.setdefault(level, []).append(r)
        for level, kind, prefix, limit, every, crs in ((1, "car", "car", 6, 10.0, "WGS84"),
                                                       (2, "ebike", "ebike", 6, 15.0, "GCJ02")):
            chosen = sorted(routes.get(level, []), key=lambda r: r.id)
            self.rng.shuffle(chosen)
            for k, r in enumerate(chosen[:limit]):
                pts = self._route_wgs(r.geom)
                if pts is not None:
                    self._move_along(f"{prefix}-{k + 1:02d}", kind, pts, every, crs)
        # Foot patrols visit the posts as the dataset's schedule asks (or, without one, walk a
        # small loop around a post).
        if not self.post_visits():
            posts = sorted(self.d.patrol_posts, key=lambda p: p.id)
            self.rng.shuffle(posts)
            for k, post in enumerate(posts[:4]):
                lon0, lat0 = to_wgs84(post.geom.x, post.geom.y, self.crs)
                loop = [_destination(lon0, lat0, b, 60.0) for b in (0, 90, 180, 270, 0)]
                self._move_along(f"foot-{k + 1:02d}", "foot", np.array(loop), 30.0, "WGS84")
        # A boat off the coast, on an arc at sea in front of a radar or coastal camera.
        path = self._sea_arc()
        if path is not None:
            self._move_along("boat-01", "boat", path, 20.0, "WGS84")
            # a second boat, so one alarm at sea can be answered while the first boat is busy
            # with another (drawn last: the rest of the timeline is as it was without it)
            second = self._sea_arc()
            if second is not None:
                self._move_along("boat-02", "boat", second[::-1], 20.0, "WGS84")

    # --- post visits (tours) ----------------------------------------------------------

    def _plan_outcomes(self, windows: list) -> list[str]:
        """What happens to each scheduled visit (sorted by time): most on time, two late, one
        early, exactly one missed — each where the scenario leaves room for it."""
        n = len(windows)
        start = self.start.timestamp()
        end = start + self.duration
        plan = ["on_time"] * n
        if n < 4:
            return plan
        plan[1] = "missed"  # early in the scenario, so its alarm comes while it runs
        free = [i for i in range(n) if plan[i] == "on_time"]
        # Early: walking in and checking in before the on-time part needs a few minutes.
        early = [i for i in free if windows[i].scheduled - start >= 240]
        if early:
            plan[self.rng.choice(early)] = "early"
        late = [i for i in range(n) if plan[i] == "on_time" and windows[i].on_until + 100 <= end]
        for i in self.rng.sample(late, min(2, len(late))):
            plan[i] = "late"
        return plan

    def _land_bearing(self, lon0: float, lat0: float, dist: float, avoid: float | None = None) -> float | None:
        """A bearing from (lon0, lat0) along which ``dist`` metres stay on land (WGS84 in)."""
        choices = [self.rng.uniform(0, 360) for _ in range(36)]
        if avoid is not None:  # leave the other way than one came, if the land allows
            choices.sort(key=lambda b: -abs(((b - avoid + 180) % 360) - 180))
        for b in choices:
            pts = [_destination(lon0, lat0, b, d) for d in np.linspace(0, dist, 6)]
            if all(self.on_land(lon, lat) for lon, lat in pts):
                return b
        return None

    def _emit_fix(self, unit: str, epoch: float, lon_w: float, lat_w: float, speed_kmh: float, heading: float) -> None:
        """A foot patrol's fix at ``epoch`` (absolute time), WGS84."""
        t_out = round(epoch - self.start.timestamp(), 1)
        lon, lat = self.in_crs(lon_w, lat_w, "WGS84")
        self.emit(t_out, f"pingan/patrol/{unit}/position", {
            "unit": unit, "kind": "foot", "time": self.time_at(t_out), "lon": lon, "lat": lat, "crs": "WGS84",
            "speed_kmh": round(speed_kmh, 1), "heading_deg": round(heading % 360.0, 1)})

    def _visitor(self, unit: str, post, ps, w, outcome: str) -> None:
        """A foot patrol that walks to ``post``, stays, and walks off: timed for ``outcome``.

        Fixes every 10 s while walking and at the post (every 30 s while standing off), so
        the check-in — the first fix ``dwell_s`` after coming within the radius — falls where
        the outcome needs it. For the missed visit the unit sets off and its radio goes
        silent half-way (it goes stale, then offline): nobody checks in.
        """
        start = self.start.timestamp()
        lon0, lat0 = to_wgs84(post.geom.x, post.geom.y, self.crs)
        lon0, lat0 = float(lon0), float(lat0)
        walk = 1.3  # m/s
        step = 10.0
        inside = min(40.0, ps.radius_m * 0.8)  # where the first fix within the radius is
        b_in = self._land_bearing(lon0, lat0, 220.0)
        if b_in is None:
            raise SystemExit(f"post {post.id}: no way to it on land for a foot patrol")
        b_out = self._land_bearing(lon0, lat0, 160.0, avoid=b_in) or b_in
        if outcome == "on_time":
            checkin = w.scheduled + self.rng.uniform(-35, 35)
            stay = self.rng.uniform(40, 150)
        elif outcome == "early":
            checkin = w.on_from - self.rng.uniform(45, 55)
            stay = 0.0  # leaves at once: out of the radius before the on-time part begins
        elif outcome == "late":
            checkin = w.on_until + self.rng.uniform(35, 60)
            stay = self.rng.uniform(30, 90)
        else:  # missed: sets off towards the post at the scheduled time, goes silent on the way
            checkin = w.scheduled + ps.dwell_s + 60.0
            stay = 0.0
        checkin = round(checkin, 1)
        arrival = checkin - ps.dwell_s
        # walking in: back from the arrival fix, 13 m every 10 s, as far as 220 m or t = 0.5
        k_max = int(min((220.0 - inside) / (walk * step), (arrival - start - 0.5) / step))
        t_walk0 = arrival - k_max * step
        a_lon, a_lat = _destination(lon0, lat0, b_in, inside + k_max * walk * step)
        t = 0.5 + self.rng.uniform(0, 20)
        while t < t_walk0 - start - 1:  # standing at the start of its walk, fixes every 30 s
            self._emit_fix(unit, start + t, a_lon, a_lat, 0.0, b_in + 180)
            t += 30.0
        silent_after = arrival - 8 * step if outcome == "missed" else math.inf
        for k in range(k_max, -1, -1):
            tt = arrival - k * step
            if tt > silent_after:
                return
            lon, lat = _destination(lon0, lat0, b_in, inside + k * walk * step)
            self._emit_fix(unit, tt, lon, lat, walk * 3.6, b_in + 180)
        tt = arrival + step
        while tt <= checkin + stay + 1e-6:  # at the post, within a few metres
            lon, lat = _destination(lon0, lat0, self.rng.uniform(0, 360), self.rng.uniform(0, 6))
            self._emit_fix(unit, tt, lon, lat, 0.0, b_out)
            tt += step
        k = 1
        while k * walk * step <= 160.0 and tt - start <= self.duration:
            lon, lat = _destination(lon0, lat0, b_out, k * walk * step)
            self._emit_fix(unit, tt, lon, lat, walk * 3.6, b_out)
            tt += step
            k += 1
        end_lon, end_lat = _destination(lon0, lat0, b_out, (k - 1) * walk * step)
        tt += 20.0
        while tt - start <= self.duration:  # standing off, fixes every 30 s
            self._emit_fix(unit, tt, end_lon, end_lat, 0.0, b_out)
            tt += 30.0

    def post_visits(self) -> bool:
        """Foot patrols for the scheduled visits whose windows fall inside the scenario.

        Every visit is planned (:meth:`_plan_outcomes`), walked (:meth:`_visitor`), and then
        checked by running the patrol core's tours over the whole patrol timeline, so the
        expected states written to ``expected.toml`` are what the program will show.
        Returns False when the dataset has no schedule or no window falls in the scenario.
        """
        sched = self.d.patrol_schedule
        if sched is None or not self.d.patrol_posts:
            return False
        start = self.start.timestamp()
        end = start + self.duration
        posts = {p.id: p for p in self.d.patrol_posts}
        windows = [w for w in sched.windows(start, end) if w.closes <= end and w.post in posts]
        windows.sort(key=lambda w: (w.scheduled, w.post))
        if not windows:
            return False
        plan = self._plan_outcomes(windows)
        self.visits = []
        for k, (w, outcome) in enumerate(zip(windows, plan)):
            unit = f"foot-{k + 1:02d}"
            self._visitor(unit, posts[w.post], sched.posts[w.post], w, outcome)
            self.visits.append({"window": w, "state": outcome, "unit": unit if outcome != "missed" else "",
                                "walker": unit, "name": posts[w.post].name})
        self._check_visits()
        return True

    def _check_visits(self) -> None:
        """Play the patrol fixes into the patrol core's tours; every visit must come out as planned."""
        import tempfile

        from desktop.core.feeds.schema import parse
        from desktop.core.patrol.service import PatrolService
        from desktop.core.patrol.tours import missed_alarm_id

        start = self.start.timestamp()
        events = sorted((e for e in self.events if e[2].startswith("pingan/patrol/")), key=lambda e: (e[0], e[1]))
        with tempfile.TemporaryDirectory() as tmp:
            alarms: list[dict] = []
            with PatrolService(Path(tmp) / "check.sqlite", self.d, clock=lambda: start, on_alarm=alarms.append,
                               autoflush_s=0) as svc:
                svc.watch(start, start + self.duration)
                i = 0
                for sec in range(int(self.duration) + 31):
                    now = start + sec
                    batch = []
                    while i < len(events) and start + events[i][0] <= now:
                        batch.append(parse(events[i][2], events[i][3]))
                        i += 1
                    if batch:
                        svc.ingest(batch)
                    svc.tick(now)
                got = {(v.post, v.scheduled): v for v in svc.visits(start, start + self.duration,
                                                                    now=start + self.duration + 30)}
        for v in self.visits:
            w = v["window"]
            seen = got.get((w.post, w.scheduled))
            state = seen.state if seen is not None else None
            unit = seen.unit if seen is not None else None
            if state != v["state"] or unit != v["unit"]:
                raise RuntimeError(f"scenario check: the {w.post} visit at {self.time_at(w.scheduled - start)} "
                                   f"was planned {v['state']} by {v['unit'] or 'nobody'}, "
                                   f"the tours say {state} by {unit or 'nobody'}")
            v["checkin"] = seen.checkin
            v["alarm"] = missed_alarm_id(w.post, w.scheduled, self.d.patrol_schedule) if v["state"] == "missed" else ""
        missed = [a["id"] for a in alarms]
        planned = [v["alarm"] for v in self.visits if v["alarm"]]
        if missed != planned:
            raise RuntimeError(f"scenario check: missed-visit alarms {missed}, planned {planned}")

    def _sea_arc(self) -> np.ndarray | None:
        """WGS84 points of an arc in a coastal camera's view whose every leg stays at sea."""
        for kind in ("radar", "coastal", "ptz"):
            rows = [i for i in np.flatnonzero(self.kind_names == kind) if self.cams.range_m[i] >= 200]
            self.rng.shuffle(rows)
            for i in rows[:100]:
                c_lon, c_lat = float(self.cams.lon[i]), float(self.cams.lat[i])
                half = min(float(self.cams.fov_deg[i]), 120.0) / 3.0
                dist = float(self.cams.range_m[i]) * 0.65
                pts = [_destination(c_lon, c_lat, float(self.cams.heading_deg[i]) + b, dist)
                       for b in np.linspace(-half, half, 4)]
                xy = [transform(lon, lat, WGS84, self.crs) for lon, lat in pts]
                if not self.land.intersects(LineString(xy)):
                    return np.array(pts)
        return None

    def files(self) -> tuple[str, str, str]:
        self.events.sort(key=lambda e: (e[0], e[1]))
        lines = [json.dumps({"t": t, "topic": topic, "payload": payload}, ensure_ascii=False,
                            separators=(",", ":")) for t, _, topic, payload in self.events]
        name = self.d.info.name
        kinds = sorted({p["type"] for _, _, tp, p in self.events if tp == "pingan/alarm"})
        tours = ""
        if self.visits:
            n = {st: sum(1 for v in self.visits if v["state"] == st) for st in ("on_time", "late", "early", "missed")}
            tours = (f" {len(self.visits)} scheduled post visits ({n['on_time']} on time, {n['late']} late, "
                     f"{n['early']} early, {n['missed']} missed),")
        toml = "\n".join([
            f"name = {json.dumps(f'{name} demo', ensure_ascii=False)}",
            f"description = {json.dumps(f'Default demo scenario for {name}: every alarm type ({len(kinds)}), a flood burst, a camera failure, patrol units on their routes,{tours} mixed WGS84/GCJ02/EPSG:4490 positions.', ensure_ascii=False)}",
            f"duration_s = {self.duration:g}",
            "speed = 1.0",
            f"start = {json.dumps(self.start.isoformat())}",
            "loop = false",
            f"dataset = {json.dumps(self.d.info.adcode or name, ensure_ascii=False)}",
            "generator = \"desktop.training.make_scenario\"",
            "",
        ])
        exp = expected_header()
        for alarm_id in sorted(self.expected):
            state, within, note = self.expected[alarm_id]
            exp += [f"[alarms.{json.dumps(alarm_id)}]", f"state = {json.dumps(state)}",
                    f"within_s = {within:g}"]
            ack = self.ack_within.get(alarm_id)
            if ack is not None:
                exp.append(f"ack_within_s = {ack:g}")
            exp += [f"note = {json.dumps(note, ensure_ascii=False)}", ""]
        if self.visits:
            start = self.start.timestamp()
            exp += ["# Scheduled post visits (the dataset's patrol_schedule.toml) whose windows fall inside",
                    "# the scenario, and how the patrol core judges them; times are the scenario's (played",
                    "# at another time, the schedule is shifted with it). A missed one raises `alarm`.", ""]
            for v in self.visits:
                w = v["window"]
                when = self.time_at(w.scheduled - start)
                exp += [f"[visits.{json.dumps(w.post + '@' + when[11:16])}]", f"post = {json.dumps(w.post)}",
                        f"scheduled = {json.dumps(when)}", f"state = {json.dumps(v['state'])}",
                        f"unit = {json.dumps(v['unit'])}"]
                if v["checkin"] is not None:
                    exp.append(f"checkin = {json.dumps(self.time_at(v['checkin'] - start))}")
                if v["alarm"]:
                    exp.append(f"alarm = {json.dumps(v['alarm'])}")
                note = {"on_time": "checks in on time", "late": "checks in late", "early": "checks in early and leaves",
                        "missed": f"{v['walker']} sets off, its radio goes silent on the way; nobody checks in"}
                exp += [f"note = {json.dumps(v['name'] + ': ' + note[v['state']], ensure_ascii=False)}", ""]
        return toml, "\n".join(lines) + "\n", "\n".join(exp)


def build_scenario(dataset: Path | str, out: Path | str | None = None, *, seed: int = 20240601,
                   duration_s: float = 600.0, start: str = DEFAULT_START) -> Path:
    """Write the demo scenario of ``dataset`` to ``out`` (default ``dataset/scenario``); returns ``out``."""
    dataset = Path(dataset)
    out = Path(out) if out is not None else dataset / "scenario"
    district = load_district(dataset)
    if not len(district.cameras):
        raise ValueError(f"{dataset}: the dataset has no cameras (cameras.geojson)")
    b = _Builder(district, seed, duration_s, parse_iso(start))
    b.alarms()
    b.burst()
    b.camera_failure()
    b.patrols()
    toml, timeline, expected = b.files()
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.toml").write_text(toml, encoding="utf-8")
    (out / "timeline.jsonl").write_text(timeline, encoding="utf-8")
    (out / "expected.toml").write_text(expected, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    from desktop.paths import DEFAULT_DISTRICT

    ap = argparse.ArgumentParser(prog="python -m desktop.training.make_scenario", description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", default=str(DEFAULT_DISTRICT), help="district dataset folder")
    ap.add_argument("--out", help="output folder (default: DATASET/scenario)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--duration", type=float, default=600.0, help="seconds of simulated time")
    ap.add_argument("--start", default=DEFAULT_START, help="ISO 8601 start time")
    args = ap.parse_args(argv)
    out = build_scenario(args.dataset, args.out, seed=args.seed, duration_s=args.duration, start=args.start)
    from desktop.core.feeds.scenario import load_scenario

    sc = load_scenario(out)
    print(f"wrote {out}: {len(sc.events)} events over {sc.duration_s:g} s; {sc.topics()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
