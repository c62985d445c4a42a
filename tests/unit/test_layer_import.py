"""Importing the user's own layers: GeoJSON in the CRS it declares, KML (WGS84) with its styles,
hostile KML refused without expanding anything, broken features named and skipped."""
import json

import numpy as np
import pytest

from desktop.core.geo.crs import MapProjection, from_wgs84, gcj02_to_wgs84, wgs84_to_gcj02
from desktop.core.layers.kml import kml_color
from desktop.core.layers.user_layer import PALETTE, LayerImportError, crs_of_member, import_layer

PROJ = MapProjection("GCJ02")
LON, LAT = 120.3400, 36.0400  # WGS84, off Shinan


def fc(features, **top):
    return {"type": "FeatureCollection", **top, "features": features}


def point(lon, lat, **props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


def write(tmp_path, name, doc):
    p = tmp_path / name
    p.write_text(json.dumps(doc, ensure_ascii=False) if isinstance(doc, dict) else doc, encoding="utf-8")
    return p


def map_xy(lon, lat, crs="WGS84"):
    return tuple(float(v) for v in PROJ.forward(lon, lat, crs))


def test_geojson_without_crs_is_wgs84_and_lands_where_a_wgs84_point_does(tmp_path):
    layer = import_layer(write(tmp_path, "posts.geojson", fc([point(LON, LAT, name="A")])), PROJ)
    assert layer.crs == "WGS84" and layer.format == "geojson" and layer.name == "posts"
    named = import_layer(write(tmp_path, "x.geojson", fc([point(LON, LAT)], name="临时岗亭")), PROJ)
    assert named.name == "临时岗亭"  # the collection's own name (as QGIS writes it)
    (f,) = layer.features
    assert (f.map_geom.x, f.map_geom.y) == pytest.approx(map_xy(LON, LAT), abs=0.01)
    assert layer.style.stroke == PALETTE[0]
    assert import_layer(write(tmp_path, "b.geojson", fc([point(LON, LAT)])), PROJ, number=1).style.stroke == PALETTE[1]


@pytest.mark.parametrize("member, crs", [
    ({"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}, "EPSG:4490"),
    ({"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "WGS84"),
    ({"type": "name", "properties": {"name": "EPSG:4549"}}, "EPSG:4549"),
    ({"type": "EPSG", "properties": {"code": 4326}}, "WGS84"),
    ({"type": "name", "properties": {"name": "GCJ02"}}, "GCJ02"),
    ("http://www.opengis.net/def/crs/EPSG/0/4547", "EPSG:4547"),
])
def test_the_crs_member_is_read(member, crs):
    assert crs_of_member(member) == crs


def test_a_projected_and_a_gcj02_layer_land_on_the_same_spot(tmp_path):
    # the same WGS84 point written in CGCS2000 / 3-degree GK CM 120E (EPSG:4549, metres) and in GCJ-02
    x, y = from_wgs84(LON, LAT, "EPSG:4549")
    gk = import_layer(write(tmp_path, "gk.geojson", fc([point(float(x), float(y))], crs={
        "type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}})), PROJ)
    glon, glat = wgs84_to_gcj02(LON, LAT)
    gcj = import_layer(write(tmp_path, "gcj.geojson", fc([point(float(glon), float(glat))], crs={
        "type": "name", "properties": {"name": "GCJ02"}})), PROJ)
    want = map_xy(LON, LAT)
    assert gk.crs == "EPSG:4549" and gcj.crs == "GCJ02"
    for layer in (gk, gcj):
        f = layer.features[0]
        assert (f.map_geom.x, f.map_geom.y) == pytest.approx(want, abs=0.5)  # half a map metre


def test_broken_features_are_named_and_skipped_the_rest_imported(tmp_path):
    feats = [point(LON, LAT, name="good"),
             {"type": "Feature", "id": "no-geom", "properties": {}},
             point(LON, 95.0, name="north of the pole"),
             {"type": "Feature", "properties": {"name": "bent"}, "geometry": {"type": "LineString",
                                                                             "coordinates": [[LON]]}},
             "not a feature",
             point(LON + 0.01, LAT, name="good too", stroke="#ff0000", fill="red")]
    layer = import_layer(write(tmp_path, "mixed.geojson", fc(feats)), PROJ)
    assert [f.name for f in layer.features] == ["good", "good too"]
    assert layer.features[1].stroke == "#ff0000" and layer.features[1].fill == ""  # "red" is not #rrggbb
    w = layer.warnings
    assert len(w) == 4 and all(x.startswith("mixed.geojson, feature ") for x in w)
    assert "feature 2 (no-geom)" in w[0] and "feature 3 (north of the pole)" in w[1]
    assert "out of range" in w[1] and "feature 5" in w[3]


@pytest.mark.parametrize("name, content, words", [
    ("missing.geojson", None, "no such file"),
    ("bad.geojson", "{not json", "not valid GeoJSON"),
    ("nan.geojson", '{"type": "Point", "coordinates": [NaN, 1]}', "not valid GeoJSON"),
    ("list.geojson", "[]", "top level"),
    ("crs.geojson", json.dumps(fc([point(1, 1)], crs={"type": "name", "properties": {"name": "EPSG:999999"}})),
     "'crs'"),
    ("empty.geojson", json.dumps(fc([])), "no feature"),
    ("allbad.geojson", json.dumps(fc([{"type": "Feature", "properties": {}}])), "none of its 1 features"),
    ("latin1.geojson", b'{"type": "FeatureCollection", "features": [], "x": "\xe9"}', "not UTF-8"),
    ("what.txt", "hello", "neither GeoJSON nor KML"),
])
def test_files_that_cannot_be_imported_say_why_naming_the_file(tmp_path, name, content, words):
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    elif content is not None:
        p.write_text(content, encoding="utf-8")
    with pytest.raises(LayerImportError) as info:
        import_layer(p, PROJ)
    assert str(info.value).startswith(f"{name}: ") and words in str(info.value)


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    p = write(tmp_path, "big.geojson", fc([point(LON, LAT)] * 50))
    with pytest.raises(LayerImportError, match="MB"):
        import_layer(p, PROJ, max_bytes=1000)


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><name>海上</name>
  <Style id="red"><LineStyle><color>ff0000ff</color></LineStyle><PolyStyle><color>400000ff</color></PolyStyle></Style>
  <StyleMap id="redmap"><Pair><key>normal</key><styleUrl>#red</styleUrl></Pair>
    <Pair><key>highlight</key><styleUrl>#nothing</styleUrl></Pair></StyleMap>
  <Folder><name>警戒</name>
    <Placemark id="pm-zone"><name>锚地</name><styleUrl>#redmap</styleUrl>
      <Polygon><outerBoundaryIs><LinearRing><coordinates>
        120.33,36.03,0 120.35,36.03,0 120.35,36.045,0 120.33,36.045,0 120.33,36.03,0
      </coordinates></LinearRing></outerBoundaryIs>
      <innerBoundaryIs><LinearRing><coordinates>120.34,36.035 120.342,36.035 120.342,36.037 120.34,36.035
      </coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>
    <Placemark><name>浮标</name><ExtendedData><Data name="kind"><value>buoy</value></Data></ExtendedData>
      <Style><IconStyle><color>ff00ff00</color></IconStyle></Style>
      <Point><coordinates>120.34,36.04</coordinates></Point></Placemark>
    <Placemark><name>坏线</name><LineString><coordinates>120.3,abc</coordinates></LineString></Placemark>
    <Placemark><name>航迹</name><gx:Track><gx:coord>120 36 0</gx:coord></gx:Track></Placemark>
    <Placemark><name>航线</name><MultiGeometry>
      <LineString><coordinates>120.30,36.00 120.31,36.01</coordinates></LineString>
      <LineString><coordinates>120.31,36.01 120.32,36.00</coordinates></LineString></MultiGeometry></Placemark>
  </Folder>
</Document></kml>"""


def test_kml_placemarks_with_styles_folders_and_data(tmp_path):
    layer = import_layer(write(tmp_path, "sea.kml", KML), PROJ)
    assert layer.format == "kml" and layer.crs == "WGS84"
    assert layer.name == "海上"  # the Document's name, not the file's
    names = [f.name for f in layer.features]
    assert names == ["锚地", "浮标", "航线"]
    zone, buoy, route = layer.features
    assert zone.id == "pm-zone" and zone.geom.geom_type == "Polygon" and len(zone.geom.interiors) == 1
    assert zone.stroke == "#ff0000" and zone.fill == "#ff0000" and zone.fill_alpha == pytest.approx(0x40 / 255)
    assert buoy.stroke == "#00ff00" and buoy.props["kind"] == "buoy" and buoy.props["folder"] == "海上/警戒"
    assert route.geom.geom_type == "MultiLineString"
    x, y = map_xy(120.34, 36.04)
    assert (buoy.map_geom.x, buoy.map_geom.y) == pytest.approx((x, y), abs=0.01)  # KML is WGS84
    assert len(layer.warnings) == 2
    assert layer.warnings[0].startswith("sea.kml, feature 3 (坏线): ") and "abc" in layer.warnings[0]
    assert "feature 4 (航迹)" in layer.warnings[1] and "Track" in layer.warnings[1]
    assert layer.counts() == {"point": 1, "line": 1, "polygon": 1}


LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE kml [
 <!ENTITY a "ha">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<kml><Placemark><name>&d;&d;&d;&d;&d;&d;&d;</name><Point><coordinates>120,36</coordinates></Point></Placemark></kml>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<kml><Placemark><name>&secret;</name><Point><coordinates>120,36</coordinates></Point></Placemark></kml>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE kml SYSTEM "http://127.0.0.1:9/evil.dtd">
<kml><Placemark><name>&x;</name><Point><coordinates>120,36</coordinates></Point></Placemark></kml>"""


@pytest.mark.parametrize("doc, words", [
    (LAUGHS, "entity declarations are not accepted"),
    (XXE, "entity declarations are not accepted"),
    (EXTERNAL_DTD, "an external DTD is not accepted"),  # and never fetched
    ("<kml>" * 100 + "</kml>" * 100, "nested deeper"),
    ("<kml><Placemark>", "not well-formed XML"),
    ("<gpx></gpx>", "not <kml>"),
])
def test_hostile_or_broken_kml_is_refused_naming_the_file(tmp_path, doc, words):
    with pytest.raises(LayerImportError) as info:
        import_layer(write(tmp_path, "evil.kml", doc), PROJ)
    assert str(info.value).startswith("evil.kml: ") and words in str(info.value)
    assert "root:" not in str(info.value)  # nothing of /etc/passwd came in


def test_kml_colours():
    assert kml_color("ff0000ff") == ("#ff0000", 1.0)
    assert kml_color("7f00ff00")[0] == "#00ff00"
    assert kml_color("red") is None and kml_color("") is None


def test_a_layer_s_bounds_are_in_map_coordinates(tmp_path):
    layer = import_layer(write(tmp_path, "two.geojson", fc([point(LON, LAT), point(LON + 0.01, LAT + 0.01)])), PROJ)
    minx, miny, maxx, maxy = layer.bounds()
    assert (minx, miny) == pytest.approx(map_xy(LON, LAT), abs=0.01)
    assert (maxx, maxy) == pytest.approx(map_xy(LON + 0.01, LAT + 0.01), abs=0.01)
    assert np.isfinite([minx, miny, maxx, maxy]).all()
    _ = gcj02_to_wgs84  # (imported for symmetry with the GCJ-02 case above)
