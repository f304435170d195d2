"""Benchmark the matching package on synthetic Heilongjiang instances against HiGHS and greedy."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from decimal import Decimal

import numpy as np

from geo.rates import CATALOGUE_CSV, CATEGORY_FREIGHT_CLASS
from matching import Demand, Lot, Problem, solve
from matching.network import build_candidates

EARTH_RADIUS_KM = 6371.0088
ROAD_CIRCUITY = 1.25
FREIGHT_YUAN_PER_T_KM = 0.4  # road, DESIGN.md reference figures
HANDLING_YUAN_PER_T = 5.0
TRUCK_CO2_KG_PER_T_KM = 0.05  # laden articulated truck, DEFRA via DESIGN.md
DEFAULT_MAX_HAUL_KM = 300.0

# Populated centres of Heilongjiang (lon, lat, weight); most industry sits in the south.
CENTRES = np.array(
    [
        (126.63, 45.75, 10),  # Harbin
        (125.10, 46.59, 7),  # Daqing
        (123.95, 47.35, 6),  # Qiqihar
        (130.97, 45.30, 5),  # Jixi
        (129.60, 44.58, 5),  # Mudanjiang
        (130.36, 46.80, 5),  # Jiamusi
        (130.30, 47.35, 3),  # Hegang
        (131.16, 46.64, 3),  # Shuangyashan
        (131.00, 45.77, 3),  # Qitaihe
        (128.90, 47.73, 3),  # Yichun
        (126.99, 46.65, 4),  # Suihua
        (127.50, 50.25, 2),  # Heihe
        (124.70, 52.33, 1),  # Da Hinggan Ling
    ]
)


def catalogue_codes(codes: list[str]) -> list[str]:
    """The codes unchanged if app/data/catalogue.csv has every one; ValueError naming the others."""
    unknown = [code for code in codes if code not in CATEGORY_FREIGHT_CLASS]
    if unknown:
        raise ValueError(f"category code(s) {unknown} not in {CATALOGUE_CSV}; known: {sorted(CATEGORY_FREIGHT_CLASS)}")
    return codes


# Twenty-two catalogue categories of the mixed shape (uneven sizes are drawn per seed). Construction waste,
# which the catalogue does not trade, is stood in for by its catch-all other_industrial, so the count and
# therefore every seeded draw stay as they were.
CATEGORIES = catalogue_codes([
    "steel_slag",
    "bf_slag",
    "fly_ash",
    "boiler_slag",
    "coal_gangue",
    "fgd_gypsum",
    "byproduct_gypsum",
    "tailings",
    "red_mud",
    "carbide_slag",
    "waste_glass",
    "pv_modules",
    "wind_blades",
    "crop_straw",
    "other_industrial",
    "waste_tyres",
    "waste_plastics",
    "scrap_steel",
    "smelting_slag",
    "coking_residue",
    "sludge",
    "waste_catalyst",
])


DENSE_HAUL_KM = 200.0


def synthetic_market(n_lots: int, n_demands: int, seed: int = 20240501, shape: str = "dense") -> dict:
    """Seeded synthetic lots and demands as arrays (category index, place, tonnes, prices, haul limits).

    ``dense`` (the target shape): one category, every demand hauling up to 200 km, so 5,000 × 1,000
    gives ≈750k–900k candidate arcs. ``mixed``: 22 categories of uneven size, hauls of 150–300 km.
    """
    rng = np.random.default_rng(seed)
    n_cat = len(CATEGORIES)
    cat_weight = rng.dirichlet(np.full(n_cat, 3.0))
    if shape == "dense":
        cat_weight = np.eye(n_cat)[CATEGORIES.index("fly_ash")]
    lot_cat = rng.choice(n_cat, size=n_lots, p=cat_weight)
    dem_cat = rng.choice(n_cat, size=n_demands, p=cat_weight)
    # The dense shape spreads a quarter of the places province-wide: ≈860k arcs at 5,000 × 1,000.
    spread = 0.25 if shape == "dense" else 0.2
    lot_lon, lot_lat = _places(rng, n_lots, spread)
    dem_lon, dem_lat = _places(rng, n_demands, spread)
    base_price = rng.uniform(20, 160, size=n_cat)
    lot_t = np.round(rng.lognormal(6.5, 1.0, size=n_lots), 3)  # median ≈ 665 t
    supply_by_cat = np.bincount(lot_cat, weights=lot_t, minlength=n_cat)
    count_by_cat = np.maximum(np.bincount(dem_cat, minlength=n_cat), 1)
    share = rng.lognormal(0, 0.5, size=n_demands)
    dem_t = np.round(0.7 * supply_by_cat[dem_cat] / count_by_cat[dem_cat] * share, 3) + 1.0
    reserve = np.round(rng.normal(-10, 25, size=n_lots), 2)
    price = np.round(base_price[dem_cat] + rng.normal(0, 20, size=n_demands), 2)
    max_haul = rng.choice([150.0, 200.0, 250.0, 300.0, DEFAULT_MAX_HAUL_KM], size=n_demands)
    if shape == "dense":
        max_haul = np.full(n_demands, DENSE_HAUL_KM)
    return {"n_cat": n_cat, "lot_cat": lot_cat, "lot_lon": lot_lon, "lot_lat": lot_lat, "lot_t": lot_t,
            "reserve": reserve, "dem_cat": dem_cat, "dem_lon": dem_lon, "dem_lat": dem_lat, "dem_t": dem_t,
            "price": price, "max_haul": max_haul}


def synthetic_problem(n_lots: int, n_demands: int, seed: int = 20240501, shape: str = "dense") -> tuple[Problem, float]:
    """Seeded synthetic problem (see synthetic_market); returns it with the seconds spent generating arcs."""
    m = synthetic_market(n_lots, n_demands, seed, shape)
    lots = [
        Lot(f"L{k}", CATEGORIES[c], Decimal(str(t)), Decimal(str(r)))
        for k, (c, t, r) in enumerate(zip(m["lot_cat"].tolist(), m["lot_t"].tolist(), m["reserve"].tolist(),
                                          strict=True))
    ]
    demands = [
        Demand(f"D{k}", CATEGORIES[c], Decimal(str(t)), Decimal(str(p)), max_haul_km=h)
        for k, (c, t, p, h) in enumerate(
            zip(m["dem_cat"].tolist(), m["dem_t"].tolist(), m["price"].tolist(), m["max_haul"].tolist(), strict=True)
        )
    ]

    started = time.perf_counter()
    li, di, km = _arcs_within_haul(m["lot_cat"], m["lot_lon"], m["lot_lat"], m["dem_cat"], m["dem_lon"],
                                   m["dem_lat"], m["max_haul"], m["n_cat"])
    cost = np.round(FREIGHT_YUAN_PER_T_KM * km + HANDLING_YUAN_PER_T, 2)
    arcs_s = time.perf_counter() - started
    problem = Problem.from_arrays(lots, demands, li, di, cost, km=km, co2_kg_per_t=km * TRUCK_CO2_KG_PER_T_KM)
    return problem, arcs_s


def _places(rng, n, anywhere_share=0.2):
    """Mostly near populated centres (Gaussian, ~40 km), a share anywhere in the province box."""
    w = CENTRES[:, 2] / CENTRES[:, 2].sum()
    k = rng.choice(len(CENTRES), size=n, p=w)
    lon = CENTRES[k, 0] + rng.normal(0, 0.55, size=n)
    lat = CENTRES[k, 1] + rng.normal(0, 0.4, size=n)
    anywhere = rng.random(n) < anywhere_share
    lon[anywhere] = rng.uniform(121.5, 134.5, size=anywhere.sum())
    lat[anywhere] = rng.uniform(43.5, 53.0, size=anywhere.sum())
    return np.clip(lon, 121.5, 134.5), np.clip(lat, 43.5, 53.0)


def _unit_xyz(lon, lat):
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _arcs_within_haul(lot_cat, lot_lon, lot_lat, dem_cat, dem_lon, dem_lat, max_haul, n_cat):
    """Same-category pairs with road km (haversine × circuity) within the demand's haul limit."""
    from scipy.spatial import cKDTree

    out_l, out_d, out_km = [], [], []
    lot_xyz, dem_xyz = _unit_xyz(lot_lon, lot_lat), _unit_xyz(dem_lon, dem_lat)
    for c in range(n_cat):
        lots = np.flatnonzero(lot_cat == c)
        dems = np.flatnonzero(dem_cat == c)
        if len(lots) == 0 or len(dems) == 0:
            continue
        # Chord length on the unit sphere is monotone in great-circle distance: exact pruning.
        radius = 2 * np.sin(max_haul[dems].max() / ROAD_CIRCUITY / EARTH_RADIUS_KM / 2)
        pairs = cKDTree(lot_xyz[lots]).sparse_distance_matrix(cKDTree(dem_xyz[dems]), radius, output_type="ndarray")
        i, j = lots[pairs["i"]], dems[pairs["j"]]
        km = ROAD_CIRCUITY * _haversine_km(lot_lon[i], lot_lat[i], dem_lon[j], dem_lat[j])
        keep = km <= max_haul[j]
        out_l.append(i[keep])
        out_d.append(j[keep])
        out_km.append(np.round(km[keep], 3))
    if not out_l:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(out_l), np.concatenate(out_d), np.concatenate(out_km)


