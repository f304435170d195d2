"""Plain-dict (JSON) input for problems, shared by the CLI and the app's API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .errors import ProblemError
from .model import Cost, Demand, Lot, Problem

_LOT_FIELDS = {
    "id",
    "category",
    "tonnes",
    "reserve_yuan_per_t",
    "available_from",
    "available_to",
    "quality",
    "min_shipment_t",
    "hazardous",
}
_DEMAND_FIELDS = {
    "id",
    "category",
    "tonnes",
    "price_yuan_per_t",
    "window_from",
    "window_to",
    "quality_limits",
    "max_haul_km",
    "licences",
    "truck_t",
    "min_shipment_t",
}
_COST_FIELDS = {"lot", "demand", "yuan_per_t", "km", "co2_kg_per_t"}


def problem_from_dict(data: Mapping[str, Any]) -> Problem:
    """Build a Problem from {"lots": [...], "demands": [...], "costs": [...]}; errors name the entry."""
    if not isinstance(data, Mapping):
        raise ProblemError(f"a problem must be a JSON object, got {type(data).__name__}")
    unknown = set(data) - {"lots", "demands", "costs"}
    if unknown:
        raise ProblemError(f"unknown top-level keys {sorted(unknown)}")
    lots = [_build(Lot, "lots", k, item, _LOT_FIELDS, _lot_kwargs) for k, item in enumerate(_list(data, "lots"))]
    demands = [
        _build(Demand, "demands", k, item, _DEMAND_FIELDS, _demand_kwargs)
        for k, item in enumerate(_list(data, "demands"))
    ]
    costs = [_build(Cost, "costs", k, item, _COST_FIELDS, _cost_kwargs) for k, item in enumerate(_list(data, "costs"))]
    return Problem(lots, demands, costs)


def _list(data, key) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ProblemError(f"{key} must be a list, got {type(value).__name__}")
    return value


def _entry(kind: str, k: int, item) -> str:
    if isinstance(item, Mapping) and "id" in item:
        ident = item["id"]
        return f"{kind}[{k}] (id {chr(34) + ident + chr(34) if isinstance(ident, str) else ident})"
    return f"{kind}[{k}]"


def _build(cls, kind, k, item, allowed, to_kwargs):
    where = _entry(kind, k, item)
    if not isinstance(item, Mapping):
        raise ProblemError(f"must be an object, got {type(item).__name__}", where)
    extra = set(item) - allowed
    if extra:
        raise ProblemError(f"unknown fields {sorted(extra)}", where)
    try:
        return cls(**to_kwargs(item))
    except ProblemError as exc:
        raise exc.located(where) from None
    except (KeyError, TypeError) as exc:
        raise ProblemError(f"missing or malformed field {exc}", where) from None


def _require(item, key):
    if key not in item:
        raise ProblemError(f"missing field {key!r}")
    return item[key]


def _date(value, what):
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ProblemError(f"{what} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _lot_kwargs(item) -> dict:
    quality = item.get("quality") or {}
    if not isinstance(quality, Mapping):
        raise ProblemError(f"quality must be an object, got {quality!r}")
    return dict(
        id=_require(item, "id"),
        category=_require(item, "category"),
        tonnes=_require(item, "tonnes"),
        reserve_yuan_per_t=item.get("reserve_yuan_per_t", 0),
        available_from=_date(item.get("available_from"), "available_from"),
        available_to=_date(item.get("available_to"), "available_to"),
        quality=quality,
        min_shipment_t=item.get("min_shipment_t"),
        hazardous=bool(item.get("hazardous", False)),
    )


def _demand_kwargs(item) -> dict:
    limits = item.get("quality_limits") or {}
    if not isinstance(limits, Mapping):
        raise ProblemError(f"quality_limits must be an object, got {limits!r}")
    licences = item.get("licences") or []
    if not isinstance(licences, (list, tuple)):
        raise ProblemError(f"licences must be a list, got {licences!r}")
    return dict(
        id=_require(item, "id"),
        category=_require(item, "category"),
        tonnes=_require(item, "tonnes"),
        price_yuan_per_t=_require(item, "price_yuan_per_t"),
        window_from=_date(item.get("window_from"), "window_from"),
        window_to=_date(item.get("window_to"), "window_to"),
        quality_limits={k: tuple(v) if isinstance(v, list) else v for k, v in limits.items()},
        max_haul_km=item.get("max_haul_km"),
        licences=frozenset(licences),
        truck_t=item.get("truck_t"),
        min_shipment_t=item.get("min_shipment_t"),
    )


def _cost_kwargs(item) -> dict:
    return dict(
        lot_id=_require(item, "lot"),
        demand_id=_require(item, "demand"),
        yuan_per_t=_require(item, "yuan_per_t"),
        km=item.get("km"),
        co2_kg_per_t=item.get("co2_kg_per_t"),
    )
