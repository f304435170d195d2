"""Spatial joins and place names."""

import numpy as np
import pytest
import shapely

from geo import UnknownPlaceError, find_place, locate, locate_many
from geo.admin import COLUMNS
from geo.boundaries import counties, prefectures, seats
from geo.coords import service_area

# Jiamusi 郊区: its seat sits in the city proper, outside the district's own polygon.
SEAT_OUTSIDE_OWN_COUNTY = {"230811"}


def test_data_has_13_prefectures_122_counties_135_seats():
    assert len(prefectures()) == 13 and len(counties()) == 122 and len(seats()) == 135


def test_every_seat_joins_its_own_prefecture():
    s = seats()
    df = locate_many(s["lon"], s["lat"])
    expected = np.where(s["level"] == "prefecture", s["adcode"], s["parent_adcode"])
    assert list(df["prefecture_code"]) == list(expected)


def test_every_county_seat_joins_its_own_county_except_jiamusi_jiaoqu():
    s = seats()
    s = s[s["level"] == "county"]
    df = locate_many(s["lon"], s["lat"])
    wrong = set(s["adcode"][df["county_code"].to_numpy() != s["adcode"].to_numpy()])
    assert wrong == SEAT_OUTSIDE_OWN_COUNTY


def test_daxinganling_seat_is_jiagedaqi():
    p = find_place("大兴安岭")
    assert locate(p.lon, p.lat).county_code == "232718"


def test_daqing_point_is_in_daqing_base():
    loc = locate(125.10, 46.59)
    assert (loc.prefecture_code, loc.prefecture_name_en, loc.base, loc.in_province) == (
        "230600",
        "Daqing",
        "daqing",
        True,
    )


def test_harbin_point_has_no_base():
    assert locate(126.64, 45.75).base is None


def test_point_just_across_in_jilin_is_outside_the_province():
    loc = locate(124.8, 45.2)
    assert loc.in_province is False and loc.prefecture_code is None and loc.county_code is None


def test_locate_many_handles_100000_points():
    rng = np.random.default_rng(7)
    lon = rng.uniform(122.0, 134.0, 200_000)
    lat = rng.uniform(44.0, 52.0, 200_000)
    keep = shapely.contains_xy(service_area(), lon, lat)  # drop points deep in Russia
    lon, lat = lon[keep][:100_000], lat[keep][:100_000]
    df = locate_many(lon, lat)
    assert list(df.columns) == COLUMNS and len(df) == 100_000
    assert df["in_province"].mean() > 0.5
    assert (df["prefecture_code"].isna() == ~df["in_province"]).all()


@pytest.mark.parametrize("name", ["哈尔滨", "哈尔滨市", "Harbin", "harbin", " HARBIN "])
def test_find_place_accepts_chinese_and_english_prefecture_names(name):
    assert find_place(name).code == "230100"


def test_find_place_finds_counties_by_chinese_name():
    assert find_place("双城区").code == "230113" and find_place("双城").code == "230113"


def test_find_place_accepts_apostrophe_free_daxinganling():
    assert find_place("daxinganling").code == "232700"


def test_ambiguous_county_name_needs_its_prefecture():
    with pytest.raises(UnknownPlaceError, match="ambiguous"):
        find_place("向阳区")
    assert find_place("佳木斯市向阳区").code == "230803"


def test_unknown_place_raises_keyerror_subclass_with_help():
    with pytest.raises(KeyError, match="lon,lat"):
        find_place("Atlantis")


def test_locate_many_gives_none_not_nan_outside_the_province():
    df = locate_many([124.8, 126.6], [45.2, 45.75])
    assert df["prefecture_code"].tolist()[0] is None
    assert df["prefecture_code"].tolist()[1] == "230100"
