"""Greedy baseline: feasible, never better than the exact optimum, and sometimes worse."""

from hypothesis import given, settings

from matching import Cost, Problem, solve
from tests.matching.matching_helpers import demand, lot, random_problems


def test_cheapest_arc_first_can_miss_the_optimum():
    # The cheap arc L1→D uses D's capacity that L2 (no other outlet) values far more.
    p = Problem(
        [lot("L1", 10, 0), lot("L2", 10, 0)],
        [demand("D", 10, 100), demand("E", 10, 30)],
        [Cost("L1", "D", 5), Cost("L2", "D", 6), Cost("L1", "E", 10)],
    )
    greedy, exact = solve(p, solver="greedy"), solve(p)
    assert greedy.status == "feasible" and greedy.solver == "greedy"
    assert greedy.objective_yuan == 950 and exact.objective_yuan == 940 + 200


@settings(max_examples=50, deadline=None)
@given(random_problems())
def test_greedy_never_beats_the_exact_solver(problem):
    assert solve(problem, solver="greedy").objective_yuan <= solve(problem).objective_yuan
