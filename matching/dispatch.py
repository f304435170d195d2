"""Dispatch: consolidate awarded loads into truck routes with OR-Tools pickup-and-delivery routing.

Loads are pickup → drop-off pairs in tonnes with optional ready/due days; vehicles have a depot, a
capacity, a cost per km and a maximum km per day. A plan covers ``days`` days; every vehicle runs at
most one route a day, from its depot back to it. A load larger than every truck is split into equal
truckloads. The solver minimises km × cost, serves every truckload it can (dropping one costs more
than any route) and pairs a drop-off with a pickup nearby (a backhaul) whenever that saves km.
Inside the solver everything is an integer: metres, kilograms and milli-fen (metres × fen per km).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from .errors import ProblemError
from .units import fen_of, kg_of, round_places, tonnes_from_kg, yuan, yuan_from_fen
from .units import km as round_km

# Unserved reasons (stable codes; the app translates them).
TOO_HEAVY = "too_heavy"
OUT_OF_RANGE = "out_of_range"
NO_ROAD = "no_road"
TIME_WINDOW = "time_window"
FLEET_FULL = "fleet_full"
REASON_TEXT = {
    TOO_HEAVY: "heavier than every truck and cannot be split",
    OUT_OF_RANGE: "the round trip from every depot able to carry it exceeds that truck's max_km",
    NO_ROAD: "no road between its pickup, drop-off and any depot",
    TIME_WINDOW: "its ready/due days fall outside the plan's days",
    FLEET_FULL: "no truck-day left to carry it within max_km and the time window",
}
# Bounds that keep every integer in the solver far inside 64 bits.
MAX_TRUCKLOADS = 3000
MAX_DAYS = 31
MAX_KM = 20_000
MAX_CAPACITY_T = 1000
MAX_YUAN_PER_KM = 100
MAX_VEHICLES = 200
_METRES_PER_KM = 1000
# Search settings (bench/dispatch.py compares alternatives).
FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH


@dataclass(frozen=True)
class Vehicle:
    """A truck based at a depot point."""

    id: str
    depot: str
    capacity_t: Decimal
    cost_yuan_per_km: Decimal
    max_km: Decimal


@dataclass(frozen=True)
class Load:
    """Tonnes to move from a pickup point to a drop-off point, optionally within days [ready, due]."""

    id: str
    pickup: str
    dropoff: str
    tonnes: Decimal
    ready_day: int | None = None
    due_day: int | None = None
    divisible: bool = True


@dataclass
class DispatchProblem:
    """Points (ids), a road km matrix between them, vehicles, loads and the solver's time limit."""

    points: list[str]
    km: Sequence[Sequence[float | None]]
    vehicles: list[Vehicle]
    loads: list[Load]
    days: int | None = None
    time_limit_s: float = 10.0

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class Stop:
    """A pickup or drop-off of one truckload; ``leg_km`` is the distance driven to reach it."""

    point: str
    load: str
    action: str
    tonnes: Decimal
    leg_km: Decimal


@dataclass
class Route:
    """One vehicle's route on one day, from its depot back to it."""

    vehicle: str
    day: int
    depot: str
    stops: list[Stop]
    km: Decimal
    loaded_km: Decimal
    empty_km: Decimal
    cost_yuan: Decimal
    return_km: Decimal = Decimal(0)


@dataclass(frozen=True)
class Unserved:
    """Tonnes of a load the plan does not move, and why."""

    load: str
    tonnes: Decimal
    reason: str

    @property
    def message(self) -> str:
        """The reason in words."""
        return REASON_TEXT[self.reason]


@dataclass
class DispatchResult:
    """Routes, unserved loads, km against the one-round-trip-per-truckload baseline, and the time taken."""

    status: str
    routes: list[Route] = field(default_factory=list)
    unserved: list[Unserved] = field(default_factory=list)
    total_km: Decimal = Decimal(0)
    empty_km: Decimal = Decimal(0)
    baseline_km: Decimal = Decimal(0)
    baseline_empty_km: Decimal = Decimal(0)
    cost_yuan: Decimal = Decimal(0)
    seconds: float = 0.0

    @property
    def loaded_km(self) -> Decimal:
        """Km driven with something aboard."""
        return self.total_km - self.empty_km

    def to_json_dict(self) -> dict:
        """The CLI's answer: numbers as JSON numbers, tonnes to the kg and km to the metre."""
        return {
            "status": self.status,
            "routes": [
                {"vehicle": r.vehicle, "day": r.day, "depot": r.depot,
                 "stops": [{"point": s.point, "load": s.load, "action": s.action, "tonnes": float(s.tonnes),
                            "leg_km": float(s.leg_km)} for s in r.stops],
                 "km": float(r.km), "loaded_km": float(r.loaded_km), "empty_km": float(r.empty_km),
                 "cost_yuan": float(r.cost_yuan)}
                for r in self.routes
            ],
            "unserved": [{"load": u.load, "tonnes": float(u.tonnes), "reason": u.reason, "message": u.message}
                         for u in self.unserved],
            "total_km": float(self.total_km), "empty_km": float(self.empty_km),
            "baseline_km": float(self.baseline_km), "baseline_empty_km": float(self.baseline_empty_km),
            "cost_yuan": float(self.cost_yuan), "seconds": round(self.seconds, 3),
        }


