"""The benchmarks' category codes are the catalogue's (app/data/catalogue.csv is the one source)."""

import csv
import importlib
import pkgutil

import pytest

import bench
from geo.rates import CATALOGUE_CSV

with CATALOGUE_CSV.open(encoding="utf-8") as _fh:
    CATALOGUE_CODES = {row["code"] for row in csv.DictReader(_fh)}


def _bench_category_lists() -> dict[str, object]:
    """Every module-level *CATEGORIES list or set of every bench module, by 'module.NAME'."""
    found = {}
    for info in pkgutil.iter_modules(bench.__path__):
        module = importlib.import_module(f"bench.{info.name}")
        for name, value in vars(module).items():
            if name.endswith("CATEGORIES") and isinstance(value, list | tuple | set | frozenset):
                found[f"bench.{info.name}.{name}"] = value
    return found


def test_every_bench_category_code_is_in_the_catalogue():
    lists = _bench_category_lists()
    expected = {"bench.matching.CATEGORIES", "bench.seasonal.CHP_CATEGORIES", "bench.seasonal.KILN_CATEGORIES"}
    assert expected <= set(lists)
    unknown = {name: sorted(set(codes) - CATALOGUE_CODES) for name, codes in lists.items()}
    assert {name: codes for name, codes in unknown.items() if codes} == {}


def test_a_code_outside_the_catalogue_is_an_error():
    from bench.matching import catalogue_codes

    with pytest.raises(ValueError, match="construction_waste"):
        catalogue_codes(["fly_ash", "construction_waste"])


def test_the_mixed_shape_spreads_over_22_catalogue_categories_and_the_dense_one_is_fly_ash():
    from bench.matching import CATEGORIES, synthetic_market

    mixed = synthetic_market(2000, 400, shape="mixed")
    dense = synthetic_market(200, 40, shape="dense")
    assert len(set(CATEGORIES)) == 22 and len(set(mixed["lot_cat"].tolist())) > 15
    assert {CATEGORIES[c] for c in dense["lot_cat"].tolist() + dense["dem_cat"].tolist()} == {"fly_ash"}
