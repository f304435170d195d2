"""Seasonal clearing: a time-expanded min-cost flow over months, with yards that carry stock.

Network, per category (a yard holds one category, so categories stay independent):

* lot node (i, t) supplies the kilograms lot i has available in period t;
* lot (i, t) → demand (j, t) costs −s_ij = r_i + c_ij − p_j fen/t (the one-period surplus);
* lot (i, t) → yard (y, t) costs r_i + c_iy (0 transport into a lot's own yard);
* yard (y, t) → demand (j, t) costs c_yj − p_j (an own yard uses the lot's own cost rows);
* yard (y, t) → yard (y, t+1) carries the month-end level: capacity = yard capacity,
  cost = storage fen per t·month; yards must be empty after the last period;
* demand (j, t) → sink has the period's capacity (0 = stopped: no arcs at all);
* lot (i, t) → sink is disposal at the reserve (the fallback), cost 0.

So every path from a lot to a demand costs minus its surplus net of storage, and the
objective is the same total surplus as the one-period clearing, measured against disposing
of everything at its reserve. Flows are integer kilograms and costs integer fen per tonne,
so the optimum is exact.

Loss. A monthly loss λ makes carry-over a generalised flow (gain 1 − λ), which no
min-cost-flow algorithm solves exactly. We keep integer kilograms and exact conservation
and say what is lost: the loss of month t+1 is ceil(λ × level_t) kg (rounded up, so stock
is never overstated), taken as a fixed outflow of the yard node. Losses depend on levels,
so we iterate "solve with fixed losses → recompute losses" until they repeat. Each solve is
an exact min-cost flow for its losses, but the optimiser does not see that an extra stored
tonne loses λ, so a plan with loss is reported as status "feasible", not "optimal".
Without loss the result is the proven optimum. Measured against the exact generalised LP on the
hand-checked instance: equal to the fen at 1.5 % a month, 1 % short at 10 % a month. A tonne
lost in a yard is neither sold nor disposed of: after entering the yard it costs nothing more.

Prices: per-period duals are shortest-path distances to the sink in the residual graph of
the optimal flow (exact fen per tonne), read the same way as the one-period guidance:
lot price u_it = −D(lot_it), demand price v_jt = max(0, D(dem_jt)), and a yard's carry
price = what one more tonne of month-end capacity would save.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from .errors import ProblemError, SolverError
from .model import Id, Problem, _finite_float, _num, _positive_tonnes, _quote
from .network import build_candidates
from .rules import DEFAULT_RULES, Rule, compatible, licence_covers_hazardous, quality_within_limits, windows_overlap
from .units import fen_of, kg_of, tonnes, tonnes_from_kg, yuan, yuan_from_fen

MAX_LOSS_ITERATIONS = 12
_INF = np.int64(1) << np.int64(60)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def months(start: str, count: int = 12) -> tuple[str, ...]:
    """``count`` consecutive month labels (YYYY-MM) from ``start``."""
    m = _MONTH.match(str(start))
    if not m:
        raise ProblemError(f"start month must look like 2026-11, got {start!r}")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 120:
        raise ProblemError(f"number of months must be an integer from 1 to 120, got {count!r}")
    year, month = int(m.group(1)), int(m.group(2)) - 1
    return tuple(f"{year + (month + k) // 12:04d}-{(month + k) % 12 + 1:02d}" for k in range(count))


def month_bounds(label: str) -> tuple[date, date] | None:
    """First and last day of a YYYY-MM period, or None for another kind of label."""
    m = _MONTH.match(label)
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return date(year, month, 1), date.fromordinal(nxt.toordinal() - 1)


@dataclass(frozen=True)
class Storage:
    """A yard: a lot's own (``lot`` set) or a shared one at (lon, lat), holding one category."""

    id: Id
    capacity_t: Decimal
    cost_yuan_per_t_month: Decimal
    loss_pct_per_month: Decimal = Decimal(0)
    lot: Id | None = None
    lon: float | None = None
    lat: float | None = None
    category: str | None = None

    def __post_init__(self):
        if isinstance(self.id, bool) or not isinstance(self.id, (str, int)):
            raise ProblemError(f"storage id must be a string or integer, got {self.id!r}")
        object.__setattr__(self, "capacity_t", _positive_tonnes(self.capacity_t, "capacity_t"))
        cost = yuan(self.cost_yuan_per_t_month, "cost_yuan_per_t_month")
        if cost < 0:
            raise ProblemError(f"cost_yuan_per_t_month must not be negative, got {self.cost_yuan_per_t_month}")
        object.__setattr__(self, "cost_yuan_per_t_month", cost)
        loss = Decimal(str(_finite_float(self.loss_pct_per_month, "loss_pct_per_month")))
        if not 0 <= loss < 100:
            raise ProblemError(f"loss_pct_per_month must be from 0 to below 100, got {self.loss_pct_per_month}")
        object.__setattr__(self, "loss_pct_per_month", loss)
        for name in ("lon", "lat"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _finite_float(value, name))
        if self.category is not None and (not isinstance(self.category, str) or not self.category):
            raise ProblemError(f"category must be a non-empty string, got {self.category!r}")

    @property
    def loss_ppm(self) -> int:
        """Monthly loss in parts per million (exact for up to four decimals of a percent)."""
        return int((self.loss_pct_per_month * 10000).to_integral_value())


