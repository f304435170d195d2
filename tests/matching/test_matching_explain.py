"""Explanations for unmatched tonnes: one test per reason code."""

from decimal import Decimal

from matching import Cost, Problem, solve
from tests.matching.matching_helpers import demand, lot


def test_lot_beyond_every_haul_limit_has_no_compatible_recycler():
    p = Problem(
        [lot("L")],
        [demand("D12", max_haul_km=300), demand("D13", max_haul_km=100)],
        [Cost("L", "D12", 10, km=420), Cost("L", "D13", 10, km=500)],
    )
    (u,) = solve(p).unmatched
    assert u.reason == "no_compatible_recycler" and u.tonnes == 100
    assert "D12 at 420 km exceeds its 300 km haul limit" in u.message
    assert u.details == {"rule": "haul_distance", "demand": "D12", "km": 420.0}


def test_lot_with_no_cost_entry_is_out_of_reach():
    (u,) = solve(Problem([lot("L")], [demand("D")], [])).unmatched
    assert u.reason == "no_compatible_recycler" and u.details["rule"] == "no_route"


def test_netback_below_reserve_reports_the_shortfall(simple_problem):
    u = next(x for x in solve(simple_problem).unmatched if x.lot_id == "L3")
    assert u.reason == "netback_below_reserve"
    assert u.details["shortfall_yuan_per_t"] == Decimal("45.00") and u.details["demand"] == "D2"
    assert "45.00 yuan/t below its reserve" in u.message


def test_capacity_taken_names_the_lots_that_got_it(simple_problem):
    u = next(x for x in solve(simple_problem).unmatched if x.lot_id == "L2")
    assert u.reason == "capacity_taken" and u.tonnes == 30
    assert u.details["demand"] == "D1" and u.details["taken_by"] == ["L1"]
    assert "L1" in u.message


def test_fully_matched_lots_have_no_explanation(simple_problem):
    assert "L1" not in {u.lot_id for u in solve(simple_problem).unmatched}


def test_zero_surplus_leftover_if_any_is_explained_as_no_gain():
    p = Problem([lot("L", 10, 0)], [demand("D", 10, 10)], [Cost("L", "D", 10)])
    result = solve(p)
    if result.unmatched:
        assert result.unmatched[0].reason == "netback_below_reserve"
        assert result.unmatched[0].details["shortfall_yuan_per_t"] == 0
