"""End-to-end clearing through the app on PostgreSQL: database in, build, solve, write, database out.

`python -m bench.clearing --json` creates a scratch PostgreSQL database under a unique name (dropped
afterwards unless --keep), migrates it, loads the catalogue and seeds bench.matching's synthetic market as
real rows: one producer facility per lot, one recycler organisation per demand with a category-wide bid (a
share as standing demand profiles instead). It then runs the app's own clearing (`clearing.start_clearing`
→ `execute_run`: the same build, solve and join a user's run takes) with 1 and 2 worker processes,
resetting the market between runs, and prints wall seconds split by stage (the stages overlap: pricing runs
on every core, the join's database work runs beside its Python, and the last category's prices and
explanations are worked out while the join writes), peak RSS and allocations. The
peer, measured in the same run, is the solver alone (`matching.solve_category`) on the very problem the
app built (measured before and after the runs, the lower kept): the end-to-end target is wall ≤ 3×
solver-only.

The database comes from BENCH_ADMIN_DATABASE_URL (an admin connection used to create and drop the scratch
database); nothing else is touched. No Redis is used (runs execute in this process).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from bench import matching as synthetic
from bench.load import add_scratch_database_arguments, create_database, drop_database, inside_service_area

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 3.0
PROFILE_SHARE = 0.3  # of demands seeded as standing demand profiles rather than bids


def _peak_rss_mb() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(me, children) / 1024.0, 1)


def seed(url: str, n_lots: int, n_demands: int, seed_value: int, shape: str) -> dict:
    """Migrate, load the catalogue, bulk-insert the synthetic market as organisations, facilities, lots, bids."""
    from app.services.reference import load_reference
    from models import (
        Bid,
        DemandProfile,
        Facility,
        Lot,
        Organization,
        OrganizationRole,
        User,
        WasteCategory,
        make_engine,
    )
    from models.credit_code import make_credit_code

    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("alembic")), "upgrade", "head"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    m = synthetic.synthetic_market(n_lots, n_demands, seed_value, shape)
    for lon, lat in (("lot_lon", "lot_lat"), ("dem_lon", "dem_lat")):
        m[lon], m[lat] = inside_service_area(m[lon], m[lat])
    engine = make_engine(url)
    with sa.orm.Session(engine) as session:
        load_reference(session)
        session.commit()
        ids = dict(session.execute(sa.select(WasteCategory.code, WasteCategory.id)).all())
    missing = [code for code in synthetic.CATEGORIES if code not in ids]
    if missing:
        raise ValueError(f"bench category code(s) {missing} not loaded from the catalogue")
    cat = [ids[code] for code in synthetic.CATEGORIES]
    n_producers = max(1, n_lots // 10)
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    with engine.begin() as c:
        c.execute(Organization.__table__.insert(), [
            {"name": f"基准企业 {k}", "credit_code": make_credit_code(f"91230100BC{k:07d}"), "verified": True,
             "is_demo": False, "created_at": now, "updated_at": now} for k in range(n_producers + n_demands)])
        org_ids = c.execute(sa.select(Organization.id).order_by(Organization.id)).scalars().all()
        c.execute(OrganizationRole.__table__.insert(), [
            {"organization_id": o, "role": "producer" if k < n_producers else "recycler"}
            for k, o in enumerate(org_ids)])
        c.execute(User.__table__.insert(), [
            {"organization_id": o, "email": f"bench{k}@example.com", "name": f"Bench {k}",
             "password_hash": "!", "role": "producer" if k < n_producers else "recycler", "active": True,
             "created_at": now, "updated_at": now} for k, o in enumerate(org_ids)])
        facilities = [{"organization_id": org_ids[k % n_producers], "name": f"Plant {k}", "kind": "producer",
                       "lon": float(m["lot_lon"][k]), "lat": float(m["lot_lat"][k]), "input_crs": "wgs84",
                       "in_province": True, "large_producer": False, "max_haul_km": None, "created_at": now,
                       "updated_at": now} for k in range(n_lots)]
        facilities += [{"organization_id": org_ids[n_producers + j], "name": f"Recycler {j}", "kind": "recycler",
                        "lon": float(m["dem_lon"][j]), "lat": float(m["dem_lat"][j]), "input_crs": "wgs84",
                        "in_province": True, "large_producer": False, "max_haul_km": int(m["max_haul"][j]),
                        "created_at": now, "updated_at": now} for j in range(n_demands)]
        c.execute(Facility.__table__.insert(), facilities)
        fac = c.execute(sa.select(Facility.id).order_by(Facility.id)).scalars().all()
        c.execute(Lot.__table__.insert(), [
            {"facility_id": fac[k], "category_id": cat[m["lot_cat"][k]], "title": f"Lot {k}",
             "tonnes": f"{m['lot_t'][k] + 1:.3f}", "remaining_tonnes": f"{m['lot_t'][k] + 1:.3f}",
             "reserve_yuan_per_t": f"{m['reserve'][k]:.2f}", "available_from": today - dt.timedelta(days=1),
             "quality": {}, "status": "open", "created_at": now, "updated_at": now} for k in range(n_lots)])
        n_profiles = int(n_demands * PROFILE_SHARE)
        c.execute(DemandProfile.__table__.insert(), [
            {"facility_id": fac[n_lots + j], "category_id": cat[m["dem_cat"][j]], "tonnes": f"{m['dem_t'][j]:.3f}",
             "price_yuan_per_t": f"{m['price'][j]:.2f}", "period_start": today - dt.timedelta(days=30),
             "period_end": today + dt.timedelta(days=330), "quality_limits": {}, "active": True,
             "created_at": now, "updated_at": now} for j in range(n_profiles)])
        c.execute(Bid.__table__.insert(), [
            {"facility_id": fac[n_lots + j], "category_id": cat[m["dem_cat"][j]], "lot_id": None,
             "tonnes": f"{m['dem_t'][j]:.3f}", "price_yuan_per_t": f"{m['price'][j]:.2f}", "status": "active",
             "created_at": now, "updated_at": now} for j in range(n_profiles, n_demands)])
        c.execute(sa.text("ANALYZE"))
    engine.dispose()
    return {"seed_s": round(time.perf_counter() - started, 2), "lots": n_lots, "demands": n_demands,
            "profiles": n_profiles, "bids": n_demands - n_profiles, "shape": shape}


def reset_market(engine: sa.Engine) -> None:
    """Give every lot, bid and profile back its tonnes between runs (the audit chain keeps growing)."""
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM allocations"))
        c.execute(sa.text("DELETE FROM notifications"))
        c.execute(sa.text("DELETE FROM outbox_emails"))
        c.execute(sa.text("UPDATE lots SET remaining_tonnes = tonnes, status = 'open'"))
        c.execute(sa.text("UPDATE bids SET status = 'active'"))


def clear_once(app, workers: int) -> dict:
    """One clearing through the app's service; wall seconds, stage timings, allocations, arcs."""
    from app.extensions import db
    from app.services import clearing
    from models import Allocation

    with app.app_context():
        app.config["CLEARING_WORKERS"] = workers
        started = time.perf_counter()
        run = clearing.start_clearing(db.session, None, None)
        wall = time.perf_counter() - started
        allocations = db.session.scalar(sa.select(sa.func.count(Allocation.id)).where(Allocation.run_id == run.id))
        arcs = sum(part.get("arcs", 0) for part in (run.input_snapshot or {}).values())
        out = {"workers": workers, "status": run.status, "wall_s": round(wall, 3),
               "run_seconds": round(run.seconds or 0, 3),
               "stages_s": {k: round(v, 3) for k, v in (run.timings or {}).items()},
               "allocations": allocations, "arcs": arcs, "tonnes_matched": float(run.tonnes_matched or 0),
               "objective_yuan": float(run.objective_yuan or 0), "peak_rss_mb": _peak_rss_mb()}
        db.session.remove()
    return out


