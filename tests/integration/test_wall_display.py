"""The wall display as it runs in the center: a wall process and a workstation (this process)
over a real mosquitto, cameras over real RTSP from the GStreamer server.

Checked on the wall's own pictures (it saves one each time a layout becomes visible with its
video live) and on its retained state: a layout sent and shown; an older revision ignored and a
newer one applied; an urgent alarm switching the wall and its resolution reverting it; the
wall killed (its last will says offline), restarted with the broker down (it shows its last
layout from disk) and reconnecting when the broker is back.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from desktop.bench.wall import WallProcess, WallWatcher, alarm, resolved, video_layout, write_rtsp_district
from desktop.core.wall.layout import next_revision

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

WALL = "hall"


def picture(path: Path, timeout: float = 15.0):
    from PySide6.QtGui import QImage
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path.exists(), f"the wall saved no picture {path.name}; it has {sorted(p.name for p in path.parent.glob('*.png'))}"
    img = QImage(str(path))
    assert not img.isNull()
    return img


def region_stats(img, x0, y0, x1, y1, step=4):
    """(distinct colours, share of strongly red pixels) of a rectangle given in fractions."""
    w, h = img.width(), img.height()
    colours, red, n = set(), 0, 0
    for y in range(int(y0 * h), int(y1 * h), step):
        for x in range(int(x0 * w), int(x1 * w), step):
            c = img.pixelColor(x, y)
            colours.add((c.red() >> 3, c.green() >> 3, c.blue() >> 3))
            red += c.red() > 150 and c.green() < 60 and c.blue() < 80
            n += 1
    return len(colours), red / max(1, n)


@pytest.fixture
def wall_world(mqtt_broker, rtsp_server, tmp_path):
    district = write_rtsp_district(tmp_path / "district", [(rtsp_server.url("cam1"), rtsp_server.url("cam1s")),
                                                           (rtsp_server.url("cam2"), rtsp_server.url("cam2s"))], 12)
    cfg = tmp_path / "wall.toml"
    cfg.write_text("[wall]\ndwell_s = 1\ntimeout_s = 120\n")
    world = {"district": district, "cfg": cfg, "rtsp": rtsp_server, "data": tmp_path / "data", "broker": mqtt_broker,
             "url": f"mqtt://{mqtt_broker.host}:{mqtt_broker.port}", "procs": []}

    def start(pictures: str, broker=True):
        p = WallProcess(district, world["url"] if broker else world["url"], WALL, world["data"],
                        pictures_dir=tmp_path / pictures, config=cfg, log_path=tmp_path / f"wall-{pictures}.log")
        world["procs"].append(p)
        return p.start()
    world["start"] = start
    watcher = WallWatcher(mqtt_broker.host, mqtt_broker.port)
    world["watcher"] = watcher
    try:
        yield world
    finally:
        watcher.close()
        for p in world["procs"]:
            p.stop()


def test_wall_follows_layouts_alarms_and_survives_restarts(wall_world, tmp_path):
    w, watcher = wall_world, wall_world["watcher"]
    # set on a workstation before the wall started: retained, with the alarm in it
    early = alarm(90, cam=8, priority=2)
    watcher.publish("pingan/alarm/WB-0090/state", {**resolved("WB-0090"), "state": "acknowledged", "alarm": early},
                    retain=True)
    wall = w["start"]("pics1")
    st = watcher.wait(WALL, lambda s: s.get("online"), 60)
    assert st is not None, wall.log_text()[-3000:]
    assert st["started_from"] == "default" and st["applied_revision"] == 0
    st = watcher.wait(WALL, lambda s: {"id": "WB-0090", "priority": 2, "state": "acknowledged"} in s.get("ticker", []), 10)
    assert st is not None, "the late-starting wall does not list the alarm acknowledged before it started"

    # 1. a layout sent and shown, with its video live
    rev = next_revision(0)
    watcher.publish_layout(video_layout(WALL, rev, ["CAM000", "CAM001", None, None], layout="4"))
    st = watcher.wait(WALL, lambda s: s.get("visible_revision") == rev and not s.get("visible_alarm"), 30)
    assert st is not None, wall.log_text()[-3000:]
    assert st["applied_revision"] == rev
    assert sorted((t["camera"], t["state"]) for t in st["tiles"]) == [("CAM000", "live"), ("CAM001", "live")]
    img = picture(tmp_path / "pics1" / f"wall-{rev}.png")
    # the video region (right two thirds, top three quarters): the first tile shows moving video
    # (many colours); an empty tile is flat; the map region (left third) is a drawn map
    tile_colours, _ = region_stats(img, 0.36, 0.02, 0.66, 0.36)
    empty_colours, _ = region_stats(img, 0.36, 0.40, 0.66, 0.73)
    map_colours, _ = region_stats(img, 0.01, 0.01, 0.32, 0.74)
    assert tile_colours > 40 and tile_colours > 3 * empty_colours, (tile_colours, empty_colours)
    assert map_colours >= 4

    # 2. an older revision is ignored, a newer one wins
    watcher.publish_layout(video_layout(WALL, rev - 1, ["CAM005"], layout="1", name="stale"))
    st = watcher.wait(WALL, lambda s: s.get("ignored_older", 0) >= 1, 10)
    assert st is not None and st["applied_revision"] == rev
    rev2 = rev + 1
    watcher.publish_layout(video_layout(WALL, rev2, ["CAM002"], layout="1", name="newer"))
    st = watcher.wait(WALL, lambda s: s.get("visible_revision") == rev2, 30)
    assert st is not None and st["layout_name"] == "newer"
    assert [t["camera"] for t in st["tiles"]] == ["CAM002"]
    # hostile documents change nothing and are reported with what was wrong
    watcher.channel.client.publish(f"pingan/wall/{WALL}/layout", b"\xff{not json", qos=1).wait_for_publish(5)
    bad = video_layout(WALL, rev2 + 50, ["CAM003"], layout="1").to_json()
    bad["regions"][1]["colspan"] = 9
    watcher.publish(f"pingan/wall/{WALL}/layout", bad)
    st = watcher.wait(WALL, lambda s: s.get("rejected", 0) >= 2, 10)
    assert st is not None and st["applied_revision"] == rev2 and "regions[1].colspan" in st["last_error"]

    # 3. an urgent alarm takes the wall over with its cameras; resolving it reverts
    a = alarm(1, cam=4)
    watcher.publish("pingan/alarm", a)
    st = watcher.wait(WALL, lambda s: s.get("visible_alarm") == a["id"], 30)
    assert st is not None, wall.log_text()[-3000:]
    assert st["showing"] == "alarm" and st["alarm"] == a["id"]
    cams = {t["camera"] for t in st["tiles"]}
    assert {"CAM004", "CAM005"} <= cams and "CAM002" not in cams
    img = picture(tmp_path / "pics1" / f"wall-{rev2}-alarm-{a['id']}.png")
    _, red = region_stats(img, 0.0, 0.0, 1.0, 0.1)
    assert red > 0.2  # the red alarm banner over the map and the video
    t1 = time.time()
    watcher.publish(f"pingan/alarm/{a['id']}/state", resolved(a["id"]), retain=True)
    st = watcher.wait(WALL, lambda s: s.get("showing") == "layout" and s.get("visible_at", 0) > t1, 30)
    assert st is not None and [t["camera"] for t in st["tiles"]] == ["CAM002"]
    assert time.time() - t1 >= 0.0

    # 4. killed: the broker publishes its last will; restarted with the broker down: last layout
    wall.kill()
    st = watcher.wait(WALL, lambda s: not s.get("online"), 10)
    assert st is not None and st["reason"] == "connection lost"
    w["broker"].stop()
    wall2 = w["start"]("pics2")
    img = picture(tmp_path / "pics2" / f"wall-{rev2}.png", timeout=40)  # shown from disk, video live
    colours, _ = region_stats(img, 0.36, 0.02, 0.98, 0.73)
    assert colours > 40
    assert wall2.alive()
    # the broker comes back: the wall reconnects by itself and reports what it shows
    w["broker"].start()
    watcher2 = WallWatcher(w["broker"].host, w["broker"].port)
    try:
        st = watcher2.wait(WALL, lambda s: s.get("online") and s.get("started_from") == "disk", 40)
        assert st is not None, wall2.log_text()[-3000:]
        assert st["applied_revision"] == rev2 and st["visible_revision"] == rev2
    finally:
        watcher2.close()

    # 5. unattended: the cameras' server dies and comes back, the tiles recover by themselves
    rtsp = w["rtsp"]
    rtsp.kill()
    watcher3 = WallWatcher(w["broker"].host, w["broker"].port)
    try:
        st = watcher3.wait(WALL, lambda s: s.get("tiles") and s["tiles"][0]["state"] != "live", 20)
        assert st is not None, "the wall still reports live video from a dead server"
        rtsp.restart()
        st = watcher3.wait(WALL, lambda s: s.get("tiles") and s["tiles"][0]["state"] == "live", 40)
        assert st is not None, wall2.log_text()[-3000:]
        # and the broker going away while the wall runs: it comes back online by itself
        w["broker"].stop()
        w["broker"].start()
        t2 = time.time()
        st = watcher3.wait(WALL, lambda s: s.get("online") and (s.get("time") or 0) > t2, 40)
        assert st is not None and st["applied_revision"] == rev2
    finally:
        watcher3.close()
