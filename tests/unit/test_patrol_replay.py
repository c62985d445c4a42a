"""The replay model: it shows what was recorded, and its timeline plays, pauses, seeks and steps."""
from __future__ import annotations

import time

import numpy as np
import pytest

from desktop.core.feeds.schema import PatrolPosition
from desktop.core.patrol.geometry import LocalFrame
from desktop.core.patrol.journal import PositionJournal
from desktop.core.patrol.replay import ReplayModel
from desktop.core.patrol.service import PatrolService
from desktop.core.patrol.synthetic import fill_journal, synthetic_tracks
from desktop.core.patrol.track import Track

T0 = 1717203600.0
F = LocalFrame(120.38, 36.06)


def line_track(unit, kind, ts, x0=0.0, vx=10.0):
    ts = np.asarray(ts, float)
    lon, lat = F.inv(x0 + vx * (ts - ts[0]), np.zeros_like(ts))
    return Track(unit, kind, T0 + ts, np.asarray(lon), np.asarray(lat), np.full(len(ts), vx * 3.6),
                 np.full(len(ts), 90.0))


def test_replay_shows_what_was_recorded(tmp_path):
    """Fixes fed to the service, journaled, compacted, loaded: the frame at each fix's time is that fix."""
    rng = np.random.default_rng(7)
    with PatrolService(tmp_path / "j.sqlite", None, clock=lambda: T0, autoflush_s=0) as svc:
        fed = {}
        for u in ("car-01", "ebike-02", "foot-03"):
            ts = np.cumsum(rng.uniform(1, 20, 150))  # irregular, ~25 min
            lon = 120.38 + np.cumsum(rng.normal(0, 1e-4, 150))
            lat = 36.06 + np.cumsum(rng.normal(0, 1e-4, 150))
            fed[u] = (T0 + ts, lon, lat)
            svc.ingest([PatrolPosition(unit=u, kind=u.split("-")[0], time="", epoch=float(T0 + t), lon=float(a),
                                       lat=float(b), crs="WGS84", speed_kmh=12.5, heading_deg=45.0,
                                       lon_wgs=float(a), lat_wgs=float(b)) for t, a, b in zip(ts, lon, lat)])
        svc.flush()
        assert svc.journal.compact(before=T0 + 1200) > 0  # part of it packed into chunks
        model = svc.replay(None, T0, T0 + 4000)
        assert model.units == ("car-01", "ebike-02", "foot-03") and model.kinds == ("car", "ebike", "foot")
        for i, u in enumerate(model.units):
            ts, lon, lat = fed[u]
            # what the journal gives the replay is every fix fed, in order (times to the ms)
            rec_t = model.tracks[u].t
            assert len(rec_t) == 150 and np.allclose(rec_t, ts, atol=0.6e-3)
            for k in range(0, 150, 7):
                fr = model.seek(rec_t[k])
                assert fr.visible[i] and fr.fix[i] == k
                assert fr.lon[i] == pytest.approx(lon[k], abs=1.5e-7) and fr.lat[i] == pytest.approx(lat[k], abs=1.5e-7)
                assert fr.speed_kmh[i] == pytest.approx(12.5, abs=0.05) and fr.heading_deg[i] == pytest.approx(45, abs=0.01)


def test_between_fixes_interpolated_then_held_then_gone():
    # fixes every 10 s for 100 s, then a 200 s gap, then 10 more
    ts = list(range(0, 101, 10)) + list(range(300, 401, 10))
    m = ReplayModel([line_track("car-01", "car", ts), line_track("foot-01", "foot", [50, 60], vx=1.0)])
    fr = m.frame(T0 + 15)
    i = m.units.index("car-01")
    x, _ = F.fwd(fr.lon[i], fr.lat[i])
    assert x == pytest.approx(150, abs=0.01) and fr.age_s[i] == 5  # half-way between two fixes
    j = m.units.index("foot-01")
    assert not fr.visible[j] and np.isnan(fr.age_s[j]) and fr.fix[j] == -1  # before its first fix
    fr = m.frame(T0 + 150)  # 50 s after the last fix before the gap: held there
    assert fr.visible[i] and F.fwd(fr.lon[i], fr.lat[i])[0] == pytest.approx(1000, abs=0.01)
    assert not m.frame(T0 + 161).visible[i]  # more than a minute without a fix: gone
    assert m.frame(T0 + 300).visible[i]
    assert m.frame(T0 + 121).visible[j] is not None and not m.frame(T0 + 121).visible[j]
    assert np.isnan(m.frame(T0 + 161).lon[i])
    gcj = m.frame(T0 + 15)
    assert abs(gcj.lon_gcj[i] - gcj.lon[i]) > 1e-4  # GCJ-02 is offset from WGS84 in China


