"""Base dashboards and the province: permissions, charts' data, exports, targets and the evaluation register."""
import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from models import (
    Allocation,
    Award,
    BaseTarget,
    EnterpriseEvaluation,
    GenerationReport,
    MatchRun,
    OrganizationRole,
)
from tests.conftest import csrf_token
from tests.factories import (
    FacilityFactory,
    GenerationReportFactory,
    LotFactory,
    OrganizationFactory,
    UserFactory,
    category,
    resource_base,
)


def _officer(code):
    base = resource_base(code)
    org = OrganizationFactory(base_id=base.id, roles=[OrganizationRole(role="base_operator")])
    return UserFactory(role="base_officer", organization=org)


def _regulator():
    return UserFactory(role="regulator", organization=OrganizationFactory(roles=[OrganizationRole(role="regulator")]))


@pytest.fixture
def daqing_data(reference):
    base = resource_base("daqing")
    plant = FacilityFactory(base_id=base.id, prefecture_code=base.prefecture_code, lon=125.1, lat=46.6)
    recycler = FacilityFactory(kind="recycler", lon=126.6, lat=45.8)
    for month in range(1, 13):
        GenerationReportFactory(facility=plant, period=dt.date(2025, month, 1), generated_t=Decimal(100),
                                self_utilised_t=Decimal(55))
    lot = LotFactory(facility=plant)
    run = MatchRun(status="succeeded")
    reference.session.add(run)
    reference.session.flush()
    allocation = Allocation(run_id=run.id, lot_id=lot.id, facility_id=recycler.id, tonnes=Decimal(300),
                            price_yuan_per_t=Decimal(50), reserve_yuan_per_t=Decimal(10),
                            transport_yuan_per_t=Decimal(20), transport_cost_yuan=Decimal(6000),
                            surplus_yuan=Decimal(6000), status="accepted")
    reference.session.add(allocation)
    reference.session.flush()
    reference.session.add(Award(allocation_id=allocation.id, tonnes=Decimal(300), price_yuan_per_t=Decimal(50),
                                freight_yuan_per_t=Decimal(20), netback_yuan_per_t=Decimal(30),
                                recycler_pays_yuan=Decimal(15000), freight_yuan=Decimal(6000),
                                producer_receives_yuan=Decimal(9000), awarded_at=dt.datetime(2025, 5, 1, 8, 0,
                                                                                           tzinfo=dt.UTC)))
    reference.session.commit()
    return reference


def test_an_officer_of_jixi_gets_403_on_daqing(client, auth, daqing_data):
    auth.login(_officer("jixi").email)
    assert client.get("/bases/daqing").status_code == 403
    assert client.get("/bases/daqing/data.json").status_code == 403
    assert client.get("/bases/daqing/export.csv").status_code == 403
    assert client.get("/bases/province").status_code == 403
    assert client.get("/bases/jixi?year=2025").status_code == 200


def test_an_officer_is_sent_to_its_own_base(client, auth, daqing_data):
    auth.login(_officer("daqing").email)
    response = client.get("/bases")
    assert response.status_code == 302 and response.headers["Location"].endswith("/bases/daqing")
    page = client.get("/bases/daqing?year=2025").get_data(as_text=True)
    assert "55.0 %" in page and "gufei-rate-chart" in page and "<script>" not in page


def test_producers_and_anonymous_users_do_not_see_dashboards(client, auth, daqing_data):
    assert client.get("/bases/daqing").status_code == 302  # to the login page
    auth.login(UserFactory(role="producer").email)
    assert client.get("/bases/daqing").status_code == 403


def test_the_regulator_sees_the_province_and_every_base(client, auth, daqing_data):
    auth.login(_regulator().email)
    for path in ("/bases", "/bases/province?year=2025", "/bases/daqing?year=2025", "/bases/daqing/warnings",
                 "/bases/daqing/missing?month=2025-06", "/bases/daqing/targets", "/bases/daqing/scenarios",
                 "/bases/evaluations", "/bases/reports"):
        assert client.get(path).status_code == 200, path


def test_chart_data_has_rate_and_target_trajectory(client, auth, daqing_data):
    auth.login(_officer("daqing").email)
    data = client.get("/bases/daqing/data.json?year=2025").get_json()
    assert data["periods"][12:] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert data["total"][12] == 0.55 and data["target"][23] == 0.6
    assert data["by_category"]["generated_t"] == [1200.0]


