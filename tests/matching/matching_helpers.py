"""Shared builders and reference solvers for the matching tests."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import strategies as st

from matching import Cost, Demand, Lot, Problem


def lot(id, tonnes=100, reserve=0, category="slag", **kw) -> Lot:
    return Lot(id, category, tonnes, reserve, **kw)


def demand(id, tonnes=100, price=100, category="slag", **kw) -> Demand:
    return Demand(id, category, tonnes, price, **kw)


@st.composite
def random_problems(draw, max_lots=6, max_demands=5, categories=("slag",), money=st.integers(-50, 150)):
    """Small random problems with integer-kg tonnes, fen-exact money and a random sparse cost set."""
    n_lots = draw(st.integers(1, max_lots))
    n_dem = draw(st.integers(1, max_demands))
    kg = st.integers(1, 400_000)
    lots = [
        Lot(f"L{i}", draw(st.sampled_from(categories)), Decimal(draw(kg)) / 1000, Decimal(draw(money)) / 4)
        for i in range(n_lots)
    ]
    demands = [
        Demand(f"D{j}", draw(st.sampled_from(categories)), Decimal(draw(kg)) / 1000, Decimal(draw(money)) + 50)
        for j in range(n_dem)
    ]
    costs = []
    for i in range(n_lots):
        for j in range(n_dem):
            if draw(st.booleans()):
                costs.append(
                    Cost(f"L{i}", f"D{j}", Decimal(draw(st.integers(0, 8000))) / 100, km=draw(st.integers(0, 500)))
                )
    return Problem(lots, demands, costs)


def lp_optimum(problem: Problem) -> float:
    """Reference optimum from scipy's HiGHS on the same LP (tonnes, yuan)."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    from matching.network import build_candidates

    cand = build_candidates(problem)
    n = len(cand)
    if n == 0:
        return 0.0
    n_lots = len(problem.lots)
    rows = np.concatenate([cand.lot, n_lots + cand.demand])
    a = csr_matrix(
        (np.ones(2 * n), (rows, np.r_[np.arange(n), np.arange(n)])), shape=(n_lots + len(problem.demands), n)
    )
    b = np.concatenate([problem.lot_kg, problem.demand_kg]) / 1000.0
    res = linprog(-cand.surplus_fen / 100.0, A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    assert res.status == 0
    return -res.fun
