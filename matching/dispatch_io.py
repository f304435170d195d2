"""Plain-dict (JSON) input for dispatch problems; every error names the entry."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .dispatch import DispatchProblem, Load, Vehicle
from .errors import ProblemError
from .units import km as round_km
from .units import to_decimal, tonnes, yuan

_TOP = {"points", "km", "vehicles", "loads", "days", "time_limit_s"}
_POINT = {"id", "lon", "lat", "name"}
_VEHICLE = {"id", "depot", "capacity_t", "cost_yuan_per_km", "max_km"}
_LOAD = {"id", "pickup", "dropoff", "tonnes", "ready_day", "due_day", "divisible"}
MAX_POINTS = 2000


def points_from_dict(data: Mapping[str, Any]) -> list[dict]:
    """The validated ``points`` entries ({id, lon, lat}); lon/lat may be absent when a km matrix is given."""
    points = _list(data, "points")
    if len(points) > MAX_POINTS:
        raise ProblemError(f"at most {MAX_POINTS} points", "points")
    out = []
    for k, item in enumerate(points):
        where = _where("points", k, item)
        _fields(item, _POINT, where)
        ident = _ident(item, where)
        lonlat = {}
        for key in ("lon", "lat"):
            if key in item:
                lonlat[key] = float(_number(item[key], key, where))
        out.append({"id": ident, **lonlat})
    return out


def dispatch_problem_from_dict(data: Mapping[str, Any], km=None) -> DispatchProblem:
    """Build a DispatchProblem from the file contract; ``km`` replaces a missing ``km`` matrix."""
    if not isinstance(data, Mapping):
        raise ProblemError(f"a dispatch problem must be a JSON object, got {type(data).__name__}")
    unknown = set(data) - _TOP
    if unknown:
        raise ProblemError(f"unknown top-level keys {sorted(unknown)}")
    points = [p["id"] for p in points_from_dict(data)]
    matrix = data.get("km", km)
    if matrix is None:
        raise ProblemError("a km matrix is required", "km")
    if not isinstance(matrix, list) or not all(isinstance(row, list) for row in matrix):
        raise ProblemError("km must be a list of rows", "km")
    vehicles = [_vehicle(k, item) for k, item in enumerate(_list(data, "vehicles"))]
    loads = [_load(k, item) for k, item in enumerate(_list(data, "loads"))]
    days = data.get("days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int)):
        raise ProblemError(f"must be a whole number of days, got {days!r}", "days")
    limit = float(_number(data.get("time_limit_s", 10), "time_limit_s", "time_limit_s"))
    return DispatchProblem(points, matrix, vehicles, loads, days=days, time_limit_s=limit)


def _list(data, key) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ProblemError(f"must be a list, got {type(value).__name__}", key)
    return value


def _where(kind: str, k: int, item) -> str:
    if isinstance(item, Mapping) and isinstance(item.get("id"), str):
        return f'{kind}[{k}] (id "{item["id"]}")'
    return f"{kind}[{k}]"


def _fields(item, allowed: set[str], where: str) -> None:
    if not isinstance(item, Mapping):
        raise ProblemError(f"must be an object, got {type(item).__name__}", where)
    extra = set(item) - allowed
    if extra:
        raise ProblemError(f"unknown fields {sorted(extra)}", where)


def _ident(item, where: str) -> str:
    ident = item.get("id")
    if not isinstance(ident, str) or not ident.strip():
        raise ProblemError("id must be a non-empty string", where)
    return ident


def _text(item, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise ProblemError(f"{key} must be a point id (string)", where)
    return value


def _number(value, what: str, where: str) -> Decimal:
    try:
        return to_decimal(value, what)
    except ProblemError as exc:
        raise exc.located(where) from None


def _located(fn, value, what: str, where: str):
    try:
        return fn(value, what)
    except ProblemError as exc:
        raise exc.located(where) from None


def _km(value, what: str) -> Decimal:
    """Km to the metre."""
    return round_km(value, what)


def _day(item, key: str, where: str) -> int | None:
    value = item.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ProblemError(f"{key} must be a whole day number, got {value!r}", where)
    return value


def _vehicle(k: int, item) -> Vehicle:
    where = _where("vehicles", k, item)
    _fields(item, _VEHICLE, where)
    for key in _VEHICLE:
        if key not in item:
            raise ProblemError(f"missing field {key!r}", where)
    return Vehicle(
        id=_ident(item, where),
        depot=_text(item, "depot", where),
        capacity_t=_located(tonnes, item["capacity_t"], "capacity_t", where),
        cost_yuan_per_km=_located(yuan, item["cost_yuan_per_km"], "cost_yuan_per_km", where),
        max_km=_located(_km, item["max_km"], "max_km", where),
    )


def _load(k: int, item) -> Load:
    where = _where("loads", k, item)
    _fields(item, _LOAD, where)
    for key in ("id", "pickup", "dropoff", "tonnes"):
        if key not in item:
            raise ProblemError(f"missing field {key!r}", where)
    divisible = item.get("divisible", True)
    if not isinstance(divisible, bool):
        raise ProblemError("divisible must be true or false", where)
    return Load(
        id=_ident(item, where),
        pickup=_text(item, "pickup", where),
        dropoff=_text(item, "dropoff", where),
        tonnes=_located(tonnes, item["tonnes"], "tonnes", where),
        ready_day=_day(item, "ready_day", where),
        due_day=_day(item, "due_day", where),
        divisible=divisible,
    )
