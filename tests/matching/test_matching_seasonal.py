"""Seasonal clearing: months, stopped kilns, yards; hand-checked optimum, invariants and an independent LP."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import ProblemError, solve
from matching.__main__ import main
from matching.seasonal import SeasonalProblem, months, solve_seasonal
from matching.seasonal_io import seasonal_problem_from_dict
from tests.matching.matching_helpers import random_problems

WINTER = ["2026-11", "2026-12", "2027-01", "2027-02"]


def hand_instance(yard: bool = True, loss_pct: float = 0) -> dict:
    """Two CHP plants making fly ash, one kiln stopped November to January, one base yard."""
    data = {
        "periods": WINTER,
        "lots": [
            {
                "id": "CHP-A",
                "category": "fly_ash",
                "reserve_yuan_per_t": -30,
                "available": {p: 100 for p in WINTER},
            },
            {"id": "CHP-B", "category": "fly_ash", "tonnes": 50, "reserve_yuan_per_t": -30},
        ],
        "demands": [
            {
                "id": "KILN",
                "category": "fly_ash",
                "tonnes": 300,
                "price_yuan_per_t": 10,
                "capacity": {"2026-11": 0, "2026-12": 0, "2027-01": 0},
            }
        ],
        "costs": [
            {"lot": "CHP-A", "demand": "KILN", "yuan_per_t": 5},
            {"lot": "CHP-B", "demand": "KILN", "yuan_per_t": 8},
        ],
    }
    if yard:
        data["storage"] = [
            {
                "id": "YARD",
                "lon": 126.6,
                "lat": 45.7,
                "capacity_t": 250,
                "cost_yuan_per_t_month": 2,
                "loss_pct_per_month": loss_pct,
            }
        ]
        data["costs"] += [
            {"storage": "YARD", "lot": "CHP-A", "yuan_per_t": 2},
            {"storage": "YARD", "demand": "KILN", "yuan_per_t": 3},
        ]
    return data


def test_storing_winter_ash_beats_landfill_by_the_hand_computed_amount():
    """Landfill is each plant's reserve (−30 yuan/t), so every figure is surplus over landfill.

    Direct from CHP-A in February: 10 − 5 + 30 = 35 yuan/t on 100 t = 3,500.
    Through the yard: 10 − 2 − 3 + 30 − 2 × months stored = 35 − 2k yuan/t:
    January ash (k=1) 33, December (k=2) 31, November (k=3) 29.
    The kiln takes 300 t in February: 100 direct + the two best stored months, 100 t each:
    3,500 + 3,300 + 3,100 = 9,900 yuan. Without the yard only February's 100 t is used: 3,500.
    Storing beats landfill by 6,400 yuan; November's 100 t and CHP-B's 50 t are landfilled.
    """
    with_yard = solve_seasonal(seasonal_problem_from_dict(hand_instance()))
    without = solve_seasonal(seasonal_problem_from_dict(hand_instance(yard=False)))
    assert with_yard.status == "optimal"
    assert with_yard.objective_yuan == Decimal("9900")
    assert without.objective_yuan == Decimal("3500")
    assert with_yard.objective_yuan - without.objective_yuan == Decimal("6400")
    levels = {s.period: s.level_t for s in with_yard.storage}
    assert levels == {"2026-11": 0, "2026-12": 100, "2027-01": 200, "2027-02": 0}
    assert {(p, lot) for p, lot, _ in with_yard.unplaced} == {("2026-11", "CHP-A"), ("2026-11", "CHP-B")}
    assert all(d.period == "2027-02" for d in with_yard.deliveries)


def test_monthly_prices_read_the_winter_story():
    """The kiln's February tonne is worth 31 (the December tonne it displaces); January ash is worth 2 more."""
    result = solve_seasonal(seasonal_problem_from_dict(hand_instance()))
    assert result.demand_prices["KILN"] == {"2027-02": Decimal("31")}  # stopped months have no price
    assert result.lot_prices["CHP-A"] == {
        "2026-11": Decimal("0"),
        "2026-12": Decimal("0"),
        "2027-01": Decimal("2"),
        "2027-02": Decimal("4"),
    }
    assert set(result.storage_prices["YARD"].values()) == {Decimal("0")}  # room to spare