@dataclass(frozen=True)
class StorageCost:
    """Transport cost of one tonne into a shared yard (from ``lot_id``) or out of it (to ``demand_id``)."""

    storage_id: Id
    yuan_per_t: Decimal
    lot_id: Id | None = None
    demand_id: Id | None = None
    km: float | None = None
    co2_kg_per_t: float | None = None

    def __post_init__(self):
        if (self.lot_id is None) == (self.demand_id is None):
            raise ProblemError("a storage cost row names exactly one of lot (into the yard) or demand (out of it)")
        object.__setattr__(self, "yuan_per_t", yuan(self.yuan_per_t, "yuan_per_t"))
        for name in ("km", "co2_kg_per_t"):
            value = getattr(self, name)
            if value is not None:
                v = _finite_float(value, name)
                if v < 0:
                    raise ProblemError(f"{name} must not be negative, got {value}")
                object.__setattr__(self, name, v)


@dataclass(frozen=True, eq=False)
class SeasonalProblem:
    """A clearing over periods: the one-period problem plus availability, capacity and yards.

    ``available[lot_id][period]`` and ``capacity[demand_id][period]`` are tonnes. A lot without
    ``available`` has its tonnes in the period of its ``available_from`` (else the first); a
    demand period without ``capacity`` takes the demand's tonnes, and periods outside its
    delivery window take nothing.
    """

    problem: Problem
    periods: Sequence[str]
    available: Mapping[Id, Mapping[str, Any]] = field(default_factory=dict)
    capacity: Mapping[Id, Mapping[str, Any]] = field(default_factory=dict)
    storage: Sequence[Storage] = ()
    storage_costs: Sequence[StorageCost] = ()
    lot_kg: np.ndarray = field(init=False, repr=False)  # lots × periods
    demand_kg: np.ndarray = field(init=False, repr=False)  # demands × periods
    yard_category: np.ndarray = field(init=False, repr=False)  # category code, −1 = unused
    yard_lot: np.ndarray = field(init=False, repr=False)  # lot position of an own yard, −1 = shared
    yard_capacity_kg: np.ndarray = field(init=False, repr=False)  # month-end capacity per yard
    yard_cost_fen: np.ndarray = field(init=False, repr=False)  # fen per tonne and month per yard
    in_rows: dict = field(init=False, repr=False)
    out_rows: dict = field(init=False, repr=False)

    def __post_init__(self):
        periods = tuple(self.periods)
        if not periods:
            raise ProblemError("periods must list at least one period")
        for k, p in enumerate(periods):
            if not isinstance(p, str) or not p:
                raise ProblemError(f"must be a non-empty string, got {p!r}", f"periods[{k}]")
        if len(set(periods)) != len(periods):
            raise ProblemError("periods must not repeat")
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "storage", tuple(self.storage))
        object.__setattr__(self, "storage_costs", tuple(self.storage_costs))
        object.__setattr__(self, "lot_kg", self._lot_matrix())
        object.__setattr__(self, "demand_kg", self._demand_matrix())
        self._index_storage()
        capacity = [kg_of(s.capacity_t) for s in self.storage]
        object.__setattr__(self, "yard_capacity_kg", np.array(capacity, dtype=np.int64))
        cost = [fen_of(s.cost_yuan_per_t_month) for s in self.storage]
        object.__setattr__(self, "yard_cost_fen", np.array(cost, dtype=np.int64))

    def _period_kg(self, per_period, what: str) -> dict[int, int]:
        if not isinstance(per_period, Mapping):
            raise ProblemError(f"{what} must be an object of period: tonnes, got {per_period!r}")
        index = {p: k for k, p in enumerate(self.periods)}
        out = {}
        for p, value in per_period.items():
            if p not in index:
                raise ProblemError(f"{what} names {p!r}, which is not one of the periods")
            t = tonnes(value, f"{what}[{p!r}]")
            if t < 0:
                raise ProblemError(f"{what}[{p!r}] must not be negative, got {value}")
            out[index[p]] = kg_of(t)
        return out

    def _lot_matrix(self) -> np.ndarray:
        lots = self.problem.lots
        unknown = set(self.available) - set(self.problem.lot_position)
        if unknown:
            raise ProblemError(f"available names unknown lots {sorted(map(str, unknown))}")
        out = np.zeros((len(lots), len(self.periods)), dtype=np.int64)
        for i, lot in enumerate(lots):
            if lot.id in self.available:
                try:
                    for t, kg in self._period_kg(self.available[lot.id], "available").items():
                        out[i, t] = kg
                except ProblemError as exc:
                    raise exc.located(f"lots[{i}] (id {_quote(lot.id)})") from None
            else:
                out[i, self._period_of(lot.available_from)] = kg_of(lot.tonnes)
        return out

    def _period_of(self, day: date | None) -> int:
        if day is None:
            return 0
        for k, p in enumerate(self.periods):
            bounds = month_bounds(p)
            if bounds and bounds[0] <= day <= bounds[1]:
                return k
        return 0

    def _demand_matrix(self) -> np.ndarray:
        demands = self.problem.demands
        unknown = set(self.capacity) - set(self.problem.demand_position)
        if unknown:
            raise ProblemError(f"capacity names unknown demands {sorted(map(str, unknown))}")
        out = np.zeros((len(demands), len(self.periods)), dtype=np.int64)
        for j, d in enumerate(demands):
            try:
                given = self._period_kg(self.capacity.get(d.id, {}), "capacity")
            except ProblemError as exc:
                raise exc.located(f"demands[{j}] (id {_quote(d.id)})") from None
            for t, p in enumerate(self.periods):
                out[j, t] = given[t] if t in given else (kg_of(d.tonnes) if _in_window(d, p) else 0)
        return out

    def _index_storage(self) -> None:
        position = self._index_yards()
        rows = {"in": ([], [], [], [], []), "out": ([], [], [], [], [])}
        for k, c in enumerate(self.storage_costs):
            kind, y, end, fen = self._storage_cost_row(k, c, position)
            for col, value in zip(rows[kind], (y, end, fen, c.km, c.co2_kg_per_t), strict=True):
                col.append(value)
        object.__setattr__(self, "in_rows", _row_arrays(*rows["in"]))
        object.__setattr__(self, "out_rows", _row_arrays(*rows["out"]))
        n = max(len(self.problem.lots), len(self.problem.demands), 1)
        for kind, table in (("into", self.in_rows), ("out of", self.out_rows)):
            key = table["yard"] * n + table["end"]
            if len(np.unique(key)) != len(key):
                raise ProblemError(f"duplicate storage cost row {kind} the same yard")

    def _index_yards(self) -> dict:
        """Check yards; set each own yard's lot and every yard's category code where known."""
        prob = self.problem
        position: dict = {}
        yard_lot = np.full(len(self.storage), -1, dtype=np.int64)
        yard_category = np.full(len(self.storage), -1, dtype=np.int64)
        code = {c: k for k, c in enumerate(prob.categories)}
        for k, s in enumerate(self.storage):
            if not isinstance(s, Storage):
                raise ProblemError(f"expected a Storage, got {type(s).__name__}", f"storage[{k}]")
            where = f"storage[{k}] (id {_quote(s.id)})"
            if s.id in position:
                raise ProblemError(f"duplicate storage id (first used by storage[{position[s.id]}])", where)
            position[s.id] = k
            if s.lot is not None:
                if s.lot not in prob.lot_position:
                    raise ProblemError(f"unknown lot id {s.lot!r}", where)
                if s.lot in (self.storage[y].lot for y in range(k)):
                    raise ProblemError(
                        "the lot already has an own yard; give it one yard with the total capacity", where
                    )
                yard_lot[k] = prob.lot_position[s.lot]
                yard_category[k] = prob.lot_category[yard_lot[k]]
            elif s.category is not None:
                yard_category[k] = code.get(s.category, -1)
        object.__setattr__(self, "yard_lot", yard_lot)
        object.__setattr__(self, "yard_category", yard_category)
        return position

    def _storage_cost_row(self, k: int, c, position: dict) -> tuple[str, int, int, int]:
        """(direction, yard, lot-or-demand position, fen) of one storage cost row; fixes a yard's category."""
        prob = self.problem
        where = f"storage costs[{k}]"
        if not isinstance(c, StorageCost):
            raise ProblemError(f"expected a StorageCost, got {type(c).__name__}", where)
        if c.storage_id not in position:
            raise ProblemError(f"unknown storage id {c.storage_id!r}", where)
        y = position[c.storage_id]
        if self.yard_lot[y] >= 0:
            raise ProblemError("a lot's own yard uses the lot's own cost rows; give none", where)
        kind, ident, index, codes = (
            ("in", c.lot_id, prob.lot_position, prob.lot_category)
            if c.lot_id is not None
            else ("out", c.demand_id, prob.demand_position, prob.demand_category)
        )
        if ident not in index:
            raise ProblemError(f"unknown {'lot' if kind == 'in' else 'demand'} id {ident!r}", where)
        end = index[ident]
        if self.storage[y].category is None and self.yard_category[y] == -1:
            self.yard_category[y] = codes[end]
        elif self.yard_category[y] != codes[end]:
            raise ProblemError(
                f"yard {self.storage[y].id!r} would hold more than one category; a yard holds one category "
                "(split its capacity into one yard per category)",
                where,
            )
        return kind, y, end, fen_of(c.yuan_per_t)


