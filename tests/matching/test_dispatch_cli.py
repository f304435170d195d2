"""``python -m matching dispatch``: the file contract, road km from geo, and bad input exiting 2."""

import json

import pytest

from geo import road_km_matrix
from matching.__main__ import main

# Harbin, Daqing and Suihua county seats (WGS84).
POINTS = [{"id": "HRB", "lon": 126.642, "lat": 45.757}, {"id": "DQ", "lon": 125.104, "lat": 46.589},
          {"id": "SH", "lon": 126.969, "lat": 46.653}]
PROBLEM = {
    "points": POINTS,
    "km": [[0, 152.9, 120], [152.9, 0, 160], [120, 160, 0]],
    "vehicles": [{"id": "T1", "depot": "HRB", "capacity_t": 32, "cost_yuan_per_km": 4.0, "max_km": 900}],
    "loads": [{"id": "L1", "pickup": "HRB", "dropoff": "DQ", "tonnes": 30},
              {"id": "L2", "pickup": "DQ", "dropoff": "HRB", "tonnes": 28.5},
              {"id": "L3", "pickup": "SH", "dropoff": "DQ", "tonnes": 5, "divisible": False, "due_day": 0}],
    "time_limit_s": 0.5,
}


def _run(tmp_path, capsys, data, *extra):
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    code = main(["dispatch", str(path), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_answers_the_file_contract(tmp_path, capsys):
    code, out, _ = _run(tmp_path, capsys, PROBLEM, "--json")
    answer = json.loads(out)
    assert code == 0
    assert set(answer) >= {"status", "routes", "unserved", "total_km", "empty_km", "baseline_km",
                           "baseline_empty_km", "seconds"}
    assert answer["status"] in ("optimal", "feasible") and answer["unserved"] == []
    stop = answer["routes"][0]["stops"][0]
    assert set(stop) >= {"point", "load", "action", "tonnes"}
    assert set(answer["routes"][0]) >= {"vehicle", "stops", "km", "loaded_km", "empty_km", "cost_yuan"}
    assert answer["total_km"] < answer["baseline_km"] and answer["empty_km"] < answer["baseline_empty_km"]


def test_without_a_km_matrix_road_km_come_from_geo(tmp_path, capsys):
    data = {k: v for k, v in PROBLEM.items() if k != "km"}
    code, out, _ = _run(tmp_path, capsys, data, "--json")
    answer = json.loads(out)
    assert code == 0 and answer["unserved"] == []
    km = road_km_matrix([p["lon"] for p in POINTS], [p["lat"] for p in POINTS],
                        [p["lon"] for p in POINTS], [p["lat"] for p in POINTS])
    first = answer["routes"][0]["stops"][0]
    assert first["leg_km"] == pytest.approx(km[0][[p["id"] for p in POINTS].index(first["point"])], abs=0.001)
    assert 2 * km[0][1] - 0.01 <= answer["total_km"] < answer["baseline_km"]


def test_prints_a_readable_table(tmp_path, capsys):
    code, out, _ = _run(tmp_path, capsys, PROBLEM)
    assert code == 0 and "T1 day 0" in out and "pickup" in out and "baseline" in out


@pytest.mark.parametrize("data, needle", [
    ({**PROBLEM, "loads": [{"id": "L9", "pickup": "HRB", "dropoff": "XX", "tonnes": 3}]}, 'loads[0] (id "L9")'),
    ({**PROBLEM, "vehicles": [{"id": "T9", "depot": "HRB", "capacity_t": "lots", "cost_yuan_per_km": 4,
                                "max_km": 900}]}, 'vehicles[0] (id "T9")'),
    ({**PROBLEM, "vehicles": [{"id": "T9", "depot": "HRB"}]}, "missing field"),
    ({**PROBLEM, "colour": 1}, "unknown top-level keys"),
    ({k: v for k, v in PROBLEM.items() if k != "km"} | {"points": [{"id": "X", "lon": 2.0, "lat": 48.8}]}, "points"),
    ({k: v for k, v in PROBLEM.items() if k != "km"} | {"points": [{"id": "X"}]}, 'points[0] (id "X")'),
    ('{"points": [], "time_limit_s": NaN}', "non-finite"),
    ("{nope", "not valid JSON"),
])
def test_bad_input_exits_2_naming_the_entry(tmp_path, capsys, data, needle):
    code, out, err = _run(tmp_path, capsys, data, "--json")
    assert code == 2 and out == "" and needle in err


def test_hazardous_flags_are_optional_and_checked(tmp_path, capsys):
    # Two days: the one truck takes the hazardous load one day and the ordinary backhaul the other.
    data = {**PROBLEM, "days": 2, "vehicles": [{**PROBLEM["vehicles"][0], "hazardous_ok": True}],
            "loads": [{**PROBLEM["loads"][0], "hazardous": True}, PROBLEM["loads"][1]]}
    code, out, _err = _run(tmp_path, capsys, data, "--json")
    answer = json.loads(out)
    assert code == 0 and not answer["unserved"] and len(answer["routes"]) == 2
    data["vehicles"][0]["hazardous_ok"] = False
    code, out, _err = _run(tmp_path, capsys, data, "--json")
    assert code == 0 and [u["reason"] for u in json.loads(out)["unserved"]] == ["no_hazardous_vehicle"]
    for bad in ({**data, "loads": [{**PROBLEM["loads"][0], "hazardous": "yes"}]},
                {**data, "vehicles": [{**PROBLEM["vehicles"][0], "hazardous_ok": 1}]}):
        code, out, err = _run(tmp_path, capsys, bad, "--json")
        assert code == 2 and "must be true or false" in err
