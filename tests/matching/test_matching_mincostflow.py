"""Exact clearing: textbook optima, agreement with HiGHS, feasibility and degenerate inputs."""

from decimal import Decimal

import pytest
from hypothesis import given, settings

from matching import Cost, Problem, solve
from matching.solve import solve_category
from tests.matching.matching_helpers import demand, lot, lp_optimum, random_problems

# Textbook transportation problems are cost-minimising with all demand met. Mapping to our
# max-surplus form: reserve 0 and price M = 1000 per unit at every destination, so surplus is
# M − c_ij ≥ 0 and, supply and demand being balanced, every unit ships. Then
#   max Σ (M − c_ij) x_ij = M · Σ supply − min Σ c_ij x_ij.


def _textbook(supply: dict, demand_units: dict, cost: dict, m: int = 1000) -> Problem:
    return Problem(
        [lot(name, units, 0) for name, units in supply.items()],
        [demand(name, units, m) for name, units in demand_units.items()],
        [Cost(s, d, c) for (s, d), c in cost.items()],
    )


def test_taha_mg_auto_reaches_the_published_optimum():
    # Taha, Operations Research: An Introduction, Example 5.1-1 (MG Auto): three plants ship
    # cars to two distribution centres; published minimum cost $313,200.
    supply = {"Los Angeles": 1000, "Detroit": 1500, "New Orleans": 1200}
    need = {"Denver": 2300, "Miami": 1400}
    cost = {
        ("Los Angeles", "Denver"): 80,
        ("Los Angeles", "Miami"): 215,
        ("Detroit", "Denver"): 100,
        ("Detroit", "Miami"): 108,
        ("New Orleans", "Denver"): 102,
        ("New Orleans", "Miami"): 68,
    }
    result = solve(_textbook(supply, need, cost))
    assert result.objective_yuan == 1000 * 3700 - 313_200
    shipped = {(a.lot_id, a.demand_id): a.tonnes for a in result.allocations}
    assert shipped == {
        ("Los Angeles", "Denver"): 1000,
        ("Detroit", "Denver"): 1300,
        ("Detroit", "Miami"): 200,
        ("New Orleans", "Miami"): 1200,
    }


def test_winston_powerco_reaches_the_published_optimum():
    # Winston, Operations Research: Applications and Algorithms, §7.1 Example 1 (Powerco):
    # three plants supply four cities; published minimum cost $1,020.
    supply = {"P1": 35, "P2": 50, "P3": 40}
    need = {"C1": 45, "C2": 20, "C3": 30, "C4": 30}
    rows = {"P1": (8, 6, 10, 9), "P2": (9, 12, 13, 7), "P3": (14, 9, 16, 5)}
    cost = {(p, f"C{k + 1}"): c for p, cs in rows.items() for k, c in enumerate(cs)}
    result = solve(_textbook(supply, need, cost))
    assert result.objective_yuan == 1000 * 125 - 1020


@settings(max_examples=80, deadline=None)
@given(random_problems())
def test_objective_equals_the_highs_lp_optimum(problem):
    ours = float(solve(problem).objective_yuan)
    ref = lp_optimum(problem)
    assert abs(ours - ref) <= 1e-9 * max(1.0, abs(ref))


@settings(max_examples=60, deadline=None)
@given(random_problems(categories=("slag", "ash")))
def test_no_allocation_exceeds_a_lot_or_a_demand(problem):
    result = solve(problem)
    by_lot, by_demand = {}, {}
    for a in result.allocations:
        assert a.tonnes > 0
        by_lot[a.lot_id] = by_lot.get(a.lot_id, 0) + a.tonnes
        by_demand[a.demand_id] = by_demand.get(a.demand_id, 0) + a.tonnes
    for lo in problem.lots:
        assert by_lot.get(lo.id, 0) <= lo.tonnes
    for d in problem.demands:
        assert by_demand.get(d.id, 0) <= d.tonnes


@settings(max_examples=60, deadline=None)
@given(random_problems(categories=("slag", "ash")))
def test_incompatible_or_loss_making_pairs_are_never_used(problem):
    lots = {lo.id: lo for lo in problem.lots}
    demands = {d.id: d for d in problem.demands}
    costs = {(c.lot_id, c.demand_id) for c in problem.costs}
    for a in solve(problem).allocations:
        assert lots[a.lot_id].category == demands[a.demand_id].category
        assert (a.lot_id, a.demand_id) in costs
        assert a.surplus_yuan_per_t >= 0


@settings(max_examples=40, deadline=None)
@given(random_problems())
def test_objective_is_the_exact_sum_of_allocation_surpluses(problem):
    result = solve(problem)
    assert result.objective_yuan == sum((a.surplus_yuan for a in result.allocations), Decimal(0))


def test_negative_prices_and_reserves_still_trade_when_surplus_is_positive():
    # The producer pays 80 yuan/t to be rid of the waste; the recycler charges 30 yuan/t to take it.
    p = Problem([lot("L", 10, -80)], [demand("D", 10, -30)], [Cost("L", "D", 20)])
    result = solve(p)
    assert result.objective_yuan == Decimal("300.00000")
    assert result.allocations[0].netback_yuan_per_t == Decimal("-50.00")


def test_fractional_tonnes_are_exact_to_the_kilogram():
    p = Problem([lot("L", "0.001", 0)], [demand("D", "1000", "0.01")], [Cost("L", "D", 0)])
    assert solve(p).objective_yuan == Decimal("0.00001")


def test_no_lots_gives_an_empty_optimal_result():
    result = solve(Problem([], [demand("D")], []))
    assert result.status == "optimal" and result.objective_yuan == 0 and result.allocations == []


def test_no_demands_leaves_every_lot_unmatched():
    result = solve(Problem([lot("L1"), lot("L2")], [], []))
    assert result.objective_yuan == 0
    assert [u.lot_id for u in result.unmatched] == ["L1", "L2"]


def test_no_cost_entries_means_nothing_is_matched():
    result = solve(Problem([lot("L")], [demand("D")], []))
    assert result.allocations == [] and result.unmatched[0].reason == "no_compatible_recycler"


def test_all_negative_surplus_matches_nothing():
    result = solve(Problem([lot("L", 10, 50)], [demand("D", 10, 40)], [Cost("L", "D", 1)]))
    assert result.allocations == [] and result.objective_yuan == 0


def test_ties_still_reach_the_optimum_value():
    p = Problem([lot("L1", 10), lot("L2", 10)], [demand("D", 10, 50)], [Cost("L1", "D", 10), Cost("L2", "D", 10)])
    result = solve(p)
    assert result.objective_yuan == 400
    assert sum(a.tonnes for a in result.allocations) == 10


def test_cross_category_cost_entries_are_never_allocated():
    p = Problem([lot("L", category="ash")], [demand("D")], [Cost("L", "D", 1)])
    assert solve(p).allocations == []


def test_joint_solve_handles_several_categories_at_once():
    p = Problem(
        [lot("A"), lot("B", category="ash")],
        [demand("X"), demand("Y", category="ash")],
        [Cost("A", "X", 10), Cost("B", "Y", 20), Cost("A", "Y", 0)],
    )
    assert solve_category(p, "mincostflow").objective_yuan == solve(p).objective_yuan == 100 * 90 + 100 * 80


def test_unknown_solver_name_is_rejected():
    with pytest.raises(ValueError, match="unknown solver"):
        solve(Problem([], [], []), solver="simplex")
