"""Command line: `python -m geo route FROM TO [--category CODE | --freight-class CLASS] [--rates JSON] [--json]`."""

from __future__ import annotations

import argparse
import json
import re
import sys

from geo.admin import find_place
from geo.coords import to_wgs84, validate_lonlat
from geo.costs import route
from geo.errors import OutOfRegionError, UnknownPlaceError
from geo.rates import FREIGHT_CLASSES, check_freight_class, freight_class_for_category, resolve_rates

_LONLAT = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*,\s*([-+]?\d+(?:\.\d*)?)\s*$")


def resolve_point(text: str, system: str = "wgs84") -> tuple[str, float, float]:
    """A place name or 'lon,lat' → (label, lon, lat) in WGS84."""
    m = _LONLAT.match(text)
    if m:
        lon, lat = to_wgs84(float(m.group(1)), float(m.group(2)), system)
        lon, lat = validate_lonlat(lon, lat)
        return text.strip(), float(lon[0]), float(lat[0])
    place = find_place(text)
    return place.name_zh, place.lon, place.lat


def _round(x: float | None, nd: int = 1) -> float | None:
    return None if x is None else round(float(x), nd)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m geo", description="Heilongjiang freight routing and costs.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("route", help="cheapest freight itinerary between two places")
    r.add_argument("origin", metavar="FROM", help="prefecture/county name (Chinese or English) or lon,lat")
    r.add_argument("destination", metavar="TO", help="prefecture/county name (Chinese or English) or lon,lat")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--category", metavar="CODE", help="waste category code, e.g. fly_ash")
    g.add_argument("--freight-class", metavar="CLASS", help=f"one of {', '.join(FREIGHT_CLASSES)} (default bulk)")
    r.add_argument("--crs", default="wgs84", help="system of lon,lat inputs: wgs84 (default), gcj02 or bd09")
    r.add_argument("--rates", metavar="JSON", help="what-if rates overriding geo/rates.py's defaults, e.g. "
                   '\'{"rail_fixed_yuan_per_t": 18, "rail_yuan_per_tkm": 0.11}\'')
    r.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.category:
            freight_class = freight_class_for_category(args.category)
        else:
            freight_class = check_freight_class(args.freight_class or "bulk")
        o_label, o_lon, o_lat = resolve_point(args.origin, args.crs)
        d_label, d_lon, d_lat = resolve_point(args.destination, args.crs)
        rates = resolve_rates(json.loads(args.rates)) if args.rates else None
        res = route((o_lon, o_lat), (d_lon, d_lat), freight_class, rates)
    except (UnknownPlaceError, OutOfRegionError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = {
        "from": o_label,
        "to": d_label,
        "great_circle_km": _round(res.great_circle_km),
        "road_km": _round(res.road_route_km),
        "rail_km": _round(res.rail_km),
        "cheapest_mode": res.mode,
        "cost_yuan_per_t": _round(res.cost_yuan_per_t, 2),
        "co2_kg_per_t": _round(res.co2_kg_per_t, 2),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(f"{o_label} → {d_label}  ({freight_class})")
    print(f"  great circle  {out['great_circle_km']:.1f} km")
    if res.mode == "rail":
        print(
            f"  cheapest      rail {out['rail_km']:.1f} km ({res.from_railhead} → {res.to_railhead}) "
            f"+ road legs {res.road_km:.1f} km (all the way by road: {out['road_km']:.1f} km)"
        )
    else:
        print(f"  cheapest      road {out['road_km']:.1f} km")
    if res.rail_unavailable:
        print(f"  no rail       {res.rail_unavailable}")
    rail_txt = "n/a" if res.rail_cost_yuan_per_t is None else f"{res.rail_cost_yuan_per_t:.2f}"
    print(
        f"  cost          {out['cost_yuan_per_t']:.2f} yuan/t  (road {res.road_cost_yuan_per_t:.2f}, rail {rail_txt})"
    )
    print(f"  CO2           {out['co2_kg_per_t']:.2f} kg/t")
    return 0
