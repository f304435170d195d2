"""What-if scenarios: re-run the clearing in memory with subsidies, a carbon price, freight and haul changes.

The problem is built by the clearing service (`clearing.build_category_problem`) and then re-priced here; the
solve happens in memory. Nothing real changes: no Allocation rows, no lot or bid updates. The scenario is kept as
a MatchRun with ``is_scenario=True`` (inputs and results as JSON, no allocations) and an audit event.

Economics per tonne moved from lot i to demand j (yuan):

    surplus' = p_j + subsidy_c + carbon_price × (co2_avoided_c − transport_co2_ij) − c_ij × (1 + freight%) − r_i

folded into the problem as a higher delivered price (p_j + subsidy + carbon × co2_avoided) and a higher arc cost
(c_ij × (1 + freight%) + carbon × transport_co2_ij), so arc costs stay non-negative. The haul limit caps every
demand's maximum haul distance. The reported transport cost is the freight only (c_ij × (1 + freight%)).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

import matching
from app import policy
from app.services import audit, clearing, quantities, utilisation
from app.services.utilisation import Scope
from models import Facility, Lot, MatchRun, User, WasteCategory, utcnow

ZERO = Decimal(0)


@dataclass(frozen=True)
class ScenarioParams:
    """The levers an officer sets."""

    subsidies: dict[str, Decimal] = field(default_factory=dict)  # category code → yuan per tonne utilised
    carbon_price_yuan_per_t: Decimal = ZERO  # per tonne of CO2
    freight_change_pct: Decimal = ZERO
    haul_limit_km: float | None = None
    categories: tuple[str, ...] = ()  # empty: every clearable category

    def as_json(self) -> dict[str, Any]:
        """JSON-safe parameters for the run record."""
        return {"subsidies": {k: float(v) for k, v in self.subsidies.items()},
                "carbon_price_yuan_per_t": float(self.carbon_price_yuan_per_t),
                "freight_change_pct": float(self.freight_change_pct), "haul_limit_km": self.haul_limit_km,
                "categories": list(self.categories)}


@dataclass
class Outcome:
    """Tonnes, freight and CO2 of one solve, in total and for lots from the scope."""

    tonnes: Decimal = ZERO
    transport_yuan: Decimal = ZERO
    transport_co2_t: Decimal = ZERO
    avoided_co2_t: Decimal = ZERO
    scope_tonnes: Decimal = ZERO


def reprice(problem: matching.Problem, category: WasteCategory, params: ScenarioParams) -> matching.Problem:
    """The same problem with the scenario's prices, arc costs and haul limits (pure, no database)."""
    if problem.is_empty:
        return problem
    subsidy = Decimal(params.subsidies.get(category.code, 0))
    carbon = Decimal(params.carbon_price_yuan_per_t)
    uplift = Decimal(1) + Decimal(params.freight_change_pct) / 100
    demands = []
    for d in problem.demands:
        price = d.price_yuan_per_t + subsidy + carbon * category.co2_avoided_t_per_t
        haul = d.max_haul_km
        if params.haul_limit_km is not None:
            haul = params.haul_limit_km if haul is None else min(haul, params.haul_limit_km)
        demands.append(dataclasses.replace(d, price_yuan_per_t=quantities.yuan(price), max_haul_km=haul))
    t = problem.cost_table
    co2 = np.nan_to_num(t.co2_kg_per_t, nan=0.0)
    yuan = t.fen_per_t / 100.0 * float(uplift) + float(carbon) * co2 / 1000.0
    return matching.Problem.from_arrays(problem.lots, demands, t.lot_index, t.demand_index, yuan, t.km,
                                        t.co2_kg_per_t)


def _outcome(problem: matching.Problem, result: matching.Result, category: WasteCategory, uplift: float,
             scope_lots: set) -> Outcome:
    """Sum a result using the ORIGINAL problem's freight (× uplift) and transport CO2."""
    t = problem.cost_table
    row = {(problem.lots[i].id, problem.demands[j].id): k
           for k, (i, j) in enumerate(zip(t.lot_index.tolist(), t.demand_index.tolist(), strict=True))}
    out = Outcome()
    for a in result.allocations:
        k = row[(a.lot_id, a.demand_id)]
        freight = Decimal(int(t.fen_per_t[k])) / 100 * Decimal(str(uplift))
        co2 = 0.0 if np.isnan(t.co2_kg_per_t[k]) else float(t.co2_kg_per_t[k])
        out.tonnes += a.tonnes
        out.transport_yuan += a.tonnes * freight
        out.transport_co2_t += a.tonnes * Decimal(str(co2)) / 1000
        out.avoided_co2_t += a.tonnes * category.co2_avoided_t_per_t
        if a.lot_id in scope_lots:
            out.scope_tonnes += a.tonnes
    return out


