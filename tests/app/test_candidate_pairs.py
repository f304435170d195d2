"""The dense candidate-pair path (few lots × demands, e.g. a lot page's guidance) gives exactly the KD-tree's pairs."""
from types import SimpleNamespace

import numpy as np
import pytest

from app.services.clearing import problem


def _case(seed: int, n_lots: int, n_demands: int):
    rng = np.random.default_rng(seed)
    facility = rng.integers(1, 6, n_lots)
    lots = problem._Lots(
        rows=[SimpleNamespace(id=100 + k) for k in range(n_lots)],
        lon=126.6 + rng.normal(0, 1.5, n_lots), lat=45.8 + rng.normal(0, 1.0, n_lots),
        facility=facility.astype(np.int64), organization=(facility % 3).astype(np.int64),
        transfer_approved=rng.random(n_lots) < 0.5)
    demands = []
    for _ in range(n_demands):
        kind = rng.random()
        demands.append(problem._Demand(
            spec={"max_haul_km": None if kind < 0.1 else float(rng.choice([0.0, 50.0, 120.0, 300.0]))},
            facility_id=int(rng.integers(1, 8)), organization_id=int(rng.integers(0, 4)),
            lon=float(126.6 + rng.normal(0, 1.5)), lat=float(45.8 + rng.normal(0, 1.0)), prefecture=None,
            in_province=bool(rng.random() < 0.7),
            # Some bids name one lot (present or not among these lots), the rest are category-wide.
            lot_id=int(100 + rng.integers(0, n_lots + 3)) if kind > 0.8 else None))
    return lots, demands


@pytest.mark.parametrize(("seed", "n_lots", "n_demands"), [(1, 1, 400), (2, 7, 90), (3, 40, 40), (4, 1, 1),
                                                          (5, 3, 0), (6, 25, 300),
                                                          (7, 60, 700)])  # several tree passes
def test_dense_path_matches_the_tree(monkeypatch, seed, n_lots, n_demands):
    lots, demands = _case(seed, n_lots, n_demands)
    dense = problem.candidate_pairs(lots, demands)
    monkeypatch.setattr(problem, "DENSE_PAIRS_MAX", -1)  # force the KD-tree
    tree = problem.candidate_pairs(lots, demands)
    for got, want in zip(dense, tree, strict=True):
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    if n_demands > 1:
        assert len(tree[0]), "the case should pair something"


def test_own_facility_and_organisation_never_pair_on_the_dense_path():
    lots, demands = _case(9, 5, 200)
    li, di = problem.candidate_pairs(lots, demands)
    for i, j in zip(li.tolist(), di.tolist(), strict=True):
        if demands[j].lot_id is None:
            assert lots.facility[i] != demands[j].facility_id
            assert lots.organization[i] != demands[j].organization_id


def test_pricing_split_over_threads_and_blocks_gives_the_same_figures(monkeypatch):
    lots, demands = _case(11, 300, 400)
    for d in demands:
        d.spec["max_haul_km"] = 300.0
    li, di = problem.candidate_pairs(lots, demands)
    monkeypatch.setattr(problem, "_cores", lambda: 1)
    one = problem.pair_costs(lots, demands, li, di, "bulk")
    monkeypatch.setattr(problem, "_cores", lambda: 2)
    monkeypatch.setattr(problem, "PARALLEL_PAIRS_MIN", 1)
    threaded = problem.pair_costs(lots, demands, li, di, "bulk")
    monkeypatch.setattr(problem, "COST_BLOCK_ROWS", 2)  # more blocks than threads
    blocks = problem.pair_costs(lots, demands, li, di, "bulk")
    assert len(li) > 1000
    for key, want in one.items():
        np.testing.assert_array_equal(threaded[key], want)
        np.testing.assert_array_equal(blocks[key], want)


@pytest.mark.parametrize(("seed", "n_lots", "n_demands"), [(1, 1, 400), (6, 25, 300), (5, 3, 0)])
def test_a_demand_set_pairs_and_keeps_its_columns_like_a_list(seed, n_lots, n_demands):
    """Guidance's cached DemandSet (columns worked out once) gives the list's pairs, and its subsets' columns are
    those of the subset."""
    lots, demands = _case(seed, n_lots, n_demands)
    kept = problem.DemandSet(demands)
    for got, want in zip(problem.candidate_pairs(lots, kept), problem.candidate_pairs(lots, demands), strict=True):
        np.testing.assert_array_equal(got, want)
    rows = np.arange(0, n_demands, 3, dtype=np.int64)
    taken = kept.take(rows)
    fresh = problem._DemandArrays.of([demands[j] for j in rows.tolist()])
    assert list(taken) == [demands[j] for j in rows.tolist()]
    for name in ("wide", "bound", "points", "facility", "organization", "in_province", "lon", "lat", "bid_id",
                 "profile_id"):
        np.testing.assert_array_equal(getattr(taken.arrays, name), getattr(fresh, name))
