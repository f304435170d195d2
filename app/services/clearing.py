"""Clearing: build the matching problem from open lots and demand, solve per category, write the run."""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

import geo
import matching
from app.services import audit, notifications
from app.services.errors import ServiceError
from models import (
    Allocation,
    Bid,
    DemandProfile,
    Facility,
    FacilityCapacity,
    Licence,
    Lot,
    MatchRun,
    User,
    WasteCategory,
    utcnow,
)

logger = logging.getLogger(__name__)

CLEARABLE_LOT_STATUSES = ("open", "matched", "awarded")
PENDING_ALLOCATION_STATUSES = ("proposed", "accepted")
FEN = Decimal("0.01")
KG = Decimal("0.001")
HALF_KG = Decimal("0.0005")


def money(value: Decimal | float | int) -> Decimal:
    """Round to the fen, half up."""
    return Decimal(str(value)).quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass
class CategoryProblem:
    """One category's matching problem with the database ids behind its demand ids."""

    category: WasteCategory
    problem: matching.Problem
    # demand id → facility, bid, profile
    demand_rows: dict[str, tuple[int, int | None, int | None]] = field(default_factory=dict)
    pair_km: dict[tuple[int, str], tuple[float, float | None]] = field(default_factory=dict)  # road, rail km

    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe record of the inputs."""
        return {
            "lots": [{"id": lot.id, "tonnes": str(lot.tonnes), "reserve": str(lot.reserve_yuan_per_t),
                      "from": _iso(lot.available_from), "to": _iso(lot.available_to), "quality": dict(lot.quality),
                      "hazardous": lot.hazardous} for lot in self.problem.lots],
            "demands": [{"id": d.id, "tonnes": str(d.tonnes), "price": str(d.price_yuan_per_t),
                         "max_haul_km": d.max_haul_km, "from": _iso(d.window_from), "to": _iso(d.window_to),
                         "quality_limits": {k: list(v) for k, v in d.quality_limits.items()},
                         "licences": sorted(d.licences)} for d in self.problem.demands],
            "arcs": len(self.problem.cost_table),
        }


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _numeric_quality(quality: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in (quality or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if np.isfinite(number):
            out[key] = number
    return out


def _limits(raw: dict[str, Any] | None) -> dict[str, tuple[float | None, float | None]]:
    out = {}
    for key, bounds in (raw or {}).items():
        if isinstance(bounds, (list, tuple)) and len(bounds) == 2:
            out[key] = tuple(None if b is None else float(b) for b in bounds)
    return out


def _licences(session: so.Session, facility_ids: set[int], today: dt.date) -> dict[int, frozenset[str]]:
    held: dict[int, set[str]] = {}
    rows = session.scalars(sa.select(Licence).where(
        Licence.facility_id.in_(facility_ids), sa.or_(Licence.valid_until.is_(None), Licence.valid_until >= today)))
    for licence in rows:
        held.setdefault(licence.facility_id, set()).update(licence.category_codes or [])
    return {k: frozenset(v) for k, v in held.items()}


def _capacity_limits(session: so.Session, category_id: int) -> dict[int, dict]:
    rows = session.scalars(sa.select(FacilityCapacity).where(FacilityCapacity.category_id == category_id))
    return {row.facility_id: row.quality_limits or {} for row in rows}


def _committed_profile_tonnes(session: so.Session) -> dict[int, Decimal]:
    rows = session.execute(sa.select(Allocation.demand_profile_id, sa.func.sum(Allocation.tonnes))
                           .where(Allocation.demand_profile_id.is_not(None),
                                  Allocation.status.in_(PENDING_ALLOCATION_STATUSES))
                           .group_by(Allocation.demand_profile_id)).all()
    return {pid: Decimal(str(total)) for pid, total in rows}


def clearable_categories(session: so.Session) -> list[WasteCategory]:
    """Categories having at least one lot with tonnes to clear."""
    ids = sa.select(Lot.category_id).where(Lot.status.in_(CLEARABLE_LOT_STATUSES), Lot.remaining_tonnes > 0)
    return list(session.scalars(sa.select(WasteCategory).where(WasteCategory.id.in_(ids)).order_by(WasteCategory.id)))


@dataclass(frozen=True)
class DemandSource:
    """A matching demand with the rows behind it and the lots it may pair with."""

    demand: matching.Demand
    facility: Facility
    bid_id: int | None = None
    profile_id: int | None = None
    lot_id: int | None = None  # a bid on one lot pairs with that lot only; None: every lot of the category
    organization_id: int | None = None  # a bid never pairs with a lot of its own organisation


def _bid_demands(category: WasteCategory, capacity_limits: dict[int, dict], licences: dict[int, frozenset[str]],
                 bids: list[Bid]) -> list[DemandSource]:
    """Active bids as demands: on one lot, or category-wide within their haul limit."""
    out = []
    for bid in bids:
        facility = bid.facility
        out.append(DemandSource(matching.Demand(
            id=f"b{bid.id}", category=category.code, tonnes=bid.tonnes, price_yuan_per_t=bid.price_yuan_per_t,
            quality_limits=_limits(capacity_limits.get(facility.id)),
            max_haul_km=bid.max_haul_km or facility.max_haul_km, licences=licences.get(facility.id, frozenset()),
        ), facility, bid_id=bid.id, lot_id=bid.lot_id, organization_id=facility.organization_id))
    return out


def _demands(session: so.Session, category: WasteCategory, today: dt.date) -> list[DemandSource]:
    """Active bids (on a clearable lot or category-wide) and standing profiles of a category, as demands."""
    capacity_limits = _capacity_limits(session, category.id)
    committed = _committed_profile_tonnes(session)
    bids = session.scalars(sa.select(Bid).outerjoin(Lot, Bid.lot_id == Lot.id).where(
        Bid.category_id == category.id, Bid.status == "active",
        sa.or_(Bid.lot_id.is_(None), Lot.status.in_(CLEARABLE_LOT_STATUSES)))
        .order_by(Bid.id)).all()
    profiles = session.scalars(sa.select(DemandProfile).where(
        DemandProfile.category_id == category.id, DemandProfile.active.is_(True),
        DemandProfile.period_end >= today).order_by(DemandProfile.id)).all()
    facilities = {b.facility_id for b in bids} | {p.facility_id for p in profiles}
    licences = _licences(session, facilities, today) if facilities else {}
    out = _bid_demands(category, capacity_limits, licences, bids)
    for profile in profiles:
        left = profile.tonnes - committed.get(profile.id, Decimal(0))
        if left <= 0:
            continue
        facility = profile.facility
        out.append(DemandSource(matching.Demand(
            id=f"p{profile.id}", category=category.code, tonnes=left, price_yuan_per_t=profile.price_yuan_per_t,
            window_from=profile.period_start, window_to=profile.period_end,
            quality_limits=_limits(profile.quality_limits or capacity_limits.get(facility.id)),
            max_haul_km=profile.max_haul_km or facility.max_haul_km, licences=licences.get(facility.id, frozenset()),
        ), facility, profile_id=profile.id))
    return out


def _candidate_rows(lots: list[Lot], lot_position: dict[int, int], source: DemandSource) -> list[int]:
    """The lots a demand may pair with before the compatibility rules (haul, quality, licence, window) run.

    A bid on one lot: that lot. A category-wide bid or a profile: every lot of the category not at its own
    facility (a bid, as on a single lot, never one of its own organisation's).
    """
    if source.lot_id is not None:
        return [lot_position[source.lot_id]] if source.lot_id in lot_position else []
    return [i for i, lot in enumerate(lots) if lot.facility_id != source.facility.id
            and (source.organization_id is None or lot.facility.organization_id != source.organization_id)]


def build_category_problem(session: so.Session, category: WasteCategory, today: dt.date) -> CategoryProblem:
    """The matching problem of one category: open lots, bids (on their lot or category-wide), profiles, costs."""
    lots = session.scalars(sa.select(Lot).where(
        Lot.category_id == category.id, Lot.status.in_(CLEARABLE_LOT_STATUSES), Lot.remaining_tonnes > 0)
        .order_by(Lot.id)).all()
    sources = _demands(session, category, today)
    m_lots = [matching.Lot(
        id=lot.id, category=category.code, tonnes=lot.remaining_tonnes, reserve_yuan_per_t=lot.reserve_yuan_per_t,
        available_from=lot.available_from, available_to=lot.available_to, quality=_numeric_quality(lot.quality),
        hazardous=category.hazardous) for lot in lots]
    result = CategoryProblem(category, matching.Problem([], []))
    if not lots or not sources:
        result.problem = matching.Problem(m_lots, [s.demand for s in sources])
        return result
    matrix = geo.cost_matrix([lot.facility.lon for lot in lots], [lot.facility.lat for lot in lots],
                             [s.facility.lon for s in sources], [s.facility.lat for s in sources],
                             category.freight_class)
    rail = np.nan_to_num(matrix.rail_km, nan=0.0)
    km = matrix.road_km + rail
    lot_position = {lot.id: i for i, lot in enumerate(lots)}
    li, di = [], []
    for j, source in enumerate(sources):
        result.demand_rows[source.demand.id] = (source.facility.id, source.bid_id, source.profile_id)
        for i in _candidate_rows(lots, lot_position, source):
            li.append(i)
            di.append(j)
            rail_km = matrix.rail_km[i, j]
            result.pair_km[(lots[i].id, source.demand.id)] = (float(matrix.road_km[i, j]),
                                                               None if np.isnan(rail_km) else float(rail_km))
    li_a, di_a = np.array(li, dtype=np.int64), np.array(di, dtype=np.int64)
    result.problem = matching.Problem.from_arrays(
        m_lots, [s.demand for s in sources], li_a, di_a, matrix.yuan_per_t[li_a, di_a], km[li_a, di_a],
        matrix.co2_kg_per_t[li_a, di_a])
    return result


def solve_category(part: CategoryProblem, solver: str = "auto") -> matching.Result:
    """Solve one category's problem (the unit of parallel work)."""
    if part.problem.is_empty:
        unmatched = [matching.Unmatched(lot.id, lot.tonnes, "no_compatible_recycler", "no demand for this category")
                     for lot in part.problem.lots]
        return matching.Result("optimal", Decimal(0), unmatched=unmatched, solver="mincostflow", gap=0.0)
    return matching.solve_category(part.problem, solver)


# ----------------------------------------------------------------------------- starting a run


def start_clearing(session: so.Session, user: User | None, category_code: str | None = None,
                   enqueue: Callable[[int], str] | None = None) -> MatchRun:
    """Queue a clearing run (optionally for one category) and hand it to the job queue."""
    category = None
    if category_code:
        category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == category_code))
        if category is None:
            raise ServiceError(_("Unknown category %(code)s.", code=category_code), field="category")
    run = MatchRun(status="queued", category_id=category.id if category else None, solver="auto",
                   parameters={"category": category_code or None,
                               "deadline_days": current_app.config["ALLOCATION_DEADLINE_DAYS"]},
                   created_by_id=user.id if user else None, progress_pct=0, message=_("Queued"))
    session.add(run)
    session.flush()
    audit.record(session, user.id if user else None, "match_run", run.id, "queued", {"category": category_code})
    session.commit()
    if enqueue is None:
        from app import jobs

        enqueue = jobs.enqueue_clearing
    run.job_id = enqueue(run.id)
    session.commit()
    return run


