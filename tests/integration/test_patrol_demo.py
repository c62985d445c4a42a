"""The bundled scenario played through the whole session (bus, alarm and patrol services):
its post visits come out as the scenario's expected.toml says — on time, early, late and the
one missed, which raises a patrol_missed alarm — on a simulated clock and on the real clock
with the schedule shifted (the offline demo, at whatever time of day it is started)."""
import time
import tomllib

import pytest

from desktop.core.config import Config
from desktop.core.district.loader import load_district
from desktop.core.district.resolve import resolve_district
from desktop.core.geo.crs import MapProjection
from desktop.core.session import Session

pytestmark = [pytest.mark.timeout(120)]


@pytest.mark.parametrize("mode", ["training", "demo"])
def test_scenario_visits_are_judged_as_expected(tmp_path, mode):
    path = resolve_district(None)
    d = load_district(path, MapProjection())
    expected = tomllib.loads((path / "scenario" / "expected.toml").read_text(encoding="utf-8"))["visits"]
    cfg = Config(operator="t", mode="training" if mode == "training" else "operator")
    session = Session(cfg, d, MapProjection(), journal_path=tmp_path / "alarms.sqlite", demo_feed=mode == "demo")
    if mode == "training":
        session.clock.set_speed(60.0)  # ten simulated minutes in ten seconds
    else:
        # the demo runs on the real clock: shift the clock's view of "now" by running the
        # scenario at 60× through a simulated clock that starts at the real time of day
        from desktop.core.clock import SimClock
        session.clock = SimClock(time.time(), speed=60.0)
        session.alarms.clock = session.clock
        session.patrol._now = session.clock.time
    session.start()
    try:
        deadline = time.monotonic() + 60
        want = {(v["post"], v["state"]) for v in expected.values()}
        got = set()
        while time.monotonic() < deadline:
            now = session.clock.time()
            got = {(v.post, v.state) for v in session.patrol.visits(now - 7200, now + 7200) if v.final}
            if want <= got and any(a.type == "patrol_missed" for a in session.alarms.alarms()):
                break
            time.sleep(0.3)
        assert want <= got, f"missing {sorted(want - got)}"
        assert {s for _, s in want} >= {"on_time", "late", "early", "missed"}
        missed = [a for a in session.alarms.alarms() if a.type == "patrol_missed"]
        assert len(missed) == 1 and "P370202-34" in missed[0].id
    finally:
        session.stop()
