"""Truckload and minimum-shipment clearing as a CP-SAT integer program in kilograms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from .errors import SolverError
from .network import Candidates
from .units import kg_of


def _arc_variable(model: cp_model.CpModel, problem, cand: Candidates, a: int) -> cp_model.IntVar:
    """Kilograms on arc ``a`` with its whole-truck and minimum-shipment constraints."""
    i, j = int(cand.lot[a]), int(cand.demand[a])
    lot, demand = problem.lots[i], problem.demands[j]
    lot_kg = int(problem.lot_kg[i])
    cap = min(lot_kg, int(problem.demand_kg[j]))
    x = model.new_int_var(0, cap, f"x{a}")
    if demand.truck_t is not None:
        truck = kg_of(demand.truck_t)
        trucks = model.new_int_var(0, cap // truck, f"n{a}")
        if lot_kg <= cap:
            # A final part-load is allowed when it clears the whole lot.
            whole_lot = model.new_bool_var(f"all{a}")
            model.add(x == lot_kg).only_enforce_if(whole_lot)
            model.add(x == truck * trucks).only_enforce_if(~whole_lot)
        else:
            model.add(x == truck * trucks)
    minimum = max((kg_of(m) for m in (lot.min_shipment_t, demand.min_shipment_t) if m is not None), default=0)
    if minimum > cap:
        model.add(x == 0)
    elif minimum > 1:
        ships = model.new_bool_var(f"y{a}")
        model.add(x >= minimum).only_enforce_if(ships)
        model.add(x == 0).only_enforce_if(~ships)
    model.add_hint(x, 0)
    return x


@dataclass(frozen=True)
class CpsatOutcome:
    """Flows in kg per candidate arc, the solve status and the relative gap to the best bound."""

    flow_kg: np.ndarray
    status: str
    gap: float | None


def has_shipment_terms(problem) -> bool:
    """True when any lot or demand sets a truck size or minimum shipment."""
    return any(lo.min_shipment_t is not None for lo in problem.lots) or any(
        d.truck_t is not None or d.min_shipment_t is not None for d in problem.demands
    )


def solve_cpsat(problem, cand: Candidates, time_limit_s: float = 10.0, workers: int = 0) -> CpsatOutcome:
    """Maximise surplus with whole trucks and minimum shipments; x_ij in kg per arc.

    Whole trucks: x_ij = truck_kg × n_ij, except that one arc may take a lot's entire tonnage
    as a final part-load (tonnes capped to the lot). Minimum shipment: x_ij = 0 or x_ij ≥ m,
    with m the larger of the lot's and the demand's minimum.
    """
    n = len(cand)
    if n == 0:
        return CpsatOutcome(np.zeros(0, dtype=np.int64), "optimal", 0.0)
    model = cp_model.CpModel()
    xs = [_arc_variable(model, problem, cand, a) for a in range(n)]
    for group, limit in ((cand.lot, problem.lot_kg), (cand.demand, problem.demand_kg)):
        order = np.argsort(group, kind="stable")
        bounds = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1], True])
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            members = order[s:e]
            model.add(sum(xs[a] for a in members.tolist()) <= int(limit[group[order][s]]))
    # Objective in fen·kg per tonne: exact integers, divided by 1000 afterwards.
    model.maximize(sum(int(s) * x for s, x in zip(cand.surplus_fen.tolist(), xs, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    if workers:
        solver.parameters.num_workers = int(workers)
    code = solver.solve(model)
    if code == cp_model.OPTIMAL:
        status = "optimal"
    elif code == cp_model.FEASIBLE:
        status = "feasible"
    elif code == cp_model.INFEASIBLE:
        status = "infeasible"
    else:
        raise SolverError(f"CP-SAT found no solution within {time_limit_s} s (status {solver.status_name(code)})")
    if status == "infeasible":
        return CpsatOutcome(np.zeros(n, dtype=np.int64), status, None)
    flow = np.array([solver.value(x) for x in xs], dtype=np.int64)
    objective = float(solver.objective_value)
    bound = float(solver.best_objective_bound)
    gap = 0.0 if status == "optimal" else abs(bound - objective) / max(1.0, abs(objective))
    return CpsatOutcome(flow, status, gap)
