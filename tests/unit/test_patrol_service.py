"""The patrol service as the host uses it: a Clock, reads from other threads while fixes come
in, and every returned value plain enough to cross a process pipe."""
from __future__ import annotations

import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from desktop.core.clock import SimClock
from desktop.core.district.loader import load_district
from desktop.core.feeds.schema import PatrolPosition
from desktop.core.patrol.service import PatrolService, TickReport

ROOT = Path(__file__).resolve().parents[2]
T0 = 1717203600.0  # 2024-06-01 09:00 +08:00


@pytest.fixture(scope="module")
def shinan():
    return load_district(ROOT / "maps" / "shinan")


def fleet(svc, n, t, rng):
    """``n`` units of mixed kinds on the routes at time ``t``."""
    out = []
    kinds = ["car", "ebike", "foot"]
    for i in range(n):
        r = svc.routes[i % len(svc.routes)]
        k = int(rng.integers(0, len(r.lon)))
        lon, lat = float(r.lon[k]), float(r.lat[k])
        out.append(PatrolPosition(unit=f"u{i:03d}", kind=kinds[i % 3], time="", epoch=t, lon=lon, lat=lat,
                                  crs="WGS84", speed_kmh=12.0, heading_deg=float(rng.uniform(0, 360)),
                                  lon_wgs=lon, lat_wgs=lat))
    return out


def test_every_read_is_picklable(shinan, tmp_path):
    clock = SimClock(T0, paused=True)
    with PatrolService(tmp_path / "j.sqlite", shinan, clock=clock, autoflush_s=0) as svc:
        rng = np.random.default_rng(1)
        for s in range(0, 180, 10):
            svc.ingest(fleet(svc, 30, T0 + s, rng))
        clock.set_time(T0 + 180)
        rep = svc.tick()
        assert isinstance(rep, TickReport) and rep.now == T0 + 180
        post = shinan.patrol_posts[0]
        lon, lat = float(svc.posts[0].lon), float(svc.posts[0].lat)
        rec = svc.dispatch("u001", "A-1", lon, lat)
        values = [svc.positions(), svc.track("u001", T0, T0 + 200), svc.tracks(None, T0, T0 + 200),
                  svc.visits(T0, T0 + 3600), svc.coverage(10), svc.rank(lon, lat, 5), rec,
                  svc.release("u001"), svc.arrivals(T0, T0 + 3600), svc.dispatches(T0, T0 + 3600),
                  svc.trips_and_stops("u002", T0, T0 + 200), rep, svc.replay(["u003"], T0, T0 + 200).frame(T0 + 50)]
        for v in values:
            back = pickle.loads(pickle.dumps(v))
            assert type(back) is type(v)
        ranking = pickle.loads(pickle.dumps(values[5]))
        assert len(ranking.options) == 5 and ranking.options[0].path.dtype == float
        assert post.id in {v.post for v in values[3]}
        assert pickle.loads(pickle.dumps(values[2]))["u001"].t.tolist() == list(values[2]["u001"].t)


def test_reads_from_other_threads_while_fixes_come_in(shinan, tmp_path):
    with PatrolService(tmp_path / "j.sqlite", shinan, clock=lambda: T0 + 600, autoflush_s=0.05) as svc:
        stop = threading.Event()
        errors: list[BaseException] = []
        rng = np.random.default_rng(2)
        batches = [fleet(svc, 100, T0 + s, rng) for s in range(60)]

        def feed():
            try:
                for s, b in enumerate(batches):
                    svc.ingest(b)
                    svc.tick(T0 + s)
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                stop.set()

        def read():
            try:
                while not stop.is_set():
                    svc.positions()
                    svc.rank(120.38, 36.06, 5)
                    svc.coverage(10)
                    svc.tracks(None, T0, T0 + 60)
                    svc.visits(T0, T0 + 3600)
            except BaseException as exc:
                errors.append(exc)

        readers = [threading.Thread(target=read) for _ in range(2)]
        writer = threading.Thread(target=feed)
        for th in readers + [writer]:
            th.start()
        writer.join(60)
        for th in readers:
            th.join(60)
        assert errors == []
        svc.flush()
        got = svc.tracks(None, T0, T0 + 60)
        assert len(got) == 100 and all(len(tr) == 60 for tr in got.values())
        assert len(svc.positions()) == 100


def test_without_a_district_the_service_still_tracks_and_ranks(tmp_path):
    with PatrolService(tmp_path / "j.sqlite", None, clock=lambda: T0, autoflush_s=0) as svc:
        fix = PatrolPosition(unit="car-01", kind="car", time="", epoch=T0, lon=120.0, lat=36.0, crs="WGS84",
                             speed_kmh=0.0, heading_deg=0.0, lon_wgs=120.0, lat_wgs=36.0)
        svc.ingest([fix])
        r = svc.rank(120.01, 36.0)
        assert [o.method for o in r.options] == ["straight"] and not r.at_sea
        assert svc.coverage(10) == () and svc.visits(T0, T0 + 10) == () and svc.tick(T0).alarms == ()
        with pytest.raises(TypeError):
            PatrolService(tmp_path / "k.sqlite", None, clock=42)


def test_fixes_older_than_the_retention_are_deleted(tmp_path):
    day = 86400.0
    clock = {"t": T0}
    with PatrolService(tmp_path / "j.sqlite", None, clock=lambda: clock["t"], autoflush_s=0,
                       retention_days=2) as svc:
        def fix(t):
            return PatrolPosition(unit="car-01", kind="car", time="", epoch=t, lon=120.0, lat=36.0, crs="WGS84",
                                  speed_kmh=0.0, heading_deg=0.0, lon_wgs=120.0, lat_wgs=36.0)
        svc.ingest([fix(T0 + k * 3600.0) for k in range(0, 24 * 5, 6)])  # five days, every 6 h
        svc.flush()
        clock["t"] = T0 + 5 * day
        svc.tick()
        left = svc.tracks(None, T0 - day, T0 + 6 * day)["car-01"]
        assert left.t0 >= T0 + 3 * day and svc.pruned == 12  # days 0–2 gone (12 fixes), days 3–4 kept
        assert svc.tick().now == clock["t"] and svc.pruned == 12  # not again before six hours
    with pytest.raises(ValueError, match="retention_days"):
        PatrolService(tmp_path / "k.sqlite", None, retention_days=0)
