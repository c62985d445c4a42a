"""The alarm service's ingest steps: decode and validate a message, count a rejection, take in
a new alarm or fold a repeat into its flood group, apply another workstation's state change,
and make a workflow change asked for here.

:class:`_Ingest` is mixed into :class:`~.service.AlarmService`; its steps run on the worker
thread, one batch at a time (see :mod:`.worker`), and stage what they change in the batch
(:class:`~.work_items._Batch`). They use the service's clock, workstation id, flood control,
``locate``, the committed views under ``_lock`` (``_alarms``, ``_rejected``,
``_recent_rejections``) and the worker's own ``_seen``, ``_pending_remote`` and
``_max_event_epoch``.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace
from typing import Any

from desktop.core.clock import iso
from desktop.core.feeds.bus import REJECTED_TOPIC
from desktop.core.feeds.schema import AlarmMessage, PayloadError, StateMessage, fill_positions, parse

from . import workflow
from .model import Alarm, AlarmEvent, AlarmState, AuditEntry, EventKind, Rejection, Transition
from .reads import UnknownAlarm
from .work_items import _Batch, _Move
from .workflow import IllegalTransition

log = logging.getLogger("desktop.core.alarms.service")  # the service's log, as before the cut

# Remote state changes for alarms this workstation has not received yet (topics are not
# ordered against each other across publishers); applied when the alarm arrives.
_MAX_PENDING_REMOTE = 10_000


class _Ingest:
    """The ingest steps of :class:`~.service.AlarmService` (a mixin)."""

    # --- steps ---------------------------------------------------------------------------

    def _parse(self, topic: str, payload: Any):
        if topic == REJECTED_TOPIC:
            # A feed could not decode a payload; it tells us so the counters are in one place.
            p = payload if isinstance(payload, dict) else {}
            return Rejection(topic=str(p.get("topic", "?")), reason=str(p.get("reason", "invalid_json")),
                             field=str(p.get("field", "")), message=str(p.get("error", "")),
                             epoch=self.clock.time())
        # positions are converted later, the whole batch at once (fill_positions)
        return parse(topic, payload, convert=False)

    def _reject(self, b: _Batch, err: PayloadError | Rejection, counts: Counter) -> None:
        if isinstance(err, PayloadError):
            rej = Rejection(topic=err.topic, reason=err.reason, field=err.field, message=str(err),
                            epoch=self.clock.time())
        else:
            rej = err
        with self._lock:
            self._rejected[rej.reason] += 1
            n = self._rejected[rej.reason]
            totals = dict(self._rejected)
            self._recent_rejections.append(rej)
        if n <= 20 or n % 1000 == 0:  # a stream of garbage must not flood the log too
            log.warning("rejected payload on %s [%s]: %s%s", rej.topic, rej.reason, rej.message,
                        f" ({n} so far)" if n > 20 else "")
        b.events.append(AlarmEvent(EventKind.REJECTED, rejection=rej, counters=totals))

    def _lookup(self, b: _Batch, alarm_id: str) -> Alarm | None:
        a = b.staged.get(alarm_id)
        return a if a is not None else self._alarms.get(alarm_id)

    def _stage(self, b: _Batch, alarm: Alarm, kind: EventKind, transition: Transition | None = None) -> None:
        b.staged[alarm.id] = alarm
        b.events.append(AlarmEvent(kind, alarm=alarm, transition=transition))

    def _ingest_alarm(self, b: _Batch, m: AlarmMessage, received: float, counts: Counter) -> None:
        if m.id in self._seen or self._lookup(b, m.id) is not None:
            # QoS 1 means "at least once": a redelivery after a reconnect is normal.
            counts["duplicates"] += 1
            return
        self._seen.add(m.id)
        self._max_event_epoch = max(self._max_event_epoch, m.epoch)
        target_id = self.flood.match(m.source, m.type, m.epoch)
        target = self._lookup(b, target_id) if target_id else None
        if target is not None and target.is_open:
            cams = target.camera_ids + tuple(c for c in m.camera_ids if c not in target.camera_ids)
            newer = m.epoch >= target.last_epoch
            folded = replace(
                target, count=target.count + 1,
                last_time=m.time if newer else target.last_time,
                last_epoch=m.epoch if newer else target.last_epoch,
                last_received=received, updated=received,
                priority=min(target.priority, m.priority),  # a more urgent repeat raises it
                camera_ids=cams, text=m.text or target.text)
            kind = EventKind.UPDATED if folded.priority != target.priority else EventKind.FOLDED
            self.flood.record(m.source, m.type, target.id, m.epoch)
            self._stage(b, folded, kind)
            b.occurrences.append((m.id, target.id, m.time, received, m.payload))
            counts["folded"] += 1
            return
        subdistrict = ""
        if self.locate is not None:
            try:
                subdistrict = self.locate(m.lon_wgs, m.lat_wgs) or ""
            except Exception:
                log.exception("locate() failed for alarm %s", m.id)
        alarm = Alarm(id=m.id, type=m.type, priority=m.priority, time=m.time, epoch=m.epoch,
                      lon=m.lon, lat=m.lat, crs=m.crs, lon_wgs=m.lon_wgs, lat_wgs=m.lat_wgs,
                      lon_gcj=m.lon_gcj, lat_gcj=m.lat_gcj, source=m.source,
                      camera_ids=m.camera_ids, text=m.text, state=AlarmState.NEW,
                      received=received, count=1, last_time=m.time, last_epoch=m.epoch,
                      last_received=received, subdistrict=str(subdistrict), updated=received)
        self.flood.record(m.source, m.type, alarm.id, m.epoch)
        self._stage(b, alarm, EventKind.NEW)
        b.occurrences.append((m.id, alarm.id, m.time, received, m.payload))
        counts["new"] += 1
        for s in self._pending_remote.pop(alarm.id, ()):
            self._ingest_state(b, s, counts)

    def _ingest_state(self, b: _Batch, s: StateMessage, counts: Counter) -> None:
        if s.origin == self.workstation:
            counts["echoes"] += 1  # our own change, back from the broker
            return
        alarm = self._lookup(b, s.alarm_id)
        if alarm is None and s.alarm is not None:
            # a retained state from before we started: the alarm comes with it
            self._ingest_alarm(b, fill_positions([s.alarm])[0], self.clock.time(), counts)
            counts["alarms_from_states"] += 1
            alarm = self._lookup(b, s.alarm_id)
        if alarm is None:
            if sum(len(v) for v in self._pending_remote.values()) < _MAX_PENDING_REMOTE:
                self._pending_remote.setdefault(s.alarm_id, []).append(s)
            counts["state_pending"] += 1
            return
        if alarm.state == s.state:
            counts["state_duplicates"] += 1  # two operators did the same, or a redelivery
            return
        try:
            updated, t = workflow.apply(alarm, s.state, s.operator, s.epoch, s.time, s.note,
                                        origin=s.origin, unit=s.unit, skip=True)
        except (IllegalTransition, ValueError) as exc:
            # Stale or conflicting (e.g. resolved here, acknowledged there): the furthest state wins.
            counts["state_conflicts"] += 1
            log.info("ignored state change from %s: %s", s.origin, exc)
            return
        self._stage(b, updated, EventKind.STATE_CHANGED, t)
        b.transitions.append(t)
        if updated.state.terminal:
            self.flood.forget(updated.id)
        counts["state_applied"] += 1

    def _local_move(self, b: _Batch, mv: _Move, counts: Counter) -> None:
        alarm = self._lookup(b, mv.alarm_id)
        if alarm is None:
            b.results.append((mv.future, UnknownAlarm(mv.alarm_id)))
            return
        now = self.clock.time()
        try:
            updated, t = workflow.apply(alarm, mv.target, mv.operator, now, iso(now), mv.note,
                                        origin=self.workstation, unit=mv.unit)
        except (IllegalTransition, ValueError) as exc:
            b.results.append((mv.future, exc))
            return
        self._stage(b, updated, EventKind.STATE_CHANGED, t)
        b.transitions.append(t)
        b.audits.append(AuditEntry(epoch=now, time=t.time, operator=t.operator,
                                   workstation=self.workstation, action="transition",
                                   target=t.alarm_id,
                                   detail={"from": str(t.from_state), "to": str(t.to_state),
                                           "note": t.note, "unit": t.unit}))
        b.publish.append(t)
        b.results.append((mv.future, t))
        if updated.state.terminal:
            self.flood.forget(updated.id)
        counts["transitions"] += 1
