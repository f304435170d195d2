"""Explanations for tonnes a clearing left unmatched, computed with numpy per lot."""

from __future__ import annotations

import numpy as np

from .model import Unmatched
from .network import Candidates
from .rules import compatible, cost_entry
from .units import tonnes_from_kg, yuan_from_fen

NO_COMPATIBLE_RECYCLER = "no_compatible_recycler"
NETBACK_BELOW_RESERVE = "netback_below_reserve"
CAPACITY_TAKEN = "capacity_taken"
_NAMED_TAKERS = 3


def explain_unmatched(problem, cand: Candidates, flow_kg: np.ndarray) -> list[Unmatched]:
    """One Unmatched entry per lot with tonnes left over, with a reason code, sentence and details."""
    n_lots, n_demands = len(problem.lots), len(problem.demands)
    shipped = np.zeros(n_lots, dtype=np.int64)
    np.add.at(shipped, cand.lot, flow_kg)
    leftover = problem.lot_kg - shipped
    pending = np.flatnonzero(leftover > 0)
    if len(pending) == 0:
        return []
    received = np.zeros(n_demands, dtype=np.int64)
    np.add.at(received, cand.demand, flow_kg)
    t = problem.cost_table
    is_pending = leftover > 0
    # Only arcs of lots with leftover tonnes matter; trimming first keeps the sorts small.
    compat_rows = np.flatnonzero(cand.compatible & is_pending[t.lot_index])
    n_compat = np.bincount(t.lot_index[compat_rows], minlength=n_lots)
    pending_arcs = np.flatnonzero(is_pending[cand.lot])
    n_cand = np.bincount(cand.lot[pending_arcs], minlength=n_lots)
    best = _argmax_per_group(cand.lot[pending_arcs], cand.surplus_fen[pending_arcs], n_lots)
    best_cand = np.where(best >= 0, pending_arcs[np.maximum(best, 0)] if len(pending_arcs) else -1, -1)
    netback = problem.demand_price_fen[t.demand_index[compat_rows]] - t.fen_per_t[compat_rows]
    best_netback_row = _argmax_per_group(t.lot_index[compat_rows], netback, n_lots)
    nearest_rejected = _nearest_rejected_row(problem, cand.compatible | ~is_pending[t.lot_index])
    takers = _takers_by_demand(problem, cand, flow_kg)

    out = []
    for i in pending.tolist():
        lot = problem.lots[i]
        left = tonnes_from_kg(leftover[i])
        if n_compat[i] == 0:
            out.append(_no_compatible(problem, lot, left, nearest_rejected.get(i)))
        elif n_cand[i] == 0:
            k = best_netback_row[i]
            out.append(_below_reserve(problem, lot, left, int(compat_rows[k]), int(netback[k])))
        else:
            a = best_cand[i]
            j = int(cand.demand[a])
            spare = int(problem.demand_kg[j] - received[j])
            out.append(_capacity_taken(problem, lot, left, j, int(cand.surplus_fen[a]), spare, takers.get(j), i))
    return out


def _no_compatible(problem, lot, left, row) -> Unmatched:
    if row is None:
        return Unmatched(
            lot.id,
            left,
            NO_COMPATIBLE_RECYCLER,
            f"No {lot.category} recycler demand has a transport cost to lot {lot.id}, so none is within reach.",
            {"rule": "no_route"},
        )
    t = problem.cost_table
    demand = problem.demands[t.demand_index[row]]
    cost = cost_entry(problem, row)
    rejection = compatible(lot, demand, cost)
    details = {"rule": rejection.rule if rejection else "unknown", "demand": demand.id}
    if cost.km is not None:
        details["km"] = cost.km
    reason = rejection.message if rejection else f"demand {demand.id} is incompatible"
    return Unmatched(
        lot.id,
        left,
        NO_COMPATIBLE_RECYCLER,
        f"No compatible recycler demand for lot {lot.id}: the nearest, {reason}.",
        details,
    )


def _below_reserve(problem, lot, left, row, netback_fen) -> Unmatched:
    demand = problem.demands[problem.cost_table.demand_index[row]]
    netback = yuan_from_fen(netback_fen)
    shortfall = lot.reserve_yuan_per_t - netback
    return Unmatched(
        lot.id,
        left,
        NETBACK_BELOW_RESERVE,
        f"The best netback for lot {lot.id} is {netback} yuan/t (demand {demand.id}), "
        f"{shortfall} yuan/t below its reserve of {lot.reserve_yuan_per_t} yuan/t.",
        {
            "rule": "reserve",
            "demand": demand.id,
            "best_netback_yuan_per_t": netback,
            "reserve_yuan_per_t": lot.reserve_yuan_per_t,
            "shortfall_yuan_per_t": shortfall,
        },
    )