def _in_window(demand, period: str) -> bool:
    bounds = month_bounds(period)
    if bounds is None:
        return True
    start, end = bounds
    return not (
        (demand.window_from is not None and demand.window_from > end)
        or (demand.window_to is not None and demand.window_to < start)
    )


def _row_arrays(yard, end, fen, km, co2) -> dict:
    return {
        "yard": np.asarray(yard, dtype=np.int64),
        "end": np.asarray(end, dtype=np.int64),
        "fen": np.asarray(fen, dtype=np.int64),
        "km": np.array([np.nan if v is None else v for v in km], dtype=np.float64),
        "co2": np.array([np.nan if v is None else v for v in co2], dtype=np.float64),
    }


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Delivery:
    """Tonnes delivered to a demand in a period, straight from a lot or out of a yard."""

    period: str
    lot_id: Id | None  # None when the tonnes come out of a shared yard (pooled stock); own-yard stock keeps its lot
    demand_id: Id
    storage_id: Id | None
    tonnes: Decimal
    transport_yuan_per_t: Decimal
    km: float | None
    co2_kg: float | None
    price_yuan_per_t: Decimal
    surplus_yuan_per_t: Decimal | None  # the pair's one-period surplus (before storage); None out of a shared yard

    @property
    def netback_yuan_per_t(self) -> Decimal:
        """Price delivered less the last leg's freight."""
        return self.price_yuan_per_t - self.transport_yuan_per_t


@dataclass(frozen=True)
class StoragePeriod:
    """One yard in one period: tonnes in, out, lost and the month-end level."""

    storage_id: Id
    period: str
    in_t: Decimal
    out_t: Decimal
    loss_t: Decimal
    level_t: Decimal


