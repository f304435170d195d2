"""Price guidance: dual prices of lot supply and demand capacity from an optimal flow.

The prices are shortest-path distances to the sink in the residual graph of the optimal
min-cost flow (costs = −surplus in fen per tonne). Because the flow is optimal the residual
graph has no negative cycle, so a label-correcting search converges; we run it as rounds of
numpy operations touching only arcs whose end labels changed. Integer arithmetic keeps the
prices exact to the fen, and complementary slackness holds by construction:

* lot price u_i = max(0, −D(lot_i)): the value of one more tonne at lot i's gate;
* demand price v_j = D(dem_j): the surplus per tonne that the demand's last tonne of
  capacity earns (zero when capacity is left over);
* u_i + v_j ≥ s_ij on every candidate arc, with equality where the flow is positive.
"""

from __future__ import annotations

import numpy as np

from .network import Candidates

_INF = np.int64(1) << np.int64(60)


def dual_prices(
    lot_kg: np.ndarray, demand_kg: np.ndarray, cand: Candidates, flow_kg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (lot_price_fen, demand_price_fen) per tonne, both ≥ 0, for an optimal flow."""
    n_lots, n_demands = len(lot_kg), len(demand_kg)
    shipped = _sum_by(cand.lot, flow_kg, n_lots)
    received = _sum_by(cand.demand, flow_kg, n_demands)

    # D(lot) ≤ D(source) = 0 through the residual arc lot→source when the lot ships anything.
    d_lot = np.where(shipped > 0, 0, _INF).astype(np.int64)
    # D(demand) ≤ D(sink) = 0 through demand→sink while the demand has spare capacity.
    d_dem = np.where(received < demand_kg, 0, _INF).astype(np.int64)

    order = np.argsort(cand.demand, kind="stable")
    indptr = np.searchsorted(cand.demand[order], np.arange(n_demands + 1))
    flowing = np.flatnonzero(flow_kg > 0)
    f_lot, f_dem, f_s = cand.lot[flowing], cand.demand[flowing], cand.surplus_fen[flowing]

    lot_changed = d_lot < _INF
    initial_dem = d_dem < _INF
    while True:
        # Backward arcs demand→lot exist where flow is positive and cost +s: D(dem) ≤ D(lot) + s.
        sel = lot_changed[f_lot]
        new_dem = d_dem.copy()
        np.minimum.at(new_dem, f_dem[sel], d_lot[f_lot[sel]] + f_s[sel])
        dem_changed = new_dem < d_dem
        d_dem = new_dem
        if initial_dem is not None:
            dem_changed |= initial_dem
            initial_dem = None
        changed_dem = np.flatnonzero(dem_changed)
        if len(changed_dem) == 0:
            break
        # Forward arcs lot→demand (never saturated) cost −s: D(lot) ≤ D(dem) − s.
        arcs = order[_ranges(indptr[changed_dem], indptr[changed_dem + 1])]
        new_lot = d_lot.copy()
        np.minimum.at(new_lot, cand.lot[arcs], d_dem[cand.demand[arcs]] - cand.surplus_fen[arcs])
        lot_changed = new_lot < d_lot
        d_lot = new_lot
        if not lot_changed.any():
            break

    lot_price = np.where(d_lot >= _INF // 2, 0, np.maximum(0, -d_lot))
    demand_price = np.where(d_dem >= _INF // 2, 0, np.maximum(0, d_dem))
    return lot_price.astype(np.int64), demand_price.astype(np.int64)


def _sum_by(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of arange(start, stop) for each pair, without a Python loop."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total)
