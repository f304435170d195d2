"""Truckload and minimum-shipment clearing with CP-SAT, on cases solved by hand."""

from decimal import Decimal

from matching import Cost, Problem, solve
from tests.matching.matching_helpers import demand, lot


def _truck_case():
    # Lot A: 50 t at reserve 0. Demand X: 40 t at 100 yuan/t, Y: 20 t at 60 yuan/t, both in
    # 15 t trucks, freight 10 yuan/t, so surplus 90 and 50 yuan/t. By hand: X takes two trucks
    # (30 t; three would exceed 40 t), Y one truck (15 t; two would exceed 20 t) → 45 t,
    # 30·90 + 15·50 = 3,450 yuan. The continuous optimum would be 40·90 + 10·50 = 4,100.
    return Problem(
        [lot("A", 50, 0)],
        [demand("X", 40, 100, truck_t=15), demand("Y", 20, 60, truck_t=15)],
        [Cost("A", "X", 10), Cost("A", "Y", 10)],
    )


def test_whole_trucks_case_matches_the_hand_solution():
    result = solve(_truck_case(), solver="cpsat")
    assert result.status == "optimal" and result.solver == "cpsat" and result.gap == 0.0
    assert result.objective_yuan == 3450
    assert {a.demand_id: a.tonnes for a in result.allocations} == {"X": 30, "Y": 15}


def test_auto_uses_cpsat_when_trucks_are_set():
    assert solve(_truck_case()).solver == "cpsat"


def test_mincostflow_solves_the_continuous_relaxation():
    assert solve(_truck_case(), solver="mincostflow").objective_yuan == 4100


def test_a_final_part_load_may_clear_a_lot():
    p = Problem([lot("A", 20, 0)], [demand("X", 100, 100, truck_t=15)], [Cost("A", "X", 10)])
    assert solve(p, solver="cpsat").allocations[0].tonnes == 20


def test_minimum_shipment_forbids_small_loads():
    # D1 pays 10 yuan/t more but only has 30 t; its 40 t minimum makes it unusable, so all
    # 100 t go to D2 at 8 yuan/t: 800 yuan (the continuous optimum is 30·10 + 70·8 = 860).
    p = Problem(
        [lot("L", 100, 0)],
        [demand("D1", 30, 10, min_shipment_t=40), demand("D2", 100, 8)],
        [Cost("L", "D1", 0), Cost("L", "D2", 0)],
    )
    result = solve(p, solver="cpsat")
    assert result.objective_yuan == 800
    assert [(a.demand_id, a.tonnes) for a in result.allocations] == [("D2", Decimal("100.000"))]


def test_lot_minimum_shipment_applies_to_every_arc():
    p = Problem(
        [lot("L", 50, 0, min_shipment_t=25)],
        [demand("D1", 20, 10), demand("D2", 100, 5)],
        [Cost("L", "D1", 0), Cost("L", "D2", 0)],
    )
    assert solve(p, solver="cpsat").objective_yuan == 250


def test_cpsat_reports_a_gap_and_lp_price_guidance():
    result = solve(_truck_case(), solver="cpsat", time_limit_s=5)
    assert result.gap is not None and result.gap >= 0
    assert set(result.lot_prices) == {"A"}


def test_a_demand_left_short_of_a_truck_is_explained():
    result = solve(_truck_case(), solver="cpsat")
    (left,) = result.unmatched
    assert left.tonnes == 5 and left.reason == "capacity_taken"
    assert "whole shipment" in left.message
