"""API categories, facilities, generation reports and base statistics."""
from __future__ import annotations

from tests.api.conftest import DAQING_PLANT


def test_categories_are_listed_with_decimal_strings(apis):
    page = apis["recycler"].get("/categories", query_string={"limit": 100}).get_json()
    fly_ash = next(c for c in page["items"] if c["code"] == "fly_ash")
    assert fly_ash["env_tax_yuan_per_t"] == "25.00"
    # The catalogue's national codes: the 2024 class of general waste, the HW class and code of hazardous waste.
    oil_sludge = next(c for c in page["items"] if c["code"] == "oil_sludge")
    assert (fly_ash["national_code"], fly_ash["hw_code"]) == ("S02", None)
    assert (oil_sludge["national_code"], oil_sludge["hw_code"]) == (None, "HW08 071-001-08")


def test_facilities_are_created_located_and_private(apis):
    created = apis["producer"].post("/facilities", {**DAQING_PLANT, "system": "gcj02"})
    assert created.status_code == 201 and created.get_json()["prefecture_code"] == "230600"
    facility_id = created.get_json()["id"]
    assert [f["id"] for f in apis["producer"].get("/facilities").get_json()["items"]] == [facility_id]
    assert apis["recycler"].get(f"/facilities/{facility_id}").status_code == 403
    assert apis["regulator"].get("/facilities").status_code == 403
    assert apis["producer"].get("/facilities/999999").status_code == 404


def test_facilities_outside_the_region_or_malformed_are_refused(apis):
    outside = apis["producer"].post("/facilities", {**DAQING_PLANT, "lon": 116.4, "lat": 39.9})
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["field"] == "lon"
    assert apis["producer"].post("/facilities", {**DAQING_PLANT, "kind": "mine"}).status_code == 422
    assert apis["producer"].post("/facilities", {**DAQING_PLANT, "name": "a\x00b"}).status_code == 422


def _report(plant_id, **changes):
    return {"facility_id": plant_id, "category": "fly_ash", "period": "2026-03-15", "generated_t": "100",
            "stored_t": "50", "self_utilised_t": "50", "disposed_t": "0", **changes}


def test_generation_reports_are_filed_for_own_facilities(apis, market):
    plant = market["plant"]["id"]
    filed = apis["producer"].post("/generation-reports", _report(plant))
    assert filed.status_code == 201 and filed.get_json()["period"] == "2026-03-01"
    assert filed.get_json()["disposed_from_storage_t"] == "0.000"
    drawn = apis["producer"].post("/generation-reports", _report(plant, disposed_t="20", disposed_from_storage_t="20"))
    assert drawn.status_code == 201 and drawn.get_json()["disposed_from_storage_t"] == "20.000"
    over = apis["producer"].post("/generation-reports", _report(plant, disposed_from_storage_t="1"))
    assert over.status_code == 422 and over.get_json()["errors"][0]["field"] == "disposed_from_storage_t"
    again = apis["producer"].post("/generation-reports", _report(plant, generated_t="120", stored_t="70")).get_json()
    assert again["id"] == filed.get_json()["id"] and again["generated_t"] == "120.000"
    assert len(apis["regulator"].get("/generation-reports").get_json()["items"]) == 1
    assert apis["recycler"].post("/generation-reports", _report(plant)).status_code == 403
    assert apis["recycler"].get("/generation-reports").status_code == 403


def test_generation_reports_refuse_inconsistent_figures(apis, market):
    bad = apis["producer"].post("/generation-reports", _report(market["plant"]["id"], from_storage_t="60"))
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "from_storage_t"
    unbalanced = apis["producer"].post("/generation-reports", _report(market["plant"]["id"], stored_t="10"))
    assert unbalanced.status_code == 422
    problem = unbalanced.get_json()
    assert problem["errors"][0]["field"] == "generated_t" and "相差 40 吨" in problem["errors"][0]["message"]
    unknown = apis["producer"].post("/generation-reports", _report(market["plant"]["id"], category="nope"))
    assert unknown.status_code == 422


def test_base_statistics_give_no_tax_figure_for_a_category_the_annex_does_not_name(apis, market):
    plant = market["plant"]["id"]
    apis["producer"].post("/generation-reports", _report(plant))
    apis["producer"].post("/generation-reports", _report(plant, category="fgd_gypsum"))
    rows = {r["category"]: r for r in apis["officer"].get("/bases/daqing/statistics",
                                                          query_string={"year": 2026}).get_json()["rows"]}
    assert rows["fly_ash"]["env_tax_exemption_yuan"] == "1250.00"  # 50 t self-utilised × 25 yuan/t
    assert rows["fgd_gypsum"]["env_tax_exemption_yuan"] is None  # 其他固体废物: not a figure, not 0


def test_base_statistics_follow_the_dashboard_rules(apis, market):
    plant = market["plant"]["id"]
    apis["producer"].post("/generation-reports", _report(plant))
    stats = apis["officer"].get("/bases/daqing/statistics", query_string={"year": 2026})
    assert stats.status_code == 200
    assert stats.get_json()["total"]["rate"] == "0.5000" and "target_rate" in stats.get_json()
    assert stats.get_json()["target_assumed"] is True  # Daqing has no target of its own: the province's applies
    province = apis["regulator"].get("/bases/province/statistics", query_string={"year": 2026}).get_json()
    assert province["target_assumed"] is False
    assert apis["jixi_officer"].get("/bases/daqing/statistics").status_code == 403
    assert apis["producer"].get("/bases/daqing/statistics").status_code == 403
    assert apis["regulator"].get("/bases/province/statistics", query_string={"year": 2026}).status_code == 200
    assert apis["regulator"].get("/bases/atlantis/statistics").status_code == 404
    assert apis["officer"].get("/bases/daqing/statistics", query_string={"year": 1900}).status_code == 422
    assert [b["code"] for b in apis["officer"].get("/bases").get_json()["items"]] == ["daqing"]
    assert len(apis["regulator"].get("/bases").get_json()["items"]) == 4


def test_openapi_document_is_3_1_with_bearer_problems_and_idempotency(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    post_lot = doc["paths"]["/api/v1/lots"]["post"]
    assert post_lot["requestBody"]["content"]["application/json"]["schema"]["$ref"].startswith("#/components/schemas/")
    assert "application/problem+json" in post_lot["responses"]["422"]["content"]
    assert "Idempotency-Key" in {p["name"] for p in post_lot["parameters"]}
    names = {p["name"] for p in doc["paths"]["/api/v1/lots"]["get"]["parameters"]}
    assert {"category", "prefecture", "base_id", "min_tonnes", "max_tonnes", "cursor", "limit"} <= names


def test_docs_page_is_vendored_and_csp_safe(client):
    page = client.get("/api/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in html and "<script>" not in html
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/js/api-docs.js").status_code == 200
