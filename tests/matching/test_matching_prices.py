"""Price guidance: dual prices satisfy complementary slackness and strong duality."""

from decimal import Decimal

from hypothesis import given, settings

from matching import Cost, Problem, solve
from matching.network import build_candidates
from tests.matching.matching_helpers import demand, lot, random_problems


def _flows(result):
    return {(a.lot_id, a.demand_id): a.tonnes for a in result.allocations}


@settings(max_examples=100, deadline=None)
@given(random_problems(categories=("slag", "ash")))
def test_prices_satisfy_complementary_slackness(problem):
    result = solve(problem)
    u, v = result.lot_prices, result.demand_prices
    flows = _flows(result)
    assert all(p >= 0 for p in u.values()) and all(p >= 0 for p in v.values())
    cand = build_candidates(problem)
    for i, j, s in zip(cand.lot.tolist(), cand.demand.tolist(), cand.surplus_fen.tolist(), strict=True):
        lot_id, demand_id = problem.lots[i].id, problem.demands[j].id
        surplus = Decimal(s).scaleb(-2)
        assert u[lot_id] + v[demand_id] >= surplus
        if flows.get((lot_id, demand_id), 0) > 0:
            assert u[lot_id] + v[demand_id] == surplus
    for lo in problem.lots:
        if sum(t for (a, _), t in flows.items() if a == lo.id) < lo.tonnes:
            assert u[lo.id] == 0
    for d in problem.demands:
        if sum(t for (_, b), t in flows.items() if b == d.id) < d.tonnes:
            assert v[d.id] == 0


@settings(max_examples=60, deadline=None)
@given(random_problems(categories=("slag", "ash")))
def test_prices_price_out_the_whole_surplus(problem):
    # Strong duality: Σ u_i Q_i + Σ v_j q_j equals the optimal surplus, exactly.
    result = solve(problem)
    dual = sum(result.lot_prices[lo.id] * lo.tonnes for lo in problem.lots) + sum(
        result.demand_prices[d.id] * d.tonnes for d in problem.demands
    )
    assert dual == result.objective_yuan


def test_lot_price_is_the_value_of_one_more_tonne(simple_problem):
    result = solve(simple_problem)
    assert result.lot_prices == {"L1": 25, "L2": 0, "L3": 0}
    assert result.demand_prices == {"D1": 5, "D2": 0}
    bigger = Problem([lot("L1", 101, -20), *simple_problem.lots[1:]], simple_problem.demands, simple_problem.costs)
    assert solve(bigger).objective_yuan - result.objective_yuan == result.lot_prices["L1"]


def test_greedy_gives_no_price_guidance(simple_problem):
    result = solve(simple_problem, solver="greedy")
    assert result.lot_prices == {} and result.demand_prices == {}


def test_prices_of_a_lot_with_no_arcs_are_zero():
    result = solve(Problem([lot("L")], [demand("D")], [Cost("L", "D", 500)]))
    assert result.lot_prices == {"L": 0} and result.demand_prices == {"D": 0}
