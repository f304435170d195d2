"""Rail: railheads on the OSM rail graph, passenger-only lines left out, fallback to road with a reason."""

import numpy as np
import pytest

import geo.costs
from geo import find_place, route
from geo.rail import RailNetwork, close_gaps, rail_network


def _ll(name):
    p = find_place(name)
    return p.lon, p.lat


def test_railheads_are_stations_near_the_track_and_the_rest_are_listed():
    rail = rail_network()
    assert rail.n > 150 and "哈尔滨" in rail.names and "齐齐哈尔" in rail.names
    assert set(rail.names).isdisjoint(rail.unplaced)


def test_every_railhead_reaches_other_railheads_by_rail():
    """A station beside a node whose line was dropped (passenger-only) is no railhead: e.g. 笔架山 near an
    isolated node of the dropped line east of 佳木斯 could reach no station at all."""
    rail = rail_network()
    assert np.isfinite(rail.table).any(axis=1).all()
    assert "笔架山" in rail.unplaced


def test_railheads_snap_only_to_nodes_on_track():
    import pandas as pd

    from geo.rail import railheads_on

    st = pd.DataFrame({"name": ["A"], "lon": [0.0], "lat": [0.0]})
    node_lon, node_lat = np.array([0.001, 0.02]), np.array([0.0, 0.0])  # 0.1 km and 2.2 km away
    heads, node, snap, unplaced = railheads_on(st, node_lon, node_lat, np.array([False, True]))
    assert list(heads["name"]) == ["A"] and node.tolist() == [1] and snap[0] == pytest.approx(2.22, abs=0.01)
    assert railheads_on(st, node_lon, node_lat)[1].tolist() == [0]


def test_rail_table_is_symmetric_with_no_self_trips():
    t = rail_network().table
    assert np.allclose(np.where(np.isinf(t), -1, t), np.where(np.isinf(t.T), -1, t.T))
    assert np.isinf(np.diag(t)).all()


def test_rail_km_is_never_shorter_than_the_great_circle_between_stations():
    rail = rail_network()
    from geo.distance import haversine_km

    gc = haversine_km(rail.lon[:, None], rail.lat[:, None], rail.lon[None], rail.lat[None])
    finite = np.isfinite(rail.table)
    assert (rail.table[finite] >= gc[finite]).all()


def test_gap_closing_joins_a_nearby_piece_and_leaves_a_far_one():
    lon = np.array([0.0, 0.1, 0.2, 0.3, 5.0, 5.1])
    lat = np.zeros(6)
    a, b, w = np.array([0, 2, 4]), np.array([1, 3, 5]), np.array([11.1, 11.1, 11.1])
    a2, b2, _ = close_gaps(lon, lat, a, b, w, max_km=20.0)
    assert a2.size == 4 and {int(a2[-1]), int(b2[-1])} == {1, 2}


def test_bulk_qiqihar_jixi_goes_by_rail_between_named_railheads():
    r = route(_ll("齐齐哈尔"), _ll("鸡西"), "bulk")
    assert r.mode == "rail" and r.from_railhead and r.to_railhead and r.rail_unavailable is None


def test_hazardous_freight_records_why_rail_is_not_offered():
    r = route(_ll("齐齐哈尔"), _ll("鸡西"), "hazardous")
    assert r.mode == "road" and "not offered" in r.rail_unavailable


def test_a_pair_the_rail_graph_does_not_connect_falls_back_to_road_with_the_reason(monkeypatch):
    real = rail_network()
    cut = RailNetwork(real.names, real.lon, real.lat, np.full_like(real.table, np.inf))
    monkeypatch.setattr(geo.costs, "rail_network", lambda: cut)
    r = route(_ll("齐齐哈尔"), _ll("鸡西"), "bulk")
    assert r.mode == "road" and r.rail_km is None and "does not connect" in r.rail_unavailable
    assert r.cost_yuan_per_t == pytest.approx(r.road_cost_yuan_per_t)