@dataclass
class SeasonalResult:
    """Outcome of a seasonal clearing: deliveries by period, yard levels, disposal and prices."""

    status: str
    objective_yuan: Decimal
    periods: tuple[str, ...]
    deliveries: list[Delivery] = field(default_factory=list)
    stored: list[tuple[str, Id, Id, Decimal]] = field(default_factory=list)  # (period, lot, yard, tonnes)
    storage: list[StoragePeriod] = field(default_factory=list)
    unplaced: list[tuple[str, Id, Decimal]] = field(default_factory=list)  # (period, lot, tonnes disposed)
    lot_prices: dict = field(default_factory=dict)  # lot → {period: yuan/t}
    demand_prices: dict = field(default_factory=dict)
    storage_prices: dict = field(default_factory=dict)  # yard → {period: yuan/t of month-end capacity}
    timings: dict[str, float] = field(default_factory=dict)
    loss_iterations: int = 0
    solver: str = "mincostflow-seasonal"

    @property
    def seconds(self) -> float:
        """Total wall time recorded in ``timings``."""
        return float(sum(self.timings.values()))

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict in the CLI's shape (tonnes to 3 decimals, money to 2)."""
        return {
            "status": self.status,
            "solver": self.solver,
            "gap": 0.0 if self.status == "optimal" else None,
            "objective_yuan": _num(self.objective_yuan, 2),
            "periods": list(self.periods),
            "allocations": [_delivery_json(d) for d in self.deliveries],
            "stored": [{"period": p, "lot": lot, "storage": y, "tonnes": _num(t, 3)} for p, lot, y, t in self.stored],
            "storage": [
                {
                    "id": s.storage_id,
                    "period": s.period,
                    "in_t": _num(s.in_t, 3),
                    "out_t": _num(s.out_t, 3),
                    "loss_t": _num(s.loss_t, 3),
                    "level_t": _num(s.level_t, 3),
                }
                for s in self.storage
            ],
            "unmatched": [
                {"lot": lot, "period": p, "tonnes": _num(t, 3), "reason": "disposed", "message": _disposed(lot, p)}
                for p, lot, t in self.unplaced
            ],
            "lot_prices": _price_json(self.lot_prices),
            "demand_prices": _price_json(self.demand_prices),
            "storage_prices": _price_json(self.storage_prices),
            "loss_iterations": self.loss_iterations,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "seconds": round(self.seconds, 6),
        }

    def text(self) -> str:
        """A plain-text table for the terminal."""
        lines = [
            f"status: {self.status}   solver: {self.solver}   total surplus: {self.objective_yuan:,.2f} yuan   "
            f"time: {self.seconds:.3f} s   periods: {self.periods[0]}..{self.periods[-1]}"
        ]
        if self.deliveries:
            lines += ["", f"{'period':<9} {'from':<14} {'demand':<12} {'tonnes':>12} {'netback/t':>10}"]
            for d in self.deliveries:
                origin = f"yard {d.storage_id}" if d.lot_id is None else str(d.lot_id)
                lines.append(
                    f"{d.period:<9} {origin:<14} {str(d.demand_id):<12} {d.tonnes:>12,.3f} "
                    f"{d.netback_yuan_per_t:>10.2f}"
                )
        if self.storage:
            lines += ["", f"{'period':<9} {'yard':<14} {'in':>10} {'out':>10} {'loss':>8} {'level':>10}"]
            for s in self.storage:
                lines.append(
                    f"{s.period:<9} {str(s.storage_id):<14} {s.in_t:>10,.3f} {s.out_t:>10,.3f} "
                    f"{s.loss_t:>8,.3f} {s.level_t:>10,.3f}"
                )
        if self.unplaced:
            lines += ["", "disposed (no buyer or yard):"]
            lines += [f"  {p} {lot}: {t:,.3f} t" for p, lot, t in self.unplaced]
        return "\n".join(lines)


def _disposed(lot, period) -> str:
    return f"lot {lot} has no buyer or yard with room in {period}; these tonnes go to disposal"


def _delivery_json(d: Delivery) -> dict:
    return {
        "period": d.period,
        "lot": d.lot_id,
        "demand": d.demand_id,
        "storage": d.storage_id,
        "tonnes": _num(d.tonnes, 3),
        "transport_yuan_per_t": _num(d.transport_yuan_per_t, 2),
        "transport_cost_yuan": _num(d.transport_yuan_per_t * d.tonnes, 2),
        "km": None if d.km is None else round(d.km, 3),
        "co2_kg": None if d.co2_kg is None else round(d.co2_kg, 3),
        "price_yuan_per_t": _num(d.price_yuan_per_t, 2),
        "netback_yuan_per_t": _num(d.netback_yuan_per_t, 2),
        "surplus_yuan_per_t": None if d.surplus_yuan_per_t is None else _num(d.surplus_yuan_per_t, 2),
    }


def _price_json(prices: dict) -> dict:
    return {str(k): {p: _num(v, 2) for p, v in per.items()} for k, per in prices.items()}


# ----------------------------------------------------------------------------- network


@dataclass
class _Arcs:
    """Arc arrays of one category's time-expanded network, grouped in blocks for decoding."""

    tail: list = field(default_factory=list)
    head: list = field(default_factory=list)
    cap: list = field(default_factory=list)
    cost: list = field(default_factory=list)
    blocks: dict = field(default_factory=dict)  # name → (start, stop, extra columns)
    n: int = 0

    def add(self, name, tail, head, cap, cost, **extra) -> None:
        """Append a block of arcs."""
        k = len(tail)
        self.tail.append(np.asarray(tail, dtype=np.int64))
        self.head.append(np.asarray(head, dtype=np.int64))
        self.cap.append(np.asarray(cap, dtype=np.int64))
        self.cost.append(np.asarray(cost, dtype=np.int64))
        self.blocks[name] = (self.n, self.n + k, extra)
        self.n += k

    def arrays(self):
        """Concatenated (tail, head, capacity, cost)."""
        return tuple(np.concatenate(x) for x in (self.tail, self.head, self.cap, self.cost))


