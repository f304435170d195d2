"""Benchmark: 5,000 × 1,000 road/rail cost matrix vs a plain haversine matrix (`python -m bench.geo --json`)."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

import numpy as np
import shapely

SOURCES = 5_000
DESTINATIONS = 1_000
SEED = 20240601
REPEATS = 5


def random_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n seeded random points inside the Heilongjiang polygon (rejection sampling)."""
    from geo.boundaries import province_polygon

    poly = province_polygon()
    shapely.prepare(poly)
    minx, miny, maxx, maxy = poly.bounds
    lon: list[np.ndarray] = []
    lat: list[np.ndarray] = []
    got = 0
    while got < n:
        x = rng.uniform(minx, maxx, 4 * n)
        y = rng.uniform(miny, maxy, 4 * n)
        keep = shapely.contains_xy(poly, x, y)
        lon.append(x[keep])
        lat.append(y[keep])
        got += int(keep.sum())
    return np.concatenate(lon)[:n], np.concatenate(lat)[:n]


def haversine_matrix(a_lon, a_lat, b_lon, b_lat) -> np.ndarray:
    """Plain numpy great-circle matrix: the baseline."""
    p1, l1 = np.radians(a_lat)[:, None], np.radians(a_lon)[:, None]
    p2, l2 = np.radians(b_lat)[None, :], np.radians(b_lon)[None, :]
    s = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(s))


def timings(fn, repeats: int) -> list[float]:
    """Wall-clock seconds of `repeats` calls of fn (results dropped between calls)."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t0)
        del result
    return out


def run(sources: int = SOURCES, destinations: int = DESTINATIONS, repeats: int = REPEATS) -> dict:
    """Time both matrices `repeats` times each after loading the data; first, min, median and peak RSS."""
    from geo.costs import cost_matrix

    rng = np.random.default_rng(SEED)
    s_lon, s_lat = random_points(sources, rng)
    d_lon, d_lat = random_points(destinations, rng)
    t0 = time.perf_counter()
    cost_matrix(s_lon[:10], s_lat[:10], d_lon[:10], d_lat[:10])  # warm: data load, tables, KD-trees
    t_warm = time.perf_counter() - t0

    t_gc = timings(lambda: haversine_matrix(s_lon, s_lat, d_lon, d_lat), repeats)
    t_cost = timings(lambda: cost_matrix(s_lon, s_lat, d_lon, d_lat, "bulk"), repeats)

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {
        "sources": sources,
        "destinations": destinations,
        "repeats": repeats,
        "first_call_s": round(t_warm, 3),
        "great_circle_min_s": round(min(t_gc), 4),
        "great_circle_median_s": round(statistics.median(t_gc), 4),
        # The first full matrix also fills the shortest-path rows of points not seen before: the cold case.
        "cost_matrix_first_s": round(t_cost[0], 4),
        "cost_matrix_min_s": round(min(t_cost), 4),
        "cost_matrix_median_s": round(statistics.median(t_cost), 4),
        "ratio_median": round(statistics.median(t_cost) / statistics.median(t_gc), 2),
        "ratio_min": round(min(t_cost) / min(t_gc), 2),
        "ratio_first": round(t_cost[0] / statistics.median(t_gc), 2),
        "peak_rss_mb": round(peak_kb / 1024.0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry point."""
    p = argparse.ArgumentParser(prog="python -m bench.geo")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sources", type=int, default=SOURCES)
    p.add_argument("--destinations", type=int, default=DESTINATIONS)
    p.add_argument("--repeats", type=int, default=REPEATS, help="timings per matrix (min and median reported)")
    args = p.parse_args(argv)
    res = run(args.sources, args.destinations, args.repeats)
    if args.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:>16}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
