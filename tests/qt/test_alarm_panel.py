"""The alarm panel plugin in the real window, fed through the real alarm service and bus:
queue, flashing map point, camera linkage, workflow with a note, state surviving a restart."""
from datetime import datetime, timezone

import pytest

from desktop.core.alarms.model import AlarmState
from desktop.core.alarms.service import AlarmService
from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.app import start_plugins
from desktop.qt.main_window import MainWindow
from tests.fixtures.district import LAT0, LON0


def alarm(aid, prio=1, dlat=0.00045, typ="one_key", source="phone-001", crs="GCJ02", **kw):
    return {"id": aid, "type": typ, "priority": prio, "time": datetime.now(timezone.utc).isoformat(),
            "lon": LON0 + 0.002, "lat": LAT0 + 0.002 + dlat, "crs": crs, "source": source,
            "text": "一键报警 测试", **kw}


@pytest.fixture
def ws(qtbot, tiny_district, tmp_path):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(operator="张警官")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "j.sqlite", demo_feed=False).start()
    mgr = start_plugins(w, cfg, d, bus=session.bus, services={"alarms": session.alarms, "operator": "张警官",
                                                              "clock": session.clock})
    w.show()
    plugin = mgr.records["alarms"].instance
    assert mgr.records["alarms"].state == "enabled", mgr.records["alarms"].last_error
    yield w, session, plugin
    mgr.unload_all()
    session.stop()


def test_published_alarm_reaches_queue_map_and_links_cameras(ws, qtbot):
    w, session, plugin = ws
    session.bus.publish("pingan/alarm", alarm("A1"))
    qtbot.waitUntil(lambda: [a.id for a in plugin.panel.model.rows] == ["A1"], timeout=5000)
    layer = w.canvas.layer("alarms")
    assert [a.id for a in layer.alarms] == ["A1"] and layer.animating()  # new alarms flash
    # CAM000 looks north (heading 0, 90° FOV, 120 m) from 50 m south of the alarm: it is linked first
    assert plugin.linked and plugin.linked[0][0] == "CAM000"
    assert plugin.selected_id == "A1" and "One-key" in plugin.panel.title.text()
    # the point is where the alarm said, converted from GCJ-02
    x, y = layer.xy["A1"]
    gx, gy = w.projection.forward(LON0 + 0.002, LAT0 + 0.00245, "GCJ02")
    assert abs(x - gx) < 0.05 and abs(y - gy) < 0.05


def test_queue_sorts_by_priority_then_time_and_filters(ws, qtbot):
    w, session, plugin = ws
    session.bus.publish("pingan/alarm", alarm("low", prio=4, typ="hazard_report", source="s1"))
    session.bus.publish("pingan/alarm", alarm("high", prio=1, typ="fire", source="s2"))
    session.bus.publish("pingan/alarm", alarm("mid", prio=2, typ="crowd", source="s3"))
    qtbot.waitUntil(lambda: len(plugin.panel.model.rows) == 3, timeout=5000)
    assert [a.id for a in plugin.panel.model.rows] == ["high", "mid", "low"]
    box = plugin.panel.type_box
    box.setCurrentIndex(box.findData("fire"))
    assert [a.id for a in plugin.panel.model.rows] == ["high"]
    box.setCurrentIndex(0)
    plugin.panel.search.setText("S3")  # words in the id, source, text… any case
    assert [a.id for a in plugin.panel.model.rows] == ["mid"]
    plugin.panel.search.setText("fire mid")
    assert [a.id for a in plugin.panel.model.rows] == []  # every word must match
    plugin.panel.search.setText("测试 low")
    assert [a.id for a in plugin.panel.model.rows] == ["low"]


def test_flood_from_one_source_folds_into_one_row(ws, qtbot):
    w, session, plugin = ws
    for i in range(50):
        session.bus.publish("pingan/alarm", alarm(f"F{i}", source="sensor-9", typ="perimeter", prio=2))
    qtbot.waitUntil(lambda: bool(plugin.panel.model.rows) and plugin.panel.model.rows[0].count == 50, timeout=5000)
    assert len(plugin.panel.model.rows) == 1


