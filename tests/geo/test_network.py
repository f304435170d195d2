"""Road network: the OSM graph's connectivity and metric properties, custom GeoJSON networks."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import find_place, road_km_matrix, within_road_km
from geo.boundaries import seats
from geo.circuity import ROAD_CIRCUITY
from geo.distance import geodesic_line_km, haversine_km
from geo.network import COLLAPSE_KM, RoadNetwork, collapse_short_edges, osm_road_network

SEATS = seats()
PREF = SEATS[SEATS["level"] == "prefecture"].reset_index(drop=True)


def _pref_matrix():
    return road_km_matrix(PREF["lon"], PREF["lat"], PREF["lon"], PREF["lat"])


def test_osm_road_network_is_one_connected_graph_of_thousands_of_nodes():
    net = osm_road_network()
    assert net.n_nodes > 2000 and net.is_connected()


def test_road_table_is_symmetric():
    t = osm_road_network().table()
    assert np.allclose(t, t.T)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2000), st.integers(0, 2000), st.integers(0, 2000))
def test_road_table_obeys_triangle_inequality(i, j, k):
    t = osm_road_network().table()
    assert t[i, k] <= t[i, j] + t[j, k] + 1e-3


def test_every_seat_reaches_every_other_seat_by_road():
    km = road_km_matrix(SEATS["lon"], SEATS["lat"], SEATS["lon"], SEATS["lat"])
    assert np.isfinite(km).all()


def test_no_prefecture_pair_is_shorter_than_the_great_circle_or_absurdly_long():
    km = _pref_matrix()
    lon, lat = PREF["lon"].to_numpy(), PREF["lat"].to_numpy()
    gc = haversine_km(lon[:, None], lat[:, None], lon[None], lat[None])
    off = ~np.eye(len(PREF), dtype=bool)
    ratio = km[off] / gc[off]
    assert ratio.min() >= 1.0 and ratio.max() <= 2.0


def test_merging_short_edges_moves_no_node_far():
    from geo.network import OSM_NETWORK_FILE, load_npz_graph

    lon, lat, a, b, w = load_npz_graph(OSM_NETWORK_FILE, "road")
    mlon, mlat, *_ = collapse_short_edges(lon, lat, a, b, w, COLLAPSE_KM)
    merged = RoadNetwork.from_links([str(i) for i in range(mlon.size)], mlon, mlat, [], [], [])
    access_km = merged.nearest_nodes(lon, lat, k=1)[1]
    assert mlon.size < lon.size and (access_km / ROAD_CIRCUITY).max() < 5.0


def test_merging_short_edges_keeps_the_km_across_the_merged_cluster():
    """P —11 km— A —0.56 km— B —11 km— Q on the equator: A and B merge, yet P→Q is not shortened."""
    from scipy.sparse.csgraph import dijkstra

    lon = np.array([-0.1, 0.0, 0.005, 0.105])
    lat = np.zeros(4)
    a, b = np.array([0, 1, 2]), np.array([1, 2, 3])
    w = haversine_km(lon[a], lat[a], lon[b], lat[b])
    mlon, mlat, ma, mb, mw = collapse_short_edges(lon, lat, a, b, w, COLLAPSE_KM)
    assert mlon.size == 3  # A and B became one node
    net = RoadNetwork.from_links([str(i) for i in range(mlon.size)], mlon, mlat, ma, mb, mw)
    across = dijkstra(net.graph, directed=False, indices=0)[2]
    assert across == pytest.approx(w.sum(), rel=1e-9)
    assert across >= haversine_km(lon[0], lat[0], lon[3], lat[3])


def test_road_km_matrix_is_symmetric_between_two_places():
    h, q = find_place("Harbin"), find_place("Qiqihar")
    there = road_km_matrix([h.lon], [h.lat], [q.lon], [q.lat])[0, 0]
    back = road_km_matrix([q.lon], [q.lat], [h.lon], [h.lat])[0, 0]
    assert there == pytest.approx(back, rel=1e-5)


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


def test_road_table_filled_from_many_threads_gives_every_row_whole():
    from concurrent.futures import ThreadPoolExecutor

    base = osm_road_network()
    fresh = RoadNetwork(base.node_lon, base.node_lat, base.graph)  # an empty table, filled by the threads
    rng = np.random.default_rng(3)
    asks = [rng.integers(0, fresh.n_nodes, 40) for _ in range(32)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(fresh.node_rows, asks))
    for idx, rows in zip(asks, got, strict=True):
        assert not np.isnan(rows).any()
        np.testing.assert_array_equal(rows, base.node_rows(idx))
