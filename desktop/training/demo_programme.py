"""The demo scenario's programme: the alarms (times, types, priorities, coordinate systems,
expected responses), the flood burst, the camera failure, the time to acknowledge each
priority in, and the header of an ``expected.toml``.

Times are for a 600 s scenario; :class:`~.demo_builder._Builder` scales them to its duration.
"""
from __future__ import annotations

from dataclasses import dataclass


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
