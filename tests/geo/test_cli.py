"""The `python -m geo route` command."""

import json
import subprocess
import sys
from pathlib import Path

from geo.cli import main

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"from", "to", "great_circle_km", "road_km", "rail_km", "cheapest_mode", "cost_yuan_per_t", "co2_kg_per_t"}


def test_json_output_has_exactly_the_documented_keys(capsys):
    assert main(["route", "齐齐哈尔", "Jixi", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == KEYS and out["cheapest_mode"] == "rail" and out["rail_km"] > 0


def test_json_rail_km_is_null_for_road_trips(capsys):
    assert main(["route", "Harbin", "双城区", "--category", "fly_ash", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cheapest_mode"] == "road" and out["rail_km"] is None


def test_lonlat_input_is_accepted(capsys):
    assert main(["route", "126.64,45.75", "125.10,46.59", "--freight-class", "general", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["from"] == "126.64,45.75"


def test_readable_output_without_json(capsys):
    assert main(["route", "Harbin", "Daqing"]) == 0
    assert "yuan/t" in capsys.readouterr().out


def test_unknown_place_exits_nonzero_with_message(capsys):
    assert main(["route", "Atlantis", "Harbin"]) != 0
    assert "unknown place" in capsys.readouterr().err


def test_unknown_category_lists_freight_classes(capsys):
    assert main(["route", "Harbin", "Daqing", "--category", "no_such_waste"]) != 0
    assert "bulk, general, hazardous, oversize" in capsys.readouterr().err


def test_every_catalogue_category_routes_including_red_mud(capsys):
    assert main(["route", "哈尔滨", "大庆", "--category", "red_mud"]) == 0
    assert "(bulk)" in capsys.readouterr().out


def test_point_outside_region_exits_nonzero(capsys):
    assert main(["route", "116.4,39.9", "Harbin"]) != 0
    assert "116.4" in capsys.readouterr().err


def test_module_entry_point_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "geo", "route", "Harbin", "Qiqihar", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and set(json.loads(proc.stdout)) == KEYS


def test_a_rail_trip_reports_the_all_road_distance(capsys):
    assert main(["route", "齐齐哈尔", "鸡西", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cheapest_mode"] == "rail"
    assert out["rail_km"] > out["great_circle_km"] and out["road_km"] > out["great_circle_km"]


def test_a_what_if_run_overrides_the_rail_tariffs_fixed_and_per_km_parts(capsys):
    assert main(["route", "哈尔滨", "佳木斯", "--json"]) == 0
    tariff = json.loads(capsys.readouterr().out)
    # Rail's fixed part per tonne and per-km part both raised: road becomes the cheaper mode.
    assert main(["route", "哈尔滨", "佳木斯", "--json", "--rates",
                 '{"rail_fixed_yuan_per_t": 60, "rail_yuan_per_tkm": 0.2}']) == 0
    dearer = json.loads(capsys.readouterr().out)
    assert tariff["cheapest_mode"] == "rail" and dearer["cheapest_mode"] == "road"
    assert dearer["cost_yuan_per_t"] > tariff["cost_yuan_per_t"]


def test_a_misspelt_rate_field_is_an_error(capsys):
    assert main(["route", "哈尔滨", "佳木斯", "--rates", '{"rail_per_km": 0.1}']) == 2
    assert "unknown freight-rate field" in capsys.readouterr().err
