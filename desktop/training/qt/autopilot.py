"""A scripted trainee: handles the scenario's alarms through the window, as a person would.

It clicks the alarm's row in the Alarms panel's queue (a double-click when none of its right
cameras is on the wall yet: that opens them), waits for the panel's nearest-unit offer, and
fires the panel's own actions — the ones behind F2 (acknowledge), F4 (dispatch the offered
unit; a new alarm is acknowledged on the way), F6 (resolve) and F8 (false alarm). Every
click and key is counted, so ``clicks_to_dispatch`` is what an operator would need.

Reaction times come from a random generator seeded with ``seed`` and the alarm's id, so a
run is repeatable. ``script`` changes what the trainee does with chosen alarms, for tests and
for demonstrating a poor session: ``"ignore"``, ``"false"`` (mark it false), ``"late"`` (act
after the deadline), ``"unit:N"`` (send the N-th offered unit, 1 = the first), ``"ack"``
(acknowledge only).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QListWidget, QTableView

from desktop.core.alarms.model import AlarmState

__all__ = ["Autopilot", "Plan"]

KEYS = {"acknowledge": "F2", "dispatch": "F4", "resolve": "F6", "false_alarm": "F8"}


@dataclass
class Plan:
    """What the scripted trainee will do with one alarm, and what it did."""

    alarm_id: str
    act_at: float  # simulated seconds since the start
    action: str  # "ack", "dispatch", "false", "ignore"
    unit_choice: int = 1
    resolve_after_s: float | None = None
    done: bool = False
    clicks: int = 0
    resolved: bool = False
    dispatched_at: float | None = None
    clicks_at_dispatch: int = 0
    notes: list = field(default_factory=list)


class Autopilot:
    """Drives ``window`` for ``controller``'s scenario; call :meth:`act` after each clock step."""

    def __init__(self, window, controller, seed: int = 1, script: dict | None = None,
                 reaction_s: tuple[float, float] = (6.0, 20.0)):
        self.window = window
        self.c = controller
        self.seed = seed
        self.script = dict(script or {})
        self.reaction_s = reaction_s
        self.plans: dict[str, Plan] = {}
        self.clicks = 0
        self.alarms = controller.session.alarms
        self._table = None
        self._units = None
        self._actions = None

    # --- widgets of the window ---------------------------------------------------------------
    def _queue(self) -> QTableView:
        if self._table is None:
            for dock in self.window.findChildren(QDockWidget):
                if dock.objectName().endswith("queue") or dock.objectName().startswith("dock-alarms"):
                    views = dock.findChildren(QTableView)
                    if views:
                        self._table = views[0]
                        break
            if self._table is None:
                raise RuntimeError("autopilot: no alarm queue in the window (is the alarms plugin enabled?)")
        return self._table

    def _offer_list(self) -> QListWidget | None:
        dock = self._queue().parent()
        while dock is not None and not isinstance(dock, QDockWidget):
            dock = dock.parent()
        for lw in (dock.findChildren(QListWidget) if dock is not None else []):
            if lw.count() and isinstance(lw.item(0).data(Qt.UserRole), str):
                return lw
        return None

    def _action(self, key: str) -> QAction:
        if self._actions is None:
            self._actions = {}
            for act in self.window.findChildren(QAction):
                seq = act.shortcut().toString()
                if seq in KEYS.values() and act.isEnabled():
                    self._actions.setdefault(seq, act)
        act = self._actions.get(KEYS[key])
        if act is None:
            raise RuntimeError(f"autopilot: no action on {KEYS[key]} in the window")
        return act

    def _press(self, key: str, plan: Plan) -> None:
        self._action(key).trigger()  # what the key press does (the window's own shortcut action)
        plan.clicks += 1
        self.clicks += 1

    def _row_of(self, alarm_id: str) -> int | None:
        table = self._queue()
        model = table.model()
        for r in range(model.rowCount()):
            if model.index(r, 0).data(Qt.UserRole) == alarm_id:
                return r
        return None

    def _click_row(self, alarm_id: str, plan: Plan, double: bool) -> bool:
        table = self._queue()
        row = self._row_of(alarm_id)
        if row is None:
            return False
        table.scrollTo(table.model().index(row, 1))
        rect = table.visualRect(table.model().index(row, 1))
        if double:
            QTest.mouseDClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
        else:
            QTest.mouseClick(table.viewport(), Qt.LeftButton, Qt.NoModifier, rect.center())
        plan.clicks += 1
        self.clicks += 1
        return True

    # --- deciding ----------------------------------------------------------------------------
    def _plan(self, alarm_id: str, t_arrival: float) -> Plan:
        exp = self.c.scenario.expectation(alarm_id)
        rng = random.Random(f"{self.seed}:{alarm_id}")
        delay = rng.uniform(*self.reaction_s)
        script = self.script.get(alarm_id, "")
        action = {"false_alarm": "false", "acknowledged": "ack"}.get(exp.state, "dispatch")
        unit_choice = 1
        if script == "ignore":
            action = "ignore"
        elif script == "false":
            action = "false"
        elif script == "ack":
            action = "ack"
        elif script == "late":
            delay = exp.within_s + 5.0
        elif script.startswith("unit:"):
            unit_choice = max(1, int(script.split(":", 1)[1]))
        resolve = rng.uniform(30.0, 60.0) if exp.state == "resolved" else None
        return Plan(alarm_id, t_arrival + delay, action, unit_choice, resolve)

    def _wait(self, cond, timeout_s: float = 3.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if cond():
                return True
            time.sleep(0.002)
        return cond()

    def _settle(self) -> None:
        """Let the workflow changes just asked be journaled and seen by everyone this step."""
        self.alarms.flush(5.0)
        self.window.stream_pump.tick()
        QApplication.processEvents()

    def _right_camera_shown(self, alarm_id: str) -> bool:
        wall = getattr(self.window, "wall", None)
        right = self.c.scenario.right_cameras(alarm_id)
        return wall is not None and any(t.camera_id in right for t in wall.tiles[:wall.tile_count])

    def act(self, now: float) -> None:
        """Do what is due at ``now`` (simulated seconds since the start)."""
        for a in self.alarms.alarms():
            if a.id not in self.plans and self.c.scenario.expectation(a.id) is not None:
                self.plans[a.id] = self._plan(a.id, a.received - self.c.t0)
        for plan in sorted(self.plans.values(), key=lambda p: (p.act_at, p.alarm_id)):
            if not plan.done and plan.act_at <= now:
                self._handle(plan, now)
            elif plan.done and plan.resolve_after_s is not None and not plan.resolved and plan.dispatched_at is not None \
                    and now >= plan.dispatched_at + plan.resolve_after_s:
                if self._click_row(plan.alarm_id, plan, False):
                    self._press("resolve", plan)
                    self._settle()
                plan.resolved = True

    def _handle(self, plan: Plan, now: float) -> None:
        alarm = self.alarms.get(plan.alarm_id)
        if plan.action == "ignore" or alarm is None or not alarm.is_open:
            plan.done = True
            return
        if self._row_of(plan.alarm_id) is None:
            self.window.stream_pump.tick()
            if not self._wait(lambda: self._row_of(plan.alarm_id) is not None, 1.0):
                return  # not in the queue yet (the table refreshes a few times a second): next step
        plan.done = True
        if not self._click_row(plan.alarm_id, plan, double=not self._right_camera_shown(plan.alarm_id)):
            return
        QApplication.processEvents()
        if plan.action == "false":
            self._press("false_alarm", plan)
        elif plan.action == "ack":
            self._press("acknowledge", plan)
        else:
            # the offer is ranked on the plugins' background workers: give it time even when they
            # are busy with something long (the simulated clock does not move meanwhile)
            offered = self._wait(lambda: (lw := self._offer_list()) is not None and lw.count() >= plan.unit_choice,
                                 10.0)
            lw = self._offer_list()
            if offered and lw is not None and plan.unit_choice > 1:
                lw.setCurrentRow(plan.unit_choice - 1)  # picking another unit in the offer: a click
                plan.clicks += 1
                self.clicks += 1
            if not offered:
                plan.notes.append("no unit offered")
                self._press("acknowledge", plan)
            else:
                self._press("dispatch", plan)
                self._wait(lambda: (a := self.alarms.get(plan.alarm_id)) is not None
                           and a.state == AlarmState.DISPATCHED, 5.0)
                plan.dispatched_at = now
                plan.clicks_at_dispatch = plan.clicks
        self._settle()

    def clicks_to_dispatch(self) -> list[int]:
        """Clicks and keys from each alarm's arrival to its dispatch (dispatched alarms only)."""
        return [p.clicks_at_dispatch for p in self.plans.values() if p.dispatched_at is not None]
