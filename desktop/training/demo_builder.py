"""The demo scenario's builder: places alarms in front of real cameras, the flood burst, the
camera failure, patrol units along the dataset's routes and boats at sea, and writes the three
files (``scenario.toml``, ``timeline.jsonl``, ``expected.toml``).

The post visits are in :mod:`.demo_visits`, the programme in :mod:`.demo_programme`.
"""
from __future__ import annotations

import json
import random
from datetime import datetime

import numpy as np
import shapely
from shapely.geometry import LineString, Point

from desktop.core.alarms.linkage import SPEED_KMH, CameraArrays, cameras_covering
from desktop.core.clock import iso
from desktop.core.district.model import District
from desktop.core.geo.crs import WGS84, haversine_m, to_wgs84, transform
from desktop.training.demo_programme import (_BURST_EVERY, _BURST_N, _BURST_T, _FAIL_T, _PLAN, _RECOVER_T,
                                            ACK_WITHIN_S, expected_header)
from desktop.training.demo_visits import _PostVisits
from desktop.training.great_circle import _bearing, _destination


class _Builder(_PostVisits):
    """The demo scenario of one district, built event by event (``events``: time, order, topic,
    payload) with the expected responses beside them; :meth:`files` writes them out."""

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
