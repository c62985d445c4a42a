"""The alarm plugin's selection: selecting an alarm (from the queue, the map or F3), showing
it on the map, its details and history, and the nearest free units offered for it.

:class:`_Selection` is mixed into :class:`~.panel.AlarmsPlugin`; the units are ranked by the
patrol service off the GUI thread when there is one, else by distance from the alarm
service's unit positions.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem

from desktop.sdk import AlarmState, format_local, mercator_scale, tr

from .core import Linkage
from .table import clock_text


class _Selection:
    """The selection, details and unit offer of :class:`~.panel.AlarmsPlugin` (a mixin)."""

    # --- selection and details -----------------------------------------------------------
    def select(self, alarm_id: str) -> None:
        self.selected_id = alarm_id
        self.layer.selected_id = alarm_id
        self.layer.changed()
        self._restore_selection()
        self._show_details()

    def _map_xy(self, alarm) -> tuple[float, float]:
        xy = self.layer.xy.get(alarm.id)
        return xy if xy is not None else self.layer.projection.forward(alarm.lon_wgs, alarm.lat_wgs, "WGS84")

    def show(self, alarm_id: str) -> None:
        """Select an alarm and make sure its point is on screen."""
        self.select(alarm_id)
        a = self.book.get(alarm_id)
        if a is not None:
            self.host.ensure_visible(*self._map_xy(a))

    def focus(self, alarm_id: str) -> None:
        """Select an alarm, centre the map on it at street level at least, open its cameras."""
        self.select(alarm_id)
        a = self.book.get(alarm_id)
        if a is None:
            return
        x, y = self._map_xy(a)
        self.host.center_map(x, y, min_scale=mercator_scale(a.lat_wgs) / self.STREET_MPP)
        self.open_selected_cameras()

    def _restore_selection(self) -> None:
        for row, a in enumerate(self.panel.model.rows):
            if a.id == self.selected_id:
                self.panel.table.selectRow(row)
                return

    def select_next(self) -> None:
        """Select the most urgent new alarm (or the next open one after the current)."""
        rows = self.book.open_alarms()
        new = [a for a in rows if a.state == AlarmState.NEW and a.id != self.selected_id]
        pick = new[0] if new else next((a for a in rows if a.id != self.selected_id), None)
        if pick is not None:
            self.select(pick.id)
            self.host.center_map(*self._map_xy(pick))

    def _map_selected(self, hit) -> None:
        if hit is not None and getattr(hit, "kind", "") == "alarm":
            self.select(hit.id)

    def _show_details(self) -> None:
        p = self.panel
        a = self.book.get(self.selected_id) if self.selected_id else None
        # the same alarm, changed (a repeat folded in, a state change): the unit the operator
        # chose stays chosen, so F4 never dispatches another one than the one picked
        same_alarm = self._details_key is not None and self._details_key[0] == self.selected_id
        self._details_key = (self.selected_id, a.updated if a else None, a.count if a else None)
        if a is None:
            p.title.setText(tr("No alarm selected"))
            p.info.setText("")
            p.history.clear()
            p.units.clear()
            for b in p.btn.values():
                b.setEnabled(False)
            p.cams_btn.setEnabled(False)
            return
        p.title.setText(f"[{a.style.label}] {a.type_label} · {a.state_label}")
        p.title.setStyleSheet(f"font-weight: bold; font-size: 13pt; color: {a.style.colour};")
        lines = [a.text, tr("Source: {s}", s=a.source), tr("Time: {t}", t=format_local(a.epoch, date=True)),
                 tr("Position: {lon:.6f}, {lat:.6f} ({crs})", lon=a.lon, lat=a.lat, crs=a.crs)]
        if a.subdistrict:
            lines.append(tr("Sub-district: {s}", s=a.subdistrict))
        if a.count > 1:
            lines.append(tr("Repeated {n} times, last at {t}", n=a.count, t=format_local(a.last_epoch or a.epoch)))
        if a.assigned_unit:
            lines.append(tr("Assigned to {u}", u=a.assigned_unit))
        p.info.setText("\n".join(l for l in lines if l))
        p.history.clear()
        for t in a.history:
            p.history.addItem(f"{clock_text(t.epoch)}  {t.from_state.label} → {t.to_state.label}  {t.operator}"
                              + (f"  {t.unit}" if t.unit else "") + (f"  «{t.note}»" if t.note else ""))
        allowed = set(self.service.allowed_transitions(a.id))
        for state, b in p.btn.items():
            b.setEnabled(state in allowed)
        p.cams_btn.setEnabled(True)
        self._show_units(keep_choice=same_alarm)

    def at_sea(self, alarm) -> bool:
        """True when the alarm's point is on no land the dataset knows (district or neighbours)."""
        if self._land is None:
            return False
        x, y = self.layer.projection.forward(alarm.lon_wgs, alarm.lat_wgs, "WGS84")
        return not self._land.containing(float(x), float(y))

    def _show_units(self, keep_choice: bool = True) -> None:
        """Offer the nearest free units for the selected alarm, keeping the operator's choice if it is still offered."""
        p = self.panel
        self._units_stale = False
        self._last_units = time.monotonic()
        a = self.book.get(self.selected_id) if self.selected_id else None
        current = p.units.currentItem()
        chosen = current.data(Qt.UserRole) if (keep_choice and current is not None) else None
        if a is None or not a.is_open:
            p.units.clear()
            return
        if not keep_choice:
            # another alarm: the previous one's units must not stay offered while this one's are
            # ranked (F4 pressed in between would send the other alarm's unit)
            p.units.clear()
        patrol = self.host.service("patrol")
        if patrol is not None:
            # the patrol service ranks by travel time along the route network; asked off the GUI
            # thread (live, the feed process answers), shown when it comes if still relevant
            alarm_id = a.id
            if not self._ranking:
                self._ranking = True
                self.host.run_in_background(lambda: patrol.rank(a.lon_wgs, a.lat_wgs, 3),
                                            lambda ranking: self._offer(alarm_id, ranking.options, chosen),
                                            lambda exc: self._offer(alarm_id, [], chosen, str(exc)),
                                            what="unit ranking")
            return
        self._offer(a.id, Linkage.units_for(a, self.service.unit_positions(max_age_s=600), at_sea=self.at_sea(a)),
                    chosen)

    def _offer(self, alarm_id: str, options, chosen, error: str = "") -> None:
        self._ranking = False
        p = self.panel
        if alarm_id != self.selected_id:
            self._show_units(keep_choice=False)  # the selection moved on meanwhile: rank for it now
            return
        p.units.clear()
        if error:
            p.units.addItem(QListWidgetItem(tr("No ranking: {err}", err=error)))
            return
        for opt in options:
            kind = tr({"car": "car", "ebike": "e-bike"}.get(opt.kind, opt.kind))
            item = QListWidgetItem(tr("{unit} ({kind}) {d:.0f} m, ETA {eta:.0f} s", unit=opt.unit, kind=kind,
                                      d=opt.distance_m, eta=opt.eta_s))
            item.setData(Qt.UserRole, opt.unit)
            p.units.addItem(item)
            if opt.unit == chosen:
                p.units.setCurrentItem(item)
        if p.units.count() and p.units.currentItem() is None:
            p.units.setCurrentRow(0)
