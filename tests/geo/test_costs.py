"""Cost matrices, modes, rates and freight classes."""

import csv

import numpy as np
import pytest

from geo import CATEGORY_FREIGHT_CLASS, FreightRates, cost_index_pairs, cost_matrix, cost_pairs, find_place, route
from geo.coords import in_service_area
from geo.rates import CATALOGUE_CSV, FREIGHT_CLASSES

with CATALOGUE_CSV.open(encoding="utf-8") as _fh:
    APP_CATEGORIES = {row["code"]: row["freight_class"] for row in csv.DictReader(_fh)}


def _ll(name):
    p = find_place(name)
    return p.lon, p.lat


def test_long_bulk_haul_qiqihar_jixi_goes_by_rail():
    r = route(_ll("齐齐哈尔"), _ll("鸡西"), "bulk")
    assert r.mode == "rail" and r.rail_km > 500 and r.cost_yuan_per_t < r.road_cost_yuan_per_t


def test_short_bulk_haul_harbin_shuangcheng_goes_by_road():
    r = route(_ll("哈尔滨"), _ll("双城区"), "bulk")
    assert r.mode == "road" and r.rail_km is None


def test_hazardous_waste_never_goes_by_rail():
    r = route(_ll("齐齐哈尔"), _ll("鸡西"), "hazardous")
    assert r.mode == "road" and r.rail_cost_yuan_per_t is None


def test_oversize_costs_more_than_bulk_by_road():
    bulk = route(_ll("哈尔滨"), _ll("双城区"), "bulk")
    big = route(_ll("哈尔滨"), _ll("双城区"), "oversize")
    assert big.mode == "road" and big.cost_yuan_per_t > bulk.cost_yuan_per_t


def test_cost_matrix_fields_have_m_by_n_shape_and_nan_rail_for_road_pairs():
    rng = np.random.default_rng(3)
    cm = cost_matrix(rng.uniform(124, 131, 6), rng.uniform(45, 48, 6), rng.uniform(124, 131, 4), rng.uniform(45, 48, 4))
    for arr in (cm.yuan_per_t, cm.road_km, cm.rail_km, cm.co2_kg_per_t, cm.mode, cm.great_circle_km):
        assert arr.shape == (6, 4)
    assert cm.mode.dtype == np.int8
    assert np.isnan(cm.rail_km[cm.mode == 0]).all() and np.isfinite(cm.rail_km[cm.mode == 1]).all()


def test_cost_matrix_matches_route_for_the_same_pair():
    (a, b), (c, d) = _ll("齐齐哈尔"), _ll("鸡西")
    cm = cost_matrix([a], [b], [c], [d])
    assert cm.yuan_per_t[0, 0] == pytest.approx(route((a, b), (c, d)).cost_yuan_per_t)


def test_road_distance_is_at_least_great_circle():
    rng = np.random.default_rng(5)
    cm = cost_matrix(
        rng.uniform(124, 131, 50), rng.uniform(45, 48, 50), rng.uniform(124, 131, 40), rng.uniform(45, 48, 40)
    )
    road = cm.mode == 0
    assert (cm.road_km[road] >= cm.great_circle_km[road] * 0.999).all()


def test_rates_can_be_overridden_with_a_dict():
    base = route(_ll("哈尔滨"), _ll("双城区"))
    dear = route(_ll("哈尔滨"), _ll("双城区"), rates={"road_yuan_per_tkm": 0.80})
    assert dear.cost_yuan_per_t > base.cost_yuan_per_t


def test_expensive_rail_makes_long_haul_go_by_road():
    r = route(_ll("齐齐哈尔"), _ll("鸡西"), rates=FreightRates(rail_yuan_per_tkm=1.0))
    assert r.mode == "road"


def test_unknown_freight_class_is_rejected():
    with pytest.raises(ValueError, match="bulk, general, hazardous, oversize"):
        route(_ll("哈尔滨"), _ll("大庆"), "liquid")


def test_unknown_rate_field_is_rejected():
    with pytest.raises(ValueError, match="unknown freight-rate"):
        route(_ll("哈尔滨"), _ll("大庆"), rates={"truck_rate": 1})


