"""``python -m matching dispatch PROBLEM.json``: plan truck routes; road km from geo when the file has none."""

from __future__ import annotations

import json
import sys

from .dispatch import solve_dispatch
from .dispatch_io import dispatch_problem_from_dict, points_from_dict
from .errors import ProblemError


def add_parser(sub) -> None:
    """Register the ``dispatch`` sub-command."""
    p = sub.add_parser("dispatch", help="plan truck routes for loads (pickup and delivery)")
    p.add_argument("problem", help="path to PROBLEM.json")
    p.add_argument("--time-limit", type=float, default=None, help="seconds (overrides time_limit_s)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args) -> int:
    """Read, solve and print a dispatch problem; 2 on bad input."""
    try:
        with open(args.problem, encoding="utf-8") as fh:
            data = json.load(fh, parse_constant=_reject_constant)
        if isinstance(data, dict) and args.time_limit is not None:
            data = {**data, "time_limit_s": args.time_limit}
        km = None if not isinstance(data, dict) or "km" in data else road_km(points_from_dict(data))
        problem = dispatch_problem_from_dict(data, km=km)
    except OSError as exc:
        print(f"error: cannot read {args.problem}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"error: {args.problem} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    except ProblemError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = solve_dispatch(problem)
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print(_table(result))
    return 0


def road_km(points: list[dict]) -> list[list[float]]:
    """Road km between the points from geo's network (the CLI is an entry point, so it may call geo)."""
    from geo import OutOfRegionError, road_km_matrix

    for k, p in enumerate(points):
        if "lon" not in p or "lat" not in p:
            raise ProblemError("lon and lat are required when the file has no km matrix",
                               f'points[{k}] (id "{p["id"]}")')
    lon = [p["lon"] for p in points]
    lat = [p["lat"] for p in points]
    try:
        km = road_km_matrix(lon, lat, lon, lat)
    except (OutOfRegionError, ValueError) as exc:
        raise ProblemError(str(exc), "points") from None
    return [[round(float(v), 3) for v in row] for row in km]


def _reject_constant(name: str):
    raise ProblemError(f"non-finite number {name} in input")


def _table(result) -> str:
    lines = [f"status: {result.status}   km: {result.total_km} (empty {result.empty_km})   "
             f"baseline: {result.baseline_km} (empty {result.baseline_empty_km})   time: {result.seconds:.1f} s"]
    for r in result.routes:
        lines.append(f"\n{r.vehicle} day {r.day}: {r.km} km, empty {r.empty_km} km, {r.cost_yuan} yuan")
        lines += [f"  {s.action:<8} {s.load:<12} {s.tonnes:>9} t at {s.point} (+{s.leg_km} km)" for s in r.stops]
    for u in result.unserved:
        lines.append(f"unserved {u.load}: {u.tonnes} t [{u.reason}] {u.message}")
    return "\n".join(lines)
