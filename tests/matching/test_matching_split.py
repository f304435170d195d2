"""Per-category split: independent sub-problems whose merged result equals the joint solve."""

from hypothesis import given, settings

from matching import merge_results, solve, split_by_category
from matching.solve import solve_category
from tests.matching.matching_helpers import random_problems


@settings(max_examples=60, deadline=None)
@given(random_problems(max_lots=8, max_demands=6, categories=("slag", "ash", "gypsum")))
def test_split_objective_equals_the_joint_solve(problem):
    joint = solve_category(problem, "mincostflow")
    parts = split_by_category(problem)
    merged = merge_results(solve_category(p, "mincostflow") for p in parts.values())
    assert merged.objective_yuan == joint.objective_yuan == solve(problem).objective_yuan


@settings(max_examples=30, deadline=None)
@given(random_problems(max_lots=8, max_demands=6, categories=("slag", "ash", "gypsum")))
def test_each_part_holds_one_category(problem):
    for category, part in split_by_category(problem).items():
        assert {lo.category for lo in part.lots} | {d.category for d in part.demands} == {category}


def test_merge_of_nothing_is_an_empty_optimal_result():
    result = merge_results([])
    assert result.status == "optimal" and result.objective_yuan == 0
