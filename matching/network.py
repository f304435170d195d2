"""Candidate arcs: cost-table rows that pass the rules and have non-negative surplus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .rules import DEFAULT_RULES, Rule, compatibility_mask, surplus_non_negative


@dataclass(frozen=True, eq=False)
class Candidates:
    """Arrays describing every arc a solver may use, aligned by arc position."""

    row: np.ndarray  # position in the problem's cost table
    lot: np.ndarray  # lot position
    demand: np.ndarray  # demand position
    surplus_fen: np.ndarray  # fen per tonne, >= 0
    compatible: np.ndarray  # mask over all cost-table rows (before the surplus filter)

    def __len__(self) -> int:
        """Number of candidate arcs."""
        return len(self.row)


def surplus_fen_per_t(problem) -> np.ndarray:
    """Surplus p_j − c_ij − r_i in fen per tonne for every cost-table row (exact integers)."""
    t = problem.cost_table
    return problem.demand_price_fen[t.demand_index] - t.fen_per_t - problem.lot_reserve_fen[t.lot_index]


def build_candidates(problem, rules: Sequence[Rule] = DEFAULT_RULES) -> Candidates:
    """Filter the cost table down to compatible pairs with surplus >= 0."""
    t = problem.cost_table
    ok = compatibility_mask(problem, rules)
    surplus = surplus_fen_per_t(problem)
    rows = np.flatnonzero(ok & surplus_non_negative(surplus))
    return Candidates(rows, t.lot_index[rows], t.demand_index[rows], surplus[rows], ok)