def test_workflow_with_note_is_journaled_and_survives_a_restart(ws, qtbot, tmp_path):
    w, session, plugin = ws
    session.bus.publish("pingan/alarm", alarm("W1"))
    qtbot.waitUntil(lambda: plugin.selected_id == "W1", timeout=5000)
    plugin.panel.note.setText("已电话联系报警人")
    plugin.move_selected(AlarmState.ACKNOWLEDGED)
    qtbot.waitUntil(lambda: session.alarms.get("W1").state == AlarmState.ACKNOWLEDGED, timeout=5000)
    qtbot.waitUntil(lambda: plugin.panel.history.count() == 1, timeout=3000)
    assert "已电话联系报警人" in plugin.panel.history.item(0).text()
    plugin.move_selected(AlarmState.FALSE_ALARM)
    qtbot.waitUntil(lambda: session.alarms.get("W1").state == AlarmState.FALSE_ALARM, timeout=5000)
    session.alarms.flush()
    again = AlarmService(tmp_path / "j.sqlite")
    try:
        a = again.get("W1")
        assert a.state == AlarmState.FALSE_ALARM
        assert [t.to_state for t in a.history] == [AlarmState.ACKNOWLEDGED, AlarmState.FALSE_ALARM]
        assert a.history[0].operator == "张警官" and a.history[0].note == "已电话联系报警人"
    finally:
        again.stop()


def test_rejected_payloads_are_counted_in_the_panel(ws, qtbot):
    w, session, plugin = ws
    session.alarms.submit("pingan/alarm", b"{not json")
    session.bus.publish("pingan/alarm", alarm("ok1"))
    qtbot.waitUntil(lambda: "rejected 1" in plugin.panel.counters.text(), timeout=5000)
    qtbot.waitUntil(lambda: [a.id for a in plugin.panel.model.rows] == ["ok1"], timeout=5000)
    assert plugin.panel.rejected_btn.isVisibleTo(plugin.panel)
    dialog = plugin.show_rejections()  # what was refused, and why
    assert dialog.table.rowCount() == 1
    assert [dialog.table.item(0, c).text() for c in (1, 2)] == ["pingan/alarm", "invalid_json"]
    dialog.close()


def position(unit, kind, lon, lat):
    return {"unit": unit, "kind": kind, "time": datetime.now(timezone.utc).isoformat(), "lon": lon, "lat": lat,
            "crs": "GCJ02", "speed_kmh": 20.0, "heading_deg": 0.0}


def offered(plugin):
    return [plugin.panel.units.item(i).data(256) for i in range(plugin.panel.units.count())]  # 256: Qt.UserRole


def test_units_offered_by_land_or_sea_and_the_offer_follows_moving_units(ws, qtbot):
    w, session, plugin = ws
    plugin.UNITS_INTERVAL_S = 0.2
    for unit, kind, lon, lat in (("C1", "car", LON0 + 0.006, LAT0 + 0.006), ("E1", "ebike", LON0 + 0.01, LAT0 + 0.01),
                                 ("B1", "boat", LON0 + 0.025, LAT0 + 0.01)):
        session.bus.publish(f"pingan/patrol/{unit}/position", position(unit, kind, lon, lat))
    qtbot.waitUntil(lambda: len(session.alarms.unit_positions()) == 3, timeout=5000)
    session.bus.publish("pingan/alarm", alarm("LAND"))
    qtbot.waitUntil(lambda: plugin.selected_id == "LAND" and offered(plugin) == ["C1", "E1"], timeout=5000)
    # a new, closer car: the offer follows without the operator touching anything
    session.bus.publish("pingan/patrol/C2/position", position("C2", "car", LON0 + 0.0021, LAT0 + 0.0025))
    qtbot.waitUntil(lambda: offered(plugin)[:1] == ["C2"], timeout=5000)
    assert "B1" not in offered(plugin)  # a boat is not sent to a land alarm
    # an alarm out at sea (east of the district, on no land polygon) gets the boat
    sea = alarm("SEA", typ="radar_target", source="radar-1")
    sea["lon"], sea["lat"] = LON0 + 0.03, LAT0 + 0.01
    session.bus.publish("pingan/alarm", sea)
    qtbot.waitUntil(lambda: session.alarms.get("SEA") is not None and plugin.book.get("SEA") is not None, timeout=5000)
    plugin.select("SEA")
    assert offered(plugin) == ["B1"]


def test_dispatch_to_a_unit_typed_by_call_sign(ws, qtbot):
    w, session, plugin = ws
    session.bus.publish("pingan/alarm", alarm("D1"))
    qtbot.waitUntil(lambda: plugin.selected_id == "D1", timeout=5000)
    assert offered(plugin) == []  # no unit position is known
    plugin.move_selected(AlarmState.ACKNOWLEDGED)
    qtbot.waitUntil(lambda: session.alarms.get("D1").state == AlarmState.ACKNOWLEDGED, timeout=5000)
    plugin.move_selected(AlarmState.DISPATCHED)  # nothing offered, nothing typed: a notice, no change
    assert session.alarms.get("D1").state == AlarmState.ACKNOWLEDGED
    plugin.panel.unit_entry.setText("巡逻三组")
    plugin.move_selected(AlarmState.DISPATCHED)
    qtbot.waitUntil(lambda: session.alarms.get("D1").state == AlarmState.DISPATCHED, timeout=5000)
    assert session.alarms.get("D1").assigned_unit == "巡逻三组" and plugin.panel.unit_entry.text() == ""


