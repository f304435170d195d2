"""Solver dispatch, per-category split and merge, and decoding flows into a Result."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from .cpsat import has_shipment_terms, solve_cpsat
from .explain import explain_unmatched
from .greedy import greedy_flow
from .mincostflow import solve_flow, surplus_fen_times_kg
from .model import Allocation, Problem, Result
from .network import Candidates, build_candidates
from .prices import dual_prices
from .rules import DEFAULT_RULES, Rule
from .units import yuan_from_fen

SOLVERS = ("auto", "mincostflow", "cpsat", "greedy")
_STATUS_RANK = {"optimal": 0, "feasible": 1, "infeasible": 2}


def solve(
    problem: Problem, solver: str = "auto", time_limit_s: float = 10.0, rules: Sequence[Rule] = DEFAULT_RULES
) -> Result:
    """Clear ``problem`` one category at a time and merge; see ``solve_category`` for solvers."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; expected one of {', '.join(SOLVERS)}")
    with collector_paused():
        if solver == "cpsat" or (solver == "auto" and has_shipment_terms(problem)):
            # Integer programs stay small only per category, each with its own time limit.
            started = time.perf_counter()
            parts = split_by_category(problem)
            split_s = time.perf_counter() - started
            merged = merge_results(
                (solve_category(part, solver, time_limit_s, rules) for part in parts.values()), solver
            )
            merged.timings["split"] = split_s
            return merged
        # Continuous solvers: one vectorised build/decode, with one flow per category inside.
        return solve_category(problem, "mincostflow" if solver == "auto" else solver, time_limit_s, rules)


@contextmanager
def collector_paused():
    """Pause the cyclic garbage collector while a block creates many short-lived, acyclic objects.

    Reference counting frees them; the generational collector would still wake on the allocation count and
    walk the whole heap, solver arrays included. It is switched back on afterwards (unless it was off).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def split_by_category(problem: Problem) -> dict[str, Problem]:
    """One independent sub-problem per category; cost rows joining different categories are dropped."""
    t = problem.cost_table
    same = problem.lot_category[t.lot_index] == problem.demand_category[t.demand_index]
    row_category = problem.lot_category[t.lot_index]
    parts = {}
    lot_order = np.argsort(problem.lot_category, kind="stable")
    demand_order = np.argsort(problem.demand_category, kind="stable")
    rows_all = np.flatnonzero(same)
    rows_order = rows_all[np.argsort(row_category[rows_all], kind="stable")]
    n_cat = len(problem.categories)
    lot_bounds = np.searchsorted(problem.lot_category[lot_order], np.arange(n_cat + 1))
    demand_bounds = np.searchsorted(problem.demand_category[demand_order], np.arange(n_cat + 1))
    row_bounds = np.searchsorted(row_category[rows_order], np.arange(n_cat + 1))
    lot_map = np.full(len(problem.lots), -1, dtype=np.int64)
    demand_map = np.full(len(problem.demands), -1, dtype=np.int64)
    for c, name in enumerate(problem.categories):
        lots = lot_order[lot_bounds[c] : lot_bounds[c + 1]]
        demands = demand_order[demand_bounds[c] : demand_bounds[c + 1]]
        lot_map[lots] = np.arange(len(lots))
        demand_map[demands] = np.arange(len(demands))
        table = t.take(rows_order[row_bounds[c] : row_bounds[c + 1]], lot_map, demand_map)
        parts[name] = problem.subset(lots, demands, table)
    return parts


def solve_category(
    problem: Problem, solver: str = "auto", time_limit_s: float = 10.0, rules: Sequence[Rule] = DEFAULT_RULES
) -> Result:
    """Solve one (usually single-category) problem and decode allocations, prices and explanations.

    ``auto`` uses the exact min-cost flow unless a lot or demand sets a truck size or minimum
    shipment, in which case it uses CP-SAT. ``mincostflow`` ignores shipment terms (it solves
    the continuous relaxation); ``greedy`` is the cheapest-arc-first baseline.
    """
    return solve_category_flow(problem, solver, time_limit_s, rules).finish()


@dataclass
class FlowSolution:
    """A solved category's flow, allocations and objective; `finish` adds the prices and explanations.

    The two parts are the same work as `solve_category`'s, split so a caller can write the allocations
    while the rest is worked out.
    """

    problem: Problem
    cand: Candidates
    flow: np.ndarray
    solver: str
    status: str
    gap: float | None
    allocations: list[Allocation]
    objective_yuan: Decimal
    timings: dict[str, float]

    def finish(self) -> Result:
        """The full result: dual prices (guidance) and why each lot's unmatched tonnes found no buyer."""
        problem, cand, flow = self.problem, self.cand, self.flow
        started = time.perf_counter()
        lot_prices: dict = {}
        demand_prices: dict = {}
        if self.solver in ("mincostflow", "cpsat"):
            # CP-SAT has no duals; its guidance comes from the continuous relaxation's optimal flow.
            lp_flow = flow if self.solver == "mincostflow" else flow_per_category(problem, cand)
            u, v = dual_prices(problem.lot_kg, problem.demand_kg, cand, lp_flow)
            lot_prices = dict(zip(problem.lot_ids(), _as_yuan(u), strict=True))
            demand_prices = dict(zip(problem.demand_ids(), _as_yuan(v), strict=True))
        prices = time.perf_counter() - started
        started = time.perf_counter()
        unmatched = explain_unmatched(problem, cand, flow)
        timings = {"build": self.timings["build"], "solve": self.timings["solve"], "prices": prices,
                   "extract": self.timings["extract"] + time.perf_counter() - started}
        return Result(self.status, self.objective_yuan, self.allocations, lot_prices, demand_prices, unmatched,
                      timings, self.solver, self.gap)