def _progress(session: so.Session, run: MatchRun, pct: int, message: str) -> None:
    run.progress_pct = pct
    run.message = message
    session.commit()


@dataclass
class SolvedCategory:
    """One category's solved result with what the join needs to write it: the unit passed between workers."""

    category: WasteCategory
    demand_rows: dict[str, tuple[int, int | None, int | None]]
    pair_km: dict[tuple[int, str], tuple[float, float | None]]
    snapshot: dict[str, Any]
    result: matching.Result


def begin_run(session: so.Session, run_id: int) -> tuple[MatchRun, list[WasteCategory]]:
    """Mark a queued run running and return it with the categories to solve (none if it is not runnable)."""
    run = session.get(MatchRun, run_id)
    if run is None:
        raise ServiceError(f"no match run {run_id}")
    if run.status not in ("queued", "running"):
        return run, []
    run.status = "running"
    run.started_at = run.started_at or utcnow()
    _progress(session, run, 5, "building")
    return run, [run.category] if run.category else clearable_categories(session)


def solve_one_category(session: so.Session, category: WasteCategory, today: dt.date) -> SolvedCategory:
    """Build and solve one category's problem (the unit of parallel work)."""
    part = build_category_problem(session, category, today)
    result = solve_category(part)
    return SolvedCategory(category, part.demand_rows, part.pair_km, part.snapshot(), result)


