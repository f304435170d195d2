"""Distances against published mileages (geo/data/reference_distances.csv): error report and the issue's goals.

Each row says where its two ends are (`from_at`, `to_at`): `station:<name>` (stations.csv), `seat:<name>`
(seats.csv), or `unplaced: <why>` when the source names an end (an interchange, a border crossing) that the
data here cannot put on the map. Only rows with both ends placed are compared; unplaced rows are listed so
the sources found are not lost, and so that placing them later is a data change, not a code change.
"""

import numpy as np
import pandas as pd
import pytest

from geo.boundaries import DATA_DIR, seats, stations
from geo.distance import haversine_km
from geo.network import road_km_matrix
from geo.rail import rail_network

REFERENCE = pd.read_csv(DATA_DIR / "reference_distances.csv")
ENDS = ["from_lon", "from_lat", "to_lon", "to_lat"]
PLACED = REFERENCE[ENDS].notna().all(axis=1)
# The issue's goals for each mode.
GOAL_MAE, GOAL_MAX, GOAL_BIAS = 0.06, 0.12, 0.03
# What the OSM networks achieve today (see geo/data/README.md, "Accuracy"): a regression
# bound, looser than the goals, that a change making distances worse must not cross.
HELD_MAE, HELD_MAX = {"road": 0.14, "rail": 0.10}, {"road": 0.28, "rail": 0.16}
# Placed rows per mode needed before the error figures mean something.
ENOUGH_ROWS = {"road": 12, "rail": 10}


def model_km(row) -> float:
    """The model's distance for one reference row (rail: between the named railheads)."""
    if row["mode"] == "rail":
        return rail_network().km(row["from"], row["to"])
    return float(road_km_matrix([row.from_lon], [row.from_lat], [row.to_lon], [row.to_lat])[0, 0])


def errors(mode: str) -> pd.DataFrame:
    """Per-row relative error (model ÷ published − 1) with the great circle, placed rows only."""
    rows = REFERENCE[(REFERENCE["mode"] == mode) & PLACED]
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
    unplaced = REFERENCE[(REFERENCE["mode"] == mode) & ~PLACED]
    if len(unplaced):
        print(
            f"{mode}, sourced but not compared (an end not placed): "
            + "; ".join(f"{r['from']}–{r['to']} {r.published_km:g} km" for _, r in unplaced.iterrows())
        )
    return stats


def test_every_reference_row_names_its_source_and_its_ends():
    assert REFERENCE["source"].str.len().min() > 10 and set(REFERENCE["mode"]) == {"road", "rail"}
    for side in ("from", "to"):
        at = REFERENCE[f"{side}_at"]
        assert at.str.match(r"^(station:|seat:|unplaced: .{8,})").all()
        # an end is placed exactly when it says where it is
        placed = REFERENCE[[f"{side}_lon", f"{side}_lat"]].notna().all(axis=1)
        assert (placed == ~at.str.startswith("unplaced")).all()


def test_placed_ends_are_where_they_say():
    """`station:X` and `seat:X` ends carry exactly that place's WGS84 position from geo/data."""
    where = {f"station:{r['name']}": (r.lon, r.lat) for _, r in stations().iterrows()}
    where |= {f"seat:{r['name']}": (r.lon, r.lat) for _, r in seats().iterrows()}
    for side in ("from", "to"):
        for _, r in REFERENCE[REFERENCE[f"{side}_at"].str.match("^(station|seat):")].iterrows():
            at = r[f"{side}_at"]
            assert where[at] == pytest.approx((r[f"{side}_lon"], r[f"{side}_lat"]), abs=1e-6), at


def test_rail_rows_run_between_stations():
    rail = REFERENCE[REFERENCE["mode"] == "rail"]
    assert (rail.from_at == "station:" + rail["from"]).all() and (rail.to_at == "station:" + rail["to"]).all()


@pytest.mark.parametrize("mode", ["road", "rail"])
def test_no_modelled_distance_is_shorter_than_the_great_circle(mode):
    e = errors(mode)
    assert (e.model_km >= e.great_circle_km).all()


@pytest.mark.parametrize("mode", ["road", "rail"])
def test_error_stays_within_the_measured_bounds(mode):
    stats = report(mode)
    assert np.isfinite(stats["mae"]) and stats["mae"] <= HELD_MAE[mode] and stats["max"] <= HELD_MAX[mode]


# Road misses the goals on the placed rows (see geo/data/README.md, "Accuracy"): most of their ends
# are seats standing in for interchanges the sources do not locate, and the package's road graph
# has gaps (dead ends) on two of the worst rows.
ROAD_NOT_MET = pytest.mark.xfail(
    strict=True, reason="road goals not met: 10 placed rows, MAE 11.6 %, max 26.6 % (二龙山–虎林), bias +2.2 %"
)


@pytest.mark.parametrize("mode", [pytest.param("road", marks=ROAD_NOT_MET), "rail"])
def test_error_meets_the_issue_goals(mode):
    stats = report(mode)
    assert stats["mae"] <= GOAL_MAE, f"{mode} MAE {stats['mae']:.1%} > {GOAL_MAE:.0%}"
    assert stats["max"] <= GOAL_MAX, f"{mode} max {stats['max']:.1%} > {GOAL_MAX:.0%}"
    assert abs(stats["bias"]) <= GOAL_BIAS, f"{mode} bias {stats['bias']:+.1%} beyond ±{GOAL_BIAS:.0%}"


ROAD_TOO_FEW = pytest.mark.xfail(
    strict=True, reason="only 10 road rows have both ends placed (21 sourced); see geo/data/README.md, Accuracy"
)


@pytest.mark.parametrize("mode", [pytest.param("road", marks=ROAD_TOO_FEW), "rail"])
def test_reference_table_covers_enough_pairs(mode):
    """Enough distinct, placed pairs per mode for the error figures to mean something."""
    rows = REFERENCE[(REFERENCE["mode"] == mode) & PLACED]
    pairs = {frozenset(p) for p in zip(rows["from"], rows["to"], strict=True)}
    assert len(pairs) == len(rows) >= ENOUGH_ROWS[mode]
