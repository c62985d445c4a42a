"""Camera states from the status feed and the video wall: since-when, latest word wins, the rate."""
import pytest

from desktop.core.camera_health import FAULT, OFFLINE, ONLINE, CameraHealth
from desktop.core.feeds.schema import CameraStatus


def test_since_is_when_it_stopped_being_online_and_the_latest_word_wins():
    h = CameraHealth(["A", "B", "C", "D"])
    assert h.status("A") == "unknown" and h.online_rate() == 1.0  # nobody said anything: counted online
    assert h.report("A", "offline", 100.0, "no heartbeat")
    assert not h.report("A", "offline", 160.0, "no heartbeat")  # the same again: no change...
    assert h.fault("A").since == 100.0 and h.fault("A").updated == 160.0  # ...but it was said later
    assert h.report("A", "fault", 200.0, "video loss")  # still out of service since 100
    assert (h.fault("A").status, h.fault("A").since, h.fault("A").reason) == ("fault", 100.0, "video loss")
    assert not h.report("A", "online", 150.0)  # older than what we know: ignored
    h.report("B", "offline", 300.0)
    assert [f.camera_id for f in h.faulty()] == ["A", "B"]  # the longest out of service first
    assert list(h.codes) == [FAULT, OFFLINE, ONLINE, ONLINE]
    assert h.online_rate() == 0.5 and h.counts() == {"total": 4, "online": 2, "offline": 1, "fault": 1}
    assert h.report("A", "online", 400.0) and h.status("A") == "online" and h.fault("A") is None
    assert h.online_rate() == 0.75
    v = h.version
    assert not h.report("Z", "offline", 1.0) and h.unknown_reports == 1 and h.version == v  # not ours
    with pytest.raises(ValueError, match="camera A: status 'broken'"):
        h.report("A", "broken")


def test_the_wall_s_own_findings_and_the_feed_are_one_state():
    reports = {}
    h = CameraHealth(["A", "B"], feed=lambda: reports)
    assert h.report_video("A", "error", "corrupt stream", epoch=10.0)
    assert (h.status("A"), h.fault("A").source, h.fault("A").reason) == ("fault", "video", "corrupt stream")
    assert not h.report_video("A", "reconnecting", epoch=11.0)  # says nothing yet
    assert h.report_video("A", "live", epoch=12.0) and h.status("A") == "online"  # pictures again
    assert not h.report_video("B", "live")  # live and never faulty: nothing to clear
    reports["B"] = CameraStatus(camera_id="B", status="offline", time="", epoch=20.0, reason="power")
    assert h.refresh() == 1 and h.fault("B").source == "feed"
    assert h.refresh() == 0  # each report once
    assert h.report_video("B", "live", epoch=30.0) and h.status("B") == "online"  # newer than the report
    reports["B"] = CameraStatus(camera_id="B", status="fault", time="", epoch=40.0, reason="lens")
    assert h.refresh() == 1 and (h.status("B"), h.fault("B").since) == ("fault", 40.0)


def test_a_restart_keeps_the_cameras_out_of_service_and_since_when(tmp_path):
    """Read back from the alarm journal's camera tables (written by the real alarm service)."""
    from datetime import datetime, timezone

    from desktop.core.alarms.service import AlarmService
    from desktop.core.camera_health import read_open_outages
    from desktop.core.feeds.bus import EventBus

    def at(epoch):
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat()

    journal = tmp_path / "j.sqlite"
    assert read_open_outages(journal) == []  # no journal yet
    bus = EventBus("t")
    svc = AlarmService(journal, bus=bus, workstation="ws").start()
    t0 = 1_764_000_000.0
    for cid, status, t, reason in (("A", "offline", t0, "no heartbeat"), ("A", "fault", t0 + 60, "lens"),
                                   ("B", "offline", t0 + 10, "power"), ("B", "online", t0 + 20, ""),
                                   ("C", "fault", t0 + 30, "video loss")):
        bus.publish(f"pingan/camera/{cid}/status", {"status": status, "time": at(t), "reason": reason})
    assert svc.flush(10)
    svc.stop()
    assert read_open_outages(journal) == [("A", "fault", t0, "lens"), ("C", "fault", t0 + 30, "video loss")]
    h = CameraHealth(["A", "B", "C"])
    assert h.restore(read_open_outages(journal)) == 2
    assert [(f.camera_id, f.status, f.since) for f in h.faulty()] == [("A", "fault", t0), ("C", "fault", t0 + 30)]
