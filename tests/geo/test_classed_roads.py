"""A fuller OSM extract draws the base layer's roads by class (geo/data/build_osm.py --classed-roads)."""
import json

import numpy as np
import pytest
import shapely

from geo.data import build_osm


def _way(highway, coords, kind="LineString"):
    return {"type": "Feature", "properties": {"highway": highway, "ref": "G10"},
            "geometry": {"type": kind, "coordinates": coords}}


@pytest.fixture
def extract(tmp_path):
    features = [
        _way("motorway", [[126.60, 45.75], [126.20, 45.90], [125.80, 46.10]]),
        _way("motorway", [[125.80, 46.10], [125.00, 46.60]]),  # continues the one before: merged into one line
        _way("motorway_link", [[126.20, 45.90], [126.21, 45.91]]),
        _way("trunk", [[[127.0, 46.0], [127.5, 46.3]], [[127.5, 46.3], [128.0, 46.5]]], "MultiLineString"),
        _way("primary", [[129.6, 44.6], [129.4, 44.5]]),
        _way("residential", [[126.61, 45.75], [126.62, 45.76]]),  # not drawn
        _way("motorway", [[116.40, 39.90], [116.50, 39.95]]),  # Beijing: outside the region
        {"type": "Feature", "properties": {"highway": "motorway"},
         "geometry": {"type": "Point", "coordinates": [126.6, 45.7]}},  # not a line
    ]
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def test_roads_are_grouped_by_class_clipped_to_the_region_and_other_ways_left_out(extract):
    layer = build_osm.classed_roads_geojson(extract)
    by_class = {f["properties"]["class"]: f["geometry"] for f in layer["features"]}
    assert set(by_class) == {"expressway", "national", "provincial"}
    expressway = shapely.geometry.shape(by_class["expressway"])
    assert not expressway.intersects(shapely.box(115, 39, 118, 41))  # the Beijing motorway is clipped away
    assert expressway.length == pytest.approx(shapely.LineString(
        [[126.60, 45.75], [126.20, 45.90], [125.80, 46.10], [125.00, 46.60]]).length
        + shapely.LineString([[126.20, 45.90], [126.21, 45.91]]).length, rel=1e-6)
    assert shapely.geometry.shape(by_class["national"]).length == pytest.approx(
        shapely.LineString([[127.0, 46.0], [127.5, 46.3], [128.0, 46.5]]).length, rel=1e-6)
    drawn = shapely.union_all([shapely.geometry.shape(g) for g in by_class.values()])
    assert not drawn.intersects(shapely.Point(126.615, 45.755).buffer(0.001))  # the residential street


def test_the_basemap_writes_classed_roads_when_given_an_extract(extract, tmp_path):
    out = tmp_path / "static"
    empty = {"lon_mdeg": [], "lat_mdeg": [], "a": [], "b": [], "km": []}
    graph = {k: np.asarray(v, dtype=np.int32) for k, v in empty.items()}
    build_osm.write_basemap(graph, graph, out_dir=out, classed_roads=extract)
    roads = json.loads((out / "roads.geojson").read_text(encoding="utf-8"))
    assert sorted(f["properties"]["class"] for f in roads["features"]) == ["expressway", "national", "provincial"]
    assert (out / "railways.geojson").exists() and (out / "labels.geojson").exists()


def test_an_extract_without_drawable_roads_is_refused_with_its_name(tmp_path):
    path = tmp_path / "paths.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        _way("footway", [[126.6, 45.7], [126.7, 45.8]])]}), encoding="utf-8")
    with pytest.raises(ValueError, match="paths.geojson: no motorway, trunk or primary"):
        build_osm.classed_roads_geojson(path)
