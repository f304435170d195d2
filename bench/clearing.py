"""National-size clearing through Celery workers on Redis: 1 worker process, then 2, against one process.

`python -m bench.clearing --json` generates a synthetic problem (default 50,000 lots, 5,000 demands,
25 categories; bench.matching's generator), splits it per category, sends each category as a JSON payload
to the `gufei.matching.solve_category` task (a group: fan-out), joins the results with
`matching.merge_results`, and checks the objective and every allocation against `matching.solve` in this
process. Workers are real `celery worker` subprocesses on a scratch Redis database.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matching
from app.jobs import problem_to_payload
from bench import matching as synthetic

ROOT = Path(__file__).resolve().parent.parent
EXTRA_CATEGORIES = ["waste_batteries", "waste_catalysts", "sewage_sludge", "food_waste", "textile_waste"]


@contextlib.contextmanager
def categories(n: int):
    """Let bench.matching's generator draw from n categories."""
    saved = synthetic.CATEGORIES
    synthetic.CATEGORIES = (saved + EXTRA_CATEGORIES)[:n]
    try:
        yield
    finally:
        synthetic.CATEGORIES = saved


@contextlib.contextmanager
def workers(redis_url: str, processes: int):
    """`processes` solo-pool celery workers on redis_url; stopped on exit."""
    env = {**os.environ, "REDIS_URL": redis_url, "GUFEI_INSTANCE_PATH": tempfile.mkdtemp(prefix="gufei-bench-")}
    env.pop("DATABASE_URL", None)  # the matching task needs no database
    started = [subprocess.Popen(  # noqa: S603 - fixed argv, the venv's celery
        [str(Path(sys.executable).with_name("celery")), "--app", "app.worker", "worker", "--pool", "solo",
         "--hostname", f"bench{k}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for k in range(processes)]
    try:
        yield started
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(30)


def through_workers(app, payloads: list[dict], timeout: float) -> tuple[matching.Result, float]:
    """Fan the payloads out as one group, join the results; returns the merged result and the seconds."""
    from celery import group

    from app.jobs import solve_problem_task
    from app.services.clearing import result_from_payload

    started = time.perf_counter()
    # Largest categories first so two workers share the work evenly.
    job = group(solve_problem_task.s(p, "mincostflow") for p in payloads).apply_async()
    results = job.get(timeout=timeout, disable_sync_subtasks=False)
    merged = matching.merge_results(result_from_payload(r) for r in results)
    return merged, time.perf_counter() - started


def _allocations(result: matching.Result) -> list[tuple]:
    return sorted((str(a.lot_id), str(a.demand_id), str(a.tonnes)) for a in result.allocations)


def main(argv: list[str] | None = None) -> int:
    """Generate, solve in one process, then through 1 and 2 workers; print figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.clearing")
    parser.add_argument("--lots", type=int, default=50_000)
    parser.add_argument("--demands", type=int, default=5_000)
    parser.add_argument("--categories", type=int, default=25)
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"),
                        required="BENCH_REDIS_URL" not in os.environ,
                        help="an empty Redis database of this run's own (nothing in it is flushed)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with categories(args.categories):
        started = time.perf_counter()
        problem, _arcs_s = synthetic.synthetic_problem(args.lots, args.demands, args.seed)
        generate_s = time.perf_counter() - started
    started = time.perf_counter()
    single = matching.solve(problem, solver="mincostflow")
    single_s = time.perf_counter() - started
    parts = matching.split_by_category(problem)
    payloads = sorted((problem_to_payload(p) for p in parts.values()), key=lambda p: -len(p["arcs"][0]))

    os.environ["REDIS_URL"] = args.redis_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    import redis

    store = redis.Redis.from_url(args.redis_url)
    if store.dbsize():  # never flush a database that may be someone else's: ask for an empty one
        raise SystemExit(f"{args.redis_url} is not empty; give the benchmark a Redis database of its own")
    from app.worker import flask_app

    figures = {}
    with flask_app.app_context():
        for n in (1, 2):
            with workers(args.redis_url, n):
                through_workers(flask_app, payloads[-1:], args.timeout)  # warm-up: worker start and imports
                merged, seconds = through_workers(flask_app, payloads, args.timeout)
            figures[n] = {"seconds": round(seconds, 3), "objective_yuan": str(merged.objective_yuan),
                          "same_objective": merged.objective_yuan == single.objective_yuan,
                          "same_allocations": _allocations(merged) == _allocations(single)}
    created = list(store.scan_iter(count=1000))  # the database was empty: every key in it is this run's
    if created:
        store.delete(*created)
    result = {
        "benchmark": "clearing", "lots": args.lots, "demands": args.demands, "categories": len(parts),
        "arcs": len(problem.cost_table), "allocations": len(single.allocations), "cpus": os.cpu_count(),
        "generate_s": round(generate_s, 3), "single_process_s": round(single_s, 3),
        "objective_yuan": str(single.objective_yuan),
        "workers_1": figures[1], "workers_2": figures[2],
        "speedup_2_vs_1": round(figures[1]["seconds"] / figures[2]["seconds"], 2),
        "overhead_1_worker_vs_single_process": round(figures[1]["seconds"] / single_s, 2),
        "identical": all(f["same_objective"] and f["same_allocations"] for f in figures.values()),
    }
    print(json.dumps(result, indent=None if args.json else 2))
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