def test_every_app_category_maps_to_its_catalogue_freight_class():
    assert CATEGORY_FREIGHT_CLASS == APP_CATEGORIES
    assert set(CATEGORY_FREIGHT_CLASS.values()) <= set(FREIGHT_CLASSES)
    assert CATEGORY_FREIGHT_CLASS["coking_residue"] == "hazardous"


def test_rail_tariff_fixed_part_is_charged_once_per_rail_leg():
    free = route(_ll("齐齐哈尔"), _ll("鸡西"), "bulk", rates={"rail_fixed_yuan_per_t": 0.0})
    charged = route(_ll("齐齐哈尔"), _ll("鸡西"), "bulk", rates={"rail_fixed_yuan_per_t": 16.30})
    assert free.mode == charged.mode == "rail"
    assert charged.cost_yuan_per_t - free.cost_yuan_per_t == pytest.approx(16.30, abs=0.01)


@pytest.mark.parametrize("freight_class", ["bulk", "hazardous"])
def test_cost_pairs_equal_the_matching_cost_matrix_entries(freight_class):
    rng = np.random.default_rng(11)
    s_lon, s_lat = rng.uniform(124, 131, 8), rng.uniform(45, 48, 8)
    d_lon, d_lat = rng.uniform(124, 131, 8), rng.uniform(45, 48, 8)
    full = cost_matrix(s_lon, s_lat, d_lon, d_lat, freight_class)
    pairs = cost_pairs(s_lon, s_lat, d_lon, d_lat, freight_class)
    k = np.arange(8)
    assert np.allclose(pairs.yuan_per_t, full.yuan_per_t[k, k], rtol=1e-4)
    assert (pairs.mode == full.mode[k, k]).all()
    assert np.allclose(pairs.road_km, full.road_km[k, k], rtol=1e-4)


def test_cost_pairs_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="as many sources as destinations"):
        cost_pairs([126.6, 127.0], [45.7, 46.0], [126.0], [46.5])


@pytest.mark.parametrize("freight_class", ["bulk", "general", "hazardous", "oversize"])
def test_cost_index_pairs_are_the_cost_matrix_entries_bit_for_bit(freight_class):
    """The clearing prices only its candidate pairs; it must get exactly what the full matrix would say."""
    rng = np.random.default_rng(5)
    # Points of the south-east box that lie in the service area (the box reaches into Russia).
    lon, lat = rng.uniform(124, 133, 400), rng.uniform(44.5, 48.5, 400)
    keep = in_service_area(lon, lat)
    s_lon, s_lat = lon[keep][:60], lat[keep][:60]
    d_lon, d_lat = lon[keep][60:85], lat[keep][60:85]
    si, di = np.nonzero(rng.random((60, 25)) < 0.4)
    full = cost_matrix(s_lon, s_lat, d_lon, d_lat, freight_class)
    pairs = cost_index_pairs(s_lon, s_lat, d_lon, d_lat, si, di, freight_class)
    for name in ("yuan_per_t", "road_km", "rail_km", "co2_kg_per_t", "mode", "great_circle_km"):
        assert np.array_equal(getattr(pairs, name), getattr(full, name)[si, di], equal_nan=True), name
    if freight_class == "bulk":
        assert (pairs.mode == 1).any() and (pairs.mode == 0).any()  # both branches exercised
    assert cost_index_pairs(s_lon, s_lat, d_lon, d_lat, [], [], freight_class).yuan_per_t.shape == (0,)
    with pytest.raises(ValueError, match="as many sources as destinations"):
        cost_index_pairs(s_lon, s_lat, d_lon, d_lat, [0, 1], [0], freight_class)


def test_haversine_index_is_haversine_of_the_gathered_points_bit_for_bit():
    from geo.distance import haversine_index_km, haversine_km

    rng = np.random.default_rng(5)
    lon1, lat1 = rng.uniform(121, 135, 300), rng.uniform(43, 53, 300)
    lon2, lat2 = rng.uniform(121, 135, 70), rng.uniform(43, 53, 70)
    i, j = rng.integers(0, 300, 100_003), rng.integers(0, 70, 100_003)  # odd length: SIMD tails too
    np.testing.assert_array_equal(haversine_index_km(lon1, lat1, lon2, lat2, i, j),
                                  haversine_km(lon1[i], lat1[i], lon2[j], lat2[j]))