# -- validation -------------------------------------------------------------------------------


def validate(problem: DispatchProblem) -> None:
    """Raise ProblemError naming the first bad entry."""
    index = {p: k for k, p in enumerate(problem.points)}
    if len(index) != len(problem.points):
        raise ProblemError("point ids must be unique", "points")
    _check_matrix(problem.km, len(problem.points))
    _unique([v.id for v in problem.vehicles], "vehicles")
    _unique([ld.id for ld in problem.loads], "loads")
    if len(problem.vehicles) > MAX_VEHICLES:
        raise ProblemError(f"at most {MAX_VEHICLES} vehicles", "vehicles")
    for k, v in enumerate(problem.vehicles):
        _check_vehicle(v, index, f'vehicles[{k}] (id "{v.id}")')
    for k, ld in enumerate(problem.loads):
        _check_load(ld, index, f'loads[{k}] (id "{ld.id}")')
    if problem.days is not None and not (1 <= problem.days <= MAX_DAYS):
        raise ProblemError(f"days must lie in 1..{MAX_DAYS}", "days")
    if not (0 < problem.time_limit_s <= 3600):
        raise ProblemError("time_limit_s must lie in (0, 3600]", "time_limit_s")


def _check_vehicle(v: Vehicle, index: dict[str, int], where: str) -> None:
    if v.depot not in index:
        raise ProblemError(f"unknown depot point {v.depot!r}", where)
    if not (0 < v.capacity_t <= MAX_CAPACITY_T and 0 < v.max_km <= MAX_KM
            and 0 <= v.cost_yuan_per_km <= MAX_YUAN_PER_KM):
        raise ProblemError(f"capacity_t must lie in (0, {MAX_CAPACITY_T}], max_km in (0, {MAX_KM}] and "
                           f"cost_yuan_per_km in [0, {MAX_YUAN_PER_KM}]", where)


def _check_load(ld: Load, index: dict[str, int], where: str) -> None:
    for what in ("pickup", "dropoff"):
        if getattr(ld, what) not in index:
            raise ProblemError(f"unknown {what} point {getattr(ld, what)!r}", where)
    if ld.pickup == ld.dropoff:
        raise ProblemError("pickup and dropoff are the same point", where)
    if not 0 < ld.tonnes <= MAX_CAPACITY_T * MAX_TRUCKLOADS:
        raise ProblemError(f"tonnes must lie in (0, {MAX_CAPACITY_T * MAX_TRUCKLOADS}]", where)
    for day in (ld.ready_day, ld.due_day):
        if day is not None and not (0 <= day < MAX_DAYS):
            raise ProblemError(f"ready_day and due_day must lie in 0..{MAX_DAYS - 1}", where)


def _unique(ids: list[str], kind: str) -> None:
    if len(set(ids)) != len(ids):
        raise ProblemError("ids must be unique", kind)


def _check_matrix(km, n: int) -> None:
    if len(km) != n or any(len(row) != n for row in km):
        raise ProblemError(f"km must be a {n} × {n} matrix (one row and column per point)", "km")
    for i, row in enumerate(km):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)) or not math.isfinite(value) \
                    or not 0 <= value <= MAX_KM:
                raise ProblemError(f"must be a number in [0, {MAX_KM}] or null, got {value!r}", f"km[{i}][{j}]")


# -- building the routing model ----------------------------------------------------------------


@dataclass(frozen=True)
class _Truckload:
    load: int
    kg: int


@dataclass
class _Index:
    """Node ↔ meaning: node 0..D-1 are depots, then a pickup and a drop-off node per truckload."""

    depot_points: list[int]
    node_point: list[int]
    truckloads: list[_Truckload]
    vehicle_days: list[tuple[int, int]]  # routing vehicle → (vehicle, day)

    def pickup(self, t: int) -> int:
        """Node of truckload t's pickup."""
        return len(self.depot_points) + 2 * t

    def dropoff(self, t: int) -> int:
        """Node of truckload t's drop-off."""
        return len(self.depot_points) + 2 * t + 1


