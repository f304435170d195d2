"""Problem and result model: frozen dataclasses plus an array-backed cost table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import ProblemError
from .units import fen_of, kg_of, tonnes, tonnes_from_kg, yuan, yuan_from_fen

Id = str | int


def _check_id(value, kind: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ProblemError(f"{kind} id must be a string or integer, got {value!r}")


def _positive_tonnes(value, what: str) -> Decimal:
    t = tonnes(value, what)
    if t <= 0:
        raise ProblemError(f"{what} must be positive, got {value}")
    return t


def _optional_positive_tonnes(value, what: str) -> Decimal | None:
    return None if value is None else _positive_tonnes(value, what)


def _check_window(start, end, what: str) -> None:
    for v in (start, end):
        if v is not None and not isinstance(v, date):
            raise ProblemError(f"{what} dates must be datetime.date, got {v!r}")
    if start is not None and end is not None and start > end:
        raise ProblemError(f"{what} starts {start} after it ends {end}")


def _finite_float(value, what: str) -> float:
    if isinstance(value, bool):
        raise ProblemError(f"{what} must be a number, got {value!r}")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ProblemError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(f):
        raise ProblemError(f"{what} must be finite, got {value!r}")
    return f


@dataclass(frozen=True)
class Lot:
    """A producer's lot: tonnes at a gate with a reserve price (yuan/t, may be negative)."""

    id: Id
    category: str
    tonnes: Decimal
    reserve_yuan_per_t: Decimal
    available_from: date | None = None
    available_to: date | None = None
    quality: Mapping[str, float] = field(default_factory=dict)
    min_shipment_t: Decimal | None = None
    hazardous: bool = False

    def __post_init__(self):
        _check_id(self.id, "lot")
        if not isinstance(self.category, str) or not self.category:
            raise ProblemError(f"category must be a non-empty string, got {self.category!r}")
        object.__setattr__(self, "tonnes", _positive_tonnes(self.tonnes, "tonnes"))
        object.__setattr__(self, "reserve_yuan_per_t", yuan(self.reserve_yuan_per_t, "reserve_yuan_per_t"))
        _check_window(self.available_from, self.available_to, "availability window")
        quality = {str(k): _finite_float(v, f"quality[{k!r}]") for k, v in dict(self.quality).items()}
        object.__setattr__(self, "quality", MappingProxyType(quality))
        object.__setattr__(self, "min_shipment_t", _optional_positive_tonnes(self.min_shipment_t, "min_shipment_t"))
        object.__setattr__(self, "hazardous", bool(self.hazardous))

    @property
    def has_special_terms(self) -> bool:
        """True when a rule beyond category and haul distance could reject this lot."""
        return bool(self.quality) or self.hazardous or self.available_from is not None or self.available_to is not None


@dataclass(frozen=True)
class Demand:
    """A recycler's demand: capacity in tonnes and a delivered price (yuan/t, may be negative)."""

    id: Id
    category: str
    tonnes: Decimal
    price_yuan_per_t: Decimal
    window_from: date | None = None
    window_to: date | None = None
    quality_limits: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    max_haul_km: float | None = None
    licences: frozenset[str] = frozenset()
    truck_t: Decimal | None = None
    min_shipment_t: Decimal | None = None

    def __post_init__(self):
        _check_id(self.id, "demand")
        if not isinstance(self.category, str) or not self.category:
            raise ProblemError(f"category must be a non-empty string, got {self.category!r}")
        object.__setattr__(self, "tonnes", _positive_tonnes(self.tonnes, "tonnes"))
        object.__setattr__(self, "price_yuan_per_t", yuan(self.price_yuan_per_t, "price_yuan_per_t"))
        _check_window(self.window_from, self.window_to, "delivery window")
        limits = {}
        for key, bounds in dict(self.quality_limits).items():
            try:
                low, high = bounds
            except (TypeError, ValueError):
                raise ProblemError(f"quality_limits[{key!r}] must be a (min, max) pair, got {bounds!r}") from None
            low = None if low is None else _finite_float(low, f"quality_limits[{key!r}] min")
            high = None if high is None else _finite_float(high, f"quality_limits[{key!r}] max")
            if low is not None and high is not None and low > high:
                raise ProblemError(f"quality_limits[{key!r}] min {low} exceeds max {high}")
            limits[str(key)] = (low, high)
        object.__setattr__(self, "quality_limits", MappingProxyType(limits))
        if self.max_haul_km is not None:
            km = _finite_float(self.max_haul_km, "max_haul_km")
            if km < 0:
                raise ProblemError(f"max_haul_km must not be negative, got {self.max_haul_km}")
            object.__setattr__(self, "max_haul_km", km)
        if isinstance(self.licences, str):
            raise ProblemError("licences must be a collection of category codes, not a string")
        object.__setattr__(self, "licences", frozenset(str(x) for x in self.licences))
        object.__setattr__(self, "truck_t", _optional_positive_tonnes(self.truck_t, "truck_t"))
        object.__setattr__(self, "min_shipment_t", _optional_positive_tonnes(self.min_shipment_t, "min_shipment_t"))

    @property
    def has_special_terms(self) -> bool:
        """True when a rule beyond category and haul distance could reject a lot for this demand."""
        return bool(self.quality_limits) or self.window_from is not None or self.window_to is not None


