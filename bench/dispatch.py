"""Benchmark dispatch routing: 200 loads and 20 trucks over Heilongjiang's seats, against one round trip per
truckload (the baseline) and against the same model given ten times the time."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import sqlalchemy as sa

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


def seed_database(data: dict) -> tuple[object, int, dict[str, int]]:
    """A throw-away SQLite database holding the instance as the app stores it: a carrier with the trucks, one
    shipment per load (lot → award) between facilities at the seats; returns the app, the carrier and ids."""
    import os
    import secrets
    import tempfile

    from werkzeug.security import generate_password_hash

    os.environ.setdefault("GUFEI_INSTANCE_PATH", tempfile.mkdtemp(prefix="gufei-bench-dispatch-"))
    from app import create_app
    from app.extensions import db
    from app.services import dispatch as service
    from app.services.reference import load_reference
    from models import (
        Allocation,
        Award,
        Base,
        Facility,
        Lot,
        MatchRun,
        Organization,
        OrganizationRole,
        Shipment,
        User,
        WasteCategory,
    )
    from models.credit_code import make_credit_code

    path = Path(tempfile.mkdtemp(prefix="gufei-bench-dispatch-")) / "bench.sqlite"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "TESTING": True})
    with app.app_context():
        Base.metadata.create_all(db.engine)
        load_reference(db.session)
        s = db.session
        ash = s.scalar(sa.select(WasteCategory).where(WasteCategory.code == "fly_ash"))
        orgs = {}
        for k, role in enumerate(("producer", "recycler", "carrier")):
            orgs[role] = Organization(name=f"bench {role}（演示）", credit_code=make_credit_code(f"91230100MA{k:07d}"),
                                      verified=True, roles=[OrganizationRole(role=role)])
        carrier = User(email="carrier@bench.invalid", name="bench", role="carrier",
                       password_hash=generate_password_hash(secrets.token_hex(16)), organization=orgs["carrier"])
        s.add_all([*orgs.values(), carrier])
        run = MatchRun(status="succeeded", solver="bench")
        s.add(run)
        s.flush()
        where = {p["id"]: p for p in data["points"]}
        facilities: dict[tuple[str, str], Facility] = {}

        def facility(point: str, kind: str) -> Facility:
            if (point, kind) not in facilities:
                f = Facility(organization=orgs[kind], name=f"{kind} at {point}", kind=kind,
                             lon=where[point]["lon"], lat=where[point]["lat"])
                s.add(f)
                facilities[(point, kind)] = f
            return facilities[(point, kind)]

        today = dt.date.today()
        for k, ld in enumerate(data["loads"]):
            t = Decimal(str(ld["tonnes"]))
            lot = Lot(facility=facility(ld["pickup"], "producer"), category_id=ash.id, title=ld["id"], tonnes=t,
                      remaining_tonnes=Decimal(0), reserve_yuan_per_t=Decimal(0), available_from=today,
                      status="shipping")
            zero = Decimal(0)
            allocation = Allocation(run_id=run.id, lot=lot, facility=facility(ld["dropoff"], "recycler"), tonnes=t,
                                    price_yuan_per_t=zero, reserve_yuan_per_t=zero, transport_yuan_per_t=zero,
                                    transport_cost_yuan=zero, surplus_yuan=zero, status="accepted")
            award = Award(allocation=allocation, tonnes=t, dispatched_tonnes=t, price_yuan_per_t=zero,
                          freight_yuan_per_t=zero, netback_yuan_per_t=zero, recycler_pays_yuan=zero,
                          freight_yuan=zero, producer_receives_yuan=zero, status="shipping")
            s.add(Shipment(award=award, manifest_no=f"BENCH-{k:06d}", carrier=orgs["carrier"],
                           vehicle_plate="黑A00000", dispatched_tonnes=t))
        s.commit()
        names = {p["id"]: p for p in data["points"]}
        for k, v in enumerate(data["vehicles"]):
            depot = names[v["depot"]]
            service.add_vehicle(s, carrier, service.VehicleInput(
                f"黑A{k:05d}", Decimal(str(v["capacity_t"])), Decimal(v["cost_yuan_per_km"]), v["max_km"],
                depot_lon=depot["lon"], depot_lat=depot["lat"]))
        return app, carrier.id, {"shipments": [x.id for x in s.scalars(sa.select(Shipment))],
                                 "vehicles": [v.id for v in service.vehicles(s, carrier)]}


def run_db(app, carrier_id: int, inputs: dict, days: int, time_limit_s: int) -> dict:
    """Plan through the app's job (database in, database out), timing all of it; the stored figures."""
    from app.extensions import db
    from app.services import dispatch as service
    from models import DispatchPlan, User

    with app.app_context():
        plan = DispatchPlan(organization_id=db.session.get(User, carrier_id).organization_id,
                            created_by_id=carrier_id, status="queued", start_date=dt.date.today(), days=days,
                            time_limit_s=time_limit_s, inputs=inputs)
        db.session.add(plan)
        db.session.commit()
        started = time.perf_counter()
        plan = service.execute_plan(db.session, plan.id)
        wall = time.perf_counter() - started
        served = sum(float(s.tonnes) for s in plan.stops if s.action == "dropoff")
        return {
            "path": "database", "time_limit_s": time_limit_s, "wall_s": round(wall, 2), "status": plan.status,
            "total_km": float(plan.total_km), "empty_km": float(plan.empty_km),
            "baseline_km": float(plan.baseline_km), "baseline_empty_km": float(plan.baseline_empty_km),
            "cost_yuan": float(plan.cost_yuan), "co2_t": round(float(plan.co2_kg) / 1000, 3),
            "baseline_co2_t": round(float(plan.baseline_co2_kg) / 1000, 3), "routes": len(plan.route_figures),
            "served_t": round(served, 3), "unserved_t": round(sum(float(u["tonnes"]) for u in plan.unserved), 3),
            "empty_km_saved_vs_baseline": round(1 - float(plan.empty_km) / float(plan.baseline_empty_km), 4),
            "total_km_saved_vs_baseline": round(1 - float(plan.total_km) / float(plan.baseline_km), 4),
        }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.dispatch", description=__doc__)
    parser.add_argument("--loads", type=int, default=200)
    parser.add_argument("--trucks", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=25.0, help="solver seconds of the short run")
    parser.add_argument("--long-factor", type=float, default=10.0, help="the long run gets this many times more")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--path", choices=("database", "solver"), default="database",
                        help="database: the app's planning job, SQLite in and out (default); solver: the model alone")
    parser.add_argument("--json", action="store_true", help="print JSON (the default; kept for symmetry)")
    args = parser.parse_args(argv)

    data, matrix_s = instance(args.loads, args.trucks, args.seed)
    data["days"] = _days(data)
    if args.path == "database":
        app, carrier_id, inputs = seed_database(data)
        short = run_db(app, carrier_id, inputs, data["days"], int(args.time_limit))
        long = run_db(app, carrier_id, inputs, data["days"], int(args.time_limit * args.long_factor))
    else:
        short = run(data, args.time_limit)
        long = run(data, args.time_limit * args.long_factor)
    # The database path builds its own road matrix inside the timed job; the solver path is given the bench's.
    short_wall = short["wall_s"] + (matrix_s if args.path == "solver" else 0)
    report = {
        "shape": {"loads": args.loads, "trucks": args.trucks, "days": data["days"], "points": len(data["points"]),
                  "tonnes": round(sum(ld["tonnes"] for ld in data["loads"]), 3), "seed": args.seed},
        "road_matrix_s": round(matrix_s, 2),
        "short": short,
        "long": long,
        "short_wall_s_including_road_matrix": round(short_wall, 2),
        "short_total_km_over_long": round(short["total_km"] / long["total_km"] - 1, 4),
        "targets": {
            "empty_km_saved_vs_baseline_min": 0.25, "short_within_s": 30, "short_over_long_max": 0.03,
            "met": bool(short["empty_km_saved_vs_baseline"] >= 0.25 and short_wall <= 30
                        and short["total_km"] / long["total_km"] - 1 <= 0.03),
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