def _metres(km) -> np.ndarray:
    """Point × point metres; -1 where there is no road."""
    arr = np.array([[np.nan if v is None else float(v) for v in row] for row in km], dtype=np.float64)
    out = np.rint(arr * _METRES_PER_KM)
    return np.where(np.isnan(out), -1, out).astype(np.int64)


def _horizon(problem: DispatchProblem) -> int:
    if problem.days is not None:
        return problem.days
    last = [ld.due_day if ld.due_day is not None else ld.ready_day for ld in problem.loads]
    return 1 + max((d for d in last if d is not None), default=0)


def _split(kg: int, cap_kg: int) -> list[int]:
    """Equal truckloads of at most cap_kg, the odd kilograms on the first ones."""
    n = -(-kg // cap_kg)
    base, extra = divmod(kg, n)
    return [base + (1 if k < extra else 0) for k in range(n)]


def _round_trip(m: np.ndarray, depot: int, a: int, b: int) -> int:
    legs = (m[depot, a], m[a, b], m[b, depot])
    return -1 if min(legs) < 0 else int(sum(legs))


def _screen(problem: DispatchProblem, m: np.ndarray, days: int) -> tuple[list[_Truckload], list[Unserved]]:
    """Split loads into truckloads and set aside those no vehicle could ever serve, with the reason."""
    point = {p: k for k, p in enumerate(problem.points)}
    caps = [kg_of(v.capacity_t) for v in problem.vehicles]
    truckloads: list[_Truckload] = []
    unserved: list[Unserved] = []
    for li, ld in enumerate(problem.loads):
        kg = kg_of(ld.tonnes)
        reason = None
        if not caps or (not ld.divisible and kg > max(caps)):
            reason = TOO_HEAVY
        elif (ld.ready_day or 0) >= days or (ld.due_day is not None and ld.due_day < (ld.ready_day or 0)):
            reason = TIME_WINDOW
        if reason:
            unserved.append(Unserved(ld.id, ld.tonnes, reason))
            continue
        pieces = [kg] if kg <= max(caps) else _split(kg, max(caps))
        a, b = point[ld.pickup], point[ld.dropoff]
        trips = [(_round_trip(m, point[v.depot], a, b), v, cap) for v, cap in zip(problem.vehicles, caps, strict=True)]
        if all(t < 0 for t, _v, _c in trips):
            unserved.append(Unserved(ld.id, ld.tonnes, NO_ROAD))
            continue
        if not any(0 <= t <= metres_of_km(v.max_km) and cap >= max(pieces) for t, v, cap in trips):
            unserved.append(Unserved(ld.id, ld.tonnes, OUT_OF_RANGE))
            continue
        truckloads.extend(_Truckload(li, piece) for piece in pieces)
    if len(truckloads) > MAX_TRUCKLOADS:
        raise ProblemError(f"{len(truckloads)} truckloads exceed the planner's limit of {MAX_TRUCKLOADS}", "loads")
    return truckloads, unserved


def metres_of_km(distance: Decimal) -> int:
    """Integer metres of a Decimal km (rounded to the metre)."""
    return int(round_km(distance).scaleb(3))


def _index(problem: DispatchProblem, truckloads: list[_Truckload], days: int) -> _Index:
    point = {p: k for k, p in enumerate(problem.points)}
    depot_points = sorted({point[v.depot] for v in problem.vehicles})
    node_point = list(depot_points)
    for t in truckloads:
        ld = problem.loads[t.load]
        node_point += [point[ld.pickup], point[ld.dropoff]]
    vehicle_days = [(vi, d) for d in range(days) for vi in range(len(problem.vehicles))]
    return _Index(depot_points, node_point, truckloads, vehicle_days)


def solve_dispatch(problem: DispatchProblem) -> DispatchResult:
    """Plan routes for a dispatch problem; never raises on an unservable load, reports it instead."""
    started = time.perf_counter()
    m = _metres(problem.km)
    days = _horizon(problem)
    truckloads, unserved = _screen(problem, m, days)
    if not truckloads:
        status = "infeasible" if problem.loads else "optimal"
        return DispatchResult(status, unserved=unserved, seconds=time.perf_counter() - started)
    idx = _index(problem, truckloads, days)
    routes_nodes, status = _route(problem, m, idx)
    result = _decode(problem, m, idx, routes_nodes, status)
    result.unserved = unserved + _dropped(problem, idx, routes_nodes)
    result.seconds = time.perf_counter() - started
    return result


def _route(problem: DispatchProblem, m: np.ndarray, idx: _Index) -> tuple[list[list[int]], str]:
    """Build and solve the routing model; return each routing vehicle's node sequence (without depots)."""
    nodes = np.asarray(idx.node_point)
    dist = m[np.ix_(nodes, nodes)]
    # A missing road is an arc too long for any day, so the span limit forbids it.
    longest = max(metres_of_km(v.max_km) for v in problem.vehicles)
    dist = np.where(dist < 0, longest + 1, dist)
    depot_node = {p: k for k, p in enumerate(idx.depot_points)}
    point = {p: k for k, p in enumerate(problem.points)}
    vehicles = [problem.vehicles[vi] for vi, _d in idx.vehicle_days]
    starts = [depot_node[point[v.depot]] for v in vehicles]
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(vehicles), starts, starts)
    routing = pywrapcp.RoutingModel(manager)

    dist_cb = routing.RegisterTransitMatrix(dist.tolist())
    cost_cbs: dict[int, int] = {}
    windows = _has_windows(problem)
    for k, (v, (_vi, day)) in enumerate(zip(vehicles, idx.vehicle_days, strict=True)):
        fen = fen_of(yuan(v.cost_yuan_per_km))
        if fen not in cost_cbs:
            cost_cbs[fen] = routing.RegisterTransitMatrix((dist * fen).tolist())
        routing.SetArcCostEvaluatorOfVehicle(cost_cbs[fen], k)
        if windows:
            # A tie-break far below one metre-fen: earlier days first. Without windows the days of one truck
            # are interchangeable; leaving them alike keeps them one vehicle class (a much faster search),
            # and _earliest_days moves the routes to the first days afterwards.
            routing.SetFixedCostOfVehicle(day, k)
    routing.AddDimensionWithVehicleCapacity(
        dist_cb, 0, [metres_of_km(v.max_km) for v in vehicles], True, "distance")
    distance = routing.GetDimensionOrDie("distance")
    demand = [0] * len(nodes)
    for t, tl in enumerate(idx.truckloads):
        demand[idx.pickup(t)], demand[idx.dropoff(t)] = tl.kg, -tl.kg
    load_cb = routing.RegisterUnaryTransitVector(demand)
    routing.AddDimensionWithVehicleCapacity(load_cb, 0, [kg_of(v.capacity_t) for v in vehicles], True, "load")

    # Dropping a truckload costs more than every route together could, so the solver serves all it can.
    penalty = 1 + sum(metres_of_km(v.max_km) * max(fen_of(yuan(v.cost_yuan_per_km)), 1) + idx.vehicle_days[k][1]
                      for k, v in enumerate(vehicles))
    solver = routing.solver()
    for t, tl in enumerate(idx.truckloads):
        p, d = manager.NodeToIndex(idx.pickup(t)), manager.NodeToIndex(idx.dropoff(t))
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(distance.CumulVar(p) <= distance.CumulVar(d))
        allowed = _allowed(problem, idx, tl)
        if len(allowed) < len(vehicles):
            routing.VehicleVar(p).SetValues([-1, *allowed])  # -1: left out, paying the penalty
        routing.AddDisjunction([p], penalty)
        routing.AddDisjunction([d], penalty)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = FIRST_SOLUTION
    params.local_search_metaheuristic = METAHEURISTIC
    params.time_limit.FromMilliseconds(max(1, int(problem.time_limit_s * 1000)))
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return [[] for _ in vehicles], "infeasible"
    status = "optimal" if routing.status() == routing_enums_pb2.RoutingSearchStatus.ROUTING_OPTIMAL else "feasible"
    routes = []
    for k in range(len(vehicles)):
        seq, i = [], solution.Value(routing.NextVar(routing.Start(k)))
        while not routing.IsEnd(i):
            seq.append(manager.IndexToNode(i))
            i = solution.Value(routing.NextVar(i))
        routes.append(seq)
    return (routes if windows else _earliest_days(routes, len(problem.vehicles))), status


