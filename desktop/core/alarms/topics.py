"""The bus topics the alarm service listens and speaks on, and the payload a state change carries.

The service subscribes to :data:`SUBSCRIBED_TOPICS`; its workflow changes go out on
:func:`state_topic` with the alarm's first message (:func:`alarm_message_payload`), so a
workstation that starts later learns the alarm from a retained state.
"""
from __future__ import annotations

from desktop.core.feeds.bus import REJECTED_TOPIC

from .model import Alarm

SUBSCRIBED_TOPICS = ("pingan/alarm", "pingan/alarm/+/state", "pingan/patrol/+/position",
                     "pingan/camera/+/status", REJECTED_TOPIC)


def state_topic(alarm_id: str) -> str:
    return f"pingan/alarm/{alarm_id}/state"


def alarm_message_payload(a: Alarm) -> dict:
    """The ``pingan/alarm`` payload an alarm was made from (first message), for retained states."""
    out = {"id": a.id, "type": a.type, "priority": a.priority, "time": a.time, "lon": a.lon, "lat": a.lat,
           "crs": a.crs, "source": a.source}
    if a.camera_ids:
        out["camera_ids"] = list(a.camera_ids)
    if a.text:
        out["text"] = a.text
    return out