@dataclass(frozen=True)
class Cost:
    """Transport cost of one tonne from a lot to a demand (a sparse cost entry)."""

    lot_id: Id
    demand_id: Id
    yuan_per_t: Decimal
    km: float | None = None
    co2_kg_per_t: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "yuan_per_t", yuan(self.yuan_per_t, "yuan_per_t"))
        if self.km is not None:
            km = _finite_float(self.km, "km")
            if km < 0:
                raise ProblemError(f"km must not be negative, got {self.km}")
            object.__setattr__(self, "km", km)
        if self.co2_kg_per_t is not None:
            co2 = _finite_float(self.co2_kg_per_t, "co2_kg_per_t")
            if co2 < 0:
                raise ProblemError(f"co2_kg_per_t must not be negative, got {self.co2_kg_per_t}")
            object.__setattr__(self, "co2_kg_per_t", co2)


Arc = Cost  # the issue calls a cost entry an arc as well


@dataclass(frozen=True, eq=False)
class CostTable:
    """Column-oriented cost entries: lot/demand positions, fen per tonne, km and CO2 (NaN = unknown)."""

    lot_index: np.ndarray
    demand_index: np.ndarray
    fen_per_t: np.ndarray
    km: np.ndarray
    co2_kg_per_t: np.ndarray

    def __post_init__(self):
        n = len(self.lot_index)
        for name in ("lot_index", "demand_index", "fen_per_t", "km", "co2_kg_per_t"):
            arr = getattr(self, name)
            if len(arr) != n:
                raise ProblemError(f"cost table column {name} has length {len(arr)}, expected {n}")
        object.__setattr__(self, "lot_index", np.ascontiguousarray(self.lot_index, dtype=np.int64))
        object.__setattr__(self, "demand_index", np.ascontiguousarray(self.demand_index, dtype=np.int64))
        object.__setattr__(self, "fen_per_t", np.ascontiguousarray(self.fen_per_t, dtype=np.int64))
        object.__setattr__(self, "km", np.ascontiguousarray(self.km, dtype=np.float64))
        object.__setattr__(self, "co2_kg_per_t", np.ascontiguousarray(self.co2_kg_per_t, dtype=np.float64))

    def __len__(self) -> int:
        """Number of cost entries."""
        return len(self.lot_index)

    @classmethod
    def empty(cls) -> CostTable:
        """A table with no entries."""
        z = np.zeros(0)
        return cls(z.astype(np.int64), z.astype(np.int64), z.astype(np.int64), z, z)

    def take(
        self, rows: np.ndarray, lot_map: np.ndarray | None = None, demand_map: np.ndarray | None = None
    ) -> CostTable:
        """Rows of this table, optionally re-indexing lots/demands through position maps."""
        li, di = self.lot_index[rows], self.demand_index[rows]
        if lot_map is not None:
            li = lot_map[li]
        if demand_map is not None:
            di = demand_map[di]
        return CostTable(li, di, self.fen_per_t[rows], self.km[rows], self.co2_kg_per_t[rows])


