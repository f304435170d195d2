"""Problem model: exact units and validation errors that name the offending entry."""

from decimal import Decimal

import numpy as np
import pytest

from matching import Cost, CostTable, Lot, Problem, ProblemError
from tests.matching.matching_helpers import demand, lot


def test_tonnes_are_rounded_to_the_kilogram_and_money_to_the_fen():
    lo = Lot("L", "slag", 0.1 + 0.2, "12.345")
    assert lo.tonnes == Decimal("0.300")
    assert lo.reserve_yuan_per_t == Decimal("12.35")  # half up, as on an invoice


def test_integer_units_are_kilograms_and_fen():
    p = Problem([lot("L", "1.5", "-2.5")], [demand("D", 3, "7.25")], [Cost("L", "D", "1.01")])
    assert p.lot_kg.tolist() == [1500] and p.lot_reserve_fen.tolist() == [-250]
    assert p.demand_kg.tolist() == [3000] and p.demand_price_fen.tolist() == [725]
    assert p.cost_table.fen_per_t.tolist() == [101]


def test_problem_error_is_a_value_error():
    assert issubclass(ProblemError, ValueError)


@pytest.mark.parametrize("tonnes", [0, -5, "0.0004"])
def test_non_positive_tonnes_are_rejected(tonnes):
    with pytest.raises(ProblemError, match="tonnes must be positive"):
        lot("L", tonnes)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN", "abc", None, True])
def test_non_finite_or_non_numeric_prices_are_rejected(value):
    with pytest.raises(ProblemError, match="price_yuan_per_t"):
        demand("D", 10, value)


def test_duplicate_lot_ids_name_both_entries():
    with pytest.raises(ProblemError, match=r'lots\[1\] \(id "L"\): duplicate id'):
        Problem([lot("L"), lot("L")], [], [])


def test_unknown_ids_in_costs_name_the_cost_entry():
    with pytest.raises(ProblemError, match=r"costs\[1\]: unknown demand id 'DX'"):
        Problem([lot("L")], [demand("D")], [Cost("L", "D", 1), Cost("L", "DX", 1)])


def test_duplicate_cost_pairs_are_rejected():
    with pytest.raises(ProblemError, match=r"costs\[1\]: duplicate cost"):
        Problem([lot("L")], [demand("D")], [Cost("L", "D", 1), Cost("L", "D", 2)])


def test_cost_table_positions_out_of_range_are_rejected():
    table = CostTable(np.array([0]), np.array([3]), np.array([100]), np.array([np.nan]), np.array([np.nan]))
    with pytest.raises(ProblemError, match=r"costs\[0\]: unknown demand position 3"):
        Problem([lot("L")], [demand("D")], table)


def test_from_arrays_rejects_nan_costs():
    with pytest.raises(ProblemError, match=r"costs\[1\]"):
        Problem.from_arrays([lot("L")], [demand("D"), demand("E")], [0, 0], [0, 1], [1.0, float("nan")])


def test_from_arrays_matches_the_dataclass_costs():
    lots, demands = [lot("L1"), lot("L2")], [demand("D")]
    a = Problem.from_arrays(lots, demands, [0, 1], [0, 0], [12.34, 5.0], km=[10.0, 20.0])
    b = Problem(lots, demands, [Cost("L1", "D", "12.34", km=10), Cost("L2", "D", 5, km=20)])
    assert a.cost_table.fen_per_t.tolist() == b.cost_table.fen_per_t.tolist() == [1234, 500]


def test_window_that_ends_before_it_starts_is_rejected():
    from datetime import date

    with pytest.raises(ProblemError, match="starts"):
        lot("L", available_from=date(2025, 5, 2), available_to=date(2025, 5, 1))


def test_negative_km_is_rejected():
    with pytest.raises(ProblemError, match="km must not be negative"):
        Cost("L", "D", 1, km=-1)


def test_one_rounding_mode_half_up_for_tonnes_money_and_products():
    from matching import units
    assert units.tonnes("1.0005") == Decimal("1.001") and units.tonnes("-1.0005") == Decimal("-1.001")
    assert units.yuan("0.125") == Decimal("0.13") and units.yuan(2.675) == Decimal("2.68")  # the float's shortest repr
    assert units.money_of("12.345", "3") == Decimal("37.04")  # the exact product, rounded once (37.035)
    assert units.ratio(Decimal(2) / 3) == Decimal("0.6667") and units.round_places("7.5", 0) == Decimal(8)


def test_nothing_but_the_units_module_rounds():
    """Every kilogram and fen step goes through matching/units.py (and app/services/quantities.py, which calls it)."""
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    offenders = [f"{path.relative_to(root)}:{n}" for package in ("app", "matching", "geo", "models")
                 for path in sorted((root / package).rglob("*.py")) if path.name != "units.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"\.quantize\(|ROUND_HALF_", line)]
    assert not offenders, "round through matching.units / app.services.quantities instead:\n" + "\n".join(offenders)