def test_timeline_play_pause_seek_step_follow():
    m = ReplayModel({"a": line_track("a", "car", range(0, 3601, 1)), "b": line_track("b", "ebike", range(0, 3601, 5))})
    assert (m.t0, m.t1, m.t) == (T0, T0 + 3600, T0) and not m.playing
    m.advance(10)
    assert m.t == T0  # paused: time stands still
    assert m.set_speed(60) == 60 and m.set_speed(500) == 120 and m.set_speed(0.1) == 1
    with pytest.raises(ValueError):
        m.set_speed(float("nan"))
    m.set_speed(60)
    m.play()
    m.advance(0.5)
    assert m.t == T0 + 30
    m.pause()
    m.advance(1)
    assert m.t == T0 + 30
    assert m.seek(T0 - 100).t == T0 and m.seek(T0 + 1e9).t == T0 + 3600 and m.fraction == 1.0
    m.play()  # at the end: from the start again
    assert m.t == T0 and m.playing
    m.advance(100)  # 6000 s at 60×: stops at the end
    assert m.t == T0 + 3600 and not m.playing
    m.seek_fraction(0.5)
    assert m.t == T0 + 1800
    m.play()
    assert m.step(-10).t == T0 + 1790 and not m.playing
    m.follow("b")
    assert m.frame().followed == "b"
    assert m.step_fix(1).t == T0 + 1795 and m.step_fix(-1).t == T0 + 1790
    with pytest.raises(KeyError):
        m.follow("nobody")
    m.follow(None)
    assert m.step_fix(1).t == T0 + 1791  # any unit's next fix
    trail = m.trail("a", 60)
    assert trail.shape == (61, 2) and trail[-1].tolist() == [m.tracks["a"].lon[1791], m.tracks["a"].lat[1791]]
    assert m.position("a") == pytest.approx((m.tracks["a"].lon[1791], m.tracks["a"].lat[1791]))


def test_stops_with_arrival_and_departure_in_a_replay():
    ts = np.arange(0, 1200, 1.0)
    x = np.where(ts < 300, ts * 8.0, np.where(ts < 600, 2400.0, 2400.0 + (ts - 600) * 8.0))  # parked 300..599
    lon, lat = F.inv(x, np.zeros_like(x))
    tr = Track("car-01", "car", T0 + ts, np.asarray(lon), np.asarray(lat), np.zeros_like(ts), np.zeros_like(ts))
    m = ReplayModel([tr])
    (stop,) = m.stops("car-01")
    assert stop.arrival == pytest.approx(T0 + 294, abs=1) and stop.departure == pytest.approx(T0 + 606, abs=1)
    assert m.stop_at("car-01", T0 + 450) == stop and m.stop_at("car-01", T0 + 100) is None
    assert [round(t.distance_m) for t in m.trips("car-01")] == [pytest.approx(2350, abs=10), pytest.approx(4750, abs=10)]
    assert m.stops("car-01") is not m.stops("car-01")  # a copy of the cached list


def test_frames_and_seeks_over_many_fixes_are_fast(tmp_path):
    """A scaled-down benchmark: 50 units × 2 h at 1 Hz (360 k fixes) from the journal."""
    with PositionJournal(tmp_path / "j.sqlite", autoflush_s=0) as j:
        fill_journal(j, units=50, t0=T0, hours=2, seed=2)
        t = time.perf_counter()
        m = ReplayModel.from_journal(j, None, T0, T0 + 7200)
        load_s = time.perf_counter() - t
    assert len(m) == 50 and m.fixes == 50 * 7200 and load_s < 2.0
    rng = np.random.default_rng(0)
    seeks, frames = [], []
    m.set_speed(60)
    m.play()
    for _ in range(50):
        t = time.perf_counter()
        m.seek(T0 + rng.uniform(0, 7200))
        seeks.append(time.perf_counter() - t)
        t = time.perf_counter()
        fr = m.advance(1 / 30)
        frames.append(time.perf_counter() - t)
        assert fr.visible.sum() == 50
    assert np.percentile(seeks, 95) < 0.05 and np.percentile(frames, 95) < 0.033


def test_an_empty_replay_and_a_bad_span():
    m = ReplayModel([], T0, T0 + 10)
    fr = m.frame()
    assert len(m) == 0 and fr.units == () and fr.lon.size == 0
    with pytest.raises(ValueError):
        ReplayModel(synthetic_tracks(1, T0, 10), T0 + 10, T0)