def solver_only(app) -> dict:
    """The peer: matching.solve_category alone on the problems the app builds (build not timed)."""
    import matching
    from app.extensions import db
    from app.services import clearing
    from models import utcnow

    seconds = 0.0
    arcs = 0
    with app.app_context():
        for category in clearing.clearable_categories(db.session):
            part = clearing.build_category_problem(db.session, category, utcnow().date())
            arcs += len(part.problem.cost_table)
            if part.problem.is_empty:
                continue
            started = time.perf_counter()
            matching.solve_category(part.problem, "mincostflow")
            seconds += time.perf_counter() - started
            part.release()
        db.session.remove()
    return {"solver_only_s": round(seconds, 3), "arcs": arcs}


def _warm_up() -> None:
    """First-call costs (imports, OR-Tools, geo's networks) paid before anything is timed."""
    import matching

    problem, _ = synthetic.synthetic_problem(300, 60, 1)
    matching.solve(problem, "mincostflow")
    import geo

    geo.cost_matrix([126.6], [45.7], [125.1], [46.6])


def main(argv: list[str] | None = None) -> int:
    """Seed, clear with 1 and 2 workers, compare with the solver alone, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=5000)
    parser.add_argument("--demands", type=int, default=1000)
    parser.add_argument("--shape", choices=("dense", "mixed"), default="dense")
    parser.add_argument("--seed", type=int, default=20240501)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to run")
    add_scratch_database_arguments(parser)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex)
    os.environ.pop("REDIS_URL", None)
    name = f"gufei_bench_clearing_{uuid.uuid4().hex[:8]}"
    url = create_database(args.admin_url, name)
    try:
        seeded = seed(url, args.lots, args.demands, args.seed, args.shape)
        from app import create_app
        from models import make_engine

        app = create_app({"DATABASE_URL": url, "JOBS_IN_THREAD": False})
        engine = make_engine(url)
        _warm_up()
        peer = solver_only(app)
        runs = []
        for k, workers in enumerate(int(w) for w in args.workers.split(",")):
            if k:
                reset_market(engine)
            runs.append(clear_once(app, workers))
        # The peer once more after the runs: the lower of the two is the (conservative) solver-only time.
        reset_market(engine)
        again = solver_only(app)
        peer["solver_only_s"] = min(peer["solver_only_s"], again["solver_only_s"])
        engine.dispose()
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(args.admin_url, name)
    best = min(r["wall_s"] for r in runs)
    result = {"benchmark": "clearing", "database": "postgresql", "seed": seeded, "cpus": os.cpu_count(),
              **peer, "runs": runs, "wall_over_solver": round(best / max(peer["solver_only_s"], 1e-9), 2),
              "target_ratio": TARGET_RATIO, "meets_target": best <= TARGET_RATIO * peer["solver_only_s"],
              "peak_rss_mb": _peak_rss_mb()}
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
