"""Utilisation rate: the NBS formula, crediting marketplace tonnes to the source base, targets, warnings, CLI."""
import datetime as dt
import json
from decimal import Decimal

import sqlalchemy as sa

from app.services import utilisation
from app.services.utilisation import Scope
from tests.factories import FacilityFactory, GenerationReportFactory, delivery, resource_base

D = Decimal


def test_rate_is_utilised_over_generated_plus_storage_drawn():
    assert utilisation.rate(D(90), D(100), D(0)) == D("0.9000")
    # 70 t utilised of which 20 t came from earlier years' storage: 70 / (100 + 20)
    assert utilisation.rate(D(70), D(100), D(20)) == D("0.5833")


def test_rate_with_zero_generation_but_storage_drawn_is_defined():
    assert utilisation.rate(D(10), D(0), D(10)) == D("1.0000")


def test_rate_with_zero_denominator_is_none():
    assert utilisation.rate(D(0), D(0), D(0)) is None
    assert utilisation.rate(D(5), None, None) is None


def _daqing_facility(**kw):
    base = resource_base("daqing")
    return FacilityFactory(base_id=base.id, prefecture_code=base.prefecture_code, **kw)


def test_year_table_sums_reports_by_category_with_storage(reference):
    plant = _daqing_facility()
    GenerationReportFactory(facility=plant, period=dt.date(2025, 1, 1), generated_t=D(100), self_utilised_t=D(70),
                            from_storage_t=D(20), stored_t=D(40), disposed_t=D(10))
    GenerationReportFactory(facility=plant, period=dt.date(2025, 2, 1), generated_t=D(0), self_utilised_t=D(30),
                            from_storage_t=D(30))
    GenerationReportFactory(facility=plant, period=dt.date(2024, 12, 1), generated_t=D(999))
    table = utilisation.year_table(reference.session, Scope("base", base=resource_base("daqing")), 2025, "en")
    [row] = table.rows
    assert row["category"] == "coal_gangue"
    assert (row["generated_t"], row["from_storage_t"], row["utilised_t"]) == (D(100), D(50), D(100))
    assert row["rate"] == D("0.6667")  # 100 / (100 + 50)
    assert table.total["rate"] == D("0.6667")
    assert row["env_tax_exemption_yuan"] == D("500.00")  # Art. 12 on 100 t self-utilised coal gangue at 5 yuan/t


def test_marketplace_utilisation_is_credited_to_the_source_base(reference):
    source = _daqing_facility()
    jixi = resource_base("jixi")
    recycler = FacilityFactory(kind="recycler", base_id=jixi.id, prefecture_code=jixi.prefecture_code)
    GenerationReportFactory(facility=source, period=dt.date(2025, 3, 1), generated_t=D(200), self_utilised_t=D(50),
                            supplied_t=D(70), stored_t=D(80))
    delivery(source, recycler, "coal_gangue", received=D(70), period=dt.date(2025, 3, 1))
    daqing_row = utilisation.year_table(reference.session, Scope("base", base=resource_base("daqing")), 2025).rows[0]
    assert daqing_row["market_utilised_t"] == D(70) and daqing_row["rate"] == D("0.6000")  # (50 + 70) / 200
    assert utilisation.year_table(reference.session, Scope("base", base=jixi), 2025).rows == []


def test_series_groups_by_quarter_and_leaves_empty_periods_none(reference):
    plant = _daqing_facility()
    GenerationReportFactory(facility=plant, period=dt.date(2025, 1, 1), generated_t=D(100), self_utilised_t=D(50))
    GenerationReportFactory(facility=plant, period=dt.date(2025, 3, 1), generated_t=D(100), self_utilised_t=D(70))
    data = utilisation.series(reference.session, Scope("province"), dt.date(2025, 1, 1), dt.date(2026, 1, 1), "quarter")
    assert data["periods"] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    assert data["total"] == [D("0.6000"), None, None, None]


def test_target_trajectory_is_interpolated_by_month(reference):
    by_year = utilisation.targets(reference.session, Scope("base", base=resource_base("daqing")))
    assert by_year[2025] == D("0.6000")
    assert utilisation.target_for_month(by_year, 2025, 6) == D("0.5850")
    assert utilisation.target_for_month(by_year, 2025, 12) == D("0.6000")
    assert utilisation.target_for_month(by_year, 2023, 3) == D("0.5400")
    assert utilisation.target_for_month(by_year, 2027, 1) == D("0.6000")


def test_warning_when_more_than_five_points_behind(reference):
    plant = _daqing_facility()
    GenerationReportFactory(facility=plant, period=dt.date(2025, 6, 1), generated_t=D(100), self_utilised_t=D(50))
    scope = Scope("base", base=resource_base("daqing"))
    found = utilisation.warnings(reference.session, scope, 2025, 6, "en")
    assert {w.kind for w in found} == {"behind"} and len(found) == 2  # the base and coal gangue
    plant2 = _daqing_facility()
    GenerationReportFactory(facility=plant2, period=dt.date(2025, 6, 1), generated_t=D(100), self_utilised_t=D(100))
    assert utilisation.warnings(reference.session, scope, 2025, 6, "en") == []  # 75 % ≥ 58.5 %


def test_warning_when_a_large_producers_storage_grows_three_months_running(reference):
    plant = _daqing_facility(large_producer=True)
    for month, stored in ((3, 10), (4, 20), (5, 30), (6, 40)):
        GenerationReportFactory(facility=plant, period=dt.date(2025, month, 1), generated_t=D(100),
                                self_utilised_t=D(100), stored_t=D(stored))
    found = utilisation.warnings(reference.session, Scope("province"), 2025, 6, "en")
    assert [w.kind for w in found] == ["storage"]


def test_the_rate_queries_do_not_grow_with_rows(reference):
    plants = [_daqing_facility() for _ in range(3)]
    for plant in plants:
        for month in range(1, 13):
            GenerationReportFactory(facility=plant, period=dt.date(2025, month, 1), self_utilised_t=D(60))
    statements = []
    engine = reference.session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        utilisation.year_table(reference.session, Scope("province"), 2025)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert len(statements) == 3


def test_cli_prints_json_rows_and_total(runner, reference):
    plant = _daqing_facility()
    GenerationReportFactory(facility=plant, period=dt.date(2025, 5, 1), generated_t=D(100), self_utilised_t=D(60))
    result = runner.invoke(args=["utilisation", "--base", "daqing", "--year", "2025", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["base"] == "daqing" and data["year"] == 2025
    assert data["rows"] == [{"category": "coal_gangue", "generated_t": 100.0, "from_storage_t": 0.0,
                             "utilised_t": 60.0, "rate": 0.6}]
    assert data["total"]["rate"] == 0.6
    for name in ("大庆", "Daqing", "province"):
        assert runner.invoke(args=["utilisation", "--base", name, "--year", "2025", "--json"]).exit_code == 0
    assert runner.invoke(args=["utilisation", "--base", "nowhere", "--year", "2025"]).exit_code != 0
