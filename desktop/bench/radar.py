"""``python -m desktop.bench radar [--json]``: radar targets and imported layers on the bundled district.

* feed: 20 radars × 50 targets, one report per radar per sweep, through the radar feed
  (validation, positions in both datums, tracks, the sea watch and its alarms) on a bus:
  ``report_ms_p50/p95`` per 50-target report, ``targets_per_s`` it sustains.
* map: the radar layer's frame on a 1920×1080 image with all 1,000 targets and 5-minute tracks
  at district zoom (no tracks or labels, as drawn at that zoom) and zoomed in on one radar's 50
  targets (tracks and labels drawn): ``frame_ms_p95`` for each, new reports every other frame.
* import: a 20,000-feature GeoJSON (polygons, lines, points) and a 10,000-placemark KML read
  (``geojson_import_s``, ``kml_import_s``), the map layer built (``layer_build_s``) and painted
  (``layer_frame_ms_p95``).

The last stdout line is one JSON object, with ``machine_ref_ms`` (see desktop/bench/machine.py).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.paths import MAPS

N_RADARS = 20
TARGETS = 50
SWEEP_S = 2.0


def _pct(values, q) -> float:
    return round(float(np.percentile(np.asarray(values, float), q)), 3)


def _reports(district, sweeps: int):
    """``sweeps`` rounds of reports: N_RADARS radars (the district's, repeated) × TARGETS boats
    moving on circles across the district's sea."""
    from desktop.core.clock import iso
    cams = district.cameras
    radars = [(c.id, float(cams.lon_wgs[i]), float(cams.lat_wgs[i])) for i, c in enumerate(cams.records)
              if c.kind == "radar"]
    t0 = time.time() - sweeps * SWEEP_S
    rng = np.random.default_rng(7)
    phase = rng.uniform(0, 2 * math.pi, (N_RADARS, TARGETS))
    radius = rng.uniform(300, 2500, (N_RADARS, TARGETS))
    out = []
    for k in range(sweeps):
        t = t0 + k * SWEEP_S
        for r in range(N_RADARS):
            rid, lon, lat = radars[r % len(radars)]
            rid = f"{rid}-{r}" if r >= len(radars) else rid
            a = phase[r] + t / 300.0
            dx, dy = radius[r] * np.cos(a), radius[r] * np.sin(a) - 1500.0  # mostly south of the shore
            tl = lon + dx / (111_320.0 * math.cos(math.radians(lat)))
            ta = lat + dy / 110_540.0
            out.append((f"pingan/radar/{rid}/targets", {
                "radar": rid, "time": iso(t), "crs": "WGS84",
                "targets": [{"id": f"T{j}", "lon": round(float(tl[j]), 7), "lat": round(float(ta[j]), 7),
                             "heading_deg": round(float(math.degrees(a[j] + math.pi / 2) % 360), 1),
                             "speed_kn": 8.0} for j in range(TARGETS)]}))
    return out


def bench_feed(district, sweeps: int) -> dict:
    from desktop.core.feeds.bus import EventBus
    from desktop.core.radar.feed import RadarFeed
    bus = EventBus("bench")
    alarms = []
    bus.subscribe("pingan/alarm", lambda t, p: alarms.append(p))
    feed = RadarFeed(bus, district, expire_s=0).start()
    msgs = _reports(district, sweeps)
    times = []
    t_all = time.perf_counter()
    for topic, payload in msgs:
        t = time.perf_counter()
        bus.publish(topic, payload)
        times.append((time.perf_counter() - t) * 1000.0)
    total = time.perf_counter() - t_all
    feed.stop()
    return {"feed_reports": len(msgs), "report_ms_p50": _pct(times, 50), "report_ms_p95": _pct(times, 95),
            "targets_per_s": round(len(msgs) * TARGETS / total), "feed_alarms": len(alarms),
            "feed_rejected": feed.counters["rejected"]}, msgs


def bench_map(district, msgs) -> dict:
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    from desktop.core.geo.crs import MapProjection
    from desktop.core.geo.viewport import Viewport
    from desktop.core.radar.waters import WatchedWaters
    from desktop.qt.map.radar_layer import RadarLayer
    proj = MapProjection()
    layer = RadarLayer(proj, WatchedWaters.from_district(district))
    layer.on_messages(msgs)
    img = QImage(1920, 1080, QImage.Format_ARGB32_Premultiplied)
    out = {"map_targets": len(layer.board)}

    def frames(vp, n=40):
        times = []
        for i in range(n):
            img.fill(QColor("#0b1a2a"))
            layer.board.version += 1 if i % 2 == 0 else 0  # new reports every other frame: columns rebuilt
            t = time.perf_counter()
            p = QPainter(img)
            layer.paint(p, vp)
            p.end()
            times.append((time.perf_counter() - t) * 1000.0)
        return times
    vp = Viewport(1920, 1080)
    minx, miny, maxx, maxy = district.map_bounds()
    vp.fit(minx, miny - 4000, maxx, maxy)
    out["frame_ms_p95_district"] = _pct(frames(vp), 95)
    # zoomed in on one radar's 50 targets: tracks and labels are drawn
    one = RadarLayer(proj, layer.waters)
    first = msgs[0][0]
    one.on_messages([m for m in msgs if m[0] == first])
    layer = one
    layer._columns()
    vp.fit(float(layer._x.min()) - 300, float(layer._y.min()) - 300, float(layer._x.max()) + 300,
           float(layer._y.max()) + 300)
    sx, sy = vp.to_screen(layer._x, layer._y)
    out["zoomed_targets_on_screen"] = int(((sx > 0) & (sx < 1920) & (sy > 0) & (sy < 1080)).sum())
    out["frame_ms_p95_zoomed"] = _pct(frames(vp), 95)
    return out


def _layer_files(folder: Path, district, n_geojson: int = 20_000, n_kml: int = 10_000) -> tuple[Path, Path]:
    minx, miny, maxx, maxy = (float(v) for v in district.boundary.geom.bounds)
    rng = np.random.default_rng(3)
    feats = []
    for i in range(n_geojson):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        kind = i % 3
        if kind == 0:
            d = 0.0008
            geom = {"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}
        elif kind == 1:
            geom = {"type": "LineString", "coordinates": [[x, y], [x + 0.001, y + 0.0005], [x + 0.002, y]]}
        else:
            geom = {"type": "Point", "coordinates": [x, y]}
        feats.append({"type": "Feature", "geometry": geom, "properties": {"name": f"F{i}", "n": i}})
    gj = folder / "bench.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "GCJ02"}},
                              "features": feats}), encoding="utf-8")
    parts = ['<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>']
    for i in range(n_kml):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        parts.append(f"<Placemark><name>P{i}</name><Point><coordinates>{x:.6f},{y:.6f}</coordinates></Point>"
                     f"</Placemark>")
    parts.append("</Document></kml>")
    kml = folder / "bench.kml"
    kml.write_text("".join(parts), encoding="utf-8")
    return gj, kml