def test_exports_open_in_openpyxl_and_parse_as_geojson(client, auth, daqing_data):
    auth.login(_officer("daqing").email)
    book = load_workbook(io.BytesIO(client.get("/bases/daqing/export.xlsx?year=2025").data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "category" and rows[1][0] == "coal_gangue"
    assert rows[1][rows[0].index("rate")] == pytest.approx(0.55)
    csv_text = client.get("/bases/daqing/export.csv?year=2025").data.decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("coal_gangue,")
    geojson = json.loads(client.get("/bases/daqing/flows.geojson?year=2025").data)
    assert geojson["type"] == "FeatureCollection"
    [feature] = geojson["features"]
    assert feature["geometry"]["coordinates"] == [[125.1, 46.6], [126.6, 45.8]]
    assert feature["properties"]["tonnes"] == 300.0
    assert client.get("/bases/jixi/flows.geojson?year=2025").status_code == 403


def test_flows_carry_the_mode_and_the_category_name_for_the_map(client, auth, daqing_data):
    """The dashboard map colours flows by mode (as its legend says) and names categories in the page's language."""
    auth.login(_officer("daqing").email)
    [road] = json.loads(client.get("/bases/daqing/flows.geojson?year=2025").data)["features"]
    assert road["properties"]["mode"] == "road" and road["properties"]["category_name"] == "粉煤灰"
    daqing_data.session.scalar(sa.select(Allocation)).rail_km = 310.0
    daqing_data.session.commit()
    url = "/bases/daqing/flows.geojson?year=2025&lang=en"
    [rail] = json.loads(client.get(url).data)["features"]
    assert rail["properties"]["mode"] == "rail" and rail["properties"]["category_name"] == "Fly ash"
    page = client.get("/bases/daqing?year=2025&lang=en").get_data(as_text=True)
    assert 'data-label-rail="by rail (road legs at both ends)"' in page


def test_exports_leave_the_tax_figure_empty_where_the_law_names_no_rate(client, auth, daqing_data):
    # Desulphurisation gypsum falls under the annex's 其他固体废物, whose scope the province fixes: the page shows
    # "—", so the export must not claim an exemption of 0.00 yuan for it (coal gangue's 5 yuan/t line is named).
    plant = daqing_data.session.scalar(sa.select(GenerationReport).limit(1)).facility
    plant.organization.is_demo = True  # the month filed below is then a demo figure
    GenerationReportFactory(facility=plant, category=category("fgd_gypsum"), period=dt.date(2025, 3, 1),
                            generated_t=Decimal(100), self_utilised_t=Decimal(100))
    auth.login(_officer("daqing").email)
    rows = list(csv.reader(client.get("/bases/daqing/export.csv?year=2025").data.decode("utf-8-sig").splitlines()))
    column = rows[0].index("env_tax_exemption_yuan")
    by_code = {r[0]: r[column] for r in rows[1:] if len(r) > column}
    assert by_code["coal_gangue"] == "3300.00" and by_code["fgd_gypsum"] == ""  # 12 × 55 t × 5 yuan/t
    book = load_workbook(io.BytesIO(client.get("/bases/daqing/export.xlsx?year=2025").data))
    sheet = list(book.active.iter_rows(values_only=True))
    assert {r[0]: r[column] for r in sheet[1:] if len(r) > column}["fgd_gypsum"] is None
    # The demo note closes the table, so in Chinese it speaks of "this table's" figures, not "the following".
    last = client.get("/bases/daqing/export.csv?year=2025&lang=zh_CN").data.decode("utf-8-sig").splitlines()[-1]
    assert last.startswith("演示数据：本表数字")


def test_the_flows_geojson_marks_deliveries_of_demo_organisations(client, auth, daqing_data):
    # The downloaded file travels without the dashboard's banner: each line says whether it is invented.
    auth.login(_officer("daqing").email)
    [feature] = json.loads(client.get("/bases/daqing/flows.geojson?year=2025").data)["features"]
    assert feature["properties"]["demo"] is False
    plant = daqing_data.session.scalar(sa.select(GenerationReport).limit(1)).facility
    plant.organization.is_demo = True
    daqing_data.session.commit()
    [feature] = json.loads(client.get("/bases/daqing/flows.geojson?year=2025").data)["features"]
    assert feature["properties"]["demo"] is True


def test_a_base_without_targets_of_its_own_says_the_provinces_target_is_assumed(client, auth, daqing_data):
    # No source gives Daqing a target of its own: the dashboard, its chart and the API say that the province's
    # 60 % is applied to the base as an assumption; once the base has its own target, they no longer do.
    auth.login(_regulator().email)
    page = client.get("/bases/daqing?year=2025&lang=en").get_data(as_text=True)
    assert "The province's target, applied to this base as an assumption" in page
    assert "assumed" in client.get("/bases/daqing/data.json?year=2025&lang=en").get_json()["labels"]["target"]
    assert "as an assumption" not in client.get("/bases/province?year=2025&lang=en").get_data(as_text=True)
    daqing_data.session.add(BaseTarget(base_id=resource_base("daqing").id, family="bulk_industrial", year=2025,
                                       target_rate=Decimal("0.65"), source="大庆基地实施方案（示例）"))
    daqing_data.session.commit()
    page = client.get("/bases/daqing?year=2025&lang=en").get_data(as_text=True)
    assert "as an assumption" not in page
    assert "assumed" not in client.get("/bases/daqing/data.json?year=2025&lang=en").get_json()["labels"]["target"]


def test_only_the_regulator_sets_targets(client, auth, daqing_data):
    auth.login(_officer("daqing").email)
    assert client.post("/bases/daqing/targets", data={"family": "bulk_industrial", "year": 2026,
                                                      "target_pct": 62}).status_code in (400, 403)
    auth.logout()
    auth.login(_regulator().email)
    token = csrf_token(client, "/bases/daqing/targets")
    response = client.post("/bases/daqing/targets", data={"csrf_token": token, "family": "bulk_industrial",
                                                          "year": 2026, "target_pct": "62.5"})
    assert response.status_code == 302
    target = daqing_data.session.scalar(sa.select(BaseTarget).where(BaseTarget.year == 2026,
                                                                     BaseTarget.base_id == resource_base("daqing").id))
    assert target.target_rate == Decimal("0.6250")


def test_the_regulator_edits_the_evaluation_register(client, auth, daqing_data):
    enterprise = OrganizationFactory(name="评价企业")
    auth.login(_regulator().email)
    token = csrf_token(client, "/bases/evaluations")
    bad = client.post("/bases/evaluations", data={"csrf_token": token, "organization": enterprise.id,
                                                  "status": "evaluated", "note": "keep me"})
    assert bad.status_code == 200 and "keep me" in bad.get_data(as_text=True)
    ok = client.post("/bases/evaluations", data={"csrf_token": token, "organization": enterprise.id,
                                                 "status": "evaluated", "evaluated_on": "2025-06-30"})
    assert ok.status_code == 302
    evaluation = daqing_data.session.scalar(sa.select(EnterpriseEvaluation))
    assert evaluation.status == "evaluated"
    page = client.get("/bases/evaluations").get_data(as_text=True)
    assert "300" in page and "评价企业" in page
    response = client.post(f"/bases/evaluations/{evaluation.id}", data={
        "csrf_token": token, "organization": enterprise.id, "status": "rejected"})
    assert response.status_code == 302


def test_the_register_marks_invented_evaluations_of_demo_organisations(client, auth, daqing_data):
    # The seed lists real enterprises (e.g. 哈尔滨石化公司) with invented evaluation statuses: each entry of a demo
    # organisation carries the demo mark, and so does the count against the 300 when it includes one.
    from app.services import evaluations

    real = OrganizationFactory(name="真实评价企业")
    daqing_data.session.add(EnterpriseEvaluation(organization_id=real.id, status="evaluated",
                                                 evaluated_on=dt.date(2025, 3, 1)))
    daqing_data.session.commit()
    auth.login(_regulator().email)
    assert evaluations.progress(daqing_data.session)["demo"] is False
    page = client.get("/bases/evaluations?lang=en").get_data(as_text=True)
    assert "demo-mark" not in page
    invented = OrganizationFactory(name="哈尔滨石化公司", is_demo=True)
    daqing_data.session.add(EnterpriseEvaluation(organization_id=invented.id, status="evaluated",
                                                 evaluated_on=dt.date(2025, 4, 1)))
    daqing_data.session.commit()
    assert evaluations.progress(daqing_data.session)["demo"] is True
    page = client.get("/bases/evaluations?lang=en").get_data(as_text=True)
    assert "These figures include invented demo data" in page
    [row] = [r for r in page.split("<tr>")[1:] if "哈尔滨石化公司" in r]
    assert 'demo-mark">Demo<' in row
    [row] = [r for r in page.split("<tr>")[1:] if "真实评价企业" in r]
    assert "demo-mark" not in row


def test_an_officer_reads_but_cannot_edit_the_register(client, auth, daqing_data):
    auth.login(_officer("daqing").email)
    assert client.get("/bases/evaluations").status_code == 200
    token = csrf_token(client, "/bases/daqing/scenarios")
    assert client.post("/bases/evaluations", data={"csrf_token": token, "status": "applied"}).status_code == 403