@dataclass(frozen=True)
class _Layout:
    """Node numbering of one category: lot (i, t), demand (j, t), yard (y, t), then the sink."""

    n_periods: int
    n_lots: int
    n_demands: int
    n_yards: int

    def lot(self, i, t):
        return i * self.n_periods + t

    def demand(self, j, t):
        return (self.n_lots + j) * self.n_periods + t

    def yard(self, y, t):
        return (self.n_lots + self.n_demands + y) * self.n_periods + t

    @property
    def sink(self) -> int:
        return (self.n_lots + self.n_demands + self.n_yards) * self.n_periods

    @property
    def n_nodes(self) -> int:
        return self.sink + 1


def solve_seasonal(sp: SeasonalProblem, rules: Sequence[Rule] = DEFAULT_RULES) -> SeasonalResult:
    """Clear a seasonal problem exactly, one category (with its yards) at a time, and merge."""
    prob = sp.problem
    started = time.perf_counter()
    cand = build_candidates(prob, rules)
    in_ok = _admitted_into_yards(sp, rules)
    out_ok = _yard_haul_ok(sp)
    timings = {"build": time.perf_counter() - started, "solve": 0.0, "prices": 0.0, "extract": 0.0}
    result = SeasonalResult("optimal", Decimal(0), sp.periods)
    total_cost = 0  # fen/t × kg
    for c in range(len(prob.categories)):
        part = _category_part(sp, cand, in_ok, out_ok, c)
        if part is None:
            continue
        cost, status, iterations = _solve_part(sp, part, cand, result, timings)
        total_cost += cost
        result.loss_iterations = max(result.loss_iterations, iterations)
        if status != "optimal":
            result.status = status
    result.objective_yuan = Decimal(-total_cost).scaleb(-5)
    result.timings = timings
    return result


def flow_networks(sp: SeasonalProblem, rules: Sequence[Rule] = DEFAULT_RULES):
    """Yield (tails, heads, capacities kg, costs fen/t, supplies kg) per category, losses ignored.

    The arrays solve_seasonal hands to OR-Tools, so a benchmark can give the same LP to another solver.
    """
    cand = build_candidates(sp.problem, rules)
    in_ok, out_ok = _admitted_into_yards(sp, rules), _yard_haul_ok(sp)
    for c in range(len(sp.problem.categories)):
        part = _category_part(sp, cand, in_ok, out_ok, c)
        if part is None:
            continue
        lay, arcs, _ = _build_network(sp, part, cand)
        supplies = _supplies(sp, part, lay)
        supplies[lay.sink] = -int(sp.lot_kg[part.lots].sum())
        yield (*arcs.arrays(), supplies)


def _supplies(sp: SeasonalProblem, part: _Part, lay: _Layout) -> np.ndarray:
    """Node supplies: each lot's kilograms in each period (the sink's demand is set by the caller)."""
    supplies = np.zeros(lay.n_nodes, dtype=np.int64)
    supplies[lay.lot(np.arange(len(part.lots))[:, None], np.arange(lay.n_periods)[None, :])] = sp.lot_kg[part.lots]
    return supplies


def _admitted_into_yards(sp: SeasonalProblem, rules) -> np.ndarray:
    """Mask over into-yard rows: the lot may enter a pooled yard only if every buyer of the yard accepts it."""
    prob, rows = sp.problem, sp.in_rows
    ok = prob.lot_category[rows["end"]] == sp.yard_category[rows["yard"]]
    demand_special = np.array([d.has_special_terms for d in prob.demands], dtype=bool)
    buyers = {}
    for y, j in zip(sp.out_rows["yard"].tolist(), sp.out_rows["end"].tolist(), strict=True):
        buyers.setdefault(y, []).append(j)
    scalar = tuple(r for r in rules if r in (quality_within_limits, windows_overlap, licence_covers_hazardous))
    for k in np.flatnonzero(ok).tolist():
        lot, y = prob.lots[rows["end"][k]], int(rows["yard"][k])
        js = buyers.get(y, [])
        if not lot.has_special_terms and not demand_special[js].any():
            continue
        ok[k] = all(compatible(lot, prob.demands[j], None, scalar) is None for j in js)
    return ok


def _yard_haul_ok(sp: SeasonalProblem) -> np.ndarray:
    prob, rows = sp.problem, sp.out_rows
    max_haul = np.array([np.inf if d.max_haul_km is None else d.max_haul_km for d in prob.demands])
    ok = prob.demand_category[rows["end"]] == sp.yard_category[rows["yard"]]
    return ok & ~(rows["km"] > max_haul[rows["end"]]) if len(rows["end"]) else ok


@dataclass
class _Part:
    """One category's lots, demands, yards (global positions) and its local arc rows."""

    lots: np.ndarray
    demands: np.ndarray
    yards: np.ndarray
    cand: np.ndarray  # candidate arc positions (direct lot→demand)
    in_rows: np.ndarray
    out_rows: np.ndarray


