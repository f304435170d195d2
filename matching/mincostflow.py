"""Exact clearing as an OR-Tools min-cost flow in integer kilograms and fen per tonne."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from .errors import SolverError
from .network import Candidates


@dataclass(frozen=True)
class FlowNetwork:
    """Node numbering: lots 0..L-1, demands L..L+M-1, then source and sink; candidate arcs first."""

    n_lots: int
    n_demands: int

    @property
    def source(self) -> int:
        """Node that supplies every lot and the bypass."""
        return self.n_lots + self.n_demands

    @property
    def sink(self) -> int:
        """Node that absorbs all supply, shipped or bypassed."""
        return self.n_lots + self.n_demands + 1

    def demand_node(self, positions: np.ndarray) -> np.ndarray:
        """Node indices of demand positions."""
        return positions + self.n_lots


def solve_flow(lot_kg: np.ndarray, demand_kg: np.ndarray, cand: Candidates) -> np.ndarray:
    """Kilograms on each candidate arc in a surplus-maximising flow; raise SolverError if not optimal."""
    n_lots, n_demands, n_arcs = len(lot_kg), len(demand_kg), len(cand)
    if n_arcs == 0:
        return np.zeros(0, dtype=np.int64)
    net = FlowNetwork(n_lots, n_demands)
    total = int(lot_kg.sum())
    lot_nodes = np.arange(n_lots, dtype=np.int64)
    demand_nodes = net.demand_node(np.arange(n_demands, dtype=np.int64))
    tails = np.concatenate([cand.lot, lot_nodes * 0 + net.source, demand_nodes, [net.source]])
    heads = np.concatenate([net.demand_node(cand.demand), lot_nodes, demand_nodes * 0 + net.sink, [net.sink]])
    # Pair arcs get one kilogram more than either end can carry, so they never bind: the
    # lot and demand rows stay the only constraints, and their duals are the prices.
    pair_cap = np.minimum(lot_kg[cand.lot], demand_kg[cand.demand]) + 1
    # The bypass lets supply stay home; one spare kilogram keeps its forward residual arc alive.
    capacities = np.concatenate([pair_cap, lot_kg, demand_kg, [total + 1]])
    costs = np.concatenate([-cand.surplus_fen, np.zeros(n_lots + n_demands + 1, dtype=np.int64)])
    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacities.astype(np.int64), costs.astype(np.int64)
    )
    supplies = np.zeros(net.sink + 1, dtype=np.int64)
    supplies[net.source] = total
    supplies[net.sink] = -total
    smcf.set_nodes_supplies(np.arange(net.sink + 1, dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status!r}, not OPTIMAL")
    flows = np.asarray(smcf.flows(np.arange(n_arcs, dtype=np.int32)), dtype=np.int64)
    return flows


def surplus_fen_times_kg(cand: Candidates, flow_kg: np.ndarray) -> int:
    """Exact Σ surplus(fen/t) × flow(kg) as a Python int (divide by 1000 for fen)."""
    used = np.flatnonzero(flow_kg)
    return sum(int(s) * int(f) for s, f in zip(cand.surplus_fen[used].tolist(), flow_kg[used].tolist(), strict=True))
