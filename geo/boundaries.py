"""Committed WGS84 boundary, seat and station data, loaded once."""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

DATA_DIR = Path(__file__).resolve().parent / "data"

PREFECTURE_NAMES_EN: dict[str, str] = {
    "230100": "Harbin",
    "230200": "Qiqihar",
    "230300": "Jixi",
    "230400": "Hegang",
    "230500": "Shuangyashan",
    "230600": "Daqing",
    "230700": "Yichun",
    "230800": "Jiamusi",
    "230900": "Qitaihe",
    "231000": "Mudanjiang",
    "231100": "Heihe",
    "231200": "Suihua",
    "232700": "Daxing'anling",
}

# The four national resource-utilisation bases named in the provincial carbon-peak plan;
# each base's polygon is its prefecture's boundary.
BASES: dict[str, str] = {
    "230600": "daqing",
    "230300": "jixi",
    "230200": "qiqihar",
    "230900": "qitaihe",
}

# The neighbours that haul radii reach (Jilin, eastern Inner Mongolia), drawn inside China with a
# margin from the Russian, Mongolian and Korean borders: the networks are clipped to it, so no
# route cuts across a border, and the service area ends at it, so no facility lies abroad.
NEIGHBOUR_MASK = (
    (121.0, 51.0), (119.6, 50.3), (117.45, 49.55), (118.5, 48.9), (120.2, 47.0), (119.0, 45.2),
    (119.0, 42.0), (124.0, 41.8), (126.5, 42.0), (128.0, 42.5), (129.5, 42.9), (130.3, 43.0),
    (130.8, 43.5), (130.5, 44.0), (127.0, 47.0), (124.5, 50.0),
)  # fmt: skip


def _read(name: str) -> gpd.GeoDataFrame:
    gdf = gpd.read_file(DATA_DIR / name)
    gdf["adcode"] = gdf["adcode"].astype(str)
    if "parent_adcode" in gdf:
        gdf["parent_adcode"] = gdf["parent_adcode"].astype(str)
    return gdf.set_crs("EPSG:4326", allow_override=True)


@functools.cache
def prefectures() -> gpd.GeoDataFrame:
    """The 13 prefecture-level polygons (WGS84): adcode, name, name_en, geometry."""
    return _read("prefectures.geojson")


@functools.cache
def counties() -> gpd.GeoDataFrame:
    """The 122 county-level polygons (WGS84): adcode, name, parent_adcode, geometry."""
    return _read("counties.geojson")


@functools.cache
def province_polygon() -> shapely.Geometry:
    """Heilongjiang's outline as one (multi)polygon."""
    return shapely.union_all(prefectures().geometry.values)


@functools.cache
def seats() -> pd.DataFrame:
    """The 135 government seats (13 prefectures + 122 counties), WGS84."""
    df = pd.read_csv(DATA_DIR / "seats.csv", dtype={"adcode": str, "parent_adcode": str})
    df["name_en"] = df["name_en"].fillna("")
    return df


@functools.cache
def stations() -> pd.DataFrame:
    """The 340 passenger railway stations, WGS84."""
    return pd.read_csv(DATA_DIR / "stations.csv")