def _capacity_taken(problem, lot, left, j, surplus_fen, spare_kg, takers, i) -> Unmatched:
    demand = problem.demands[j]
    surplus = yuan_from_fen(surplus_fen)
    if surplus_fen == 0 and spare_kg > 0:
        # Zero surplus: the pair is allowed but trading adds nothing, so the solver may leave it.
        return Unmatched(
            lot.id,
            left,
            NETBACK_BELOW_RESERVE,
            f"The best netback for lot {lot.id} (demand {demand.id}) only equals its reserve of "
            f"{lot.reserve_yuan_per_t} yuan/t, so trading it adds no surplus.",
            {
                "rule": "reserve",
                "demand": demand.id,
                "reserve_yuan_per_t": lot.reserve_yuan_per_t,
                "shortfall_yuan_per_t": yuan_from_fen(0),
            },
        )
    others = [(p, text) for p, text in takers if p != i][:_NAMED_TAKERS]
    named = [problem.lots[p].id for p, _ in others]
    details = {
        "rule": "capacity",
        "demand": demand.id,
        "surplus_yuan_per_t": surplus,
        "taken_by": named,
        "spare_tonnes": tonnes_from_kg(spare_kg),
    }
    if spare_kg > 0:
        message = (
            f"Demand {demand.id} would pay {surplus} yuan/t surplus for lot {lot.id}, but its remaining "
            f"{tonnes_from_kg(spare_kg)} t is less than a whole shipment under the truck and minimum-shipment terms."
        )
    else:
        listed = ", ".join(text for _, text in others)
        message = (
            f"Demand {demand.id} would give lot {lot.id} a surplus of {surplus} yuan/t, but its capacity went to "
            f"lots with more surplus overall{': ' + listed if listed else ''}."
        )
    return Unmatched(lot.id, left, CAPACITY_TAKEN, message, details)


def _argmax_per_group(group: np.ndarray, value: np.ndarray, n: int) -> np.ndarray:
    """Position (into ``group``) of the largest value in each group; -1 for empty groups."""
    out = np.full(n, -1, dtype=np.int64)
    if len(group) == 0:
        return out
    order = np.lexsort((-value, group))
    first = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    out[group[order][first]] = order[first]
    return out


def _nearest_rejected_row(problem, compatible_mask: np.ndarray) -> dict:
    """For each lot, the cost row of its nearest rejected demand, same category first."""
    t = problem.cost_table
    rows = np.flatnonzero(~compatible_mask)
    if len(rows) == 0:
        return {}
    lots = t.lot_index[rows]
    other_category = problem.lot_category[lots] != problem.demand_category[t.demand_index[rows]]
    km = np.where(np.isnan(t.km[rows]), np.inf, t.km[rows])
    order = np.lexsort((t.fen_per_t[rows], km, other_category, lots))
    first = np.flatnonzero(np.r_[True, lots[order][1:] != lots[order][:-1]])
    return dict(zip(lots[order][first].tolist(), rows[order][first].tolist(), strict=True))


def _takers_by_demand(problem, cand: Candidates, flow_kg: np.ndarray) -> _Takers:
    """Per demand position, the lots that got its capacity, best surplus first (described lazily)."""
    return _Takers(problem, cand, flow_kg)


class _Takers:
    """Lazy map demand position → [(lot position, description)], formatted only when asked for."""

    def __init__(self, problem, cand: Candidates, flow_kg: np.ndarray):
        used = np.flatnonzero(flow_kg > 0)
        self._order = used[np.lexsort((-cand.surplus_fen[used], cand.demand[used]))]
        demands = cand.demand[self._order]
        self._starts = np.searchsorted(demands, np.arange(len(problem.demands) + 1))
        self._problem, self._cand, self._flow = problem, cand, flow_kg
        self._cache: dict = {}

    def get(self, j: int) -> list:
        """Up to _NAMED_TAKERS + 1 takers of demand ``j`` (one spare in case the asking lot is among them)."""
        if j not in self._cache:
            arcs = self._order[self._starts[j] : min(self._starts[j + 1], self._starts[j] + _NAMED_TAKERS + 1)]
            lots, cand = self._problem.lots, self._cand
            self._cache[j] = [
                (
                    int(cand.lot[a]),
                    f"{lots[cand.lot[a]].id} ({tonnes_from_kg(self._flow[a])} t at "
                    f"{yuan_from_fen(cand.surplus_fen[a])} yuan/t)",
                )
                for a in arcs.tolist()
            ]
        return self._cache[j]
