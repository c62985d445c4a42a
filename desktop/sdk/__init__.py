"""The Pingan Desk plugin SDK: the one place a plugin imports from the program.

A plugin imports ``desktop.sdk`` (this module) and nothing else of ``desktop.*``; a test
(``tests/unit/test_sdk_boundary.py``) fails when a plugin in ``plugins/`` does. Everything
else it needs comes through its host (``self.host``: docks, map layers, actions, toolbar,
context menu, streams, settings, translations, background work, notices) and the typed
services (``self.host.service("alarms" | "patrol" | "cameras" | "district" …)``, see
:mod:`desktop.sdk.services`). The plugin author's guide is ``docs/plugins.md``.

Qt-free names (models, geometry helpers, translation) import without Qt; the patrol model
(``UnitStatus``, ``Track``, ``ReplayModel`` …) and the Qt helpers (``MapLayer``, ``Hit``,
``MarkerAtlas``, ``RecordsDialog``) are loaded on first use.
"""
from __future__ import annotations

from desktop.core.alarms.linkage import SPEED_KMH, CameraArrays, UnitOption, cameras_covering, nearest_units
from desktop.core.alarms.model import (ALARM_TYPES, Alarm, AlarmEvent, AlarmState, AuditEntry, EventKind,
                                       Rejection, Transition, priority_style, type_label)
from desktop.core.alarms.workflow import IllegalTransition
from desktop.core.audio import AudioError, AudioOutput, Clip
from desktop.core.clock import CHINA_TZ, iso, parse_iso
from desktop.core.geo.crs import haversine_m, mercator_scale
from desktop.core.geo.spatial import PointIndex, PolygonIndex
from desktop.core.i18n import current_locale, tr
from desktop.core.localtime import district_zone, format_duration, format_local, format_local_iso, local_datetime
from desktop.core.plugin_api.host import Plugin, PluginHost
from desktop.core.plugin_api.manifest import API_VERSION
from desktop.core.plugin_api.streams import CHANNELS, StreamSubscription

from .services import AlarmsService, CamerasService, DistrictService, PatrolService

__all__ = [
    "API_VERSION", "Plugin", "PluginHost", "CHANNELS", "StreamSubscription",
    "AlarmsService", "CamerasService", "DistrictService", "PatrolService",
    "ALARM_TYPES", "Alarm", "AlarmEvent", "AlarmState", "AuditEntry", "EventKind", "Rejection", "Transition",
    "IllegalTransition", "priority_style", "type_label",
    "CameraArrays", "UnitOption", "cameras_covering", "nearest_units", "SPEED_KMH",
    "haversine_m", "mercator_scale", "PointIndex", "PolygonIndex", "CHINA_TZ", "iso", "parse_iso",
    "tr", "current_locale",
    "AudioOutput", "AudioError", "Clip",
    "format_local", "format_local_iso", "format_duration", "local_datetime", "district_zone",
    # patrol model (lazy):
    "UnitStatus", "Track", "Stop", "Trip", "VisitRecord", "DispatchRecord", "DispatchOption", "Ranking",
    "ReplayModel", "ReplayFrame", "REPLAY_SPEEDS", "trips_and_stops", "STALE_S", "OFFLINE_S",
    # statistics (lazy):
    "StatsFilter", "StatsError", "METRICS",
    # Qt helpers (lazy):
    "MapLayer", "Hit", "Viewport", "MarkerAtlas", "RecordsDialog", "theme", "geometry_path", "view_transform",
]

_LAZY = {
    "UnitStatus": ("desktop.core.patrol.units", "UnitStatus"),
    "STALE_S": ("desktop.core.patrol.units", "STALE_S"),
    "OFFLINE_S": ("desktop.core.patrol.units", "OFFLINE_S"),
    "Track": ("desktop.core.patrol.track", "Track"),
    "Stop": ("desktop.core.patrol.stops", "Stop"),
    "Trip": ("desktop.core.patrol.stops", "Trip"),
    "trips_and_stops": ("desktop.core.patrol.stops", "trips_and_stops"),
    "VisitRecord": ("desktop.core.patrol.journal", "VisitRecord"),
    "DispatchRecord": ("desktop.core.patrol.journal", "DispatchRecord"),
    "DispatchOption": ("desktop.core.patrol.dispatch", "UnitOption"),
    "Ranking": ("desktop.core.patrol.dispatch", "Ranking"),
    "ReplayModel": ("desktop.core.patrol.replay", "ReplayModel"),
    "ReplayFrame": ("desktop.core.patrol.replay", "Frame"),
    "REPLAY_SPEEDS": ("desktop.core.patrol.replay", "SPEEDS"),
    "StatsFilter": ("desktop.core.stats.reader", "StatsFilter"),
    "StatsError": ("desktop.core.stats.reader", "StatsError"),
    "METRICS": ("desktop.core.stats.summary", "METRICS"),
    "geometry_path": ("desktop.qt.map.paths", "geometry_path"),
    "view_transform": ("desktop.qt.map.paths", "view_transform"),
    "MapLayer": ("desktop.qt.map.layer", "MapLayer"),
    "Hit": ("desktop.qt.map.layer", "Hit"),
    "Viewport": ("desktop.core.geo.viewport", "Viewport"),
    "MarkerAtlas": ("desktop.qt.map.camera_layer", "FragmentArray"),
    "RecordsDialog": ("desktop.qt.records_dialog", "RecordsDialog"),
    "theme": ("desktop.qt.theme", None),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'desktop.sdk' has no attribute {name!r}")