def test_a_full_yard_has_a_carry_price():
    """At 150 t the yard binds in January: another tonne of room saves 33 − 31 = 2 yuan... and more."""
    data = hand_instance()
    data["storage"][0]["capacity_t"] = 150
    result = solve_seasonal(seasonal_problem_from_dict(data))
    # 100 t direct (35) + 100 t January (33) + 50 t December (31); room for a 151st tonne earns 31 − 0.
    assert result.objective_yuan == Decimal("3500") + Decimal("3300") + Decimal("1550")
    assert max(s.level_t for s in result.storage) == 150
    assert result.storage_prices["YARD"]["2027-01"] == Decimal("31")


def test_loss_is_rounded_up_to_the_kilogram_and_conserved():
    data = hand_instance(loss_pct=1.5)
    result = solve_seasonal(seasonal_problem_from_dict(data))
    assert result.status == "feasible"  # with loss the plan is not claimed optimal
    rows = [s for s in result.storage]
    previous = Decimal(0)
    for s in rows:
        expected_loss = (previous * 1000 * 15 + 999) // 1000 / Decimal(1000)
        assert s.loss_t == expected_loss
        assert previous + s.in_t - s.out_t - s.loss_t == s.level_t
        previous = s.level_t
    assert sum(s.loss_t for s in rows) > 0


def test_one_period_without_yards_equals_the_one_shot_clearing():
    data = hand_instance(yard=False)
    del data["demands"][0]["capacity"]
    data["periods"] = ["2027-02"]
    data["lots"][0] = {**data["lots"][0], "available": {"2027-02": 100}}
    sp = seasonal_problem_from_dict(data)
    seasonal = solve_seasonal(sp)
    one_shot = solve(sp.problem)
    assert seasonal.objective_yuan == one_shot.objective_yuan


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_problems(max_lots=5, max_demands=4, categories=("slag", "ash")))
def test_single_period_matches_one_shot_on_random_markets(problem):
    sp = SeasonalProblem(problem, ["2026-07"])
    assert solve_seasonal(sp).objective_yuan == solve(problem, solver="mincostflow").objective_yuan


def test_months_wrap_the_year():
    assert months("2026-11", 4) == ("2026-11", "2026-12", "2027-01", "2027-02")
    with pytest.raises(ProblemError):
        months("2026-13")


def test_delivery_window_stops_a_demand_outside_it():
    data = hand_instance(yard=False)
    data["demands"][0].pop("capacity")
    data["demands"][0]["window_from"] = "2027-01-10"
    result = solve_seasonal(seasonal_problem_from_dict(data))
    assert {d.period for d in result.deliveries} == {"2027-01", "2027-02"}


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "mutate, entry",
    [
        (lambda d: d["lots"][0]["available"].update({"2030-01": 5}), 'lots[0] (id "CHP-A")'),
        (lambda d: d["demands"][0]["capacity"].update({"2026-11": -1}), 'demands[0] (id "KILN")'),
        (lambda d: d["storage"][0].update({"capacity_t": 0}), 'storage[0] (id "YARD")'),
        (lambda d: d["storage"][0].update({"loss_pct_per_month": 100}), 'storage[0] (id "YARD")'),
        (lambda d: d["storage"][0].pop("lon"), 'storage[0] (id "YARD")'),
        (lambda d: d["costs"][2].update({"storage": "NOPE"}), "costs[2]"),
        (lambda d: d["costs"][3].update({"lot": "CHP-B"}), "costs[3]"),
        (lambda d: d["costs"][1].update({"demand": "NOPE"}), "costs[1]"),
    ],
)
def test_bad_seasonal_input_names_the_entry(mutate, entry):
    data = hand_instance()
    mutate(data)
    with pytest.raises(ProblemError) as err:
        seasonal_problem_from_dict(data)
    assert str(err.value).startswith(entry)


def test_a_yard_holds_one_category():
    data = hand_instance()
    data["lots"].append({"id": "SLAG", "category": "steel_slag", "tonnes": 10})
    data["costs"].append({"storage": "YARD", "lot": "SLAG", "yuan_per_t": 1})
    with pytest.raises(ProblemError, match="one category"):
        seasonal_problem_from_dict(data)


def test_a_pooled_yard_refuses_a_lot_one_of_its_buyers_would_refuse():
    data = hand_instance()
    data["demands"][0]["quality_limits"] = {"loi": [None, 5]}
    data["lots"][0]["quality"] = {"loi": 8}
    result = solve_seasonal(seasonal_problem_from_dict(data))
    assert not result.stored and result.objective_yuan == 0