def bench_import(district, scale: float = 1.0) -> dict:
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841
    from desktop.core.geo.crs import MapProjection
    from desktop.core.geo.viewport import Viewport
    from desktop.core.layers.user_layer import import_layer
    from desktop.qt.map.user_layer import UserMapLayer
    proj = MapProjection()
    with tempfile.TemporaryDirectory() as tmp:
        gj, kml = _layer_files(Path(tmp), district, int(20_000 * scale), int(10_000 * scale))
        t = time.perf_counter()
        data = import_layer(gj, proj)
        gj_s = time.perf_counter() - t
        t = time.perf_counter()
        kdata = import_layer(kml, proj)
        kml_s = time.perf_counter() - t
    t = time.perf_counter()
    layer = UserMapLayer(data, "bench")
    build_s = time.perf_counter() - t
    vp = Viewport(1920, 1080)
    vp.fit(*district.map_bounds())
    img = QImage(1920, 1080, QImage.Format_ARGB32_Premultiplied)
    times = []
    for _ in range(10):
        img.fill(QColor("#0b1a2a"))
        t = time.perf_counter()
        p = QPainter(img)
        layer.paint(p, vp)
        p.end()
        times.append((time.perf_counter() - t) * 1000.0)
    return {"geojson_features": len(data.features), "geojson_import_s": round(gj_s, 3),
            "kml_placemarks": len(kdata.features), "kml_import_s": round(kml_s, 3),
            "layer_build_s": round(build_s, 3), "layer_frame_ms_p95": _pct(times, 95)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m desktop.bench radar")
    ap.add_argument("--json", action="store_true", help="(the last line is JSON in any case)")
    ap.add_argument("--sweeps", type=int, default=100, help="report rounds fed (default 100: 2,000 reports)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: few sweeps, a tenth of the layer files")
    args = ap.parse_args(argv)
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.bench.machine import machine_ref_ms
    from desktop.core.district.loader import load_district
    ref = None if args.quick else machine_ref_ms()
    if args.quick:
        args.sweeps = min(args.sweeps, 5)
    district = load_district(MAPS / "shinan")
    result = {"bench": "radar", "machine_ref_ms": ref}
    feed, msgs = bench_feed(district, args.sweeps)
    result.update(feed)
    # the map draws the last five minutes: the tracks are as long as they get
    result.update(bench_map(district, msgs[-int(300 / SWEEP_S) * N_RADARS:]))
    result.update(bench_import(district, 0.1 if args.quick else 1.0))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