def _has_windows(problem: DispatchProblem) -> bool:
    return any(ld.ready_day is not None or ld.due_day is not None for ld in problem.loads)


def _earliest_days(routes: list[list[int]], n_vehicles: int) -> list[list[int]]:
    """Each truck's routes moved to its first days (routing vehicle k is truck k % n on day k // n)."""
    days = len(routes) // n_vehicles
    out: list[list[int]] = [[] for _ in routes]
    for vi in range(n_vehicles):
        used = [routes[d * n_vehicles + vi] for d in range(days) if routes[d * n_vehicles + vi]]
        for d, seq in enumerate(used):
            out[d * n_vehicles + vi] = seq
    return out


def _allowed(problem: DispatchProblem, idx: _Index, tl: _Truckload) -> list[int]:
    """Routing vehicles that may carry a truckload: big enough, on a day inside its window."""
    ld = problem.loads[tl.load]
    first, last = ld.ready_day or 0, ld.due_day if ld.due_day is not None else MAX_DAYS
    return [k for k, (vi, day) in enumerate(idx.vehicle_days)
            if first <= day <= last and kg_of(problem.vehicles[vi].capacity_t) >= tl.kg]


# -- decoding ----------------------------------------------------------------------------------


def _km(metres: int) -> Decimal:
    return Decimal(int(metres)).scaleb(-3)


