"""CLI and dict input: JSON output shape, readable table, and bad input exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching import ProblemError, problem_from_dict
from matching.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
PROBLEM = {
    "lots": [
        {"id": "L1", "category": "steel_slag", "tonnes": 100, "reserve_yuan_per_t": -20},
        {
            "id": "L2",
            "category": "steel_slag",
            "tonnes": 50.5,
            "reserve_yuan_per_t": 10,
            "available_from": "2025-06-01",
        },
        {"id": "L3", "category": "fly_ash", "tonnes": 30, "reserve_yuan_per_t": 0, "quality": {"loi": 4.0}},
    ],
    "demands": [
        {"id": "D1", "category": "steel_slag", "tonnes": 120, "price_yuan_per_t": 30, "max_haul_km": 300},
        {"id": "D2", "category": "fly_ash", "tonnes": 10, "price_yuan_per_t": 5, "quality_limits": {"loi": [None, 5]}},
    ],
    "costs": [
        {"lot": "L1", "demand": "D1", "yuan_per_t": 20, "km": 100},
        {"lot": "L2", "demand": "D1", "yuan_per_t": 15, "km": 80},
        {"lot": "L3", "demand": "D2", "yuan_per_t": 50},
        {"lot": "L3", "demand": "D1", "yuan_per_t": 1},
    ],
}


def _write(tmp_path, data) -> str:
    path = tmp_path / "problem.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_json_output_has_the_documented_shape(tmp_path, capsys):
    assert main(["solve", _write(tmp_path, PROBLEM), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"status", "objective_yuan", "allocations", "unmatched", "lot_prices", "demand_prices", "seconds"} <= set(
        out
    )
    assert out["status"] == "optimal" and out["objective_yuan"] == 3100.0
    assert {"lot", "demand", "tonnes"} <= set(out["allocations"][0])
    assert {(u["lot"], u["reason"]) for u in out["unmatched"]} == {
        ("L2", "capacity_taken"),
        ("L3", "netback_below_reserve"),
    }
    assert out["lot_prices"] == {"L1": 25.0, "L2": 0.0, "L3": 0.0}


def test_table_output_is_readable(tmp_path, capsys):
    assert main(["solve", _write(tmp_path, PROBLEM), "--solver", "greedy"]) == 0
    out = capsys.readouterr().out
    assert "status: feasible" in out and "L1" in out and "unmatched:" in out


def test_negative_tonnes_exit_non_zero_naming_the_entry(tmp_path, capsys):
    bad = json.loads(json.dumps(PROBLEM))
    bad["lots"].append({"id": "L4", "category": "steel_slag", "tonnes": -5, "reserve_yuan_per_t": 0})
    assert main(["solve", _write(tmp_path, bad)]) == 2
    assert 'lots[3] (id "L4"): tonnes must be positive, got -5' in capsys.readouterr().err


def test_unknown_id_in_costs_is_named(tmp_path, capsys):
    bad = json.loads(json.dumps(PROBLEM))
    bad["costs"].append({"lot": "L9", "demand": "D1", "yuan_per_t": 1})
    assert main(["solve", _write(tmp_path, bad)]) == 2
    assert "costs[4]: unknown lot id 'L9'" in capsys.readouterr().err


def test_nan_in_the_file_is_rejected(tmp_path, capsys):
    text = json.dumps(PROBLEM).replace('"yuan_per_t": 20', '"yuan_per_t": NaN')
    assert main(["solve", _write(tmp_path, text)]) == 2
    assert "NaN" in capsys.readouterr().err


def test_malformed_json_is_rejected(tmp_path, capsys):
    assert main(["solve", _write(tmp_path, "{not json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_missing_file_is_rejected(tmp_path, capsys):
    assert main(["solve", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_module_entry_point_exits_non_zero_on_bad_input(tmp_path):
    path = _write(tmp_path, {"lots": [{"id": "L1", "category": "x", "tonnes": "abc", "reserve_yuan_per_t": 0}]})
    proc = subprocess.run(
        [sys.executable, "-m", "matching", "solve", path, "--json"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2 and 'lots[0] (id "L1"): tonnes must be a number' in proc.stderr


def test_problem_from_dict_names_a_missing_field():
    with pytest.raises(ProblemError, match=r"demands\[0\] \(id \"D\"\): missing field 'price_yuan_per_t'"):
        problem_from_dict({"demands": [{"id": "D", "category": "x", "tonnes": 1}]})


def test_problem_from_dict_rejects_unknown_fields():
    with pytest.raises(ProblemError, match=r"lots\[0\] \(id 7\): unknown fields \['colour'\]"):
        problem_from_dict({"lots": [{"id": 7, "category": "x", "tonnes": 1, "colour": "red"}]})


def test_problem_from_dict_parses_dates_and_limits():
    p = problem_from_dict(PROBLEM)
    assert str(p.lots[1].available_from) == "2025-06-01"
    assert p.demands[1].quality_limits["loi"] == (None, 5.0)