def _category_part(sp, cand, in_ok, out_ok, c) -> _Part | None:
    prob = sp.problem
    lots = np.flatnonzero(prob.lot_category == c)
    demands = np.flatnonzero(prob.demand_category == c)
    if len(lots) == 0:
        return None
    return _Part(
        lots,
        demands,
        np.flatnonzero(sp.yard_category == c),
        np.flatnonzero(prob.lot_category[cand.lot] == c),
        np.flatnonzero(in_ok & (prob.lot_category[sp.in_rows["end"]] == c)),
        np.flatnonzero(out_ok & (prob.demand_category[sp.out_rows["end"]] == c)),
    )


def _home_nodes(sp: SeasonalProblem, part: _Part, lay: _Layout, lot_local: np.ndarray) -> np.ndarray:
    """Node holding each yard's stock per period (yards × periods): the lot's own node for an own yard.

    Stock in a lot's own yard stays at its gate, so it reaches the lot's buyers through the
    lot's own arcs: no duplicated arcs, and the lot keeps its identity for every rule.
    """
    n_t = lay.n_periods
    t = np.arange(n_t)[None, :]
    own_lot = sp.yard_lot[part.yards][:, None]
    return np.where(
        own_lot >= 0,
        lay.lot(lot_local[np.maximum(own_lot, 0)], t),
        lay.yard(np.arange(len(part.yards))[:, None], t),
    )


def _build_network(sp: SeasonalProblem, part: _Part, cand) -> tuple[_Layout, _Arcs, np.ndarray]:
    prob = sp.problem
    n_t = len(sp.periods)
    lay = _Layout(n_t, len(part.lots), len(part.demands), len(part.yards))
    lot_local = np.full(len(prob.lots), -1, dtype=np.int64)
    lot_local[part.lots] = np.arange(len(part.lots))
    dem_local = np.full(len(prob.demands), -1, dtype=np.int64)
    dem_local[part.demands] = np.arange(len(part.demands))
    yard_local = np.full(len(sp.storage), -1, dtype=np.int64)
    yard_local[part.yards] = np.arange(len(part.yards))
    home = _home_nodes(sp, part, lay, lot_local)
    avail, capac = sp.lot_kg, sp.demand_kg
    reserve, price = prob.lot_reserve_fen, prob.demand_price_fen
    arcs = _Arcs()

    # A lot ships in a period when it has fresh tonnes, or stock in its own yard from earlier.
    active = avail > 0
    own_lot = sp.yard_lot[part.yards][sp.yard_lot[part.yards] >= 0]
    if len(own_lot):
        earlier = np.cumsum(avail[own_lot], axis=1) > 0
        active[own_lot, 1:] |= earlier[:, :-1]

    # Direct deliveries: a candidate pair in every period where the lot is active and the demand runs.
    k = part.cand
    gl, gd = cand.lot[k], cand.demand[k]
    kk, tt = np.nonzero(active[gl] & (capac[gd] > 0))
    a, d = gl[kk], gd[kk]
    # What a lot node can hold in a period: fresh tonnes plus a full own yard.
    holds = avail.copy()
    own = sp.yard_lot[part.yards] >= 0
    holds[own_lot] += sp.yard_capacity_kg[part.yards[own]][:, None]
    arcs.add(
        "direct",
        lay.lot(lot_local[a], tt),
        lay.demand(dem_local[d], tt),
        np.minimum(holds[a, tt], capac[d, tt]) + 1,  # never binding: the rows carry the prices
        -cand.surplus_fen[k][kk],
        cand=k[kk],
        period=tt,
    )

    # Into shared yards through their cost rows, out of them to the yard's buyers.
    rows = part.in_rows
    in_y, in_lot, in_fen = sp.in_rows["yard"][rows], sp.in_rows["end"][rows], sp.in_rows["fen"][rows]
    rr, tt = np.nonzero(active[in_lot])
    arcs.add(
        "in",
        lay.lot(lot_local[in_lot[rr]], tt),
        lay.yard(yard_local[in_y[rr]], tt),
        holds[in_lot[rr], tt] + 1,
        reserve[in_lot[rr]] + in_fen[rr],
        yard=in_y[rr],
        lot=in_lot[rr],
        period=tt,
    )
    rows = part.out_rows
    out_y, out_d, out_fen = sp.out_rows["yard"][rows], sp.out_rows["end"][rows], sp.out_rows["fen"][rows]
    rr, tt = np.nonzero(capac[out_d] > 0)
    arcs.add(
        "out",
        lay.yard(yard_local[out_y[rr]], tt),
        lay.demand(dem_local[out_d[rr]], tt),
        capac[out_d[rr], tt] + 1,
        out_fen[rr] - price[out_d[rr]],
        yard=out_y[rr],
        demand=out_d[rr],
        fen=out_fen[rr],
        km=sp.out_rows["km"][rows][rr],
        co2=sp.out_rows["co2"][rows][rr],
        period=tt,
    )

    # Carry-over: month-end level within capacity, at the storage cost; nothing after the last period.
    ny = len(part.yards)
    yy, tt = np.divmod(np.arange(ny * max(n_t - 1, 0)), max(n_t - 1, 1))
    arcs.add(
        "carry",
        home[yy, tt] if ny else np.zeros(0),
        home[yy, tt + 1] if ny else np.zeros(0),
        sp.yard_capacity_kg[part.yards][yy] if ny else np.zeros(0),
        sp.yard_cost_fen[part.yards][yy] if ny else np.zeros(0),
        yard=part.yards[yy] if ny else np.zeros(0, np.int64),
        period=tt,
    )

    # Disposal at the reserve, and each running demand's capacity in its period.
    ii, tt = np.nonzero(avail[part.lots] > 0)
    arcs.add("dispose", lay.lot(ii, tt), np.full(len(ii), lay.sink), avail[part.lots[ii], tt] + 1, np.zeros(len(ii)))
    jj, tt = np.nonzero(capac[part.demands] > 0)
    arcs.add("sink", lay.demand(jj, tt), np.full(len(jj), lay.sink), capac[part.demands[jj], tt], np.zeros(len(jj)))
    return lay, arcs, home


