"""Alarm presets on a simulated clock: dwell, queue, pre-emption by priority, revert on resolve or timeout."""
from desktop.core.wall.controller import WallController
from desktop.core.wall.layout import default_layout
from desktop.core.wall.takeover import Claim, Takeover, alarm_preset


def claim(aid, prio=1, cams=("C1", "C2")):
    return Claim(aid, prio, 120.38, 36.06, list(cams), f"alarm {aid}")


def test_dwell_then_preempt_then_queue_then_revert():
    t = Takeover(priorities=(1, 2), dwell_s=20, timeout_s=300)
    t.alarm(claim("A", 2), now=0)
    assert t.current().alarm_id == "A"
    t.alarm(claim("B", 1), now=5)  # more urgent, but A has not had its dwell
    assert t.tick(5).alarm_id == "A"
    assert t.tick(19.9).alarm_id == "A"
    assert t.tick(20).alarm_id == "B"  # dwell over: pre-empted
    t.alarm(claim("C", 2), now=21)  # less urgent: queues behind B (and A, older)
    assert [q.alarm_id for q in t.queue] == ["A", "C"]
    t.closed("B", now=25)  # resolved early: stays until its dwell is over
    assert t.tick(39).alarm_id == "B"
    assert t.tick(40).alarm_id == "A"  # back: the pre-empted alarm, first in line
    t.closed("A", now=61)
    assert t.tick(61).alarm_id == "C"
    t.closed("C", now=100)
    assert t.tick(100) is None


def test_timeout_and_ignored_priorities():
    t = Takeover(priorities=(1,), dwell_s=10, timeout_s=60)
    t.alarm(claim("low", 3), now=0)
    assert t.tick(0) is None
    t.alarm(claim("A"), now=0)
    t.alarm(claim("A"), now=30)  # a repeat does not extend or queue it twice
    assert t.tick(59).alarm_id == "A" and t.queue == []
    assert t.tick(60) is None  # timed out unresolved: the wall goes back to its layout
    assert t.next_change_in(61) is None


def test_preset_puts_cameras_in_the_largest_video_region_and_centres_maps():
    base = default_layout("main")
    preset = alarm_preset(base, claim("A", cams=["C1", "C2", "C3", "C4", "C5"]))
    video = preset.region("video")
    assert video.video["layout"] == "9" and video.video["tiles"][:5] == ["C1", "C2", "C3", "C4", "C5"]
    m = preset.region("map")
    assert (m.view.lon, m.view.lat) == (120.38, 36.06) and m.label == "A"
    assert preset.region("ticker") == base.region("ticker")  # the rest is left as it is


def test_controller_applies_only_newer_revisions_and_reverts_after_resolve(tmp_path):
    from desktop.core.wall.store import LastLayoutStore
    now = [1000.0]
    store = LastLayoutStore(tmp_path / "w.json", "main")
    c = WallController("main", store, takeover=Takeover((1,), dwell_s=5, timeout_s=100), clock=lambda: now[0],
                       cameras_for=lambda aid, lon, lat, named: named + ["COVER"])
    assert c.tick().revision == 0  # the default layout, first
    l5 = default_layout("main").with_revision(5, name="five")
    assert c.offer_layout(l5) and c.tick().name == "five"
    assert not c.offer_layout(default_layout("main").with_revision(4, name="four"))
    assert c.ignored_older == 1 and c.applied_revision == 5
    assert not c.offer_layout(default_layout("other").with_revision(9))
    # restarted: starts from disk
    c2 = WallController("main", LastLayoutStore(tmp_path / "w.json", "main"))
    assert c2.started_from == "disk" and c2.applied_revision == 5
    # a state that arrived before its alarm (retained, late start) is applied when the alarm comes
    c.alarm_state("X", "acknowledged")
    c.alarm("X", 2, 120.3, 36.0, text="x")
    assert c.ticker()[0].state == "acknowledged"
    c.alarm("U", 1, 120.38, 36.06, cameras=["C9"], text="urgent")
    shown = c.tick()
    assert c.showing_alarm == "U" and shown.region("video").video["tiles"][:2] == ["C9", "COVER"]
    assert c.tick() is None  # nothing changed
    c.alarm_state("U", "resolved")
    now[0] += 2
    assert c.tick() is None  # still within the dwell
    now[0] += 5
    assert c.tick().name == "five" and c.showing_alarm is None
    st = c.state_payload([])
    assert st["online"] and st["applied_revision"] == 5 and st["showing"] == "layout"
    # a resolved alarm arriving again later does not take the wall back
    c.alarm("U", 1, 120.38, 36.06)
    assert c.tick() is None