def test_cli_prints_periods_storage_and_prices(tmp_path, capsys):
    path = tmp_path / "season.json"
    path.write_text(json.dumps(hand_instance()))
    assert main(["solve", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["objective_yuan"] == 9900.0 and out["periods"] == WINTER
    assert {a["period"] for a in out["allocations"]} == {"2027-02"}
    assert {"id", "period", "in_t", "out_t", "level_t"} <= set(out["storage"][0])
    assert out["demand_prices"] == {"KILN": {"2027-02": 31.0}}


def test_cli_exits_2_on_bad_seasonal_input(tmp_path, capsys):
    data = hand_instance()
    data["storage"][0]["cost_yuan_per_t_month"] = -1
    path = tmp_path / "season.json"
    path.write_text(json.dumps(data))
    assert main(["solve", str(path)]) == 2
    assert 'storage[0] (id "YARD")' in capsys.readouterr().err


# ----------------------------------------------------------------------------- random instances


@st.composite
def seasonal_dicts(draw):
    """Random instances in the file contract: two categories, 2–5 months, stopped months, own and shared yards."""
    n_t = draw(st.integers(2, 5))
    periods = list(months("2026-10", n_t))
    cats = ("fly_ash", "slag")
    n_l, n_d = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    kg = st.integers(0, 200_000)
    lots = [
        {
            "id": f"L{i}",
            "category": draw(st.sampled_from(cats)),
            "reserve_yuan_per_t": draw(st.integers(-5000, 500)) / 100,
            "available": {p: draw(kg) / 1000 for p in periods},
        }
        for i in range(n_l)
    ]
    for lot in lots:
        lot["available"][periods[0]] += 1  # every lot holds some tonnes
    demands = [
        {
            "id": f"D{j}",
            "category": draw(st.sampled_from(cats)),
            "tonnes": draw(st.integers(1, 300_000)) / 1000,
            "price_yuan_per_t": draw(st.integers(-2000, 8000)) / 100,
            "capacity": {p: 0 for p in periods if draw(st.booleans())},
        }
        for j in range(n_d)
    ]
    costs = [
        {"lot": lo["id"], "demand": d["id"], "yuan_per_t": draw(st.integers(0, 5000)) / 100}
        for lo in lots
        for d in demands
        if draw(st.booleans())
    ]
    storage = []
    for lo in lots:
        if draw(st.booleans()):
            storage.append(
                {
                    "id": f"own-{lo['id']}",
                    "lot": lo["id"],
                    "capacity_t": draw(st.integers(1, 150_000)) / 1000,
                    "cost_yuan_per_t_month": draw(st.integers(0, 300)) / 100,
                }
            )
    for c in cats:
        if draw(st.booleans()):
            yard = f"yard-{c}"
            storage.append(
                {
                    "id": yard,
                    "lon": 126.0,
                    "lat": 45.0,
                    "category": c,
                    "capacity_t": draw(st.integers(1, 300_000)) / 1000,
                    "cost_yuan_per_t_month": draw(st.integers(0, 300)) / 100,
                }
            )
            for lo in lots:
                if lo["category"] == c and draw(st.booleans()):
                    costs.append({"storage": yard, "lot": lo["id"], "yuan_per_t": draw(st.integers(0, 3000)) / 100})
            for d in demands:
                if d["category"] == c and draw(st.booleans()):
                    costs.append({"storage": yard, "demand": d["id"], "yuan_per_t": draw(st.integers(0, 3000)) / 100})
    return {"periods": periods, "lots": lots, "demands": demands, "costs": costs, "storage": storage}


def independent_lp(data: dict) -> float:
    """The same plan as an LP in tonnes and yuan, written from the file contract alone (scipy HiGHS)."""
    from scipy.optimize import linprog

    lp = _LP(data)
    if not lp.obj:
        return 0.0
    res = linprog(
        -np.array(lp.obj),
        A_ub=lp.matrix(lp.ub),
        b_ub=[b for _, b in lp.ub],
        A_eq=lp.matrix(lp.eq) if lp.eq else None,
        b_eq=[b for _, b in lp.eq] or None,
        bounds=lp.bounds,
        method="highs",
    )
    assert res.status == 0, res.message
    return -res.fun


class _LP:
    """Columns: direct x, into-yard, out-of-yard per period, carry per yard and month-end; rows as {col: coef}."""

    def __init__(self, data):
        periods = data["periods"]
        lots = {lo["id"]: lo for lo in data["lots"]}
        dems = {d["id"]: d for d in data["demands"]}
        direct = [
            c
            for c in data["costs"]
            if "storage" not in c and lots[c["lot"]]["category"] == dems[c["demand"]]["category"]
        ]
        into, out = [], []
        into += [(c["storage"], c["lot"], c["yuan_per_t"]) for c in data["costs"] if "storage" in c and "lot" in c]
        out += [(c["storage"], c["demand"], c["yuan_per_t"]) for c in data["costs"] if "storage" in c and "demand" in c]
        self.obj, self.bounds, self.ub, self.eq = [], [], [], []
        lot_row = {(i, p): {} for i in lots for p in periods}
        dem_row = {(j, p): {} for j in dems for p in periods}
        yard_row = {(s["id"], p): {} for s in data["storage"] if "lot" not in s for p in periods}
        for p in periods:
            for c in direct:
                i, j = c["lot"], c["demand"]
                col = self._col(dems[j]["price_yuan_per_t"] - c["yuan_per_t"] - lots[i]["reserve_yuan_per_t"])
                lot_row[i, p][col] = dem_row[j, p][col] = 1.0
            for y, i, fee in into:
                col = self._col(-lots[i]["reserve_yuan_per_t"] - fee)
                lot_row[i, p][col] = yard_row[y, p][col] = 1.0
            for y, j, fee in out:
                col = self._col(dems[j]["price_yuan_per_t"] - fee)
                dem_row[j, p][col] = 1.0
                yard_row[y, p][col] = -1.0
        for s in data["storage"]:
            for k, p in enumerate(periods[:-1]):
                col = self._col(-s["cost_yuan_per_t_month"], s["capacity_t"])
                if "lot" in s:  # an own yard keeps stock at the gate: it leaves one month's row for the next's
                    lot_row[s["lot"], p][col] = 1.0
                    lot_row[s["lot"], periods[k + 1]][col] = -1.0
                else:
                    yard_row[s["id"], p][col] = -1.0
                    yard_row[s["id"], periods[k + 1]][col] = 1.0
        self.ub = [(r, lots[i]["available"].get(p, 0)) for (i, p), r in lot_row.items()]
        self.ub += [(r, dems[j]["capacity"].get(p, dems[j]["tonnes"])) for (j, p), r in dem_row.items()]
        self.eq = [(r, 0.0) for r in yard_row.values()]

    def _col(self, value, upper=None) -> int:
        self.obj.append(value)
        self.bounds.append((0, upper))
        return len(self.obj) - 1

    def matrix(self, rows):
        m = np.zeros((len(rows), len(self.obj)))
        for k, (coefs, _) in enumerate(rows):
            for col, v in coefs.items():
                m[k, col] = v
        return m


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seasonal_dicts())
def test_random_plans_keep_the_invariants_and_match_an_independent_lp(data):
    result = solve_seasonal(seasonal_problem_from_dict(data))
    assert result.status == "optimal"
    assert float(result.objective_yuan) == pytest.approx(independent_lp(data), abs=0.02)
    assert_lots_balance(data, result)
    assert_stopped_kilns_get_nothing(data, result)
    assert_yards_balance(data, result)


def _add(totals: dict, key, tonnes) -> None:
    totals[key] = totals.get(key, 0) + tonnes


def assert_lots_balance(data, result) -> None:
    """Every lot's tonnes in every period are delivered, stored or disposed of — exactly."""
    placed = {}
    for d in result.deliveries:
        if d.storage_id is None:
            _add(placed, (d.lot_id, d.period), d.tonnes)
    for p, lot, _, t in result.stored:
        _add(placed, (lot, p), t)
    for p, lot, t in result.unplaced:
        _add(placed, (lot, p), t)
    own_yard = {s["id"]: s["lot"] for s in data["storage"] if "lot" in s}
    for s in result.storage:  # stock an own yard gives back ships as the lot's own delivery
        if s.storage_id in own_yard:
            _add(placed, (own_yard[s.storage_id], s.period), -s.out_t)
    for lo in data["lots"]:
        for p in data["periods"]:
            assert placed.get((lo["id"], p), 0) == Decimal(str(lo["available"][p])).quantize(Decimal("0.001"))


def assert_stopped_kilns_get_nothing(data, result) -> None:
    """Nothing reaches a stopped kiln; no demand gets more than its month's capacity."""
    received = {}
    for d in result.deliveries:
        _add(received, (d.demand_id, d.period), d.tonnes)
    for dem in data["demands"]:
        for p in data["periods"]:
            limit = dem["capacity"].get(p, dem["tonnes"])
            assert received.get((dem["id"], p), 0) <= Decimal(str(limit))
            assert limit > 0 or (dem["id"], p) not in received


def assert_yards_balance(data, result) -> None:
    """Yards balance month by month, stay within capacity and end empty."""
    capacity = {s["id"]: Decimal(str(s["capacity_t"])) for s in data["storage"]}
    previous = {}
    for s in result.storage:
        before = previous.get(s.storage_id, Decimal(0))
        assert before + s.in_t - s.out_t - s.loss_t == s.level_t
        assert 0 <= s.level_t <= capacity[s.storage_id]
        previous[s.storage_id] = s.level_t
    assert all(level == 0 for level in previous.values())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seasonal_dicts())