def _solve_part(sp, part: _Part, cand, result: SeasonalResult, timings: dict) -> tuple[int, str, int]:
    """Solve one category (iterating fixed losses when a yard loses stock) and decode into ``result``."""
    started = time.perf_counter()
    lay, arcs, home = _build_network(sp, part, cand)
    tails, heads, caps, costs = arcs.arrays()
    supplies = _supplies(sp, part, lay)
    total = int(sp.lot_kg[part.lots].sum())
    ppm = np.array([sp.storage[y].loss_ppm for y in part.yards.tolist()], dtype=np.int64)
    loss = np.zeros((len(part.yards), lay.n_periods), dtype=np.int64)
    timings["build"] += time.perf_counter() - started

    started = time.perf_counter()
    iterations = 0
    while True:
        iterations += 1
        node_supply = supplies.copy()
        np.subtract.at(node_supply, home.ravel(), loss.ravel())
        node_supply[lay.sink] = -(total - int(loss.sum()))
        flows = _min_cost_flow(tails, heads, caps, costs, node_supply)
        start, stop, extra = arcs.blocks["carry"]
        level = np.zeros_like(loss)
        level[np.searchsorted(part.yards, extra["yard"]), extra["period"]] = flows[start:stop]
        new_loss = np.zeros_like(loss)
        new_loss[:, 1:] = (level[:, :-1] * ppm[:, None] + 999_999) // 1_000_000
        converged = np.array_equal(new_loss, loss)
        if converged or iterations >= MAX_LOSS_ITERATIONS:
            break
        loss = new_loss
    timings["solve"] += time.perf_counter() - started

    started = time.perf_counter()
    dist = residual_distances(lay.n_nodes, tails, heads, caps, costs, flows, lay.sink)
    _record_prices(sp, part, lay, home, dist, result)
    timings["prices"] += time.perf_counter() - started

    started = time.perf_counter()
    _decode(sp, part, arcs, flows, cand, result)
    _decode_yards(sp, part, arcs, flows, level, loss, result)
    used = np.flatnonzero(flows)
    cost = sum(int(c) * int(f) for c, f in zip(costs[used].tolist(), flows[used].tolist(), strict=True))
    timings["extract"] += time.perf_counter() - started
    lossy = bool((ppm > 0).any() and level.any())
    status = "optimal" if not lossy else ("feasible" if converged else "feasible_unconverged")
    return cost, status, iterations


def _min_cost_flow(tails, heads, caps, costs, supplies) -> np.ndarray:
    smcf = min_cost_flow.SimpleMinCostFlow()
    if len(tails):
        smcf.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
        )
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(
            f"seasonal min-cost flow ended with status {status!r}, not OPTIMAL"
            + (" (a yard's monthly loss could not be fed)" if status == smcf.INFEASIBLE else "")
        )
    return np.asarray(smcf.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)


def residual_distances(n_nodes, tails, heads, caps, costs, flows, sink) -> np.ndarray:
    """Shortest distance (fen/t) from every node to ``sink`` in the residual graph; _INF if none.

    Label-correcting rounds in numpy that relax only arcs whose head improved; an optimal flow
    leaves no negative cycle, so this terminates with exact integer distances.
    """
    fwd = flows < caps
    back = flows > 0
    r_from = np.concatenate([tails[fwd], heads[back]])
    r_to = np.concatenate([heads[fwd], tails[back]])
    r_cost = np.concatenate([costs[fwd], -costs[back]]).astype(np.int64)
    order = np.argsort(r_to, kind="stable")
    r_from, r_to, r_cost = r_from[order], r_to[order], r_cost[order]
    indptr = np.searchsorted(r_to, np.arange(n_nodes + 1))
    dist = np.full(n_nodes, _INF, dtype=np.int64)
    dist[sink] = 0
    frontier = np.array([sink], dtype=np.int64)
    for _ in range(n_nodes + 1):
        starts, stops = indptr[frontier], indptr[frontier + 1]
        idx = _ranges(starts, stops)
        if len(idx) == 0:
            break
        cand = dist[r_to[idx]] + r_cost[idx]
        new = dist.copy()
        np.minimum.at(new, r_from[idx], cand)
        new[sink] = 0
        frontier = np.flatnonzero(new < dist)
        dist = new
        if len(frontier) == 0:
            break
    else:
        raise SolverError("residual graph has a negative cycle; the flow is not optimal")
    return dist


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)


def _record_prices(sp, part, lay, home, dist, result) -> None:
    """Monthly prices (Decimal yuan/t) for lots that can ship, running demands and every yard's month-ends."""
    periods, n_t = sp.periods, lay.n_periods
    reach = dist < _INF // 2
    t = np.arange(n_t)[None, :]
    lot_nodes = lay.lot(np.arange(len(part.lots))[:, None], t)
    _price_table(
        result.lot_prices,
        [sp.problem.lots[i].id for i in part.lots.tolist()],
        periods,
        np.maximum(0, -dist[lot_nodes]),
        reach[lot_nodes],  # months with fresh tonnes, and an own yard's months holding stock
    )
    dem_nodes = lay.demand(np.arange(len(part.demands))[:, None], t)
    _price_table(
        result.demand_prices,
        [sp.problem.demands[j].id for j in part.demands.tolist()],
        periods,
        np.maximum(0, dist[dem_nodes]),
        reach[dem_nodes] & (sp.demand_kg[part.demands] > 0),
    )
    # One more tonne of month-end room is worth what carrying it saves: D(this) − h − D(next), at least 0.
    here, there = home[:, :-1], home[:, 1:]
    _price_table(
        result.storage_prices,
        [sp.storage[y].id for y in part.yards.tolist()],
        periods[:-1],
        np.maximum(0, dist[here] - sp.yard_cost_fen[part.yards][:, None] - dist[there]),
        reach[here] & reach[there],
    )


