"""Distances against published mileages (geo/data/reference_distances.csv): error report and the issue's goals."""

import numpy as np
import pandas as pd
import pytest

from geo.boundaries import DATA_DIR
from geo.distance import haversine_km
from geo.network import road_km_matrix
from geo.rail import rail_network

REFERENCE = pd.read_csv(DATA_DIR / "reference_distances.csv")
# The issue's goals for each mode.
GOAL_MAE, GOAL_MAX, GOAL_BIAS = 0.06, 0.12, 0.03
# What the OSM networks achieve today (see geo/data/README.md, "Accuracy"): a regression
# bound, looser than the goals, that a change making distances worse must not cross.
HELD_MAE, HELD_MAX = 0.10, 0.16


def model_km(row) -> float:
    """The model's distance for one reference row (rail: between the named railheads)."""
    if row["mode"] == "rail":
        return rail_network().km(row["from"], row["to"])
    return float(road_km_matrix([row.from_lon], [row.from_lat], [row.to_lon], [row.to_lat])[0, 0])


def errors(mode: str) -> pd.DataFrame:
    """Per-row relative error (model ÷ published − 1) with the great circle."""
    rows = REFERENCE[REFERENCE["mode"] == mode]
    out = rows[["from", "to", "published_km"]].copy()
    out["model_km"] = [model_km(r) for _, r in rows.iterrows()]
    out["great_circle_km"] = np.asarray(haversine_km(rows.from_lon, rows.from_lat, rows.to_lon, rows.to_lat))
    out["error"] = out["model_km"] / out["published_km"] - 1.0
    return out


def report(mode: str) -> dict[str, float]:
    """Mean absolute, maximum absolute and signed mean error of one mode; printed for `pytest -s`."""
    e = errors(mode)
    err = e.error
    stats = {"n": len(e), "mae": float(err.abs().mean()), "max": float(err.abs().max()), "bias": float(err.mean())}
    print(f"\n{mode}: " + ", ".join(f"{k}={v:.3f}" for k, v in stats.items()))
    print(e.round(3).to_string(index=False))
    return stats


def test_every_reference_row_names_its_source():
    assert REFERENCE["source"].str.len().min() > 10 and set(REFERENCE["mode"]) == {"road", "rail"}


@pytest.mark.parametrize("mode", ["road", "rail"])
def test_no_modelled_distance_is_shorter_than_the_great_circle(mode):
    e = errors(mode)
    assert (e.model_km >= e.great_circle_km).all()


@pytest.mark.parametrize("mode", ["road", "rail"])
def test_error_stays_within_the_measured_bounds(mode):
    stats = report(mode)
    assert np.isfinite(stats["mae"]) and stats["mae"] <= HELD_MAE and stats["max"] <= HELD_MAX


# Road misses the goals on the rows found so far (see geo/data/README.md, "Accuracy"): the
# published road figures are expressway section lengths whose ends are interchanges, not the
# seats the model routes between, and the simplified OSM graph lacks some rebuilt sections.
ROAD_NOT_MET = pytest.mark.xfail(
    strict=True, reason="road goals not met: 6 rows, MAE 8.7 %, max 14.9 % (集贤–佳木斯), bias +0.9 %"
)


@pytest.mark.parametrize("mode", [pytest.param("road", marks=ROAD_NOT_MET), "rail"])
def test_error_meets_the_issue_goals(mode):
    stats = report(mode)
    assert stats["mae"] <= GOAL_MAE, f"{mode} MAE {stats['mae']:.1%} > {GOAL_MAE:.0%}"
    assert stats["max"] <= GOAL_MAX, f"{mode} max {stats['max']:.1%} > {GOAL_MAX:.0%}"
    assert abs(stats["bias"]) <= GOAL_BIAS, f"{mode} bias {stats['bias']:+.1%} beyond ±{GOAL_BIAS:.0%}"


@pytest.mark.parametrize("mode", ["road", "rail"])
def test_reference_table_covers_enough_pairs(mode):
    """Enough distinct city pairs per mode for the error figures to mean something."""
    rows = REFERENCE[REFERENCE["mode"] == mode]
    pairs = {frozenset(p) for p in zip(rows["from"], rows["to"], strict=True)}
    assert len(pairs) == len(rows) >= {"road": 6, "rail": 10}[mode]