def solve_category_flow(
    problem: Problem, solver: str = "auto", time_limit_s: float = 10.0, rules: Sequence[Rule] = DEFAULT_RULES
) -> FlowSolution:
    """The first part of `solve_category`: the optimal flow, its allocations and objective."""
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; expected one of {', '.join(SOLVERS)}")
    if solver == "auto":
        solver = "cpsat" if has_shipment_terms(problem) else "mincostflow"
    timings = {}
    started = time.perf_counter()
    cand = build_candidates(problem, rules)
    timings["build"] = time.perf_counter() - started

    started = time.perf_counter()
    gap = None
    status = "optimal"
    if solver == "mincostflow":
        flow = flow_per_category(problem, cand)
        gap = 0.0
    elif solver == "greedy":
        flow = greedy_flow(problem, cand)
        status = "feasible"
    else:
        outcome = solve_cpsat(problem, cand, time_limit_s)
        flow, status, gap = outcome.flow_kg, outcome.status, outcome.gap
    timings["solve"] = time.perf_counter() - started

    started = time.perf_counter()
    allocations = decode_allocations(problem, cand, flow)
    objective = Decimal(surplus_fen_times_kg(cand, flow)).scaleb(-5)
    timings["extract"] = time.perf_counter() - started
    return FlowSolution(problem, cand, flow, solver, status, gap, allocations, objective, timings)


def flow_per_category(problem: Problem, cand: Candidates) -> np.ndarray:
    """Optimal kg per candidate arc, solving one min-cost flow per category (they are independent).

    Each sub-network holds only the lots and demands that have candidate arcs, which keeps the
    flow solver's graphs small; the result is identical to one joint solve.
    """
    flow = np.zeros(len(cand), dtype=np.int64)
    if len(cand) == 0:
        return flow
    codes = problem.lot_category[cand.lot]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1], True])
    for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        arcs = order[start:stop]
        lots, local_lot = np.unique(cand.lot[arcs], return_inverse=True)
        demands, local_demand = np.unique(cand.demand[arcs], return_inverse=True)
        sub = Candidates(
            cand.row[arcs], local_lot.ravel(), local_demand.ravel(), cand.surplus_fen[arcs], cand.compatible
        )
        flow[arcs] = solve_flow(problem.lot_kg[lots], problem.demand_kg[demands], sub)
    return flow


def _as_yuan(fen: np.ndarray) -> list[Decimal]:
    """Decimal yuan for an array of fen, converting each distinct value once."""
    values, inverse = np.unique(fen, return_inverse=True)
    decimals = [yuan_from_fen(v) for v in values.tolist()]
    return [decimals[k] for k in inverse.ravel().tolist()]


def decode_allocations(problem: Problem, cand: Candidates, flow_kg: np.ndarray) -> list[Allocation]:
    """Allocation records (exact Decimals) for every arc carrying flow."""
    t = problem.cost_table
    used = np.flatnonzero(flow_kg > 0)
    rows = cand.row[used]
    out = []
    lots, demands = problem.lots, problem.demands
    dec = Decimal
    make = Allocation._from_values
    for i, j, kg, s, fen, km, co2 in zip(
        cand.lot[used].tolist(),
        cand.demand[used].tolist(),
        flow_kg[used].tolist(),
        cand.surplus_fen[used].tolist(),
        t.fen_per_t[rows].tolist(),
        t.km[rows].tolist(),
        t.co2_kg_per_t[rows].tolist(),
        strict=True,
    ):
        lot, demand = lots[i], demands[j]
        transport = dec(fen).scaleb(-2)
        out.append(
            make(
                (
                    lot.id,
                    demand.id,
                    dec(kg).scaleb(-3),  # tonnes
                    dec(s).scaleb(-2),  # surplus per tonne
                    dec(s * kg).scaleb(-5),  # surplus: fen/t × kg = 1e-5 yuan, exact
                    transport,
                    dec(fen * kg).scaleb(-5),  # transport cost
                    None if km != km else km,  # NaN means unknown
                    None if co2 != co2 else co2 * kg / 1000.0,
                    demand.price_yuan_per_t,
                    lot.reserve_yuan_per_t,
                    demand.price_yuan_per_t - transport,  # netback
                )
            )
        )
    return out


def merge_results(results: Iterable[Result], solver_hint: str | None = None) -> Result:
    """Join per-category results: sums objectives and timings, worst status, largest gap."""
    results = list(results)
    if not results:
        name = solver_hint if solver_hint and solver_hint != "auto" else "mincostflow"
        return Result(
            "optimal",
            Decimal(0),
            solver=name,
            gap=0.0 if name != "greedy" else None,
            timings={"build": 0.0, "solve": 0.0, "prices": 0.0, "extract": 0.0},
        )
    status = max((r.status for r in results), key=lambda s: _STATUS_RANK.get(s, 3))
    gaps = [r.gap for r in results]
    timings: dict[str, float] = {}
    for r in results:
        for k, v in r.timings.items():
            timings[k] = timings.get(k, 0.0) + v
    solvers = sorted({r.solver for r in results})
    return Result(
        status=status,
        objective_yuan=sum((r.objective_yuan for r in results), Decimal(0)),
        allocations=[a for r in results for a in r.allocations],
        lot_prices={k: v for r in results for k, v in r.lot_prices.items()},
        demand_prices={k: v for r in results for k, v in r.demand_prices.items()},
        unmatched=[u for r in results for u in r.unmatched],
        timings=timings,
        solver="+".join(solvers),
        gap=None if any(g is None for g in gaps) else max(gaps),
    )