@dataclass(frozen=True, eq=False)
class Problem:
    """A clearing problem: lots, demands and sparse transport costs (list of Cost or a CostTable)."""

    lots: Sequence[Lot]
    demands: Sequence[Demand]
    costs: Sequence[Cost] | CostTable = ()
    # Derived integer arrays (kg, fen) built once at construction; not part of the public fields.
    lot_kg: np.ndarray = field(init=False, repr=False)
    lot_reserve_fen: np.ndarray = field(init=False, repr=False)
    demand_kg: np.ndarray = field(init=False, repr=False)
    demand_price_fen: np.ndarray = field(init=False, repr=False)
    lot_category: np.ndarray = field(init=False, repr=False)
    demand_category: np.ndarray = field(init=False, repr=False)
    categories: tuple[str, ...] = field(init=False, repr=False)
    cost_table: CostTable = field(init=False, repr=False)
    lot_position: dict = field(init=False, repr=False)
    demand_position: dict = field(init=False, repr=False)

    def __post_init__(self):
        lots = tuple(self.lots)
        demands = tuple(self.demands)
        object.__setattr__(self, "lots", lots)
        object.__setattr__(self, "demands", demands)
        for kind, items, cls in (("lots", lots, Lot), ("demands", demands, Demand)):
            for k, item in enumerate(items):
                if not isinstance(item, cls):
                    raise ProblemError(f"expected a {cls.__name__}, got {type(item).__name__}", f"{kind}[{k}]")
        lot_position = _positions(lots, "lots")
        demand_position = _positions(demands, "demands")
        object.__setattr__(self, "lot_position", lot_position)
        object.__setattr__(self, "demand_position", demand_position)
        object.__setattr__(self, "lot_kg", np.array([kg_of(lo.tonnes) for lo in lots], dtype=np.int64))
        object.__setattr__(
            self, "lot_reserve_fen", np.array([fen_of(lo.reserve_yuan_per_t) for lo in lots], dtype=np.int64)
        )
        object.__setattr__(self, "demand_kg", np.array([kg_of(d.tonnes) for d in demands], dtype=np.int64))
        object.__setattr__(
            self, "demand_price_fen", np.array([fen_of(d.price_yuan_per_t) for d in demands], dtype=np.int64)
        )
        categories = tuple(sorted({lo.category for lo in lots} | {d.category for d in demands}))
        code = {c: k for k, c in enumerate(categories)}
        object.__setattr__(self, "categories", categories)
        object.__setattr__(self, "lot_category", np.array([code[lo.category] for lo in lots], dtype=np.int32))
        object.__setattr__(self, "demand_category", np.array([code[d.category] for d in demands], dtype=np.int32))
        table = (
            self.costs
            if isinstance(self.costs, CostTable)
            else _table_from_costs(self.costs, lot_position, demand_position)
        )
        _validate_table(table, len(lots), len(demands))
        object.__setattr__(self, "cost_table", table)

    @classmethod
    def from_arrays(
        cls,
        lots: Sequence[Lot],
        demands: Sequence[Demand],
        cost_lot_index,
        cost_demand_index,
        cost_yuan_per_t,
        km=None,
        co2_kg_per_t=None,
    ) -> Problem:
        """Build a problem whose costs are numpy columns indexed by position in ``lots``/``demands``."""
        li = np.asarray(cost_lot_index)
        yuan_arr = np.asarray(cost_yuan_per_t, dtype=np.float64)
        if not np.all(np.isfinite(yuan_arr)):
            bad = int(np.flatnonzero(~np.isfinite(yuan_arr))[0])
            raise ProblemError(f"yuan_per_t must be finite, got {yuan_arr[bad]}", f"costs[{bad}]")
        n = len(li)
        nan = np.full(n, np.nan)
        table = CostTable(
            li,
            np.asarray(cost_demand_index),
            # Round half to even at the fen, matching the Decimal path for ordinary inputs.
            np.rint(yuan_arr * 100.0).astype(np.int64),
            nan if km is None else np.asarray(km, dtype=np.float64),
            nan if co2_kg_per_t is None else np.asarray(co2_kg_per_t, dtype=np.float64),
        )
        return cls(lots, demands, table)

    def subset(self, lot_positions: np.ndarray, demand_positions: np.ndarray, table: CostTable) -> Problem:
        """Sub-problem over the given lot/demand positions; ``table`` must already use the new positions.

        Reuses the parent's validated arrays instead of re-validating (used by the category split).
        """
        lot_positions = np.asarray(lot_positions, dtype=np.int64)
        demand_positions = np.asarray(demand_positions, dtype=np.int64)
        sub = object.__new__(Problem)
        lots = tuple(self.lots[k] for k in lot_positions.tolist())
        demands = tuple(self.demands[k] for k in demand_positions.tolist())
        lot_codes = self.lot_category[lot_positions]
        demand_codes = self.demand_category[demand_positions]
        used = np.unique(np.concatenate([lot_codes, demand_codes]))
        recode = np.full(len(self.categories), -1, dtype=np.int32)
        recode[used] = np.arange(len(used), dtype=np.int32)
        values = {
            "lots": lots,
            "demands": demands,
            "costs": table,
            "cost_table": table,
            "lot_kg": self.lot_kg[lot_positions],
            "lot_reserve_fen": self.lot_reserve_fen[lot_positions],
            "demand_kg": self.demand_kg[demand_positions],
            "demand_price_fen": self.demand_price_fen[demand_positions],
            "categories": tuple(self.categories[c] for c in used.tolist()),
            "lot_category": recode[lot_codes],
            "demand_category": recode[demand_codes],
            "lot_position": {lot.id: k for k, lot in enumerate(lots)},
            "demand_position": {d.id: k for k, d in enumerate(demands)},
        }
        for name, value in values.items():
            object.__setattr__(sub, name, value)
        return sub

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to match."""
        return not self.lots or not self.demands or len(self.cost_table) == 0

    def lot_ids(self) -> list:
        """Lot ids in position order."""
        return [lo.id for lo in self.lots]

    def demand_ids(self) -> list:
        """Demand ids in position order."""
        return [d.id for d in self.demands]


def _positions(items, kind: str) -> dict:
    position = {}
    for k, item in enumerate(items):
        if item.id in position:
            raise ProblemError(
                f"duplicate id {item.id!r} (first used by {kind}[{position[item.id]}])",
                f"{kind}[{k}] (id {_quote(item.id)})",
            )
        position[item.id] = k
    return position


def _quote(value) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _table_from_costs(costs, lot_position: dict, demand_position: dict) -> CostTable:
    n = len(costs)
    li = np.empty(n, dtype=np.int64)
    di = np.empty(n, dtype=np.int64)
    fen = np.empty(n, dtype=np.int64)
    km = np.full(n, np.nan)
    co2 = np.full(n, np.nan)
    for k, c in enumerate(costs):
        where = f"costs[{k}]"
        if not isinstance(c, Cost):
            raise ProblemError(f"expected a Cost, got {type(c).__name__}", where)
        if c.lot_id not in lot_position:
            raise ProblemError(f"unknown lot id {c.lot_id!r}", where)
        if c.demand_id not in demand_position:
            raise ProblemError(f"unknown demand id {c.demand_id!r}", where)
        li[k] = lot_position[c.lot_id]
        di[k] = demand_position[c.demand_id]
        fen[k] = fen_of(c.yuan_per_t)
        if c.km is not None:
            km[k] = c.km
        if c.co2_kg_per_t is not None:
            co2[k] = c.co2_kg_per_t
    return CostTable(li, di, fen, km, co2)


def _validate_table(table: CostTable, n_lots: int, n_demands: int) -> None:
    if len(table) == 0:
        return
    for name, arr, n in (("lot", table.lot_index, n_lots), ("demand", table.demand_index, n_demands)):
        bad = np.flatnonzero((arr < 0) | (arr >= n))
        if len(bad):
            raise ProblemError(f"unknown {name} position {arr[bad[0]]}", f"costs[{bad[0]}]")
    for name, arr in (("km", table.km), ("co2_kg_per_t", table.co2_kg_per_t)):
        bad = np.flatnonzero(np.isinf(arr) | (arr < 0))
        if len(bad):
            raise ProblemError(f"{name} must be finite and not negative, got {arr[bad[0]]}", f"costs[{bad[0]}]")
    # As the app builds tables (by demand, then lot), strictly ascending keys prove there is no duplicate in
    # one pass; otherwise sort to find the first one.
    by_demand = table.demand_index.astype(np.int64) * n_lots + table.lot_index
    if np.all(by_demand[1:] > by_demand[:-1]):
        return
    key = table.lot_index * n_demands + table.demand_index
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(key[order][1:] == key[order][:-1])
    if len(dup):
        second, first = int(order[dup[0] + 1]), int(order[dup[0]])
        raise ProblemError(
            f"duplicate cost for the same lot and demand as costs[{min(first, second)}]", f"costs[{max(first, second)}]"
        )


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Allocation:
    """Tonnes moved from one lot to one demand, with the economics of the pair."""

    lot_id: Id
    demand_id: Id
    tonnes: Decimal
    surplus_yuan_per_t: Decimal
    surplus_yuan: Decimal
    transport_yuan_per_t: Decimal
    transport_cost_yuan: Decimal
    km: float | None
    co2_kg: float | None
    price_yuan_per_t: Decimal
    reserve_yuan_per_t: Decimal
    netback_yuan_per_t: Decimal

    @classmethod
    def _from_values(cls, values: tuple) -> Allocation:
        """Construct from already-normalised field values in declaration order (decoder fast path)."""
        # Frozen dataclasses set each field through object.__setattr__; one dict update is
        # several times faster when decoding tens of thousands of allocations.
        obj = cls.__new__(cls)
        obj.__dict__.update(zip(_ALLOCATION_FIELDS, values, strict=True))
        return obj


_ALLOCATION_FIELDS = tuple(Allocation.__dataclass_fields__)


@dataclass(frozen=True)
class Unmatched:
    """Tonnes of a lot left without a buyer and the reason code, sentence and details why."""

    lot_id: Id
    tonnes: Decimal
    reason: str
    message: str
    details: dict = field(default_factory=dict)


@dataclass
class Result:
    """Outcome of a clearing: allocations, total surplus, price guidance, explanations, timings."""

    status: str
    objective_yuan: Decimal
    allocations: list[Allocation] = field(default_factory=list)
    lot_prices: dict = field(default_factory=dict)
    demand_prices: dict = field(default_factory=dict)
    unmatched: list[Unmatched] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    solver: str = "mincostflow"
    gap: float | None = None

    @property
    def seconds(self) -> float:
        """Total wall time recorded in ``timings``."""
        return float(sum(self.timings.values()))

    def to_json_dict(self, allocations: bool = True) -> dict[str, Any]:
        """JSON-serialisable dict: tonnes rounded to 3 decimals, money to 2 (prices to 2).

        ``allocations=False`` leaves the allocations out (a caller that stores them as rows of their own).
        """
        return {
            "status": self.status,
            "solver": self.solver,
            "gap": self.gap,
            "objective_yuan": _num(self.objective_yuan, 2),
            "allocations": None if not allocations else [
                {
                    "lot": a.lot_id,
                    "demand": a.demand_id,
                    "tonnes": _num(a.tonnes, 3),
                    "surplus_yuan_per_t": _num(a.surplus_yuan_per_t, 2),
                    "surplus_yuan": _num(a.surplus_yuan, 2),
                    "transport_yuan_per_t": _num(a.transport_yuan_per_t, 2),
                    "transport_cost_yuan": _num(a.transport_cost_yuan, 2),
                    "km": None if a.km is None else round(a.km, 3),
                    "co2_kg": None if a.co2_kg is None else round(a.co2_kg, 3),
                    "price_yuan_per_t": _num(a.price_yuan_per_t, 2),
                    "reserve_yuan_per_t": _num(a.reserve_yuan_per_t, 2),
                    "netback_yuan_per_t": _num(a.netback_yuan_per_t, 2),
                }
                for a in self.allocations
            ],
            "unmatched": [
                {
                    "lot": u.lot_id,
                    "tonnes": _num(u.tonnes, 3),
                    "reason": u.reason,
                    "message": u.message,
                    "details": _jsonable(u.details),
                }
                for u in self.unmatched
            ],
            "lot_prices": {str(k): _num(v, 2) for k, v in self.lot_prices.items()},
            "demand_prices": {str(k): _num(v, 2) for k, v in self.demand_prices.items()},
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "seconds": round(self.seconds, 6),
        }


def _num(value: Decimal, places: int) -> float:
    return round(float(value), places)


def _jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


__all__ = [
    "Lot",
    "Demand",
    "Cost",
    "Arc",
    "CostTable",
    "Problem",
    "Allocation",
    "Unmatched",
    "Result",
    "tonnes_from_kg",
    "yuan_from_fen",
]
