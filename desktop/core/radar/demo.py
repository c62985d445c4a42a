"""A demo radar feed: a few boats moving at sea off the district's radars (Qt-free).

For the offline demo (no broker): every ``period_s`` each radar publishes a
``pingan/radar/<radar>/targets`` report on the in-process bus, exactly as a live radar would on
the broker, with the targets it can see. The boats are deterministic functions of the clock:

* per radar, one *inbound* boat comes in from 2.5 km out, into the watched waters (so it
  raises a ``radar_target`` alarm), turns there and goes back out;
* one *passer* crosses the radar's sea outside the watched band.

Paths are found from the dataset, not from Shinan: the seaward bearing of a radar is the one
whose line stays at sea longest (land is the district and its neighbours); the inbound boat's
turning point is the first point of that line inside the watched waters.
"""
from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from desktop.core.clock import iso
from desktop.core.geo.crs import WGS84, to_wgs84

from .waters import WatchedWaters

log = logging.getLogger("pingan.radar.demo")

__all__ = ["RadarDemo", "DemoBoat", "demo_boats"]

_R = 6371008.8
CYCLE_S = 720.0  # every boat's path repeats every twelve minutes
_KN = 1852.0 / 3600.0  # metres per second in a knot


@dataclass(frozen=True)
class DemoBoat:
    """A boat on a closed path of WGS84 waypoints, run once every ``cycle_s``."""

    radar: str
    id: str
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    cycle_s: float = CYCLE_S
    offset_s: float = 0.0

    def at(self, t: float) -> tuple[float, float, float, float]:
        """(lon, lat, heading_deg, speed_kn) ``t`` seconds into the demo: constant speed along the path."""
        lon, lat = np.asarray(self.lon), np.asarray(self.lat)
        kx = math.radians(1.0) * _R * math.cos(math.radians(float(lat.mean())))
        ky = math.radians(1.0) * _R
        dx, dy = np.diff(lon) * kx, np.diff(lat) * ky
        seg = np.hypot(dx, dy)
        total = float(seg.sum())
        frac = ((t + self.offset_s) % self.cycle_s) / self.cycle_s
        d = frac * total
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        i = int(min(np.searchsorted(cum, d, side="right") - 1, len(seg) - 1))
        f = (d - cum[i]) / seg[i] if seg[i] > 0 else 0.0
        heading = math.degrees(math.atan2(dx[i], dy[i])) % 360.0
        speed = total / self.cycle_s / _KN
        return (float(lon[i] + f * (lon[i + 1] - lon[i])), float(lat[i] + f * (lat[i + 1] - lat[i])),
                heading, speed)


def _offset(lon: float, lat: float, bearing: float, dist_m: float) -> tuple[float, float]:
    kx = math.radians(1.0) * _R * math.cos(math.radians(lat))
    ky = math.radians(1.0) * _R
    b = math.radians(bearing)
    return lon + dist_m * math.sin(b) / kx, lat + dist_m * math.cos(b) / ky


def _land(district) -> Any:
    parts = [district.boundary.geom] + [f.geom for f in district.context
                                        if f.geom.geom_type in ("Polygon", "MultiPolygon")]
    land = shapely.union_all(parts)
    crs = district.info.crs
    if crs != WGS84:
        def conv(c):
            lo, la = to_wgs84(c[:, 0], c[:, 1], crs)
            return np.column_stack([np.asarray(lo, float), np.asarray(la, float)])
        land = shapely.transform(land, conv)
    land = shapely.make_valid(land)
    shapely.prepare(land)
    return land


def _at_sea(land, path, step_m: float = 40.0) -> bool:
    """True when every leg of ``path`` (WGS84 points) stays off the land."""
    for (x0, y0), (x1, y1) in zip(path, path[1:]):
        kx = math.radians(1.0) * _R * math.cos(math.radians(y0))
        n = max(2, int(math.hypot((x1 - x0) * kx, (y1 - y0) * math.radians(1.0) * _R) / step_m) + 1)
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        if shapely.contains_xy(land, xs, ys).any():
            return False
    return True


