"""Road network: connectivity, metric properties, published distances, custom GeoJSON networks."""

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import find_place, road_km_matrix, within_road_km
from geo.boundaries import seats
from geo.distance import geodesic_line_km, haversine_km
from geo.network import RoadNetwork, seat_network

PREF = [c for c in seats().loc[seats()["level"] == "prefecture", "adcode"]]

# Published road distances (km) with sources; see geo/data/README.md.
# Harbin–Daqing: 哈大公路 132.9 km (Heilongjiang gazetteer) + ~2×10 km urban approach.
HARBIN_DAQING_KM = 152.9
# Harbin–Qiqihar: 132.9 (哈大公路) + 43 + 101 (G10 Daqing–Qiqihar sections, Heilongjiang
# Transport Dept. 2009) + ~2×10 km urban approach.
HARBIN_QIQIHAR_KM = 132.9 + 43 + 101 + 20

# Prefecture pairs whose real roads detour more than 1.6 × great-circle (mountains, the Amur
# border, no direct road): Heihe–Jiagedaqi goes round by Nenjiang; Yichun–Heihe has no direct
# trunk road; Suihua–Jixi/Qitaihe route through Harbin; Hegang–Shuangyashan through Jiamusi.
DETOUR_PAIRS = {
    frozenset({"231100", "232700"}),
    frozenset({"230700", "231100"}),
    frozenset({"230300", "231200"}),
    frozenset({"230900", "231200"}),
    frozenset({"230400", "230500"}),
}


def _idx(code):
    return seat_network().node_ids.index(code)


def _gc(a, b):
    net = seat_network()
    i, j = _idx(a), _idx(b)
    return float(haversine_km(net.node_lon[i], net.node_lat[i], net.node_lon[j], net.node_lat[j]))


def test_every_seat_is_connected():
    net = seat_network()
    assert net.n_nodes == 135 and net.is_connected()


def test_seat_table_is_symmetric():
    t = seat_network().table()
    assert np.allclose(t, t.T)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 134), st.integers(0, 134), st.integers(0, 134))
def test_seat_distances_obey_triangle_inequality(i, j, k):
    t = seat_network().table()
    assert t[i, k] <= t[i, j] + t[j, k] + 1e-9


@pytest.mark.parametrize("a,b", list(itertools.combinations(PREF, 2)))
def test_prefecture_road_distance_is_1_0_to_1_6_times_great_circle(a, b):
    ratio = seat_network().table()[_idx(a), _idx(b)] / _gc(a, b)
    upper = 2.0 if frozenset({a, b}) in DETOUR_PAIRS else 1.6
    assert 1.0 <= ratio <= upper


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PREF), st.sampled_from(PREF))
def test_random_prefecture_pair_ratio_is_bounded(a, b):
    if a == b:
        return
    ratio = seat_network().table()[_idx(a), _idx(b)] / _gc(a, b)
    assert 1.0 <= ratio <= 2.0


def test_harbin_daqing_within_10_percent_of_published():
    assert seat_network().table()[_idx("230100"), _idx("230600")] == pytest.approx(HARBIN_DAQING_KM, rel=0.10)


def test_harbin_qiqihar_within_10_percent_of_published():
    assert seat_network().table()[_idx("230100"), _idx("230200")] == pytest.approx(HARBIN_QIQIHAR_KM, rel=0.10)


def test_point_matrix_between_seats_equals_seat_table():
    h, q = find_place("Harbin"), find_place("Qiqihar")
    km = road_km_matrix([h.lon], [h.lat], [q.lon], [q.lat])
    assert km[0, 0] == pytest.approx(seat_network().table()[_idx("230100"), _idx("230200")], rel=1e-5)


def test_road_km_matrix_shape():
    rng = np.random.default_rng(1)
    km = road_km_matrix(
        rng.uniform(125, 130, 7), rng.uniform(45, 47, 7), rng.uniform(125, 130, 3), rng.uniform(45, 47, 3)
    )
    assert km.shape == (7, 3) and np.isfinite(km).all()


def test_within_road_km_selects_nearby_points():
    h = find_place("Harbin")
    targets = [find_place(n) for n in ("双城区", "大庆", "鸡西")]
    mask, km = within_road_km(h.lon, h.lat, [t.lon for t in targets], [t.lat for t in targets], 200.0)
    assert list(mask) == [True, True, False] and km[0] < km[1] < km[2]


def _line(coords):
    return {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": coords}}


def test_custom_geojson_network_snaps_endpoints_and_measures_geodesic_length(tmp_path):
    a, b, c = [126.60, 45.70], [126.90, 45.70], [126.90, 45.95]
    b_off = [126.90 + 0.0001, 45.70]  # ~8 m away: must merge with b
    fc = {
        "type": "FeatureCollection",
        "features": [
            _line([a, [126.75, 45.72], b]),
            _line([b_off, c]),
            _line([[127.5, 46.5], [127.6, 46.5]]),  # disconnected island
        ],
    }
    path = tmp_path / "roads.geojson"
    path.write_text(json.dumps(fc))
    net = RoadNetwork.from_geojson(path, local_direct_km=0.0, access_k=1)
    assert net.n_nodes == 5
    expected = geodesic_line_km([a[0], 126.75, b[0]], [a[1], 45.72, b[1]]) + geodesic_line_km(
        [b_off[0], c[0]], [b_off[1], c[1]]
    )
    km = road_km_matrix([a[0]], [a[1]], [c[0]], [c[1]], network=net)
    assert km[0, 0] == pytest.approx(expected, rel=1e-4)