def test_double_click_in_the_queue_takes_the_map_to_the_alarm_at_street_level(ws, qtbot):
    from PySide6.QtCore import Qt as _Qt
    w, session, plugin = ws
    session.bus.publish("pingan/alarm", alarm("Z1", prio=4, typ="hazard_report"))  # priority 4: no auto-centre
    qtbot.waitUntil(lambda: [a.id for a in plugin.panel.model.rows] == ["Z1"], timeout=5000)
    canvas = w.canvas
    canvas.zoom_home()
    canvas.vp.pan_pixels(3000, 0)  # the alarm is far off-screen now
    x, y = canvas.layer("alarms").xy["Z1"]
    table = plugin.panel.table
    rect = table.visualRect(plugin.panel.model.index(0, 1))
    qtbot.mouseClick(table.viewport(), _Qt.LeftButton, pos=rect.center())
    sx, sy = canvas.vp.to_screen(x, y)
    assert 0 <= sx <= canvas.vp.width and 0 <= sy <= canvas.vp.height  # a click brings it on screen
    assert plugin.selected_id == "Z1"
    qtbot.mouseDClick(table.viewport(), _Qt.LeftButton, pos=rect.center())
    assert abs(canvas.vp.cx - x) < 1.0 and abs(canvas.vp.cy - y) < 1.0
    assert canvas.vp.ground_metres_per_pixel() <= plugin.STREET_MPP + 1e-9


def test_an_urgent_alarm_left_unacknowledged_is_flagged_and_rings_again(ws, qtbot):
    w, session, plugin = ws
    plugin.escalation.ack_target_s, plugin.escalation.repeat_s = 0.3, 0.4
    plugin.ESCALATION_INTERVAL_S = 0.05
    session.bus.publish("pingan/alarm", alarm("U1", prio=1))
    session.bus.publish("pingan/alarm", alarm("U4", prio=4, typ="hazard_report", source="s4"))  # not urgent
    qtbot.waitUntil(lambda: plugin.book.get("U1") is not None, timeout=5000)
    rang = len(plugin.sound.played)  # the new alarm's own ring
    qtbot.waitUntil(lambda: plugin.panel.overdue.isVisibleTo(plugin.panel), timeout=5000)
    assert "1 urgent" in plugin.panel.overdue.text()
    qtbot.waitUntil(lambda: len(plugin.sound.played) >= rang + 2, timeout=5000)  # again, and again
    plugin.select("U1")
    plugin.move_selected(AlarmState.ACKNOWLEDGED)
    qtbot.waitUntil(lambda: not plugin.panel.overdue.isVisibleTo(plugin.panel), timeout=5000)
    quiet = len(plugin.sound.played)
    qtbot.wait(800)
    assert len(plugin.sound.played) == quiet  # acknowledged: the reminder stops


def test_the_chosen_unit_stays_chosen_when_the_alarm_changes(ws, qtbot):
    w, session, plugin = ws
    for unit, d in (("C1", 0.001), ("C2", 0.003)):
        session.bus.publish(f"pingan/patrol/{unit}/position", position(unit, "car", LON0 + 0.002 + d, LAT0 + 0.0025))
    qtbot.waitUntil(lambda: len(session.alarms.unit_positions()) == 2, timeout=5000)
    session.bus.publish("pingan/alarm", alarm("K1", source="phone-k"))
    qtbot.waitUntil(lambda: plugin.selected_id == "K1" and offered(plugin) == ["C1", "C2"], timeout=5000)
    plugin.panel.units.setCurrentRow(1)  # the operator picks the second unit
    session.bus.publish("pingan/alarm", alarm("K2", source="phone-k"))  # a repeat folds into K1
    qtbot.waitUntil(lambda: plugin.book.get("K1").count == 2, timeout=5000)
    qtbot.waitUntil(lambda: plugin._details_key[2] == 2, timeout=5000)
    assert plugin.panel.units.currentItem().data(256) == "C2"
    plugin.move_selected(AlarmState.ACKNOWLEDGED)
    qtbot.waitUntil(lambda: session.alarms.get("K1").state == AlarmState.ACKNOWLEDGED, timeout=5000)
    qtbot.waitUntil(lambda: plugin._details_key[1] == plugin.book.get("K1").updated, timeout=5000)
    plugin.move_selected(AlarmState.DISPATCHED)
    qtbot.waitUntil(lambda: session.alarms.get("K1").state == AlarmState.DISPATCHED, timeout=5000)
    assert session.alarms.get("K1").assigned_unit == "C2"


