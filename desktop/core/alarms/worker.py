"""The alarm service's worker thread: the batch loop, one batch's processing (decode, ingest,
ONE journal transaction, then the views, the outbox, receipts, futures and the bus), and the
housekeeping between batches (forgetting closed alarms past the retention, pruning flood groups).

:class:`_Worker` is mixed into :class:`~.service.AlarmService`, which holds the timing
constants it reads (``FORGET_EVERY_S``, ``COALESCE_S``, ``_last_batch_end``: tests set them
there); the steps it calls on each message are :class:`~.ingest._Ingest`'s.
"""
from __future__ import annotations

import logging
import queue
import time
from collections import Counter

from desktop.core.feeds.schema import (AlarmMessage, CameraStatus, PatrolPosition, PayloadError, StateMessage,
                                       fill_positions)
from desktop.core.i18n import tr

from .model import AlarmEvent, EventKind, Rejection
from .topics import alarm_message_payload, state_topic
from .work_items import _STOP, _Arrival, _Audit, _Batch, _Flush, _Move, _Msg

log = logging.getLogger("desktop.core.alarms.service")  # the service's log, as before the cut


class _Worker:
    """The worker half of :class:`~.service.AlarmService` (a mixin)."""

    # --- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        running = True
        while running:
            try:
                batch = [self._queue.get(timeout=self.FORGET_EVERY_S)]
            except queue.Empty:  # quiet hours: still forget what is past its retention
                try:
                    self._forget_closed()
                except Exception:  # noqa: BLE001 - never let the worker die
                    log.exception("alarm service: forgetting closed alarms failed")
                continue
            first = time.monotonic()
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if first - self._last_batch_end < self.COALESCE_S and len(batch) < self.batch_max:
                # Under a flood (the last batch ended moments ago) gather for a few ms more:
                # each batch costs a commit with its fsync, the summaries' flush and a forward
                # to the GUI, and at 1,000 alarms/s batches of five were 200 of each a second.
                # A lone alarm in a quiet hour is not held back.
                # Sleep out the window, then take what came: waiting in get() would wake
                # this thread (and hand it the interpreter lock) for every message, a dozen
                # times a batch, and that is CPU a loaded machine does not have.
                if batch[-1] is not _STOP:
                    wait = first + self.COALESCE_S - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    while len(batch) < self.batch_max:
                        try:
                            batch.append(self._queue.get_nowait())
                        except queue.Empty:
                            break
            if any(item is _STOP for item in batch):
                running = False
                batch = [item for item in batch if item is not _STOP]
            try:
                self._process(batch)
                self._last_batch_end = time.monotonic()
            except Exception:  # never let the worker die: the next batch must still go through
                log.exception("alarm service: batch failed")
                with self._lock:
                    self._counters["batch_errors"] += 1
                for item in batch:
                    if isinstance(item, _Msg) and item.receipt is not None:
                        item.receipt.release()
                    elif isinstance(item, _Flush):
                        item.done.set()
                    elif isinstance(item, _Move) and not item.future.done():
                        item.future.set_exception(RuntimeError("alarm service batch failed"))

    def _process(self, items: list) -> None:
        b = _Batch()
        counts: Counter = Counter()

        # Pass 1: decode and validate every message; collect positions to convert at once.
        to_convert: list[_Msg] = []
        for item in items:
            if not isinstance(item, _Msg):
                continue
            counts["received"] += 1
            if item.receipt is not None:
                b.receipts.append(item.receipt)
            try:
                item.parsed = self._parse(item.topic, item.payload)
            except PayloadError as err:
                item.parsed = err
                continue
            if isinstance(item.parsed, (AlarmMessage, PatrolPosition)):
                to_convert.append(item)
        if to_convert:
            for item, msg in zip(to_convert, fill_positions([i.parsed for i in to_convert])):
                item.parsed = msg

        # Pass 2: apply in arrival order (a transition queued after an alarm must see it).
        for item in items:
            if isinstance(item, _Msg):
                p = item.parsed
                if isinstance(p, PayloadError):
                    self._reject(b, p, counts)
                elif isinstance(p, AlarmMessage):
                    self._ingest_alarm(b, p, item.received, counts)
                elif isinstance(p, StateMessage):
                    self._ingest_state(b, p, counts)
                elif isinstance(p, PatrolPosition):
                    counts["patrol"] += 1
                    b.patrol[p.unit] = p
                    b.events.append(AlarmEvent(EventKind.PATROL, patrol=p))
                elif isinstance(p, CameraStatus):
                    counts["camera_status"] += 1
                    b.cameras[p.camera_id] = p
                    b.camera_log.append(p)
                    b.events.append(AlarmEvent(EventKind.CAMERA_STATUS, camera=p))
                elif isinstance(p, Rejection):
                    self._reject(b, p, counts)
            elif isinstance(item, _Move):
                self._local_move(b, item, counts)
            elif isinstance(item, _Audit):
                b.audits.append(item.entry)
            elif isinstance(item, _Arrival):
                b.arrivals.append(item)
            elif isinstance(item, _Flush):
                b.flushes.append(item)

        # One transaction for the whole batch.
        if b.has_writes:
            try:
                with self.journal.batch() as tx:
                    for alarm in b.staged.values():
                        tx.upsert_alarm(alarm)
                    for occ in b.occurrences:
                        tx.add_occurrence(*occ)
                    for t in b.transitions:
                        tx.add_transition(t)
                    for e in b.audits:
                        tx.add_audit(e)
                    for c in b.camera_log:
                        tx.add_camera_status(c.camera_id, c.status, c.epoch, c.reason)
                    for a in b.arrivals:
                        tx.add_arrival(a.alarm_id, a.unit, a.dispatched, a.arrived)
            except Exception as exc:
                # Operators must still see their alarms: show them, and say loudly that the
                # journal failed (a disk problem is the usual cause).
                log.exception("alarm journal write failed (%d alarms in the batch)", len(b.staged))
                counts["journal_errors"] += 1
                b.events.append(AlarmEvent(EventKind.JOURNAL_ERROR,
                                           message=tr("The alarm journal could not be written: {err}", err=exc)))
            counts["batches"] += 1

        # Commit to the views, then tell everyone.
        with self._lock:
            self._alarms.update(b.staged)
            for a in b.staged.values():
                self._index_busy(a)
            self._patrol.update(b.patrol)
            self._cameras.update(b.cameras)
            self._counters.update(counts)
        self._outbox.put_many(b.events)
        for receipt in b.receipts:
            receipt.release()
        for fut, result in b.results:
            if isinstance(result, BaseException):
                fut.set_exception(result)
            else:
                fut.set_result(result)
        if self.bus is not None:
            for t in b.publish:
                try:
                    payload = t.to_payload()
                    a = b.staged.get(t.alarm_id) or self._alarms.get(t.alarm_id)
                    if a is not None:
                        payload["alarm"] = alarm_message_payload(a)
                    self.bus.publish(state_topic(t.alarm_id), payload, sender=self)
                except Exception:
                    log.exception("could not publish the state change of alarm %s", t.alarm_id)
        if any(f.forget for f in b.flushes) or time.monotonic() - self._last_forget > self.FORGET_EVERY_S:
            try:
                self._forget_closed()
            except Exception:  # noqa: BLE001 - this batch is journaled already; forget next time
                log.exception("alarm service: forgetting closed alarms failed")
        for f in b.flushes:
            f.done.set()
        self._maybe_prune(counts)

    def forget_closed(self, timeout: float = 10.0) -> bool:
        """Forget now (not at the next hourly pass) the closed alarms past the retention."""
        if self._thread is None:
            raise RuntimeError("AlarmService is not started")
        f = _Flush(forget=True)
        self._queue.put(f)
        return f.done.wait(timeout)

    def _forget_closed(self) -> None:
        """Drop from memory the alarms closed longer ago than the retention, as a restart would.

        They stay in the journal; a workstation that runs for weeks holds what one started
        today holds. The UI is told with a ``forgotten`` event per alarm."""
        self._last_forget = time.monotonic()
        if self.closed_retention_s is None:
            return
        cutoff = self.clock.time() - self.closed_retention_s
        with self._lock:
            old = [a for a in self._alarms.values() if a.state.terminal and (a.updated or a.epoch) < cutoff]
            for a in old:
                del self._alarms[a.id]
                self._index_busy(a, gone=True)
            self._counters["forgotten"] += len(old)
        if not old:
            return
        try:
            self._seen.difference_update(self.journal.occurrence_ids([a.id for a in old]))
        except Exception:  # noqa: BLE001 - keeping a few ids too many is harmless
            log.exception("could not read the message ids of forgotten alarms")
        self._outbox.put_many([AlarmEvent(EventKind.FORGOTTEN, alarm=a) for a in old])
        log.info("forgot %d alarms closed before the retention", len(old))

    def _maybe_prune(self, counts: Counter) -> None:
        # Flood groups of long-quiet sources can no longer match: keep the table small.
        self._since_prune += counts.get("received", 0)
        if self._since_prune >= 5000:
            self._since_prune = 0
            self.flood.prune(self._max_event_epoch - 2 * self.flood.window_s - 3600)
