"""A coastal test district: the tiny dataset plus a radar station on its south shore (Qt-free)."""
from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.district import LAT0, LON0, write_tiny_district

# the station, on the shore (the district's south edge is LAT0; south of it is sea)
RADAR = ("RAD1", LON0 + 0.010, LAT0 + 0.0004)
SEA_ZONE = (LON0 + 0.004, LAT0 - 0.006, 0.010, 0.005)  # x0, y0, w, h: a watched anchorage off the shore


def write_coastal_district(folder: Path, sea_zone: bool = True) -> Path:
    """The tiny district with a radar (RAD1), a PTZ lookout and a coastal camera by it looking out
    to sea, a PTZ of another station far east, and (``sea_zone``) a drawn sea zone "Z-SEA"."""
    write_tiny_district(folder, n_cameras=4)  # hd / checkpoint / coastal / hd on land, none at the shore
    cams = json.loads((folder / "cameras.geojson").read_text(encoding="utf-8"))

    def cam(cid, kind, lon, lat, heading, fov, rng):
        cams["features"].append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                                 "properties": {"id": cid, "name": f"{cid} 名", "kind": kind, "main_url": "",
                                                "sub_url": "", "heading_deg": heading, "fov_deg": fov,
                                                "range_m": rng}})
    cam(RADAR[0], "radar", RADAR[1], RADAR[2], 180, 360, 1500)
    cam("PTZ1", "ptz", LON0 + 0.0102, LAT0 + 0.0004, 180, 70, 900)
    cam("CST1", "coastal", LON0 + 0.006, LAT0 + 0.0003, 180, 80, 700)
    cam("PTZ9", "ptz", LON0 + 0.030, LAT0 + 0.0004, 250, 90, 3000)  # another station's, 1.8 km east
    (folder / "cameras.geojson").write_text(json.dumps(cams, ensure_ascii=False), encoding="utf-8")
    if sea_zone:
        zones = json.loads((folder / "zones.geojson").read_text(encoding="utf-8"))
        x0, y0, w, h = SEA_ZONE
        zones["features"].append({"type": "Feature", "properties": {"id": "Z-SEA", "name": "锚地警戒区",
                                                                     "area_kind": "sea", "case_type": "intrusion"},
                                  "geometry": {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + w, y0],
                                                                                   [x0 + w, y0 + h], [x0, y0 + h],
                                                                                   [x0, y0]]]}})
        (folder / "zones.geojson").write_text(json.dumps(zones, ensure_ascii=False), encoding="utf-8")
    return folder


def report(radar: str, t: float, targets, crs: str = "GCJ02") -> dict:
    """A radar report payload; ``targets``: (id, lon, lat[, heading, speed])."""
    from desktop.core.clock import iso
    out = []
    for tg in targets:
        tid, lon, lat = tg[:3]
        heading = tg[3] if len(tg) > 3 else 0.0
        speed = tg[4] if len(tg) > 4 else 10.0
        out.append({"id": tid, "lon": lon, "lat": lat, "heading_deg": heading, "speed_kn": speed})
    return {"radar": radar, "time": iso(t), "crs": crs, "targets": out}