def test_plugin_settings_apply_and_a_wrong_key_is_named_not_fatal(qtbot, tiny_district, tmp_path):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(operator="op", extra={"alarms": {"ack_target_s": 30, "repeat_s": "often", "max_cameras": 2,
                                                  "sound": False, "colour": "red"}})
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "s.sqlite", demo_feed=False).start()
    mgr = start_plugins(w, cfg, d, bus=session.bus, services={"alarms": session.alarms, "operator": "op"})
    try:
        rec = mgr.records["alarms"]
        assert rec.state == "enabled", rec.last_error  # a typo does not take the panel away
        plugin = rec.instance
        assert plugin.escalation.ack_target_s == 30.0 and plugin.escalation.repeat_s == 15.0
        assert plugin.linkage.max_cameras == 2 and not plugin.sound.enabled and plugin.panel.mute.isChecked()
        errors = [text for _, level, text in w.notices if level == "error"]
        assert any("plugins.alarms.repeat_s" in t for t in errors)
        assert any("'colour'" in t for t in errors)
    finally:
        mgr.unload_all()
        session.stop()


def test_after_a_hand_over_changes_and_the_audit_are_in_the_new_operators_name(qtbot, tiny_district, tmp_path):
    from desktop.core.duty import Duty
    from desktop.qt.audit import AuditTrail
    from desktop.qt.handover import HandoverDialog
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config()
    duty = Duty("早班-张")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "h.sqlite", demo_feed=False).start()
    trail = AuditTrail(session.alarms, duty)
    mgr = start_plugins(w, cfg, d, bus=session.bus, services={"alarms": session.alarms, "duty": duty})
    try:
        plugin = mgr.records["alarms"].instance
        session.bus.publish("pingan/alarm", alarm("H1"))
        qtbot.waitUntil(lambda: plugin.selected_id == "H1", timeout=5000)
        plugin.move_selected(AlarmState.ACKNOWLEDGED)
        qtbot.waitUntil(lambda: session.alarms.get("H1").state == AlarmState.ACKNOWLEDGED, timeout=5000)
        dialog = HandoverDialog(duty, w)
        dialog.accept()  # no name: refused, said in the dialog
        assert duty.name == "早班-张" and dialog.error.text()
        dialog.name.setText("中班-李")
        dialog.note.setText("H1 已确认，待派警")
        dialog.accept()
        assert duty.name == "中班-李"
        plugin.panel.unit_entry.setText("巡逻一组")
        plugin.move_selected(AlarmState.DISPATCHED)
        qtbot.waitUntil(lambda: session.alarms.get("H1").state == AlarmState.DISPATCHED, timeout=5000)
        assert [t.operator for t in session.alarms.get("H1").history] == ["早班-张", "中班-李"]
        log = [e for e in reversed(session.alarms.audit_log(20)) if e.action.startswith("session_")]
        assert [(e.operator, e.action) for e in log] == [("早班-张", "session_ended"), ("中班-李", "session_started")]
        assert log[0].detail["handed_over_to"] == "中班-李" and log[1].detail["note"] == "H1 已确认，待派警"
        assert trail.failures == 0
    finally:
        mgr.unload_all()
        session.stop()


def test_a_forgotten_closed_alarm_leaves_the_queue(ws, qtbot):
    w, session, plugin = ws
    session.bus.publish("pingan/alarm", alarm("OLD1"))
    qtbot.waitUntil(lambda: plugin.selected_id == "OLD1", timeout=5000)
    plugin.move_selected(AlarmState.FALSE_ALARM)
    qtbot.waitUntil(lambda: session.alarms.get("OLD1").state == AlarmState.FALSE_ALARM, timeout=5000)
    plugin.panel.open_only.setChecked(False)  # closed alarms are listed too
    qtbot.waitUntil(lambda: [a.id for a in plugin.panel.model.rows] == ["OLD1"], timeout=5000)
    session.alarms.closed_retention_s = 0.0
    assert session.alarms.forget_closed()
    qtbot.waitUntil(lambda: plugin.book.get("OLD1") is None, timeout=5000)
    qtbot.waitUntil(lambda: plugin.panel.model.rows == [], timeout=5000)
