"""Plain-dict (JSON) input for seasonal problems: periods, per-period tonnes and yards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ProblemError
from .io import _COST_FIELDS, _DEMAND_FIELDS, _LOT_FIELDS, _build, _cost_kwargs, _demand_kwargs, _entry, _list
from .io import _lot_kwargs as _one_period_lot_kwargs
from .model import Cost, Demand, Lot, Problem
from .seasonal import SeasonalProblem, Storage, StorageCost
from .units import tonnes

_STORAGE_FIELDS = {"id", "lot", "lon", "lat", "category", "capacity_t", "cost_yuan_per_t_month", "loss_pct_per_month"}
_STORAGE_COST_FIELDS = {"storage", "lot", "demand", "yuan_per_t", "km", "co2_kg_per_t"}


def is_seasonal(data: Any) -> bool:
    """True when a problem dict asks for a clearing over periods."""
    return isinstance(data, Mapping) and "periods" in data


def seasonal_problem_from_dict(data: Mapping[str, Any]) -> SeasonalProblem:
    """Build a SeasonalProblem from the file contract; errors name the entry (e.g. 'storage[1] (id "Y")')."""
    unknown = set(data) - {"lots", "demands", "costs", "periods", "storage"}
    if unknown:
        raise ProblemError(f"unknown top-level keys {sorted(unknown)}")
    periods = data["periods"]
    if not isinstance(periods, list):
        raise ProblemError(f"periods must be a list of period labels, got {type(periods).__name__}")
    lots, available = [], {}
    for k, item in enumerate(_list(data, "lots")):
        lots.append(_build(Lot, "lots", k, item, _LOT_FIELDS | {"available"}, _lot_kwargs))
        if isinstance(item, Mapping) and "available" in item:
            available[item["id"]] = item["available"]
    demands, capacity = [], {}
    for k, item in enumerate(_list(data, "demands")):
        demands.append(_build(Demand, "demands", k, item, _DEMAND_FIELDS | {"capacity"}, _demand_kwargs))
        if isinstance(item, Mapping) and "capacity" in item:
            capacity[item["id"]] = item["capacity"]
    costs, storage_costs = [], []
    for k, item in enumerate(_list(data, "costs")):
        if isinstance(item, Mapping) and "storage" in item:
            storage_costs.append(_build(StorageCost, "costs", k, item, _STORAGE_COST_FIELDS, _storage_cost_kwargs))
        else:
            costs.append((k, _build(Cost, "costs", k, item, _COST_FIELDS, _cost_kwargs)))
    storage = [
        _build(Storage, "storage", k, item, _STORAGE_FIELDS, _storage_kwargs)
        for k, item in enumerate(_list(data, "storage"))
    ]
    try:
        problem = Problem(lots, demands, [c for _, c in costs])
    except ProblemError as exc:
        raise _renumber(exc, costs) from None
    try:
        return SeasonalProblem(problem, periods, available, capacity, storage, storage_costs)
    except ProblemError as exc:
        raise _locate_storage_cost(exc, data) from None


def _lot_kwargs(item) -> dict:
    if "available" in item and "tonnes" not in item:
        per = item["available"]
        if not isinstance(per, Mapping):
            raise ProblemError(f"available must be an object of period: tonnes, got {per!r}")
        total = sum((tonnes(v, f"available[{p!r}]") for p, v in per.items()), start=tonnes(0))
        if total <= 0:
            raise ProblemError("available must hold some tonnes in at least one period")
        item = {**item, "tonnes": total}
    return _one_period_lot_kwargs({k: v for k, v in item.items() if k != "available"})


def _storage_kwargs(item) -> dict:
    shared = "lon" in item and "lat" in item
    if ("lot" in item) == shared or ("lon" in item) != ("lat" in item):
        raise ProblemError("a yard is either a lot's own (give 'lot') or shared (give both 'lon' and 'lat')")
    for key in ("id", "capacity_t", "cost_yuan_per_t_month"):
        if key not in item:
            _missing(key)
    return dict(
        id=item["id"],
        capacity_t=item["capacity_t"],
        cost_yuan_per_t_month=item["cost_yuan_per_t_month"],
        loss_pct_per_month=item.get("loss_pct_per_month", 0),
        lot=item.get("lot"),
        lon=item.get("lon"),
        lat=item.get("lat"),
        category=item.get("category"),
    )


def _storage_cost_kwargs(item) -> dict:
    if "yuan_per_t" not in item:
        _missing("yuan_per_t")
    return dict(
        storage_id=item["storage"],
        yuan_per_t=item["yuan_per_t"],
        lot_id=item.get("lot"),
        demand_id=item.get("demand"),
        km=item.get("km"),
        co2_kg_per_t=item.get("co2_kg_per_t"),
    )


def _missing(key: str):
    raise ProblemError(f"missing field {key!r}")


def _renumber(exc: ProblemError, costs: list) -> ProblemError:
    """Map 'costs[k]' of the lot→demand rows back to the row's position in the file."""
    entry = exc.entry or ""
    if entry.startswith("costs[") and "]" in entry:
        k = int(entry[6 : entry.index("]")])
        if k < len(costs):
            return ProblemError(exc.detail, f"costs[{costs[k][0]}]")
    return exc


def _locate_storage_cost(exc: ProblemError, data) -> ProblemError:
    """Map 'storage costs[k]' back to the row's position in the file's costs list."""
    entry = exc.entry or ""
    if entry.startswith("storage costs["):
        k = int(entry[len("storage costs[") : entry.index("]")])
        rows = [n for n, item in enumerate(data.get("costs", [])) if isinstance(item, Mapping) and "storage" in item]
        return ProblemError(exc.detail, _entry("costs", rows[k], data["costs"][rows[k]]))
    return exc
