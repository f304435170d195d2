"""Administrative lookups: spatial join of points to prefecture, county and base; place names."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from geo.boundaries import BASES, PREFECTURE_NAMES_EN, counties, prefectures, seats
from geo.coords import validate_lonlat
from geo.errors import UnknownPlaceError

COLUMNS = [
    "lon",
    "lat",
    "prefecture_code",
    "prefecture_name",
    "prefecture_name_en",
    "county_code",
    "county_name",
    "base",
    "in_province",
]


@dataclass(frozen=True)
class Location:
    """Where a point falls: prefecture, county and base (None outside the province)."""

    lon: float
    lat: float
    prefecture_code: str | None
    prefecture_name: str | None
    prefecture_name_en: str | None
    county_code: str | None
    county_name: str | None
    base: str | None
    in_province: bool


@dataclass(frozen=True)
class Place:
    """A prefecture or county and its seat (WGS84)."""

    code: str
    name_zh: str
    name_en: str
    lon: float
    lat: float


def _nullable(values: pd.Series) -> list:
    return [None if (v is None or (isinstance(v, float) and np.isnan(v))) else v for v in values]


def locate_many(lons: ArrayLike, lats: ArrayLike) -> pd.DataFrame:
    """Join many WGS84 points to county, prefecture and base in one sjoin; one row per point."""
    lon, lat = validate_lonlat(lons, lats)
    pts = gpd.GeoDataFrame({"pid": np.arange(lon.size)}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    cty = counties()[["adcode", "name", "parent_adcode", "geometry"]]
    hit = gpd.sjoin(pts, cty, how="left", predicate="within")
    # Shared borders can match two polygons: keep the first match per point.
    hit = hit.drop_duplicates("pid").set_index("pid").sort_index()
    county_code = hit["adcode"]
    pref_code = hit["parent_adcode"].copy()
    missing = pref_code.isna().to_numpy()
    if missing.any():
        # The coarser prefecture layer covers slivers the county layer misses along shared edges.
        pref = prefectures()[["adcode", "geometry"]].rename(columns={"adcode": "pref_adcode"})
        ph = gpd.sjoin(pts[missing], pref, how="left", predicate="within").drop_duplicates("pid").set_index("pid")
        pref_code.loc[ph.index] = ph["pref_adcode"]
    names = prefectures().set_index("adcode")["name"]
    df = pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "prefecture_code": pref_code.to_numpy(dtype=object),
            "prefecture_name": pref_code.map(names).to_numpy(dtype=object),
            "prefecture_name_en": pref_code.map(PREFECTURE_NAMES_EN).to_numpy(dtype=object),
            "county_code": county_code.to_numpy(dtype=object),
            "county_name": hit["name"].to_numpy(dtype=object),
            "base": pref_code.map(BASES).to_numpy(dtype=object),
            "in_province": pref_code.notna().to_numpy(),
        }
    )
    for c in COLUMNS[2:-1]:
        df[c] = pd.Series(_nullable(df[c]), dtype=object)
    return df[COLUMNS]


def locate(lon: float, lat: float) -> Location:
    """Join one WGS84 point to its prefecture, county and base."""
    row = locate_many([lon], [lat]).iloc[0].to_dict()
    row["lon"], row["lat"], row["in_province"] = float(row["lon"]), float(row["lat"]), bool(row["in_province"])
    return Location(**row)


# -- place names -------------------------------------------------------------------------------

_SUFFIXES = ("地区", "市", "区", "县")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _latin_key(name: str) -> str:
    # "Daxing'anling", "daxinganling" and "Da Xing An Ling" all match.
    return re.sub(r"[^a-z]", "", name.lower())


@functools.cache
def _place_index() -> tuple[dict[str, list[Place]], dict[str, str]]:
    s = seats()
    places: dict[str, list[Place]] = {}
    parent_of: dict[str, str] = {}
    for r in s.itertuples():
        p = Place(r.adcode, r.name, r.name_en or "", float(r.lon), float(r.lat))
        keys = {r.name, _short(r.name)}
        if r.name_en:
            keys.add(_latin_key(r.name_en))
        if r.adcode == "232700":
            keys.add("大兴安岭")
        for k in keys:
            places.setdefault(k, []).append(p)
        parent_of[r.adcode] = r.parent_adcode
    # A prefecture wins over a county with the same short name (none today, but keep it explicit).
    for k, v in places.items():
        prefs = [p for p in v if p.code.endswith("00")]
        if prefs and len(v) > 1:
            places[k] = prefs
    return places, parent_of


def find_place(name: str) -> Place:
    """Look up a prefecture (Chinese or English) or county (Chinese) by name, e.g. "哈尔滨", "Harbin", "双城区"."""
    places, parent_of = _place_index()
    raw = str(name).strip()
    key = raw if re.search(r"[\u4e00-\u9fff]", raw) else _latin_key(raw)
    hits = places.get(key) or places.get(_short(key), [])
    if not hits and re.search(r"[\u4e00-\u9fff]", raw):
        # "鹤岗市向阳区" / "鹤岗向阳区": a prefecture prefix disambiguates a county.
        for pkey, prefs in places.items():
            pref = prefs[0]
            if pref.code.endswith("00") and raw.startswith(pkey) and len(raw) > len(pkey):
                rest = raw[len(pkey) :]
                cands = places.get(rest) or places.get(_short(rest), [])
                hits = [c for c in cands if parent_of.get(c.code) == pref.code]
                if hits:
                    break
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        options = ", ".join(f"{parent_name(h.code)}{h.name_zh} ({h.code})" for h in hits)
        raise UnknownPlaceError(f"place name {name!r} is ambiguous: {options}; prefix the prefecture name")
    raise UnknownPlaceError(
        f"unknown place {name!r}: give a Heilongjiang prefecture (Chinese or English, e.g. 哈尔滨 / Harbin) "
        f"or county in Chinese (e.g. 双城区), or coordinates as 'lon,lat'"
    )


def parent_name(code: str) -> str:
    """Chinese name of the prefecture a county belongs to ("" for prefectures)."""
    _, parent_of = _place_index()
    parent = parent_of.get(code, "")
    row = seats().loc[seats()["adcode"] == parent, "name"]
    return str(row.iloc[0]) if len(row) else ""


def prefecture_names() -> dict[str, tuple[str, str]]:
    """adcode → (Chinese name, English name) for the 13 prefectures."""
    return {code: (name, PREFECTURE_NAMES_EN[code]) for code, name in prefectures().set_index("adcode")["name"].items()}


@functools.cache
def places() -> tuple[Place, ...]:
    """Every prefecture and county with its seat (WGS84), in adcode order."""
    s = seats().sort_values("adcode")
    return tuple(Place(r.adcode, r.name, r.name_en or "", float(r.lon), float(r.lat)) for r in s.itertuples())


def prefecture_places() -> tuple[Place, ...]:
    """The 13 prefectures with their seats (Daxing'anling at Jiagedaqi)."""
    return tuple(p for p in places() if p.code.endswith("00"))
