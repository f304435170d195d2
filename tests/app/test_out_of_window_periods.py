"""Rows a database kept from before reports were validated (period 9999-12, 1900-01) break no page and no API.

Reads take only the reporting window (app/services/periods.py); `flask data check` lists what lies outside it.
"""
import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.services import api_tokens, rollup
from models import GenerationReport, OrganizationRole, WasteCategory
from tests.conftest import sign_in
from tests.factories import FacilityFactory, GenerationReportFactory, OrganizationFactory, UserFactory, resource_base

ABSURD = (dt.date(9999, 12, 1), dt.date(1900, 1, 1), dt.date(2150, 6, 1))


@pytest.fixture
def polluted(reference):
    """A Daqing plant with a sane 2025 and three reports inserted straight into the table, as old data was."""
    session = reference.session
    base = resource_base("daqing")
    plant = FacilityFactory(base_id=base.id, prefecture_code=base.prefecture_code, lon=125.1, lat=46.6)
    for month in (1, 2, 3):
        GenerationReportFactory(facility=plant, period=dt.date(2025, month, 1), generated_t=Decimal(100),
                                self_utilised_t=Decimal(55))
    session.commit()
    category_id = session.scalar(sa.select(WasteCategory.id).where(WasteCategory.code == "fly_ash"))
    with reference.engine.begin() as conn:
        for period in ABSURD:
            conn.execute(sa.insert(GenerationReport.__table__).values(
                facility_id=plant.id, category_id=category_id, period=period, generated_t=Decimal(1000),
                stored_t=Decimal(0), self_utilised_t=Decimal(1000), supplied_t=Decimal(0), disposed_t=Decimal(0),
                dumped_t=Decimal(0), from_storage_t=Decimal(0)))
    return {"plant": plant, "category_id": category_id}


def _regulator():
    org = OrganizationFactory(roles=[OrganizationRole(role="regulator")])
    return UserFactory(role="regulator", organization=org, email="reg@example.com")


def _officer():
    org = OrganizationFactory(base_id=resource_base("daqing").id, roles=[OrganizationRole(role="base_operator")])
    return UserFactory(role="base_officer", organization=org, email="officer@example.com")


PAGES = ("/", "/bases/province", "/bases/daqing", "/bases/daqing/data.json", "/bases/province/data.json",
         "/bases/daqing/export.csv", "/bases/province/export.xlsx", "/bases/daqing/warnings", "/bases/daqing/missing",
         "/bases/province/warnings", "/bases/daqing/flows.geojson")
API = ("/bases/daqing/statistics", "/bases/province/statistics", "/bases/daqing/warnings",
       "/bases/daqing/missing-reports")


def test_pages_and_api_answer_and_count_only_the_window(client, db, polluted):
    regulator, officer = _regulator(), _officer()
    db.session.commit()
    sign_in(client, regulator)
    for path in PAGES:
        assert client.get(path).status_code == 200, path
    home = client.get("/").get_data(as_text=True)
    assert "9999" not in home and "2150" not in home
    sign_in(client, officer)
    assert client.get("/bases/daqing").status_code == 200
    token = api_tokens.create(db.session, regulator, "tests").secret
    for path in API:
        response = client.get("/api/v1" + path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (path, response.get_json())
    stats = client.get("/api/v1/bases/daqing/statistics?year=2025", headers={"Authorization": f"Bearer {token}"})
    assert stats.get_json()["total"]["generated_t"] == "300.000"  # the absurd 3,000 t are not counted


def test_the_default_year_is_the_latest_year_in_the_window(db, polluted):
    from app.services import utilisation

    assert utilisation.latest_report_year(db.session) == 2025
    assert utilisation.latest_month(db.session, 2025) == dt.date(2025, 3, 1)


def test_rebuilding_the_rollup_skips_rows_outside_the_window(runner, db, polluted):
    result = runner.invoke(args=["rebuild-rollup"])
    assert result.exit_code == 0, result.output
    from models import UtilisationRollup

    periods = set(db.session.scalars(sa.select(UtilisationRollup.period)))
    assert periods == {dt.date(2025, m, 1) for m in (1, 2, 3)}
    assert rollup.fill_if_missing(db.session) is False


def test_deleting_a_bad_row_through_the_orm_does_not_fail_on_its_month(db, polluted):
    bad = db.session.scalar(sa.select(GenerationReport).where(GenerationReport.period == dt.date(9999, 12, 1)))
    db.session.delete(bad)
    db.session.commit()
    assert db.session.get(GenerationReport, bad.id) is None


def test_data_check_lists_the_rows_outside_the_window(runner, db, polluted):
    result = runner.invoke(args=["data", "check"])
    assert result.exit_code == 1  # something to look at: scripts and cron can tell
    for period in ("9999-12", "1900-01", "2150-06"):
        assert period in result.output
    assert "generation_reports" in result.output and "2025-01" not in result.output
    as_json = runner.invoke(args=["data", "check", "--json"])
    import json

    found = json.loads(as_json.output)
    assert {row["period"] for row in found["generation_reports"]} == {"9999-12", "1900-01", "2150-06"}
    assert found["window"]["first"] == "2000-01"


def test_data_check_passes_a_clean_database(runner, db, reference):
    result = runner.invoke(args=["data", "check"])
    assert result.exit_code == 0 and "No rows outside" in result.output