def _scope_lots(session: so.Session, scope: Scope | None, lot_ids: list) -> set:
    if scope is None or not lot_ids:
        return set(lot_ids)
    stmt = sa.select(Lot.id).join(Facility, Facility.id == Lot.facility_id).where(
        Lot.id.in_(lot_ids), scope.facility_filter())
    return set(session.scalars(stmt))


def _categories(session: so.Session, params: ScenarioParams) -> list[WasteCategory]:
    available = clearing.clearable_categories(session)
    if params.categories:
        return [c for c in available if c.code in params.categories]
    return available


def compare(session: so.Session, params: ScenarioParams, scope: Scope | None = None,
            year: int | None = None, today: dt.date | None = None) -> dict[str, Any]:
    """Baseline and scenario solved in memory, per category, with the projected utilisation rate of the scope."""
    today = today or utcnow().date()
    uplift = 1 + float(params.freight_change_pct) / 100
    rows = []
    parts = [clearing.build_category_problem(session, c, today) for c in _categories(session, params)]
    all_lots = [lot.id for part in parts for lot in part.problem.lots]
    scope_lots = _scope_lots(session, scope, all_lots)
    for part in parts:
        category = part.category
        base_problem = part.problem
        if base_problem.is_empty:
            continue
        baseline = _outcome(base_problem, matching.solve_category(base_problem, "auto"), category, 1.0,
                            scope_lots)
        changed = reprice(base_problem, category, params)
        scenario = _outcome(base_problem, matching.solve_category(changed, "auto"), category, uplift,
                            scope_lots)
        rows.append({"category": category.code, "category_id": category.id, "baseline": baseline,
                     "scenario": scenario})
    return _with_projection(session, rows, scope, year or today.year - 1)


def _with_projection(session: so.Session, rows: list[dict], scope: Scope | None, year: int) -> dict[str, Any]:
    """Add each category's actual rate in `year` and the rate projected with the extra matched tonnes."""
    scope = scope or Scope("province")
    table = {r["category"]: r for r in utilisation.year_table(session, scope, year).rows}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    out_rows = []
    for row in rows:
        b, s = row["baseline"], row["scenario"]
        actual = table.get(row["category"])
        delta_scope = s.scope_tonnes - b.scope_tonnes
        projected = None
        if actual is not None:
            projected = utilisation.rate(actual["utilised_t"] + delta_scope, actual["generated_t"],
                                         actual["from_storage_t"])
        item = {
            "category": row["category"],
            "baseline_t": b.tonnes, "scenario_t": s.tonnes, "delta_t": s.tonnes - b.tonnes,
            "scope_delta_t": delta_scope,
            "baseline_transport_yuan": quantities.yuan(b.transport_yuan),
            "scenario_transport_yuan": quantities.yuan(s.transport_yuan),
            "baseline_net_co2_t": quantities.tonnes(b.avoided_co2_t - b.transport_co2_t),
            "scenario_net_co2_t": quantities.tonnes(s.avoided_co2_t - s.transport_co2_t),
            "actual_rate": actual["rate"] if actual else None, "projected_rate": projected,
        }
        out_rows.append(item)
        for key in ("baseline_t", "scenario_t", "delta_t", "scope_delta_t", "baseline_transport_yuan",
                    "scenario_transport_yuan", "baseline_net_co2_t", "scenario_net_co2_t"):
            totals[key] += item[key]
    return {"scope": scope.code, "year": year, "rows": out_rows, "total": dict(totals)}


def run_scenario(session: so.Session, user: User | None, params: ScenarioParams, scope: Scope | None = None,
                 year: int | None = None) -> tuple[MatchRun, dict[str, Any]]:
    """Compare baseline and scenario, keep the comparison as a scenario MatchRun (no allocations) and audit it."""
    started = utcnow()
    comparison = compare(session, params, scope, year)
    run = MatchRun(status="succeeded", is_scenario=True, solver="mincostflow",
                   parameters=params.as_json() | {"scope": comparison["scope"]},
                   results=utilisation.as_json(comparison),
                   tonnes_matched=quantities.tonnes(comparison["total"].get("scenario_t", ZERO)),
                   transport_cost_yuan=comparison["total"].get("scenario_transport_yuan", ZERO),
                   created_by_id=user.id if user else None, started_at=started, finished_at=utcnow(),
                   progress_pct=100, message="scenario")
    session.add(run)
    session.flush()
    audit.record(session, user.id if user else None, "match_run", run.id, "scenario", params.as_json())
    session.commit()
    return run, comparison


def recent(session: so.Session, user: User, limit: int = 10) -> list[MatchRun]:
    """The latest scenario runs (officers see their own, regulator and admin every one)."""
    stmt = sa.select(MatchRun).where(MatchRun.is_scenario.is_(True)).order_by(MatchRun.id.desc()).limit(limit)
    if not policy.sees_every_record(user):
        stmt = stmt.where(MatchRun.created_by_id == user.id)
    return list(session.scalars(stmt))
