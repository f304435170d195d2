"""Dispatch routing: known optima, unserved reasons, and invariants on random instances."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.dispatch import (
    FLEET_FULL,
    NO_HAZARDOUS_VEHICLE,
    NO_ROAD,
    OUT_OF_RANGE,
    TIME_WINDOW,
    TOO_HEAVY,
    DispatchProblem,
    DispatchResult,
    Load,
    Vehicle,
    served_tonnes,
    solve_dispatch,
)
from matching.errors import ProblemError

# A and B are 100 km apart; the depot D sits at A.
LINE = {"points": ["D", "A", "B"], "km": [[0, 0, 100], [0, 0, 100], [100, 100, 0]]}


def truck(ident="T1", depot="D", capacity=32, cost="4", max_km=900) -> Vehicle:
    """A truck with the defaults of a 32 t dump truck."""
    return Vehicle(ident, depot, Decimal(capacity), Decimal(cost), Decimal(max_km))


def load(ident, pickup, dropoff, tonnes, **kw) -> Load:
    """A load in tonnes."""
    return Load(ident, pickup, dropoff, Decimal(str(tonnes)), **kw)


def problem(vehicles, loads, base=LINE, **kw) -> DispatchProblem:
    """A problem over a point set with a short time limit (tiny instances converge at once)."""
    return DispatchProblem(list(base["points"]), base["km"], vehicles, loads, time_limit_s=kw.pop("t", 0.5), **kw)


def test_two_opposite_loads_chain_into_one_backhaul():
    result = solve_dispatch(problem([truck()], [load("L1", "A", "B", 30), load("L2", "B", "A", 30)]))
    assert result.total_km == Decimal(200) and result.empty_km == 0
    assert result.baseline_km == Decimal(400) and result.baseline_empty_km == Decimal(200)
    [route] = result.routes
    assert [(s.load, s.action) for s in route.stops] == [
        ("L1", "pickup"), ("L1", "dropoff"), ("L2", "pickup"), ("L2", "dropoff")]
    assert route.cost_yuan == Decimal("800.00")


def test_a_load_larger_than_the_truck_is_split_into_equal_truckloads_delivered_exactly():
    result = solve_dispatch(problem([truck()], [load("L1", "A", "B", "70.001")]))
    drops = [s.tonnes for r in result.routes for s in r.stops if s.action == "dropoff"]
    assert sorted(drops) == [Decimal("23.333"), Decimal("23.334"), Decimal("23.334")]
    assert sum(drops) == Decimal("70.001") and not result.unserved
    # Three round trips A→B→A: the truck goes back empty twice and returns to the depot.
    assert result.total_km == Decimal(600) and result.empty_km == Decimal(300)
    assert result.baseline_km == Decimal(600)


def test_small_loads_share_a_truck():
    result = solve_dispatch(problem([truck()], [load("L1", "A", "B", 10), load("L2", "A", "B", 20)]))
    assert result.total_km == Decimal(200) and result.baseline_km == Decimal(400)


def test_an_indivisible_load_heavier_than_every_truck_is_unserved():
    result = solve_dispatch(problem([truck()], [load("L1", "A", "B", 40, divisible=False)]))
    assert [(u.load, u.tonnes, u.reason) for u in result.unserved] == [("L1", Decimal(40), TOO_HEAVY)]
    assert result.status == "infeasible" and not result.routes


def test_a_round_trip_longer_than_max_km_is_out_of_range():
    result = solve_dispatch(problem([truck(max_km=199)], [load("L1", "A", "B", 10)]))
    assert result.unserved[0].reason == OUT_OF_RANGE


def test_a_load_without_road_is_reported():
    base = {"points": ["D", "A", "B"], "km": [[0, 0, None], [0, 0, None], [None, None, 0]]}
    result = solve_dispatch(problem([truck()], [load("L1", "A", "B", 10)], base=base))
    assert result.unserved[0].reason == NO_ROAD


def test_time_windows_pick_the_day_and_outside_the_plan_is_unserved():
    loads = [load("L1", "A", "B", 30, ready_day=1), load("L2", "A", "B", 30, ready_day=3)]
    result = solve_dispatch(problem([truck(max_km=200)], loads, days=2))
    assert [(r.day, [s.load for s in r.stops]) for r in result.routes] == [(1, ["L1", "L1"])]
    assert [(u.load, u.reason) for u in result.unserved] == [("L2", TIME_WINDOW)]


def test_more_truckloads_than_truck_days_leaves_the_rest_unserved_as_fleet_full():
    result = solve_dispatch(problem([truck(max_km=250)], [load("L1", "A", "B", 30), load("L2", "A", "B", 30)]))
    assert len(result.routes) == 1 and result.routes[0].km == Decimal(200)
    assert [(u.tonnes, u.reason) for u in result.unserved] == [(Decimal(30), FLEET_FULL)]


def test_a_second_day_serves_what_one_day_cannot():
    loads = [load("L1", "A", "B", 30), load("L2", "A", "B", 30)]
    result = solve_dispatch(problem([truck(max_km=250)], loads, days=2))
    assert not result.unserved and sorted(r.day for r in result.routes) == [0, 1]


def test_without_time_windows_routes_take_each_trucks_first_days():
    loads = [load(f"L{k}", "A", "B", 30) for k in range(3)]
    result = solve_dispatch(problem([truck("T1", max_km=250), truck("T2", max_km=250)], loads, days=5))
    days = {}
    for r in result.routes:
        days.setdefault(r.vehicle, []).append(r.day)
    assert not result.unserved and sorted(sum(days.values(), [])) == [0, 0, 1]
    assert all(sorted(d) == list(range(len(d))) for d in days.values())


def test_a_small_truck_cannot_carry_a_piece_sized_for_a_big_one():
    # 60 t splits into two 30 t truckloads; only the 32 t truck may carry them.
    vehicles = [truck("small", capacity=10), truck("big", capacity=32)]
    result = solve_dispatch(problem(vehicles, [load("L1", "A", "B", 60)], days=2))
    assert {r.vehicle for r in result.routes} == {"big"} and not result.unserved


@pytest.mark.parametrize("change, entry", [
    (lambda p: p.update(vehicles=[truck(depot="Z")]), "vehicles[0]"),
    (lambda p: p.update(loads=[load("L1", "A", "A", 5)]), "loads[0]"),
    (lambda p: p.update(loads=[load("L1", "A", "B", 0)]), "loads[0]"),
    (lambda p: p.update(vehicles=[truck(capacity=0)]), "vehicles[0]"),
    (lambda p: p.update(km=[[0, 1], [1, 0]]), "km"),
    (lambda p: p.update(km=[[0, 0, -1], [0, 0, 1], [1, 1, 0]]), "km[0][2]"),
    (lambda p: p.update(km=[[0, 0, float("nan")], [0, 0, 1], [1, 1, 0]]), "km[0][2]"),
    (lambda p: p.update(loads=[load("L1", "A", "B", 5, ready_day=99)]), "loads[0]"),
    (lambda p: p.update(time_limit_s=0), "time_limit_s"),
])
def test_bad_input_names_the_entry(change, entry):
    kwargs = dict(points=list(LINE["points"]), km=LINE["km"], vehicles=[truck()], loads=[load("L1", "A", "B", 5)])
    change(kwargs)
    with pytest.raises(ProblemError) as err:
        DispatchProblem(**kwargs)
    assert err.value.entry.startswith(entry)


# -- invariants on random instances --------------------------------------------------------------


def check_plan(p: DispatchProblem, result: DispatchResult) -> None:
    """Every route obeys the rules, and served + unserved tonnes equal the demanded tonnes of each load."""
    at = {pt: k for k, pt in enumerate(p.points)}
    vehicles = {v.id: v for v in p.vehicles}
    seen_days = set()
    for route in result.routes:
        v = vehicles[route.vehicle]
        assert (route.vehicle, route.day) not in seen_days  # one route a vehicle a day
        seen_days.add((route.vehicle, route.day))
        assert route.depot == v.depot and route.stops
        here, aboard, metres, empty = at[v.depot], Decimal(0), Decimal(0), Decimal(0)
        per_load: dict[str, Decimal] = {}
        for stop in route.stops:
            leg = Decimal(str(p.km[here][at[stop.point]]))
            assert stop.leg_km == leg
            metres += leg
            empty += leg if aboard == 0 else 0
            sign = 1 if stop.action == "pickup" else -1
            aboard += sign * stop.tonnes
            per_load[stop.load] = per_load.get(stop.load, Decimal(0)) + sign * stop.tonnes
            assert 0 <= aboard <= v.capacity_t  # capacity never exceeded
            assert per_load[stop.load] >= 0  # picked up before dropped off, on this vehicle
            ld = next(x for x in p.loads if x.id == stop.load)
            assert (ld.pickup if sign == 1 else ld.dropoff) == stop.point
            assert (ld.ready_day or 0) <= route.day <= (ld.due_day if ld.due_day is not None else 99)
            here = at[stop.point]
        back = Decimal(str(p.km[here][at[v.depot]]))  # the route ends at the depot
        assert aboard == 0 and all(t == 0 for t in per_load.values())
        assert route.km == metres + back and route.empty_km == empty + back
        assert route.km <= v.max_km
    delivered = served_tonnes(result)
    missing = {}
    for u in result.unserved:
        missing[u.load] = missing.get(u.load, Decimal(0)) + u.tonnes
    for ld in p.loads:
        assert delivered.get(ld.id, 0) + missing.get(ld.id, 0) == ld.tonnes
    assert result.total_km == sum((r.km for r in result.routes), Decimal(0))


@st.composite
def instances(draw):
    """Up to 6 points on a grid (integer km, Manhattan distance), 1–3 trucks, 1–5 loads."""
    n = draw(st.integers(3, 6))
    xy = draw(st.lists(st.tuples(st.integers(0, 150), st.integers(0, 150)), min_size=n, max_size=n))
    km = [[abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in xy] for a in xy]
    points = [f"P{k}" for k in range(n)]
    vehicles = [truck(f"T{k}", draw(st.sampled_from(points)), draw(st.sampled_from([10, 25, 32])),
                      draw(st.sampled_from(["3", "4.5"])), draw(st.integers(150, 900)))
                for k in range(draw(st.integers(1, 3)))]
    loads = []
    for k in range(draw(st.integers(1, 5))):
        a, b = draw(st.lists(st.sampled_from(points), min_size=2, max_size=2, unique=True))
        ready = draw(st.none() | st.integers(0, 2))
        due = draw(st.none() | st.integers(0, 2))
        loads.append(Load(f"L{k}", a, b, draw(st.decimals("0.001", "80", places=3)), ready_day=ready, due_day=due,
                          divisible=draw(st.booleans())))
    return DispatchProblem(points, km, vehicles, loads, days=draw(st.integers(1, 3)), time_limit_s=0.2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_random_plans_keep_every_rule(p):
    check_plan(p, solve_dispatch(p))


# ----------------------------------------------------------------------------- hazardous loads


def _kinds(result, loads):
    """Per route, the set of hazardous flags of the loads it carries."""
    hazardous = {ld.id: ld.hazardous for ld in loads}
    return [{hazardous[s.load] for s in r.stops} for r in result.routes]


def test_a_hazardous_load_needs_a_permitted_vehicle():
    loads = [load("H", "A", "B", 20, hazardous=True), load("N", "A", "B", 5)]
    result = solve_dispatch(problem([truck("T1")], loads))
    assert [(u.load, u.reason) for u in result.unserved] == [("H", NO_HAZARDOUS_VEHICLE)]
    assert "dangerous-goods permit" in result.unserved[0].message
    assert served_tonnes(result) == {"N": Decimal(5)}


def test_hazardous_and_ordinary_loads_never_share_a_route():
    # Both would fit one 32 t truck (and sharing would save 200 km), but they must ride apart.
    loads = [load("H", "A", "B", 10, hazardous=True), load("N", "A", "B", 10)]
    vehicles = [Vehicle("P", "D", Decimal(32), Decimal(4), Decimal(900), hazardous_ok=True), truck("T2")]
    result = solve_dispatch(problem(vehicles, loads))
    assert not result.unserved and served_tonnes(result) == {"H": Decimal(10), "N": Decimal(10)}
    assert all(len(kinds) == 1 for kinds in _kinds(result, loads))
    assert {r.vehicle for r in result.routes if r.stops[0].load == "H"} == {"P"}


def test_one_permitted_truck_carries_both_kinds_on_different_days():
    loads = [load("H", "A", "B", 10, hazardous=True), load("N", "A", "B", 10)]
    vehicles = [Vehicle("P", "D", Decimal(32), Decimal(4), Decimal(900), hazardous_ok=True)]
    result = solve_dispatch(problem(vehicles, loads, days=2))
    assert not result.unserved and len(result.routes) == 2 and {r.day for r in result.routes} == {0, 1}
    assert all(len(kinds) == 1 for kinds in _kinds(result, loads))
    # On one day only, the truck serves one kind and reports the other as left over for want of a truck-day.
    single = solve_dispatch(problem(vehicles, loads, days=1))
    assert len(single.routes) == 1 and [u.reason for u in single.unserved] == [FLEET_FULL]


def test_without_hazardous_loads_the_flags_change_nothing():
    loads = [load("N1", "A", "B", 10), load("N2", "B", "A", 10)]
    plain = solve_dispatch(problem([truck("T1")], loads))
    flagged = solve_dispatch(problem([Vehicle("T1", "D", Decimal(32), Decimal(4), Decimal(900),
                                              hazardous_ok=True)], loads))
    assert plain.total_km == flagged.total_km and not flagged.unserved


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("AB"), st.integers(1, 30), st.booleans()), min_size=1, max_size=6),
       st.lists(st.booleans(), min_size=1, max_size=3))
def test_no_route_ever_mixes_kinds_or_carries_hazardous_on_an_unpermitted_truck(specs, permits):
    loads = [load(f"L{k}", a, "B" if a == "A" else "A", t, hazardous=h) for k, (a, t, h) in enumerate(specs)]
    vehicles = [Vehicle(f"T{k}", "D", Decimal(32), Decimal(4), Decimal(900), hazardous_ok=p)
                for k, p in enumerate(permits)]
    result = solve_dispatch(problem(vehicles, loads, days=2, t=0.2))
    permitted = {v.id for v in vehicles if v.hazardous_ok}
    kinds = _kinds(result, loads)
    assert all(len(k) == 1 for k in kinds)
    assert all(r.vehicle in permitted for r, k in zip(result.routes, kinds, strict=True) if True in k)
    if not permitted:
        assert {u.load for u in result.unserved} >= {ld.id for ld in loads if ld.hazardous}