def record_progress(session: so.Session, run_id: int, done: int, total: int) -> None:
    """Categories done / total on the run, never moving backwards (workers finish in any order)."""
    pct = 10 + int(80 * done / max(1, total))
    session.execute(sa.update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "running",
                                              MatchRun.progress_pct < pct)
                    .values(progress_pct=pct, message=f"solved {done}/{total} categories")
                    .execution_options(synchronize_session=False))
    session.commit()


def execute_run(session: so.Session, run_id: int, reraise: bool = False) -> MatchRun:
    """Run a queued clearing in this process: build and solve per category, then join in one transaction."""
    run, categories = begin_run(session, run_id)
    if run.status != "running":
        return run
    started = time.perf_counter()
    try:
        today = utcnow().date()
        solved = []
        for k, category in enumerate(categories):
            solved.append(solve_one_category(session, category, today))
            _progress(session, run, 10 + int(80 * (k + 1) / max(1, len(categories))), f"solved {category.code}")
        join_run(session, run_id, solved, time.perf_counter() - started)
    except Exception as exc:  # recorded on the run and logged; re-raised for Celery
        fail_run(session, run_id, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
        if reraise:
            raise
    return session.get(MatchRun, run_id)


def fail_run(session: so.Session, run_id: int, message: str, seconds: float | None = None) -> bool:
    """Mark a running or queued run failed (nothing of it was written); False if it had already ended."""
    session.rollback()
    logger.error("clearing run %s failed: %s", run_id, message)
    run = session.get(MatchRun, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.status not in ("queued", "running"):
        session.rollback()
        return False
    run.status = "failed"
    run.message = message[:2000]
    run.finished_at = utcnow()
    if seconds is not None:
        run.seconds = seconds
    audit.record(session, run.created_by_id, "match_run", run.id, "failed", {"message": run.message})
    session.commit()
    return True


def join_run(session: so.Session, run_id: int, solved: list[SolvedCategory], seconds_so_far: float) -> bool:
    """Write every category's allocations in one transaction; False if the run ended meanwhile (e.g. swept)."""
    session.commit()
    run = session.get(MatchRun, run_id, with_for_update=True, populate_existing=True)  # serialises with the sweep
    if run is None or run.status != "running":
        session.rollback()
        return False
    _write_results(session, run, solved, seconds_so_far)
    return True


def sweep_stale_runs(session: so.Session, is_alive: Callable[[int], bool]) -> list[int]:
    """Mark failed every running run whose workers stopped beating (``is_alive(run_id)`` is False)."""
    stale = [run_id for run_id in session.scalars(sa.select(MatchRun.id).where(MatchRun.status == "running"))
             if not is_alive(run_id)]
    return [run_id for run_id in stale if fail_run(session, run_id, "worker lost: no heartbeat")]


# ----------------------------------------------------------------------------- payloads between workers


def solved_to_payload(solved: SolvedCategory) -> dict[str, Any]:
    """A JSON-safe, lossless form of a solved category (Decimals as strings) for the Celery result backend."""
    r = solved.result
    return {
        "category_id": solved.category.id,
        "demand_rows": {k: list(v) for k, v in solved.demand_rows.items()},
        "pair_km": [[lot, demand, road, rail] for (lot, demand), (road, rail) in solved.pair_km.items()],
        "snapshot": solved.snapshot,
        "result": result_to_payload(r),
    }


def solved_from_payload(session: so.Session, data: dict[str, Any]) -> SolvedCategory:
    """The inverse of solved_to_payload."""
    return SolvedCategory(
        category=session.get(WasteCategory, data["category_id"]),
        demand_rows={k: tuple(v) for k, v in data["demand_rows"].items()},
        pair_km={(lot, demand): (road, rail) for lot, demand, road, rail in data["pair_km"]},
        snapshot=data["snapshot"], result=result_from_payload(data["result"]))


_DECIMAL_FIELDS = ("tonnes", "surplus_yuan_per_t", "surplus_yuan", "transport_yuan_per_t", "transport_cost_yuan",
                   "price_yuan_per_t", "reserve_yuan_per_t", "netback_yuan_per_t")


def result_to_payload(r: matching.Result) -> dict[str, Any]:
    """A matching.Result as JSON without losing precision (ids keep their JSON type)."""
    return {
        "status": r.status, "objective_yuan": str(r.objective_yuan), "solver": r.solver, "gap": r.gap,
        "timings": r.timings,
        "allocations": [[a.lot_id, a.demand_id, *(str(getattr(a, f)) for f in _DECIMAL_FIELDS), a.km, a.co2_kg]
                        for a in r.allocations],
        "unmatched": [[u.lot_id, str(u.tonnes), u.reason, u.message, _plain(u.details)]
                      for u in r.unmatched],
        "lot_prices": [[k, str(v)] for k, v in r.lot_prices.items()],
        "demand_prices": [[k, str(v)] for k, v in r.demand_prices.items()],
    }


def _plain(value: Any) -> Any:
    """Explanation details as JSON: Decimals and numpy numbers as floats, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (Decimal, np.floating)):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def result_from_payload(data: dict[str, Any]) -> matching.Result:
    """The inverse of result_to_payload."""
    allocations = []
    for lot_id, demand_id, *rest in data["allocations"]:
        values = dict(zip(_DECIMAL_FIELDS, (Decimal(v) for v in rest[:-2]), strict=True))
        allocations.append(matching.Allocation(lot_id=lot_id, demand_id=demand_id, km=rest[-2], co2_kg=rest[-1],
                                               **values))
    return matching.Result(
        status=data["status"], objective_yuan=Decimal(data["objective_yuan"]), allocations=allocations,
        lot_prices={k: Decimal(v) for k, v in data["lot_prices"]},
        demand_prices={k: Decimal(v) for k, v in data["demand_prices"]},
        unmatched=[matching.Unmatched(lot, Decimal(t), reason, message, details)
                   for lot, t, reason, message, details in data["unmatched"]],
        timings=data["timings"], solver=data["solver"], gap=data["gap"])


def _write_results(session: so.Session, run: MatchRun, parts: list[SolvedCategory], seconds_so_far: float) -> None:
    """Allocations, lot and bid updates, totals and audit events, committed together."""
    merged = matching.merge_results([part.result for part in parts])
    deadline = utcnow() + dt.timedelta(days=current_app.config["ALLOCATION_DEADLINE_DAYS"])
    by_demand = {d: (part, rows) for part in parts for d, rows in part.demand_rows.items()}
    env_tax = Decimal(0)
    totals = {"tonnes": Decimal(0), "transport": Decimal(0), "surplus": Decimal(0), "co2_kg": Decimal(0)}
    made = []
    taken: dict[int, Decimal] = {}
    for a in merged.allocations:
        part, (facility_id, bid_id, profile_id) = by_demand[a.demand_id]
        road_km, rail_km = part.pair_km.get((a.lot_id, a.demand_id), (None, None))
        tonnes = a.tonnes.quantize(KG)
        allocation = Allocation(
            run_id=run.id, lot_id=a.lot_id, facility_id=facility_id, bid_id=bid_id, demand_profile_id=profile_id,
            tonnes=tonnes, price_yuan_per_t=money(a.price_yuan_per_t), reserve_yuan_per_t=money(a.reserve_yuan_per_t),
            transport_yuan_per_t=money(a.transport_yuan_per_t), transport_cost_yuan=money(a.transport_cost_yuan),
            surplus_yuan=money(a.surplus_yuan), road_km=road_km, rail_km=rail_km,
            co2_kg=None if a.co2_kg is None else money(a.co2_kg), status="proposed", deadline=deadline)
        session.add(allocation)
        taken[a.lot_id] = taken.get(a.lot_id, Decimal(0)) + tonnes
        if bid_id is not None:
            session.execute(sa.update(Bid).where(Bid.id == bid_id, Bid.status == "active")
                            .values(status="allocated").execution_options(synchronize_session=False))
        made.append((allocation, part.category))
        totals["tonnes"] += tonnes
        totals["transport"] += allocation.transport_cost_yuan
        totals["surplus"] += allocation.surplus_yuan
        totals["co2_kg"] += allocation.co2_kg or 0
        env_tax += tonnes * part.category.env_tax_yuan_per_t
    for lot_id, tonnes in sorted(taken.items()):
        _take_from_lot(session, lot_id, tonnes)
    session.flush()
    for allocation, _category in made:
        audit.record(session, run.created_by_id, "allocation", allocation.id, "proposed", {
            "run": run.id, "lot": allocation.lot_id, "facility": allocation.facility_id,
            "tonnes": allocation.tonnes, "price_yuan_per_t": allocation.price_yuan_per_t})
        if allocation.bid_id is not None:
            audit.record(session, run.created_by_id, "bid", allocation.bid_id, "allocated",
                         {"allocation": allocation.id})
    for lot_id in sorted({a.lot_id for a, _c in made}):
        lot = session.get(Lot, lot_id)
        session.refresh(lot)
        audit.record(session, run.created_by_id, "lot", lot.id, "matched",
                     {"run": run.id, "remaining_tonnes": lot.remaining_tonnes, "status": lot.status})
    _notify_allocations(session, [a for a, _c in made])
    run.input_snapshot = {part.category.code: part.snapshot for part in parts}
    run.results = _results_json(merged, env_tax, totals["surplus"])
    run.objective_yuan = money(merged.objective_yuan)
    run.tonnes_matched = totals["tonnes"]
    run.transport_cost_yuan = totals["transport"]
    run.co2_t = (totals["co2_kg"] / 1000).quantize(KG)
    run.solver = merged.solver[:20]
    run.status = "succeeded"
    run.progress_pct = 100
    run.message = "done"
    run.finished_at = utcnow()
    run.seconds = seconds_so_far
    audit.record(session, run.created_by_id, "match_run", run.id, "succeeded", {
        "allocations": len(made), "tonnes": run.tonnes_matched, "objective_yuan": run.objective_yuan})
    session.commit()
    notifications.deliver_pending(session)


def _take_from_lot(session: so.Session, lot_id: int, tonnes: Decimal) -> None:
    """Reduce a lot's remaining tonnes only if it still has them (safe under concurrency).

    SQLite stores NUMERIC as floating point, so the comparison allows half a kilogram and the
    result is clamped at zero; PostgreSQL's NUMERIC is exact.
    """
    left = Lot.remaining_tonnes - tonnes
    changed = session.execute(
        sa.update(Lot).where(Lot.id == lot_id, Lot.remaining_tonnes >= tonnes - HALF_KG,
                             Lot.status.in_(CLEARABLE_LOT_STATUSES))
        .values(remaining_tonnes=sa.case((left < 0, 0), else_=left),
                status=sa.case((Lot.status == "open", "matched"), else_=Lot.status))
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise ServiceError(f"lot {lot_id} changed while the clearing ran; run it again")


def _notify_allocations(session: so.Session, allocations: list[Allocation]) -> None:
    for allocation in allocations:
        lot = session.get(Lot, allocation.lot_id)
        facility = session.get(Facility, allocation.facility_id)
        params = {"tonnes": allocation.tonnes, "lot": lot.title, "facility": facility.name,
                  "deadline": allocation.deadline.strftime("%Y-%m-%d %H:%M UTC")}
        for org_id in {lot.facility.organization_id, facility.organization_id}:
            notifications.notify_organisation(session, org_id, "allocation_proposed", params, "/awards")


def _results_json(merged: matching.Result, env_tax: Decimal, surplus: Decimal) -> dict[str, Any]:
    data = merged.to_json_dict()
    return {
        "status": data["status"], "solver": data["solver"], "timings": data["timings"],
        "unmatched": data["unmatched"], "lot_prices": data["lot_prices"], "demand_prices": data["demand_prices"],
        "surplus_yuan": float(surplus), "env_tax_avoided_yuan": float(money(env_tax)),
    }


# ----------------------------------------------------------------------------- reading runs


def run_allocations(session: so.Session, run_id: int) -> list[Allocation]:
    """The allocations of a run with their lots and facilities."""
    return list(session.scalars(sa.select(Allocation).where(Allocation.run_id == run_id)
                                .options(so.selectinload(Allocation.facility)).order_by(Allocation.id)))


def run_status(run: MatchRun) -> dict[str, Any]:
    """JSON status of a run for the progress poller."""
    return {"run_id": run.id, "status": run.status, "progress_pct": run.progress_pct, "message": run.message,
            "job_id": run.job_id, "done": run.status in ("succeeded", "failed")}


def run_summary(session: so.Session, run: MatchRun) -> dict[str, Any]:
    """The figures the CLI prints as JSON: totals and the list of allocations, numbers as numbers."""
    allocations = run_allocations(session, run.id) if run.status == "succeeded" else []
    results = run.results or {}
    return {
        "run_id": run.id, "status": run.status, "message": run.message if run.status == "failed" else None,
        "allocations": [{"id": a.id, "lot": a.lot_id, "facility": a.facility_id, "bid": a.bid_id,
                         "demand_profile": a.demand_profile_id, "tonnes": float(a.tonnes),
                         "price_yuan_per_t": float(a.price_yuan_per_t),
                         "transport_yuan_per_t": float(a.transport_yuan_per_t),
                         "surplus_yuan": float(a.surplus_yuan), "road_km": a.road_km, "rail_km": a.rail_km}
                        for a in allocations],
        "tonnes_matched": float(run.tonnes_matched or 0),
        "transport_cost_yuan": float(run.transport_cost_yuan or 0),
        "co2_t": float(run.co2_t or 0),
        "surplus_yuan": float(results.get("surplus_yuan", 0)),
        "env_tax_avoided_yuan": float(results.get("env_tax_avoided_yuan", 0)),
        "seconds": float(run.seconds or 0),
    }


def flows_geojson(session: so.Session, run_id: int) -> dict[str, Any]:
    """Producer → recycler lines of a run as GeoJSON, with tonnes for the line width."""
    features = []
    for a in run_allocations(session, run_id):
        lot = a.lot
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [lot.facility.lon, lot.facility.lat], [a.facility.lon, a.facility.lat]]},
            "properties": {"allocation": a.id, "tonnes": float(a.tonnes), "from": lot.facility.name,
                           "to": a.facility.name, "lot": lot.title, "mode": "rail" if a.rail_km else "road"}})
    return {"type": "FeatureCollection", "features": features}


def list_runs(session: so.Session, limit: int = 50) -> list[MatchRun]:
    """Latest runs (not scenarios), newest first."""
    return list(session.scalars(sa.select(MatchRun).where(MatchRun.is_scenario.is_(False))
                                .order_by(MatchRun.id.desc()).limit(limit)))