def demo_boats(district: Any, waters: WatchedWaters | None = None, max_radars: int = 8) -> list[DemoBoat]:
    """The demo boats of a district (none without radars or without sea)."""
    waters = waters if waters is not None else WatchedWaters.from_district(district)
    land = _land(district)
    cams = district.cameras
    boats: list[DemoBoat] = []
    radars = [(c.id, float(cams.lon_wgs[i]), float(cams.lat_wgs[i]), float(c.range_m))
              for i, c in enumerate(cams.records) if c.kind == "radar"]
    for n, (rid, lon, lat, rng) in enumerate(radars[:max_radars]):
        out = min(2500.0, rng * 0.95)
        best, best_len = None, 0.0
        for bearing in range(0, 360, 10):  # the bearing whose line stays at sea the longest
            d = 100.0  # a radar stands on the shore: the first few hundred metres may be land
            while d <= 600.0 and land.contains(shapely.Point(*_offset(lon, lat, bearing, d))):
                d += 50.0
            while d <= out and not land.contains(shapely.Point(*_offset(lon, lat, bearing, d))):
                d += 100.0
            if d - 150.0 > best_len:
                best, best_len = bearing, d - 150.0
        if best is None or best_len < 800.0:
            continue
        turn = None
        for d in np.arange(150.0, min(out, best_len), 50.0):
            p = _offset(lon, lat, best, float(d))
            if waters.inside_many([p[0]], [p[1]])[0]:
                turn = p
                depth = float(d)
                break
        if turn is not None:
            reach = min(out, best_len)

            def outer(sign):  # a point far out, at sea and outside the watched waters, reached at sea
                for swing in (12, 20, 30, 40):
                    for dist in (reach, reach * 0.85, reach * 0.7):
                        q = _offset(lon, lat, best + sign * swing, dist)
                        if not land.contains(shapely.Point(q)) and not waters.inside_many([q[0]], [q[1]])[0] \
                                and _at_sea(land, [q, turn]):
                            return q
                return None
            start, far = outer(+1), outer(-1)
            inner = _offset(lon, lat, best, max(depth - 120.0, 120.0))
            if start is not None:
                # in from outside the band, a short loop inside it, out again (to the other side
                # when that is at sea too)
                path = [start, turn, inner, far, start] if far is not None and _at_sea(land, [inner, far, start]) \
                    else [start, turn, inner, start] if _at_sea(land, [inner, start]) else [start, turn, start]
                # staggered: boat n appears at its start n × 97 s into the demo
                boats.append(DemoBoat(rid, f"D{n + 1}A", tuple(q[0] for q in path), tuple(q[1] for q in path),
                                      offset_s=-n * 97.0))
        for lane, spread in ((0.8, 35), (0.9, 30), (0.95, 22), (0.95, 14), (0.7, 14), (0.85, 10)):
            # across the radar's sea, wholly outside the band and off land
            lane *= rng
            pts = [_offset(lon, lat, b, lane) for b in np.linspace(best - spread, best + spread, 15)]
            xs, ys = [q[0] for q in pts], [q[1] for q in pts]
            if waters.inside_many(xs, ys).any() or not _at_sea(land, [pts[0], pts[-1]]):
                continue
            boats.append(DemoBoat(rid, f"D{n + 1}B", (xs[0], xs[-1], xs[0]), (ys[0], ys[-1], ys[0]),
                                  cycle_s=CYCLE_S * 1.5, offset_s=n * 53.0))
            break
    return boats


class RadarDemo:
    """Publishes the demo boats' reports on ``bus`` every ``period_s`` of ``clock``."""

    def __init__(self, district: Any, bus: Any, clock: Any = None, period_s: float = 2.0,
                 waters: WatchedWaters | None = None):
        import time as _time
        self.bus = bus
        self.clock = clock
        self._now = clock.time if clock is not None else _time.time
        self.period_s = period_s
        self.boats = demo_boats(district, waters)
        self.t0 = self._now()  # the boats' paths start when the demo does
        self.radars = sorted({b.radar for b in self.boats})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def reports(self, t: float) -> list[tuple[str, dict]]:
        """The (topic, payload) of every radar at epoch ``t``."""
        tz = getattr(self.clock, "tz", None)
        out = []
        for radar in self.radars:
            targets = []
            for b in self.boats:
                if b.radar != radar:
                    continue
                if t - self.t0 + b.offset_s < 0:
                    continue  # not in the radar's sight yet: boats come one after another
                lon, lat, heading, speed = b.at(t - self.t0)
                targets.append({"id": b.id, "lon": round(lon, 7), "lat": round(lat, 7),
                                "heading_deg": round(heading, 1), "speed_kn": round(speed, 1)})
            out.append((f"pingan/radar/{radar}/targets",
                        {"radar": radar, "time": iso(t, tz), "crs": "WGS84", "targets": targets}))
        return out

    def start(self) -> "RadarDemo":
        if self.boats and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="radar-demo", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self) -> None:
        sleep_until = getattr(self.clock, "sleep_until", None)
        while not self._stop.is_set():
            t = self._now()
            for topic, payload in self.reports(t):
                try:
                    self.bus.publish(topic, payload)
                    self.sent += 1
                except Exception:  # noqa: BLE001 - a failing subscriber is the bus's to log
                    log.exception("radar demo report could not be published")
            if sleep_until is not None:
                if not sleep_until(t + self.period_s, self._stop):
                    return
            elif self._stop.wait(self.period_s):
                return
