"""Greedy baseline: cheapest arc first, kept only to compare against the exact solver."""

from __future__ import annotations

import numpy as np

from .network import Candidates


def greedy_flow(problem, cand: Candidates) -> np.ndarray:
    """Allocate as much as possible on each candidate arc in order of transport cost ascending."""
    n = len(cand)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    transport = problem.cost_table.fen_per_t[cand.row]
    # Cheapest first; among equal freight the higher surplus wins, then arc order for determinism.
    order = np.lexsort((np.arange(n), -cand.surplus_fen, transport))
    lot_left = problem.lot_kg.tolist()
    demand_left = problem.demand_kg.tolist()
    lots = cand.lot[order].tolist()
    demands = cand.demand[order].tolist()
    flow = [0] * n
    for k, (i, j) in enumerate(zip(lots, demands, strict=True)):
        li = lot_left[i]
        if li == 0:
            continue
        dj = demand_left[j]
        if dj == 0:
            continue
        x = li if li < dj else dj
        lot_left[i] = li - x
        demand_left[j] = dj - x
        flow[k] = x
    out = np.zeros(n, dtype=np.int64)
    out[order] = np.asarray(flow, dtype=np.int64)
    return out
