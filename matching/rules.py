"""Compatibility rules between a lot and a demand, scalar and vectorised over a cost table."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .model import Cost, Demand, Lot
from .units import yuan_from_fen

HAZARDOUS_WILDCARD = "*"


@dataclass(frozen=True)
class Rejection:
    """Why a pair is incompatible: the rule's code and an English sentence."""

    rule: str
    message: str


Rule = Callable[[Lot, Demand, "Cost | None"], "Rejection | None"]


def category_matches(lot: Lot, demand: Demand, cost: Cost | None = None) -> Rejection | None:
    """A lot can only go to a demand for the same waste category."""
    if lot.category == demand.category:
        return None
    return Rejection("category", f"demand {demand.id} takes {demand.category}, not {lot.category}")


def quality_within_limits(lot: Lot, demand: Demand, cost: Cost | None = None) -> Rejection | None:
    """Every quality limit of the demand must be met by a reported value of the lot."""
    for key, (low, high) in demand.quality_limits.items():
        value = lot.quality.get(key)
        if value is None:
            return Rejection("quality", f"demand {demand.id} limits {key} but lot {lot.id} does not report it")
        if low is not None and value < low:
            return Rejection(
                "quality", f"lot {lot.id} has {key} {value:g}, below the minimum {low:g} of demand {demand.id}"
            )
        if high is not None and value > high:
            return Rejection(
                "quality", f"lot {lot.id} has {key} {value:g}, above the maximum {high:g} of demand {demand.id}"
            )
    return None


def windows_overlap(lot: Lot, demand: Demand, cost: Cost | None = None) -> Rejection | None:
    """The lot's availability window must overlap the demand's delivery window (open ends allowed)."""
    starts = [d for d in (lot.available_from, demand.window_from) if d is not None]
    ends = [d for d in (lot.available_to, demand.window_to) if d is not None]
    if starts and ends and max(starts) > min(ends):
        return Rejection(
            "time_window",
            f"lot {lot.id} is available {_span(lot.available_from, lot.available_to)} "
            f"but demand {demand.id} takes deliveries {_span(demand.window_from, demand.window_to)}",
        )
    return None


def within_haul_distance(lot: Lot, demand: Demand, cost: Cost | None = None) -> Rejection | None:
    """The haul must not exceed the demand's maximum haul distance (unknown distance passes)."""
    km = None if cost is None else cost.km
    if km is None or demand.max_haul_km is None or km <= demand.max_haul_km:
        return None
    return Rejection(
        "haul_distance", f"demand {demand.id} at {km:.0f} km exceeds its {demand.max_haul_km:.0f} km haul limit"
    )


def licence_covers_hazardous(lot: Lot, demand: Demand, cost: Cost | None = None) -> Rejection | None:
    """A hazardous lot needs a demand licensed for its category (or for all, '*')."""
    if not lot.hazardous or lot.category in demand.licences or HAZARDOUS_WILDCARD in demand.licences:
        return None
    return Rejection("licence", f"lot {lot.id} is hazardous and demand {demand.id} holds no licence for {lot.category}")


DEFAULT_RULES: tuple[Rule, ...] = (
    category_matches,
    within_haul_distance,
    quality_within_limits,
    windows_overlap,
    licence_covers_hazardous,
)


def compatible(
    lot: Lot, demand: Demand, cost: Cost | None = None, rules: Sequence[Rule] = DEFAULT_RULES
) -> Rejection | None:
    """Return the first rejection among ``rules``, or None when the pair is compatible."""
    for rule in rules:
        rejection = rule(lot, demand, cost)
        if rejection is not None:
            return rejection
    return None


def surplus_non_negative(surplus_fen_per_t: np.ndarray) -> np.ndarray:
    """Mask of pairs worth trading: surplus p − c − r at least zero."""
    return surplus_fen_per_t >= 0


def cost_entry(problem, row: int) -> Cost:
    """The Cost object of one cost-table row (for the scalar rules)."""
    t = problem.cost_table
    km = float(t.km[row])
    co2 = float(t.co2_kg_per_t[row])
    return Cost(
        problem.lots[t.lot_index[row]].id,
        problem.demands[t.demand_index[row]].id,
        yuan_from_fen(int(t.fen_per_t[row])),
        None if math.isnan(km) else km,
        None if math.isnan(co2) else co2,
    )


def compatibility_mask(problem, rules: Sequence[Rule] = DEFAULT_RULES) -> np.ndarray:
    """Boolean mask over the cost table: True where the pair passes every rule.

    Category, haul distance and time windows are checked with numpy over all rows; the scalar rule
    functions run only on rows whose demand sets quality limits or whose lot is hazardous. With
    custom rules every row goes through the scalar path, so the scalar rules stay the reference.
    """
    t = problem.cost_table
    n = len(t)
    if n == 0:
        return np.zeros(0, dtype=bool)
    if tuple(rules) != DEFAULT_RULES:
        return np.fromiter(
            (
                compatible(
                    problem.lots[t.lot_index[r]], problem.demands[t.demand_index[r]], cost_entry(problem, r), rules
                )
                is None
                for r in range(n)
            ),
            dtype=bool,
            count=n,
        )
    ok = problem.lot_category[t.lot_index] == problem.demand_category[t.demand_index]
    max_haul = np.array([np.inf if d.max_haul_km is None else d.max_haul_km for d in problem.demands], dtype=np.float64)
    # NaN km (unknown) compares False with '>' and so passes, as in within_haul_distance.
    ok &= ~(t.km > max_haul[t.demand_index])
    ok &= _windows_overlap_mask(problem, t.lot_index, t.demand_index)
    # Only quality limits and hazardous licences still need the scalar rules, on the rows they concern.
    demand_limits = np.array([bool(d.quality_limits) for d in problem.demands], dtype=bool)
    lot_hazardous = np.array([lo.hazardous for lo in problem.lots], dtype=bool)
    slow = np.flatnonzero(ok & (demand_limits[t.demand_index] | lot_hazardous[t.lot_index]))
    for r in slow:
        lot, demand = problem.lots[t.lot_index[r]], problem.demands[t.demand_index[r]]
        ok[r] = compatible(lot, demand, None, (quality_within_limits, licence_covers_hazardous)) is None
    return ok


def _ordinals(dates, missing: float) -> np.ndarray:
    """Dates as day numbers (floats), ``missing`` (±inf) for an open end."""
    return np.array([missing if d is None else float(d.toordinal()) for d in dates], dtype=np.float64)


def _windows_overlap_mask(problem, lot_index: np.ndarray, demand_index: np.ndarray) -> np.ndarray:
    """`windows_overlap` over every row at once: the later start must not come after the earlier end."""
    lot_from = _ordinals([lo.available_from for lo in problem.lots], -np.inf)
    lot_to = _ordinals([lo.available_to for lo in problem.lots], np.inf)
    demand_from = _ordinals([d.window_from for d in problem.demands], -np.inf)
    demand_to = _ordinals([d.window_to for d in problem.demands], np.inf)
    start = np.maximum(lot_from[lot_index], demand_from[demand_index])
    end = np.minimum(lot_to[lot_index], demand_to[demand_index])
    return ~(start > end)


def _span(start, end) -> str:
    return f"{start or 'open'} to {end or 'open'}"
