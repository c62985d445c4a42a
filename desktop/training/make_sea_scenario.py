"""Build the sea training scenario for a coastal district dataset.

    python -m desktop.training.make_sea_scenario [DATASET] [--out DIR] [--seed N] [--duration S]

Writes ``DATASET/scenario-sea/`` (or ``--out``): five minutes at sea, reported the way the
field's systems report it —

* a video radar's sweeps (``pingan/radar/<radar>/targets``, every 5 s) of an unknown vessel
  coming in from the radar's range and holding **800 m off the shore**; the district's sea watch
  raises its ``radar_target`` alarm when it enters the watched band (the alarm id is the radar
  core's, found by playing the sweeps through it here), and the trainee should send a boat;
* a registered fishing boat crossing the band further along: the same kind of alarm, which
  the trainee should recognise as false;
* two patrol boats on arcs at sea and a car on the coast road (land units are no answer at sea);
* the coastal camera that sees the vessel best **drops** a little after the alarm (offline)
  and comes back two minutes later, so the trainee has to use the other cameras meanwhile;
* ``clips.toml`` giving the radar and the coastal cameras of the scene a harbour or pier clip.

Reproducible (fixed seed); nothing is special to one district: a dataset without a radar or
coastal camera at a real coast is refused with a message saying so.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point

from desktop.core.alarms.linkage import cameras_covering
from desktop.core.clock import parse_iso
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import WGS84, transform
from desktop.training.make_scenario import DEFAULT_START, _Builder, _destination, expected_header

__all__ = ["build_sea_scenario", "main"]

OFFSHORE_M = 800.0  # where the unknown vessel holds, from the shore
SWEEP_S = 5.0
_M_PER_DEG = 111_320.0


class _SeaBuilder(_Builder):
    def _shore_m(self, lon: float, lat: float) -> float:
        """Metres from (lon, lat) WGS84 to the nearest land (district or neighbours)."""
        if not hasattr(self, "_land_m"):
            # the land in a local metric frame (equirectangular about the district: metres
            # within a few per mille over a district's size)
            minx, miny, maxx, maxy = self.land.bounds
            lon0, lat0 = transform((minx + maxx) / 2, (miny + maxy) / 2, self.crs, WGS84)
            self._frame = (float(lon0), float(lat0), _M_PER_DEG * math.cos(math.radians(float(lat0))))
            fx = self._frame

            def to_m(xy):
                lo, la = transform(xy[:, 0], xy[:, 1], self.crs, WGS84)
                return np.column_stack([(np.asarray(lo) - fx[0]) * fx[2], (np.asarray(la) - fx[1]) * _M_PER_DEG])
            self._land_m = shapely.transform(self.land, to_m)
            shapely.prepare(self._land_m)
        lon0, lat0, kx = self._frame
        return float(shapely.distance(self._land_m, Point((lon - lon0) * kx, (lat - lat0) * _M_PER_DEG)))

    def _approach(self):
        """A radar, and a straight course from its range to a point OFFSHORE_M off the shore."""
        rows = [i for i in np.flatnonzero(self.kind_names == "radar")]
        self.rng.shuffle(rows)
        for i in rows:
            r_lon, r_lat = float(self.cams.lon[i]), float(self.cams.lat[i])
            rng_m = float(self.cams.range_m[i])
            bearings = list(range(0, 360, 10))
            self.rng.shuffle(bearings)
            for b in bearings:
                far = _destination(r_lon, r_lat, b, rng_m * 0.95)
                if self.on_land(*far) or self._shore_m(*far) < OFFSHORE_M + 700:
                    continue
                # walk in from the far end until the shore is OFFSHORE_M away
                hold = None
                for d in np.arange(rng_m * 0.95, 100.0, -20.0):
                    p = _destination(r_lon, r_lat, b, float(d))
                    if self.on_land(*p):
                        break
                    if self._shore_m(*p) <= OFFSHORE_M:
                        hold = p
                        break
                if hold is None:
                    continue
                # a coastal camera must see the holding point (the one that will drop)
                cover = [c for c, _ in cameras_covering(hold[0], hold[1], self.cams)
                         if self.kind_names[list(self.cams.ids).index(c)] in ("coastal", "ptz")]
                if len(cover) >= 2:
                    return str(self.cams.ids[i]), (r_lon, r_lat), far, hold, cover
        return None

    def _crossing(self, radar_ll, avoid):
        """A fishing boat's course across the band somewhere else in the radar's range."""
        r_lon, r_lat = radar_ll
        i = list(self.cams.ids).index(self.radar)
        rng_m = float(self.cams.range_m[i])
        for b in range(0, 360, 10):
            a = _destination(r_lon, r_lat, b, rng_m * 0.9)
            z = _destination(r_lon, r_lat, (b + 40) % 360, rng_m * 0.9)
            mid = _destination(r_lon, r_lat, (b + 20) % 360, rng_m * 0.45)
            pts = [a, mid, z]
            if any(self.on_land(*p) for p in pts):
                continue
            if abs(self._shore_m(*mid) - 900.0) > 400 or math.dist(mid, avoid) * _M_PER_DEG < 500:
                continue
            return pts
        return None

    def _track(self, pts, t0: float, t1: float, every: float = SWEEP_S):
        """(t, lon, lat, heading, knots) along ``pts`` from t0 to t1, then holding at the end."""
        segs = [(pts[k], pts[k + 1]) for k in range(len(pts) - 1)]
        lens = [math.dist(a, b) for a, b in segs]
        total = sum(lens) or 1.0
        out = []
        t = t0
        while t <= self.duration:
            f = min(1.0, (t - t0) / max(1e-6, t1 - t0))
            s = f * total
            k = 0
            while k < len(segs) - 1 and s > lens[k]:
                s -= lens[k]
                k += 1
            a, b = segs[k]
            g = 0.0 if lens[k] == 0 else min(1.0, s / lens[k])
            lon, lat = a[0] + g * (b[0] - a[0]), a[1] + g * (b[1] - a[1])
            heading = math.degrees(math.atan2((b[0] - a[0]) * math.cos(math.radians(lat)), b[1] - a[1])) % 360
            metres = total * _M_PER_DEG * math.cos(math.radians(lat))
            knots = 0.3 if f >= 1.0 else metres / max(1.0, t1 - t0) / 0.5144
            out.append((round(t, 1), lon, lat, heading, knots))
            t += every
        return out

    def build(self):
        found = self._approach()
        if found is None:
            raise SystemExit("the dataset has no radar looking at open sea with coastal cameras at "
                             f"{OFFSHORE_M:.0f} m off the shore: no sea scenario for it")
        self.radar, radar_ll, far, hold, cover = found
        cross = self._crossing(radar_ll, hold)
        d = self.duration
        vessel = self._track([far, hold], 10.0, d * 0.45)
        # later than the flood window (60 s) after the first alarm: the same radar is the source of both
        boat = self._track(cross, d * 0.6, d * 0.95) if cross else []
        for k in range(int(d // SWEEP_S) + 1):
            t = round(k * SWEEP_S, 1)
            targets = []
            for tid, track in (("T-001", vessel), ("T-002", boat)):
                fix = next((f for f in track if f[0] == t), None)
                if fix is None or (tid == "T-002" and t > d * 0.95):
                    continue
                targets.append({"id": tid, "lon": round(fix[1], 7), "lat": round(fix[2], 7),
                                "heading_deg": round(fix[3], 1), "speed_kn": round(fix[4], 1)})
            self.emit(t, f"pingan/radar/{self.radar}/targets",
                      {"radar": self.radar, "time": self.time_at(t), "crs": "WGS84", "targets": targets})
        # patrol boats at sea, a car on land
        for unit in ("boat-01", "boat-02"):
            path = self._sea_arc()
            if path is not None:
                self._move_along(unit, "boat", path if unit == "boat-01" else path[::-1], 10.0, "WGS84")
        routes = sorted((r for r in self.d.patrol_routes if str(r.props.get("level", "")) == "1"), key=lambda r: r.id)
        if routes:
            pts = self._route_wgs(routes[0].geom)
            if pts is not None:
                self._move_along("car-01", "car", pts, 10.0, "WGS84")
        # the best coastal camera on the vessel drops after the alarm, and comes back
        self.dropped = cover[0]
        t_off, t_on = round(d * 0.5, 1), round(d * 0.9, 1)
        self.emit(t_off, f"pingan/camera/{self.dropped}/status",
                  {"status": "offline", "time": self.time_at(t_off), "reason": "无线链路中断 / wireless link lost"})
        self.emit(t_on, f"pingan/camera/{self.dropped}/status", {"status": "online", "time": self.time_at(t_on)})
        self.cover = cover
        self._find_alarms()

    def _find_alarms(self) -> None:
        """Play the sweeps through the radar core (as the program will): which alarms it raises, when."""
        from desktop.core.feeds.scenario import TimelineEvent
        from desktop.training.scenario import radar_alarms
        events = [TimelineEvent(t, topic, payload) for t, _n, topic, payload in sorted(self.events, key=lambda e: (e[0], e[1]))]
        by_target = {}
        for t_in, p in radar_alarms(events, self.d, self.start.timestamp()):
            tid = "T-001" if "-T-001-" in p["id"] else "T-002" if "-T-002-" in p["id"] else ""
            by_target.setdefault(tid, (t_in, p))
        if "T-001" not in by_target:
            raise SystemExit("the radar core raised no alarm for the approaching vessel: the band it watches "
                             "does not reach the holding point")
        self.alarm_ids = {tid: (p["id"], t_in, p.get("camera_ids", [])) for tid, (t_in, p) in sorted(by_target.items())}

    def sea_files(self) -> tuple[str, str, str, str]:
        self.events.sort(key=lambda e: (e[0], e[1]))
        lines = [json.dumps({"t": t, "topic": topic, "payload": payload}, ensure_ascii=False,
                            separators=(",", ":")) for t, _, topic, payload in self.events]
        name = self.d.info.name
        vessel_id, t_in, _cams = self.alarm_ids["T-001"]
        toml = "\n".join([
            f"name = {json.dumps(f'{name} sea watch', ensure_ascii=False)}",
            "description = " + json.dumps(
                f"At sea off {name}: an unknown vessel comes in on radar {self.radar} and holds "
                f"{OFFSHORE_M:.0f} m off the shore (send a boat), a registered fishing boat crosses the "
                f"watched band (a false alarm), coastal camera {self.dropped} drops and comes back.",
                ensure_ascii=False),
            f"duration_s = {self.duration:g}",
            "speed = 1.0",
            f"start = {json.dumps(self.start.isoformat())}",
            f"seed = {self.seed}",
            f"dataset = {json.dumps(self.d.info.adcode or name, ensure_ascii=False)}",
            "generator = \"desktop.training.make_sea_scenario\"",
            ""])
        exp = expected_header()
        exp += [f"[alarms.{json.dumps(vessel_id)}]", 'state = "dispatched"', "within_s = 180", "ack_within_s = 60",
                "note = " + json.dumps(f"unknown vessel {OFFSHORE_M:.0f} m off the shore on radar {self.radar} "
                                       f"(alarm at +{t_in:.0f} s): send a boat", ensure_ascii=False), ""]
        if "T-002" in self.alarm_ids:
            fid, f_in, _ = self.alarm_ids["T-002"]
            exp += [f"[alarms.{json.dumps(fid)}]", 'state = "false_alarm"', "within_s = 180", "ack_within_s = 60",
                    "note = " + json.dumps(f"registered fishing boat crossing the band (alarm at +{f_in:.0f} s)",
                                           ensure_ascii=False), ""]
        clips = ["# The clips standing in for the cameras of this scene (a generated demo variant each;",
                 "# clip = \"file.mp4\" relative to this folder plays a recorded clip instead).", ""]
        for k, cam in enumerate([self.radar, *self.cover[:4]]):
            clips += [f"[cameras.{json.dumps(cam)}]", f"variant = {6 if k % 2 == 0 else 0}", ""]
        return toml, "\n".join(lines) + "\n", "\n".join(exp), "\n".join(clips)


def build_sea_scenario(dataset: Path | str, out: Path | str | None = None, *, seed: int = 20240602,
                       duration_s: float = 300.0, start: str = "2024-06-02T14:00:00+08:00") -> Path:
    """Write the sea scenario of ``dataset`` to ``out`` (default ``dataset/scenario-sea``)."""
    dataset = Path(dataset)
    out = Path(out) if out is not None else dataset / "scenario-sea"
    district = load_district(dataset)
    b = _SeaBuilder(district, seed, duration_s, parse_iso(start))
    b.seed = seed
    b.build()
    toml, timeline, expected, clips = b.sea_files()
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.toml").write_text(toml, encoding="utf-8")
    (out / "timeline.jsonl").write_text(timeline, encoding="utf-8")
    (out / "expected.toml").write_text(expected, encoding="utf-8")
    (out / "clips.toml").write_text(clips, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    from desktop.paths import DEFAULT_DISTRICT
    ap = argparse.ArgumentParser(prog="python -m desktop.training.make_sea_scenario",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", nargs="?", default=str(DEFAULT_DISTRICT), help="district dataset folder")
    ap.add_argument("--out", help="output folder (default: DATASET/scenario-sea)")
    ap.add_argument("--seed", type=int, default=20240602)
    ap.add_argument("--duration", type=float, default=300.0, help="seconds of simulated time")
    args = ap.parse_args(argv)
    out = build_sea_scenario(args.dataset, args.out, seed=args.seed, duration_s=args.duration)
    from desktop.training.scenario import load_training_scenario
    sc = load_training_scenario(out, load_district(Path(args.dataset)))
    print(f"wrote {out}: {len(sc.base.events)} events over {sc.duration_s:g} s; alarms expected: "
          f"{', '.join(e.alarm_id for e in sc.expectations)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
