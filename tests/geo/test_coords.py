"""Coordinate conversions, projection and input validation."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import OutOfRegionError, find_place, from_wgs84, to_wgs84
from geo.coords import project, unproject, validate_lonlat
from geo.distance import haversine_km

# Heilongjiang and its surroundings.
lons = st.floats(min_value=118.0, max_value=136.0, allow_nan=False)
lats = st.floats(min_value=41.0, max_value=54.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_gcj02_round_trip_is_under_one_metre(lon, lat):
    g_lon, g_lat = from_wgs84(lon, lat, "gcj02")
    w_lon, w_lat = to_wgs84(g_lon, g_lat, "gcj02")
    assert haversine_km(lon, lat, w_lon, w_lat) * 1000 < 1.0


@settings(max_examples=200, deadline=None)
@given(lons, lats)
def test_bd09_round_trip_is_under_one_metre(lon, lat):
    b_lon, b_lat = from_wgs84(lon, lat, "bd09")
    w_lon, w_lat = to_wgs84(b_lon, b_lat, "BD09")
    assert haversine_km(lon, lat, w_lon, w_lat) * 1000 < 1.0


def test_gcj02_offset_in_heilongjiang_is_hundreds_of_metres():
    g_lon, g_lat = from_wgs84(126.6365, 45.755, "gcj02")
    assert 300 < haversine_km(126.6365, 45.755, g_lon, g_lat) * 1000 < 900


def test_conversion_matches_station_file_independent_wgs84_columns():
    src = pd.read_csv("/work/shared/data/geo/heilongjiang_railway_stations.csv") if _shared() else None
    if src is None:
        pytest.skip("shared source data not present")
    lon, lat = to_wgs84(src["lng_gcj02"].to_numpy(), src["lat_gcj02"].to_numpy(), "gcj02")
    err_m = haversine_km(lon, lat, src["lng_wgs84"].to_numpy(), src["lat_wgs84"].to_numpy()) * 1000
    assert err_m.max() < 10.0


def _shared() -> bool:
    from pathlib import Path

    return Path("/work/shared/data/geo/heilongjiang_railway_stations.csv").exists()


def test_conversion_is_vectorized_over_arrays():
    lon, lat = to_wgs84(np.array([126.6, 130.0]), np.array([45.7, 47.0]), "gcj02")
    assert lon.shape == (2,) and lat.shape == (2,)


def test_system_names_are_case_insensitive():
    assert np.allclose(to_wgs84(126.6, 45.7, "GCJ02"), to_wgs84(126.6, 45.7, "gcj02"))


def test_unknown_system_is_rejected_with_the_valid_names():
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        to_wgs84(126.6, 45.7, "mercator")


def test_projection_round_trip():
    x, y = project([126.6, 130.0], [45.7, 47.0])
    lon, lat = unproject(x, y)
    assert np.allclose(lon, [126.6, 130.0]) and np.allclose(lat, [45.7, 47.0])


def test_nan_coordinate_is_rejected():
    with pytest.raises(ValueError, match="finite"):
        validate_lonlat([126.6, np.nan], [45.7, 45.7])


def test_latitude_95_is_rejected():
    with pytest.raises(ValueError, match="out of range"):
        validate_lonlat(126.6, 95.0)


def test_point_in_beijing_is_out_of_region_and_named():
    with pytest.raises(OutOfRegionError, match=r"116\.40\d*, 39\.90"):
        validate_lonlat(116.4, 39.9)


def test_point_just_across_in_jilin_is_accepted():
    lon, lat = validate_lonlat(124.8, 45.2)
    assert lon[0] == 124.8


@pytest.mark.parametrize("place, lon, lat", [
    ("Blagoveshchensk, across the Amur from Heihe", 127.53, 50.29),
    ("Khabarovsk, beyond Fuyuan", 135.07, 48.48),
    ("Russian Primorye east of Dongning", 131.2, 44.9),
    ("Vladivostok", 131.9, 43.1),
    ("Rason, North Korea", 130.3, 42.3),
])
def test_point_across_the_state_border_is_out_of_region(place, lon, lat):
    """Within 150 km of the province, but abroad: no Chinese road or railway the networks carry reaches it."""
    with pytest.raises(OutOfRegionError, match="service area in China"):
        validate_lonlat(lon, lat)


def test_border_towns_on_the_chinese_bank_are_accepted():
    for name in ("黑河", "抚远", "绥芬河", "东宁", "漠河", "同江"):
        place = find_place(name)
        validate_lonlat(place.lon, place.lat)


def test_region_checks_from_many_threads_at_once_agree():
    from concurrent.futures import ThreadPoolExecutor

    from geo.coords import service_area, validate_lonlat

    service_area.cache_clear()  # a fresh prepared area: its first queries build its indexes
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(125, 129, 2000), rng.uniform(45.2, 47.5, 2000)  # inside the province
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda k: validate_lonlat(lon[k::16], lat[k::16])[0], range(16)))
    for k, values in enumerate(got):
        np.testing.assert_array_equal(values, lon[k::16])