def _decode(problem: DispatchProblem, m: np.ndarray, idx: _Index, routes_nodes: list[list[int]],
            status: str) -> DispatchResult:
    result = DispatchResult(status)
    served: list[int] = []
    for k, seq in enumerate(routes_nodes):
        if not seq:
            continue
        vi, day = idx.vehicle_days[k]
        route = _decode_route(problem, m, idx, vi, day, seq)
        result.routes.append(route)
        result.total_km += route.km
        result.empty_km += route.empty_km
        result.cost_yuan += route.cost_yuan
        served += [(n - len(idx.depot_points)) // 2 for n in seq if (n - len(idx.depot_points)) % 2 == 0]
    base_m, base_empty_m = _baseline(problem, m, idx, served)
    result.baseline_km, result.baseline_empty_km = _km(base_m), _km(base_empty_m)
    result.routes.sort(key=lambda r: (r.day, r.vehicle))
    return result


def _decode_route(problem: DispatchProblem, m: np.ndarray, idx: _Index, vi: int, day: int,
                  seq: list[int]) -> Route:
    vehicle = problem.vehicles[vi]
    point = {p: k for k, p in enumerate(problem.points)}
    here, aboard, total, empty = point[vehicle.depot], 0, 0, 0
    stops = []
    for node in seq:
        t, is_drop = divmod(node - len(idx.depot_points), 2)
        tl = idx.truckloads[t]
        ld = problem.loads[tl.load]
        nxt = idx.node_point[node]
        leg = int(m[here, nxt])
        total += leg
        empty += leg if aboard == 0 else 0
        aboard += -tl.kg if is_drop else tl.kg
        stops.append(Stop(problem.points[nxt], ld.id, "dropoff" if is_drop else "pickup", tonnes_from_kg(tl.kg),
                          _km(leg)))
        here = nxt
    back = int(m[here, point[vehicle.depot]])
    total += back
    empty += back
    fen = round_places(Decimal(total) * fen_of(yuan(vehicle.cost_yuan_per_km)) / _METRES_PER_KM, 0)
    return Route(vehicle.id, day, vehicle.depot, stops, _km(total), _km(total - empty), _km(empty),
                 yuan_from_fen(int(fen)), _km(back))


def _baseline(problem: DispatchProblem, m: np.ndarray, idx: _Index, served: list[int]) -> tuple[int, int]:
    """Km (total, empty) if every served truckload were its own round trip from the nearest able depot."""
    point = {p: k for k, p in enumerate(problem.points)}
    total = empty = 0
    for t in served:
        tl = idx.truckloads[t]
        ld = problem.loads[tl.load]
        a, b = point[ld.pickup], point[ld.dropoff]
        trips = [_round_trip(m, point[v.depot], a, b) for v in problem.vehicles if kg_of(v.capacity_t) >= tl.kg]
        best = min(t for t in trips if t >= 0)
        total += best
        empty += best - int(m[a, b])
    return total, empty


def _dropped(problem: DispatchProblem, idx: _Index, routes_nodes: list[list[int]]) -> list[Unserved]:
    """Tonnes per load of the truckloads the solver left out."""
    on_route = {(n - len(idx.depot_points)) // 2 for seq in routes_nodes for n in seq}
    left: dict[int, int] = {}
    for t, tl in enumerate(idx.truckloads):
        if t not in on_route:
            left[tl.load] = left.get(tl.load, 0) + tl.kg
    return [Unserved(problem.loads[li].id, tonnes_from_kg(kg), FLEET_FULL) for li, kg in sorted(left.items())]


def served_tonnes(result: DispatchResult) -> dict[str, Decimal]:
    """Tonnes delivered per load id in a result."""
    out: dict[str, Decimal] = {}
    for route in result.routes:
        for stop in route.stops:
            if stop.action == "dropoff":
                out[stop.load] = out.get(stop.load, Decimal(0)) + stop.tonnes
    return out