def test_monthly_prices_are_non_negative_and_priced_where_flow_runs(data):
    result = solve_seasonal(seasonal_problem_from_dict(data))
    for table in (result.lot_prices, result.demand_prices, result.storage_prices):
        for per in table.values():
            assert all(v >= 0 for v in per.values())
    for d in result.deliveries:
        if d.storage_id is None:
            # Complementary slackness on a used direct arc: u_it + v_jt = s_ij.
            u = result.lot_prices[d.lot_id][d.period]
            v = result.demand_prices[d.demand_id][d.period]
            assert u + v == d.surplus_yuan_per_t


def test_cli_table_shows_months_and_yard_levels(tmp_path, capsys):
    path = tmp_path / "season.json"
    path.write_text(json.dumps(hand_instance()))
    assert main(["solve", str(path)]) == 0
    out = capsys.readouterr().out
    assert "total surplus: 9,900.00 yuan" in out and "yard YARD" in out and "2026-11 CHP-B: 50.000 t" in out


@pytest.mark.parametrize("capacity", [150, 250])
def test_with_a_realistic_loss_the_plan_is_within_a_tenth_of_a_percent_of_the_exact_generalised_lp(capacity):
    """The exact optimum with loss is a generalised flow (gain 1 − λ on carry arcs), solved here as an LP.

    Per tonne (yuan): CHP-A direct in February 35; into the yard 30 − 2 = 28; out to the kiln 10 − 3 = 7;
    carried a month −2. The kiln takes 300 t in February only.
    """
    from scipy.optimize import linprog

    data = hand_instance(loss_pct=1.5)
    data["storage"][0]["capacity_t"] = capacity
    ours = solve_seasonal(seasonal_problem_from_dict(data))
    n_t, gain = 4, 1 - 0.015
    direct, into, out, carry = (lambda t: t), (lambda t: n_t + t), (lambda t: 2 * n_t + t), (lambda t: 3 * n_t + t)
    n = 4 * n_t - 1
    c = np.zeros(n)
    a_ub, b_ub, a_eq = np.zeros((2 * n_t, n)), [], np.zeros((n_t, n))
    for t in range(n_t):
        c[[direct(t), into(t), out(t)]] = (35, 28, 7)
        a_ub[t, [direct(t), into(t)]] = 1
        a_ub[n_t + t, [direct(t), out(t)]] = 1
        a_eq[t, into(t)], a_eq[t, out(t)] = 1, -1
        if t:
            a_eq[t, carry(t - 1)] = gain
        if t < n_t - 1:
            c[carry(t)] = -2
            a_eq[t, carry(t)] = -1
    b_ub = [100] * n_t + [0, 0, 0, 300]
    bounds = [(0, None)] * (3 * n_t) + [(0, capacity)] * (n_t - 1)
    exact = -linprog(-c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[0] * n_t, bounds=bounds, method="highs").fun
    assert ours.status == "feasible"
    assert abs(float(ours.objective_yuan) - exact) <= 0.001 * exact
