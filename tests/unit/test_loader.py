"""Dataset loading: every layer read, projected, indexed; bad input named and contained."""
import json

import pytest

from desktop.core.district.loader import DatasetError, load_district
from desktop.core.geo.crs import MapProjection
from desktop.core.geo.spatial import PointIndex, PolygonIndex


def test_tiny_dataset_loads_every_layer(tiny_district):
    d = load_district(tiny_district)
    assert d.info.name == "测试区" and d.info.crs == "GCJ02" and d.info.adcode == "999001"
    assert len(d.cameras) == 40
    kinds = d.cameras.count_by_kind()
    assert kinds["hd"] > 0 and kinds["radar"] > 0 and sum(kinds.values()) == 40
    assert len(d.grid) == 4 and len(d.zones) == 1 and len(d.risks) == 1
    assert len(d.patrol_routes) == 1 and len(d.patrol_posts) == 1 and len(d.control_areas) == 1
    assert d.subdistricts() == ["一街道"] and d.communities() == ["乙社区", "甲社区"]
    assert d.warnings == []
    # map coordinates are Web Mercator metres of the GCJ-02 positions
    cam = d.cameras.records[0]
    x, y = MapProjection("GCJ02").forward(cam.lon, cam.lat, "GCJ02")
    assert (cam.x, cam.y) == pytest.approx((x, y))
    # WGS84 columns for linkage are the inverse GCJ transform (hundreds of metres away)
    assert abs(d.cameras.lon_wgs[0] - cam.lon) > 0.001


def test_cameras_are_hit_testable_through_the_point_index(tiny_district):
    d = load_district(tiny_district)
    idx = PointIndex(d.cameras.x, d.cameras.y)
    cam = d.cameras.records[5]
    assert idx.nearest(cam.x + 3, cam.y - 2, max_distance=10) == 5
    assert idx.nearest(cam.x + 500, cam.y + 500, max_distance=10) is None
    cells = PolygonIndex([c.map_geom for c in d.grid])
    assert len(cells.containing(cam.x, cam.y)) == 1


def test_missing_boundary_is_a_clear_error(tiny_district):
    (tiny_district / "district.geojson").unlink()
    with pytest.raises(DatasetError, match="district.geojson"):
        load_district(tiny_district)


def test_broken_optional_layer_is_reported_and_the_rest_loads(tiny_district):
    (tiny_district / "zones.geojson").write_text("{not json", encoding="utf-8")
    d = load_district(tiny_district)
    assert d.zones == [] and len(d.cameras) == 40
    assert any("zones.geojson" in w and "not valid GeoJSON" in w for w in d.warnings)
    with pytest.raises(DatasetError, match="zones.geojson"):
        load_district(tiny_district, strict=True)


def test_a_bad_camera_is_named_and_skipped(tiny_district):
    path = tiny_district / "cameras.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["features"][3]["properties"]["kind"] = "drone"
    doc["features"][7]["properties"]["fov_deg"] = 999
    doc["features"][9]["geometry"] = {"type": "Point", "coordinates": [500.0, 36.0]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    d = load_district(tiny_district)
    assert len(d.cameras) == 37
    text = "\n".join(d.warnings)
    assert "CAM003" in text and "drone" in text
    assert "CAM007" in text and "fov_deg" in text
    assert "CAM009" in text and "out of range" in text


def test_missing_optional_layers_are_simply_absent(tiny_district):
    for name in ("zones", "patrol", "risk", "grid", "context"):
        (tiny_district / f"{name}.geojson").unlink()
    d = load_district(tiny_district)
    assert d.zones == [] and d.grid == [] and d.patrol_routes == [] and d.warnings == []


def test_district_toml_errors_name_the_key(tiny_district):
    (tiny_district / "district.toml").write_text('name = "x"\ncrs = "MARS2000"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="MARS2000"):
        load_district(tiny_district)
    (tiny_district / "district.toml").write_text('crs = "GCJ02"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="'name'"):
        load_district(tiny_district)


def test_wgs84_dataset_is_converted_to_the_gcj_map(tiny_district):
    toml = tiny_district / "district.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('"GCJ02"', '"WGS84"'), encoding="utf-8")
    d_wgs = load_district(tiny_district)
    cam = d_wgs.cameras.records[0]
    x, y = MapProjection("GCJ02").forward(cam.lon, cam.lat, "WGS84")
    assert (cam.x, cam.y) == pytest.approx((x, y))
    assert d_wgs.cameras.lon_wgs[0] == pytest.approx(cam.lon)