def _price_table(out: dict, ids: list, periods, fen: np.ndarray, keep: np.ndarray) -> None:
    """Fill out[id] = {period: Decimal yuan} where ``keep``, converting each distinct fen value once."""
    values, inverse = np.unique(np.where(keep, fen, 0), return_inverse=True)
    decimals = [yuan_from_fen(v) for v in values.tolist()]
    inverse = inverse.reshape(fen.shape)
    for k, ident in enumerate(ids):
        cols = np.flatnonzero(keep[k]).tolist()
        out[ident] = {periods[c]: decimals[i] for c, i in zip(cols, inverse[k, cols].tolist(), strict=True)}


def _decode(sp, part, arcs, flows, cand, result) -> None:
    prob, periods = sp.problem, sp.periods
    t_rows = prob.cost_table
    start, stop, ex = arcs.blocks["direct"]
    f = flows[start:stop]
    for k, t, kg in zip(ex["cand"][f > 0].tolist(), ex["period"][f > 0].tolist(), f[f > 0].tolist(), strict=True):
        row = int(cand.row[k])
        lot, demand = prob.lots[int(cand.lot[k])], prob.demands[int(cand.demand[k])]
        fen = int(t_rows.fen_per_t[row])
        result.deliveries.append(
            Delivery(
                periods[t],
                lot.id,
                demand.id,
                None,
                tonnes_from_kg(kg),
                yuan_from_fen(fen),
                _opt(t_rows.km[row]),
                _opt_co2(t_rows.co2_kg_per_t[row], kg),
                demand.price_yuan_per_t,
                yuan_from_fen(int(cand.surplus_fen[k])),
            )
        )
    start, stop, ex = arcs.blocks["out"]
    f = flows[start:stop]
    for n in np.flatnonzero(f).tolist():
        y, j, kg = int(ex["yard"][n]), int(ex["demand"][n]), int(f[n])
        demand = prob.demands[j]
        result.deliveries.append(
            Delivery(
                periods[int(ex["period"][n])],
                None,
                demand.id,
                sp.storage[y].id,
                tonnes_from_kg(kg),
                yuan_from_fen(int(ex["fen"][n])),
                _opt(ex["km"][n]),
                _opt_co2(ex["co2"][n], kg),
                demand.price_yuan_per_t,
                None,
            )
        )
    start, stop, _ = arcs.blocks["dispose"]
    f = flows[start:stop]
    ii, tt = np.nonzero(sp.lot_kg[part.lots] > 0)
    for n in np.flatnonzero(f).tolist():
        result.unplaced.append((periods[int(tt[n])], prob.lots[int(part.lots[ii[n]])].id, tonnes_from_kg(int(f[n]))))


def _decode_yards(sp, part, arcs, flows, level, loss, result) -> None:
    """Yard rows per period; an own yard's in and out follow from its level: in − out = Δlevel + loss."""
    prob, periods = sp.problem, sp.periods
    ny, n_t = len(part.yards), len(periods)
    into = np.zeros((ny, n_t), dtype=np.int64)
    out = np.zeros((ny, n_t), dtype=np.int64)
    start, stop, ex = arcs.blocks["in"]
    f = flows[start:stop]
    np.add.at(into, (np.searchsorted(part.yards, ex["yard"]), ex["period"]), f)
    for n in np.flatnonzero(f).tolist():
        yard, lot = sp.storage[int(ex["yard"][n])].id, prob.lots[int(ex["lot"][n])].id
        result.stored.append((periods[int(ex["period"][n])], lot, yard, tonnes_from_kg(int(f[n]))))
    start, stop, ex = arcs.blocks["out"]
    np.add.at(out, (np.searchsorted(part.yards, ex["yard"]), ex["period"]), flows[start:stop])
    own = sp.yard_lot[part.yards] >= 0
    if own.any():
        previous = np.concatenate([np.zeros((ny, 1), np.int64), level[:, :-1]], axis=1)
        net = level - previous + loss
        into[own] = np.maximum(net[own], 0)
        out[own] = np.maximum(-net[own], 0)
        for y_local in np.flatnonzero(own).tolist():
            y = int(part.yards[y_local])
            lot = prob.lots[int(sp.yard_lot[y])].id
            for t in np.flatnonzero(into[y_local]).tolist():
                result.stored.append((periods[t], lot, sp.storage[y].id, tonnes_from_kg(int(into[y_local, t]))))
    for y_local, y in enumerate(part.yards.tolist()):
        for t in range(n_t):
            result.storage.append(
                StoragePeriod(
                    sp.storage[y].id,
                    periods[t],
                    tonnes_from_kg(int(into[y_local, t])),
                    tonnes_from_kg(int(out[y_local, t])),
                    tonnes_from_kg(int(loss[y_local, t])),
                    tonnes_from_kg(int(level[y_local, t])),
                )
            )


def _opt(km) -> float | None:
    return None if km != km else float(km)


def _opt_co2(per_t, kg) -> float | None:
    return None if per_t != per_t else float(per_t) * kg / 1000.0
