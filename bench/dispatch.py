"""Benchmark dispatch routing: 200 loads and 20 trucks over Heilongjiang's seats, against one round trip per
truckload (the baseline) and against the same model given ten times the time."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter

import numpy as np

from geo import road_km_matrix
from geo.boundaries import seats
from matching.dispatch import solve_dispatch
from matching.dispatch_io import dispatch_problem_from_dict

# Depots of the demo fleet: prefecture seats with bulk industry (English names as in geo's seats table).
DEPOTS = ("Harbin", "Daqing", "Qiqihar", "Jixi", "Jiamusi")
TRUCK_KINDS = ((32, "4.0"), (35, "4.2"), (20, "3.5"))  # dump truck, tanker, flatbed: capacity t, yuan/km
MAX_KM = 900
MIN_HAUL_KM, MAX_HAUL_KM = 40, 350


def instance(n_loads: int, n_trucks: int, seed: int) -> tuple[dict, float]:
    """A deterministic problem over real seats with geo's road km; returns it and the seconds the matrix took."""
    rng = np.random.default_rng(seed)
    s = seats().reset_index(drop=True)
    started = time.perf_counter()
    km = road_km_matrix(s["lon"], s["lat"], s["lon"], s["lat"])
    matrix_s = time.perf_counter() - started
    ids = [f"S{code}" for code in s["adcode"]]
    names = list(s["name_en"])
    depot_ix = [names.index(name) for name in DEPOTS]
    vehicles = []
    for k in range(n_trucks):
        cap, cost = TRUCK_KINDS[k % len(TRUCK_KINDS)]
        vehicles.append({"id": f"T{k + 1:02d}", "depot": ids[depot_ix[k % len(depot_ix)]], "capacity_t": cap,
                         "cost_yuan_per_km": cost, "max_km": MAX_KM})
    # Industry clusters near the prefecture seats: pickups favour the first 13 rows (the prefectures).
    weights = np.where(s["level"] == "prefecture", 6.0, 1.0)
    weights /= weights.sum()
    loads = []
    while len(loads) < n_loads:
        a = int(rng.choice(len(ids), p=weights))
        # Loads some depot can reach within a day's max km, so all 200 are plannable.
        trip = (km[depot_ix, a][:, None] + km[a][None, :] + km[:, depot_ix].T).min(axis=0)
        near = np.flatnonzero((km[a] >= MIN_HAUL_KM) & (km[a] <= MAX_HAUL_KM) & (trip <= MAX_KM))
        if near.size == 0:
            continue
        b = int(rng.choice(near))
        kind = rng.random()
        tonnes = rng.uniform(3, 12) if kind < 0.15 else rng.uniform(15, 32) if kind < 0.8 else rng.uniform(35, 70)
        loads.append({"id": f"L{len(loads) + 1:03d}", "pickup": ids[a], "dropoff": ids[b],
                      "tonnes": round(float(tonnes), 3)})
    points = [{"id": i, "lon": float(lo), "lat": float(la)} for i, lo, la in zip(ids, s["lon"], s["lat"], strict=True)]
    return {"points": points, "km": np.round(km, 3).tolist(), "vehicles": vehicles, "loads": loads}, matrix_s


def _days(data: dict) -> int:
    """Enough days for the fleet to run every truckload as its own round trip, with a third spare."""
    km = np.asarray(data["km"])
    at = {p["id"]: k for k, p in enumerate(data["points"])}
    depots = [at[v["depot"]] for v in data["vehicles"]]
    need = 0.0
    for ld in data["loads"]:
        a, b = at[ld["pickup"]], at[ld["dropoff"]]
        trips = math.ceil(ld["tonnes"] / 35)
        need += trips * min(km[d, a] + km[a, b] + km[b, d] for d in depots)
    return max(1, math.ceil(1.33 * need / (len(data["vehicles"]) * MAX_KM)))


def run(data: dict, time_limit_s: float) -> dict:
    """Solve once, timing everything from the parsed file to the result; the figures of the plan."""
    started = time.perf_counter()
    result = solve_dispatch(dispatch_problem_from_dict({**data, "time_limit_s": time_limit_s}))
    wall = time.perf_counter() - started
    served = sum(float(s.tonnes) for r in result.routes for s in r.stops if s.action == "dropoff")
    return {
        "time_limit_s": time_limit_s, "wall_s": round(wall, 2), "status": result.status,
        "total_km": float(result.total_km), "empty_km": float(result.empty_km),
        "baseline_km": float(result.baseline_km), "baseline_empty_km": float(result.baseline_empty_km),
        "cost_yuan": float(result.cost_yuan), "routes": len(result.routes),
        "served_t": round(served, 3), "unserved_t": round(sum(float(u.tonnes) for u in result.unserved), 3),
        "unserved_by_reason": dict(Counter(u.reason for u in result.unserved)),
        "empty_km_saved_vs_baseline": round(1 - float(result.empty_km) / float(result.baseline_empty_km), 4),
        "total_km_saved_vs_baseline": round(1 - float(result.total_km) / float(result.baseline_km), 4),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--loads", type=int, default=200)
    parser.add_argument("--trucks", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=25.0, help="solver seconds of the short run")
    parser.add_argument("--long-factor", type=float, default=10.0, help="the long run gets this many times more")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--json", action="store_true", help="print JSON (the default; kept for symmetry)")
    args = parser.parse_args(argv)

    data, matrix_s = instance(args.loads, args.trucks, args.seed)
    data["days"] = _days(data)
    short = run(data, args.time_limit)
    long = run(data, args.time_limit * args.long_factor)
    report = {
        "shape": {"loads": args.loads, "trucks": args.trucks, "days": data["days"], "points": len(data["points"]),
                  "tonnes": round(sum(ld["tonnes"] for ld in data["loads"]), 3), "seed": args.seed},
        "road_matrix_s": round(matrix_s, 2),
        "short": short,
        "long": long,
        "short_total_km_over_long": round(short["total_km"] / long["total_km"] - 1, 4),
        "targets": {
            "empty_km_saved_vs_baseline_min": 0.25, "short_within_s": 30, "short_over_long_max": 0.03,
            "met": bool(short["empty_km_saved_vs_baseline"] >= 0.25 and short["wall_s"] + matrix_s <= 30
                        and short["total_km"] / long["total_km"] - 1 <= 0.03),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
