"""The patrol plugin's dispatch: an alarm picked on the map or in the queue, the free units
ranked by travel time (read off the GUI thread), the chosen unit's route, and the dispatch.

:class:`_DispatchControl` is mixed into :class:`~.panel.PatrolPlugin`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem

from desktop.sdk import AlarmState, IllegalTransition, tr

from .map_layers import kind_label
from .texts import _duration, explain


class _DispatchControl:
    """The dispatch half of :class:`~.panel.PatrolPlugin` (a mixin)."""

    # --- dispatch --------------------------------------------------------------------------
    def _map_selected(self, hit) -> None:
        if hit is not None and hit.kind == "alarm":
            self.rank_for(hit.id)
        elif hit is not None and hit.kind == "patrol_unit":
            self.layer.selected = hit.id
            self.layer.changed()

    def rank_for(self, alarm_id: str) -> None:
        a = self.alarms.get(alarm_id) if self.alarms is not None else None
        if a is None:
            return
        self.alarm_id = alarm_id
        self.panel.alarm_label.setText(tr("Alarm {id}: {type}, {state} · {what}", id=a.id, type=a.type_label,
                                          state=a.state_label, what=a.text or a.source))
        self._read("dispatch ranking", lambda: self.patrol.rank(a.lon_wgs, a.lat_wgs, self.rank_k),
                   lambda ranking, aid=alarm_id: self._got_ranking(aid, ranking))

    def _got_ranking(self, alarm_id: str, ranking) -> None:
        if alarm_id != self.alarm_id:
            return
        ranking = list(ranking.options)
        p = self.panel
        chosen = p.ranking.currentItem().data(Qt.UserRole) if p.ranking.currentItem() is not None else None
        self.ranking = ranking
        p.ranking.blockSignals(True)
        p.ranking.clear()
        for opt in ranking:
            how = tr("by route") if opt.method == "route" else tr("straight line")
            item = QListWidgetItem(tr("{unit} ({kind}) ETA {eta} · {d:.0f} m {how}", unit=opt.unit,
                                      kind=kind_label(opt.kind), eta=_duration(opt.eta_s),
                                      d=opt.distance_m, how=how))
            item.setData(Qt.UserRole, opt.unit)
            p.ranking.addItem(item)
        p.ranking.blockSignals(False)
        rows = [i for i in range(p.ranking.count()) if p.ranking.item(i).data(Qt.UserRole) == chosen]
        p.ranking.setCurrentRow(rows[0] if rows else (0 if ranking else -1))
        if not ranking:
            p.explain.setText(tr("No free patrol unit can be offered"))
            self.route.set_path([])

    def show_route(self, row: int) -> None:
        if not 0 <= row < len(self.ranking):
            return
        opt = self.ranking[row]
        self.panel.explain.setText(explain(opt))
        self.route.set_path([tuple(pt) for pt in opt.path])

    def dispatch_selected(self) -> None:
        item = self.panel.ranking.currentItem()
        if not self.alarm_id or item is None:
            self.host.show_notice(tr("Select an alarm and a unit first"), "warning")
            return
        unit = item.data(Qt.UserRole)
        try:
            fut = self.alarms.transition(self.alarm_id, AlarmState.DISPATCHED, self.operator,
                                         tr("Dispatched from the patrol panel"), unit=unit)
        except IllegalTransition as exc:
            self.host.show_notice(str(exc), "warning")
            return
        alarm_id = self.alarm_id

        def done(f):
            try:
                f.result(10)
            except Exception as exc:  # noqa: BLE001 - told to the operator
                return exc
            return None
        self.host.run_in_background(lambda: done(fut), lambda err: self.host.show_notice(
            tr("Unit {unit} sent to alarm {id}", unit=unit, id=alarm_id) if err is None else
            tr("Alarm {id}: the dispatch was not made: {err}", id=alarm_id, err=err),
            "info" if err is None else "warning"), what="dispatch")
