"""Compatibility rules: each rule alone, the first rejection, and the vectorised fast path."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Cost, Problem
from matching.rules import (
    DEFAULT_RULES,
    category_matches,
    compatibility_mask,
    compatible,
    cost_entry,
    licence_covers_hazardous,
    quality_within_limits,
    windows_overlap,
    within_haul_distance,
)
from tests.matching.matching_helpers import demand, lot


def test_category_mismatch_is_rejected():
    assert category_matches(lot("L", category="ash"), demand("D")).rule == "category"
    assert category_matches(lot("L"), demand("D")) is None


def test_quality_outside_limits_is_rejected():
    d = demand("D", quality_limits={"f_cao": (None, 3.0)})
    assert quality_within_limits(lot("L", quality={"f_cao": 4.5}), d).rule == "quality"
    assert quality_within_limits(lot("L", quality={"f_cao": 2.0}), d) is None


def test_missing_quality_value_is_rejected_when_limited():
    assert quality_within_limits(lot("L"), demand("D", quality_limits={"moisture": (0, 12)})).rule == "quality"


def test_disjoint_windows_are_rejected_and_open_ends_pass():
    lo = lot("L", available_from=date(2025, 6, 1), available_to=date(2025, 6, 30))
    assert windows_overlap(lo, demand("D", window_to=date(2025, 5, 31))).rule == "time_window"
    assert windows_overlap(lo, demand("D", window_from=date(2025, 6, 30))) is None
    assert windows_overlap(lot("L"), demand("D", window_to=date(2020, 1, 1))) is None


def test_haul_beyond_limit_is_rejected_and_unknown_distance_passes():
    d = demand("D", max_haul_km=300)
    rejection = within_haul_distance(lot("L"), d, Cost("L", "D", 1, km=420))
    assert rejection.rule == "haul_distance" and "420 km exceeds its 300 km" in rejection.message
    assert within_haul_distance(lot("L"), d, Cost("L", "D", 1)) is None


def test_hazardous_lot_needs_a_licence_for_its_category():
    hazardous = lot("L", hazardous=True)
    assert licence_covers_hazardous(hazardous, demand("D")).rule == "licence"
    assert licence_covers_hazardous(hazardous, demand("D", licences=frozenset({"slag"}))) is None
    assert licence_covers_hazardous(hazardous, demand("D", licences=frozenset({"*"}))) is None


def test_compatible_returns_the_first_rejection():
    lo = lot("L", category="ash", hazardous=True)
    assert compatible(lo, demand("D")).rule == "category"
    assert compatible(lot("L"), demand("D")) is None


@st.composite
def rule_heavy_problems(draw):
    n_lots, n_dem = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    day = st.one_of(st.none(), st.integers(1, 30).map(lambda d: date(2025, 6, d)))

    def window():
        a, b = draw(day), draw(day)
        return (min(a, b), max(a, b)) if a and b else (a, b)

    lots = []
    for i in range(n_lots):
        f, t = window()
        quality = draw(st.dictionaries(st.sampled_from(["cao", "h2o"]), st.floats(0, 10), max_size=2))
        lots.append(
            lot(
                f"L{i}",
                category=draw(st.sampled_from(["a", "b"])),
                available_from=f,
                available_to=t,
                quality=quality,
                hazardous=draw(st.booleans()),
            )
        )
    demands = []
    for j in range(n_dem):
        f, t = window()
        limits = draw(
            st.dictionaries(
                st.sampled_from(["cao", "h2o"]),
                st.tuples(st.none() | st.floats(0, 5), st.none() | st.floats(5, 10)),
                max_size=1,
            )
        )
        demands.append(
            demand(
                f"D{j}",
                category=draw(st.sampled_from(["a", "b"])),
                window_from=f,
                window_to=t,
                quality_limits=limits,
                max_haul_km=draw(st.none() | st.integers(50, 300)),
                licences=frozenset(draw(st.lists(st.sampled_from(["a", "*"]), max_size=1))),
            )
        )
    costs = [
        Cost(f"L{i}", f"D{j}", 1, km=draw(st.none() | st.integers(0, 400)))
        for i in range(n_lots)
        for j in range(n_dem)
        if draw(st.booleans())
    ]
    return Problem(lots, demands, costs)


@settings(max_examples=60, deadline=None)
@given(rule_heavy_problems())
def test_vectorised_mask_agrees_with_the_scalar_rules(problem):
    mask = compatibility_mask(problem)
    t = problem.cost_table
    expected = [
        compatible(problem.lots[t.lot_index[r]], problem.demands[t.demand_index[r]], cost_entry(problem, r)) is None
        for r in range(len(t))
    ]
    assert mask.tolist() == expected
    assert compatibility_mask(problem, list(DEFAULT_RULES)[::-1]).tolist() == expected
