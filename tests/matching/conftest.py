"""Fixtures for the matching tests."""

import pytest

from matching import Cost, Problem
from tests.matching.matching_helpers import demand, lot


@pytest.fixture
def simple_problem() -> Problem:
    """Two slag lots competing for one demand, and an ash lot whose netback is below reserve."""
    return Problem(
        [lot("L1", 100, -20), lot("L2", 50, 10), lot("L3", 30, 0, category="ash")],
        [demand("D1", 120, 30, max_haul_km=300), demand("D2", 10, 5, category="ash")],
        [Cost("L1", "D1", 20, km=100), Cost("L2", "D1", 15, km=80), Cost("L3", "D2", 50, km=40)],
    )
