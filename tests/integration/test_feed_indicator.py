"""The operator sees the live feed's state: the status bar follows a real mosquitto going away
and coming back, with a notice each way."""
import pytest

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.feeds.status import change_notice, feed_state
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session
from desktop.qt.main_window import MainWindow

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


def test_status_bar_follows_the_broker_down_and_back(qtbot, tiny_district, mqtt_broker, tmp_path):
    d = load_district(tiny_district)
    w = MainWindow(d, MapProjection())
    qtbot.addWidget(w)
    cfg = Config(broker=mqtt_broker.url, operator="op", workstation="ws-ind")
    session = Session(cfg, d, w.projection, journal_path=tmp_path / "j.sqlite").start()
    try:
        w.watch_feed(session.feed_status, mqtt_broker.url)
        w.show()
        qtbot.waitUntil(lambda: w.feed_label.text() == "● " + feed_state("connected").label, timeout=15000)
        mqtt_broker.stop()
        qtbot.waitUntil(lambda: w.feed_label.text() == "● " + feed_state("reconnecting").label, timeout=15000)
        assert w.notices[-1][1] == "error" and w.notices[-1][2] == feed_state("reconnecting").label
        mqtt_broker.start()
        qtbot.waitUntil(lambda: w.feed_label.text() == "● " + feed_state("connected").label, timeout=30000)
        assert w.notices[-1][1] == "info" and "restored" in w.notices[-1][2]
    finally:
        session.stop()


def test_which_changes_are_told():
    assert change_notice(None, "connecting") is None
    assert change_notice("connecting", "connected") is None  # a normal start says nothing
    assert change_notice("connected", "reconnecting")[1] == "error"
    assert change_notice("connected", "restarting")[1] == "error"
    assert change_notice("reconnecting", "connected")[1] == "info"
    assert change_notice("connected", "connected") is None
    assert feed_state("something new").severity == "warning"
    assert feed_state("training").label != feed_state("scenario").label  # a trainee knows it is not live