def _haversine_km(lon1, lat1, lon2, lat2):
    lo1, la1, lo2, la2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def highs_objective(problem: Problem) -> tuple[float, float]:
    """Solve the same LP with scipy's HiGHS; returns (objective yuan, seconds incl. matrix build)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    started = time.perf_counter()
    cand = build_candidates(problem)
    n, n_lots, n_dem = len(cand), len(problem.lots), len(problem.demands)
    if n == 0:
        return 0.0, time.perf_counter() - started
    rows = np.concatenate([cand.lot, n_lots + cand.demand])
    cols = np.concatenate([np.arange(n), np.arange(n)])
    a_ub = csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n_lots + n_dem, n))
    b_ub = np.concatenate([problem.lot_kg, problem.demand_kg]) / 1000.0  # tonnes
    c = -cand.surplus_fen / 100.0  # yuan per tonne
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    return -float(res.fun), time.perf_counter() - started


def main(argv=None) -> int:
    """Generate, solve three ways, print figures (JSON with --json)."""
    parser = argparse.ArgumentParser(prog="python -m bench.matching")
    parser.add_argument("--lots", type=int, default=5000)
    parser.add_argument("--demands", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--shape", choices=("dense", "mixed"), default="dense",
                        help="dense: one category, 200 km hauls (the target shape); mixed: 22 categories")
    parser.add_argument("--skip-highs", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    # Warm up imports and first-call costs of every contender on a tiny instance first.
    warm, _ = synthetic_problem(300, 60, args.seed + 1)
    solve(warm, solver="mincostflow"), solve(warm, solver="greedy")
    if not args.skip_highs:
        highs_objective(warm)

    started = time.perf_counter()
    problem, arcs_s = synthetic_problem(args.lots, args.demands, args.seed, args.shape)
    generate_s = time.perf_counter() - started

    started = time.perf_counter()
    ours = solve(problem, solver="mincostflow")
    ours_s = time.perf_counter() - started

    started = time.perf_counter()
    greedy = solve(problem, solver="greedy")
    greedy_s = time.perf_counter() - started

    highs_obj, highs_s = (None, None) if args.skip_highs else highs_objective(problem)

    ours_obj = float(ours.objective_yuan)
    greedy_obj = float(greedy.objective_yuan)
    out = {
        "lots": args.lots,
        "demands": args.demands,
        "shape": args.shape,
        "categories": len(problem.categories),
        "arcs": len(problem.cost_table),
        "ours_s": round(ours_s, 3),
        "highs_s": None if highs_s is None else round(highs_s, 3),
        "greedy_s": round(greedy_s, 3),
        "ours_objective": round(ours_obj, 2),
        "highs_objective": None if highs_obj is None else round(highs_obj, 2),
        "greedy_objective": round(greedy_obj, 2),
        "greedy_shortfall_pct": round(100.0 * (ours_obj - greedy_obj) / ours_obj, 3) if ours_obj else 0.0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "objective_rel_diff": None if highs_obj is None else abs(ours_obj - highs_obj) / max(1.0, abs(highs_obj)),
        "speedup_vs_highs": None if highs_s is None else round(highs_s / ours_s, 2),
        "ours_timings_s": {k: round(v, 3) for k, v in ours.timings.items()},
        "generate_s": round(generate_s, 3),
        "arc_generation_s": round(arcs_s, 3),
        "matched_tonnes": round(float(sum(a.tonnes for a in ours.allocations)), 3),
    }
    if args.json:
        print(json.dumps(out))
    else:
        width = max(map(len, out))
        for k, v in out.items():
            print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
