"""Build geo/data boundaries, seats and stations from /work/shared/data/geo: GCJ-02 → WGS84 once.

The road and rail networks come from OpenStreetMap instead: see geo/data/build_osm.py.

Run from the repo root: `python -m geo.data.build [SOURCE_DIR]`. The committed outputs are WGS84.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from geo.boundaries import PREFECTURE_NAMES_EN
from geo.coords import gcj02_to_wgs84
from geo.data.names_en import english_name

OUT = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path("/work/shared/data/geo")


# 加格达奇 station is missing from the station source (the town lies de jure in Inner Mongolia);
# it is added at the 加格达奇区 seat, about 1 km from the station.
EXTRA_STATIONS = [("加格达奇", "232718")]


def _to_wgs84_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    out = shapely.make_valid(shapely.transform(geom, fn))
    return out


def _write_geojson(path: Path, features: list[dict]) -> None:
    fc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(fc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def build_boundaries(src: Path) -> None:
    """Convert the DataV prefecture and county polygons from GCJ-02 to WGS84."""
    pref = json.loads((src / "heilongjiang_prefectures_230000.json").read_text(encoding="utf-8"))
    feats = []
    for f in pref["features"]:
        code = str(f["properties"]["adcode"])
        props = {"adcode": code, "name": f["properties"]["name"], "name_en": PREFECTURE_NAMES_EN[code]}
        feats.append(
            {"type": "Feature", "properties": props, "geometry": mapping(_to_wgs84_geometry(shape(f["geometry"])))}
        )
    _write_geojson(OUT / "prefectures.geojson", feats)

    cty = json.loads((src / "heilongjiang_counties.json").read_text(encoding="utf-8"))
    feats = []
    for f in cty["features"]:
        p = f["properties"]
        props = {
            "adcode": str(p["adcode"]),
            "name": p["name"],
            "name_en": english_name(p["name"]),
            "parent_adcode": str(p["parent"]["adcode"]),
        }
        feats.append(
            {"type": "Feature", "properties": props, "geometry": mapping(_to_wgs84_geometry(shape(f["geometry"])))}
        )
    _write_geojson(OUT / "counties.geojson", feats)


def build_seats(src: Path) -> list[dict]:
    """Seats in WGS84, converted here from the GCJ-02 centres; Daxing'anling moved to Jiagedaqi."""
    with open(src / "heilongjiang_seats.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lon, lat = gcj02_to_wgs84(
        [float(r["center_lon_gcj02"]) for r in rows], [float(r["center_lat_gcj02"]) for r in rows]
    )
    by_code = {r["adcode"]: i for i, r in enumerate(rows)}
    out = []
    for i, r in enumerate(rows):
        j, note = i, ""
        if r["adcode"] == "232700":
            # DataV's centre is Tahe; the prefecture seat is Jiagedaqi.
            j, note = by_code["232718"], "seat moved to Jiagedaqi (232718); DataV centre is Tahe"
        if r["adcode"] == "230811":
            note = "seat lies outside its own polygon (district government sits in the city proper)"
        out.append(
            {
                "adcode": r["adcode"],
                "level": r["level"],
                "name": r["name"],
                "name_en": PREFECTURE_NAMES_EN.get(r["adcode"]) or english_name(r["name"]),
                "parent_adcode": r["parent_adcode"],
                "lon": round(float(lon[j]), 6),
                "lat": round(float(lat[j]), 6),
                "note": note,
            }
        )
    with open(OUT / "seats.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    return out


def build_stations(src: Path, seats: list[dict]) -> list[dict]:
    """Stations with the source's own WGS84 columns, plus the documented additions."""
    with open(src / "heilongjiang_railway_stations.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = [
        {
            "name": r["name"],
            "city": r["city"],
            "station_type": r["station_type"],
            "lon": round(float(r["lng_wgs84"]), 6),
            "lat": round(float(r["lat_wgs84"]), 6),
            "note": "",
        }
        for r in rows
    ]
    seat_by_code = {s["adcode"]: s for s in seats}
    for name, code in EXTRA_STATIONS:
        s = seat_by_code[code]
        out.append(
            {
                "name": name,
                "city": "大兴安岭地区",
                "station_type": "added",
                "lon": s["lon"],
                "lat": s["lat"],
                "note": f"not in source; placed at seat {code}",
            }
        )
    with open(OUT / "stations.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    return out


def main(argv: list[str] | None = None) -> None:
    """Rebuild every committed data file from the shared source folder."""
    args = sys.argv[1:] if argv is None else argv
    src = Path(args[0]) if args else DEFAULT_SOURCE
    build_boundaries(src)
    seats = build_seats(src)
    build_stations(src, seats)


if __name__ == "__main__":
    main()
