"""API operations mirroring the remaining web pages: facility edits, lot documents and imports, notifications,
utilisation declarations, targets, warnings, scenarios, the evaluation register, demand-profile filters."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook, load_workbook

from app.services import generation_reports, lot_import
from tests.api.conftest import DAQING_CEMENT, DAQING_PLANT, Api, make_user, token_for
from tests.factories import photo_bytes

PNG = photo_bytes()
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"


def upload(api, path: str, content: bytes, filename: str, headers: dict | None = None):
    """POST a multipart/form-data body with one `file` part."""
    return api.client.post("/api/v1" + path, data={"file": (io.BytesIO(content), filename)},
                           content_type="multipart/form-data", headers=api._headers(headers))


def patch(api, path: str, body: dict):
    """PATCH JSON."""
    return api.client.patch("/api/v1" + path, json=body, headers=api._headers(None))


def _csv(header: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


# ----------------------------------------------------------------------------- facilities


def test_facilities_are_replaced_and_patched_with_a_crs(apis):
    created = apis["recycler"].post("/facilities", DAQING_CEMENT).get_json()
    replaced = apis["recycler"].put(f"/facilities/{created['id']}", {
        **DAQING_CEMENT, "name": "Daqing cement II", "system": "gcj02",
        "capacities": [{"category": "fly_ash", "tonnes_per_month": "7000"},
                       {"category": "steel_slag", "tonnes_per_month": "100"}],
        "licences": [{"number": "HLJ-001", "categories": ["fly_ash"], "valid_until": "2030-01-01"}]})
    assert replaced.status_code == 200, replaced.get_json()
    body = replaced.get_json()
    assert body["name"] == "Daqing cement II" and body["input_crs"] == "gcj02"
    assert body["lon"] != DAQING_CEMENT["lon"]  # GCJ-02 input is stored as WGS84
    assert {c["category"] for c in body["capacities"]} == {"fly_ash", "steel_slag"}
    assert body["licences"][0]["number"] == "HLJ-001"

    patched = patch(apis["recycler"], f"/facilities/{created['id']}", {"max_haul_km": 150})
    assert patched.status_code == 200
    after = patched.get_json()
    assert after["max_haul_km"] == 150 and after["name"] == "Daqing cement II"
    assert len(after["capacities"]) == 2 and after["lon"] == body["lon"]
    moved = patch(apis["recycler"], f"/facilities/{created['id']}", {"lon": 125.03, "lat": 46.63, "system": "bd09"})
    assert moved.status_code == 200 and moved.get_json()["input_crs"] == "bd09"
    assert moved.get_json()["prefecture_code"] == "230600"


def test_facility_edits_follow_the_edit_page_permissions(apis):
    plant = apis["producer"].post("/facilities", DAQING_PLANT).get_json()
    assert apis["recycler"].put(f"/facilities/{plant['id']}", DAQING_PLANT).status_code == 403
    assert patch(apis["recycler"], f"/facilities/{plant['id']}", {"name": "mine now"}).status_code == 403
    assert patch(apis["regulator"], f"/facilities/{plant['id']}", {"name": "x"}).status_code == 403
    assert apis["producer"].put("/facilities/999999", DAQING_PLANT).status_code == 404
    assert apis["producer"].get(f"/facilities/{plant['id']}").get_json()["name"] == DAQING_PLANT["name"]


def test_facility_edits_refuse_bad_input(apis):
    plant = apis["producer"].post("/facilities", DAQING_PLANT).get_json()
    path = f"/facilities/{plant['id']}"
    half = patch(apis["producer"], path, {"lon": 125.2})
    assert half.status_code == 422
    assert patch(apis["producer"], path, {"system": "gcj02"}).status_code == 422
    outside = patch(apis["producer"], path, {"lon": 116.4, "lat": 39.9})
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["field"] == "lon"
    unknown = apis["producer"].put(path, {**DAQING_PLANT, "kind": "both",
                                          "capacities": [{"category": "nope", "tonnes_per_month": "1"}]})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "capacities"
    assert patch(apis["producer"], path, {"colour": "red"}).status_code == 422
    assert apis["producer"].get(path).get_json()["lon"] == plant["lon"]  # nothing changed


# ----------------------------------------------------------------------------- lot documents


def test_lot_documents_are_uploaded_listed_and_downloaded(apis, market):
    lot_id = market["lot"]["id"]
    made = upload(apis["producer"], f"/lots/{lot_id}/documents", PNG, "../../etc/photo.png")
    assert made.status_code == 201, made.get_json()
    doc = made.get_json()
    assert doc["content_type"] == "image/png" and doc["filename"] == "photo.png" and doc["size_bytes"] == len(PNG)
    pdf = upload(apis["producer"], f"/lots/{lot_id}/documents", PDF, "assay.pdf").get_json()

    listed = apis["recycler"].get(f"/lots/{lot_id}/documents").get_json()
    assert [d["id"] for d in listed["items"]] == [pdf["id"], doc["id"]]
    got = apis["recycler"].get(doc["download_path"][len("/api/v1"):])
    # another organisation gets the EXIF-free JPEG copy of a photo, never the original bytes
    assert got.status_code == 200 and got.data.startswith(b"\xff\xd8\xff") and got.mimetype == "image/jpeg"
    got_pdf = apis["recycler"].get(f"/lots/{lot_id}/documents/{pdf['id']}")
    assert got_pdf.mimetype == "application/pdf" and "attachment" in got_pdf.headers["Content-Disposition"]
    assert apis["recycler"].get(f"/lots/{lot_id + 1}/documents/{pdf['id']}").status_code == 404


def test_lot_documents_follow_the_lot_page_permissions(apis, market):
    lot_id = market["lot"]["id"]
    assert upload(apis["recycler"], f"/lots/{lot_id}/documents", PNG, "a.png").status_code == 403
    other_api = Api(apis["producer"].client, token_for(make_user("producer", email="p2@example.com")))
    assert upload(other_api, f"/lots/{lot_id}/documents", PNG, "a.png").status_code == 403
    assert upload(apis["unverified"], f"/lots/{lot_id}/documents", PNG, "a.png").status_code == 403
    doc = upload(apis["producer"], f"/lots/{lot_id}/documents", PNG, "a.png").get_json()
    apis["producer"].post(f"/lots/{lot_id}/withdraw")
    assert apis["recycler"].get(f"/lots/{lot_id}/documents").status_code == 404
    assert apis["recycler"].get(f"/lots/{lot_id}/documents/{doc['id']}").status_code == 403
    assert apis["producer"].get(f"/lots/{lot_id}/documents/{doc['id']}").status_code == 200


def test_lot_document_uploads_refuse_bad_files(apis, market):
    path = f"/lots/{market['lot']['id']}/documents"
    text = upload(apis["producer"], path, b"just some text pretending", "photo.png")
    assert text.status_code == 422 and text.get_json()["errors"][0]["field"] == "file"
    assert upload(apis["producer"], path, b"", "empty.png").status_code == 422
    missing = apis["producer"].client.post("/api/v1" + path, data={"other": "x"}, content_type="multipart/form-data",
                                           headers=apis["producer"]._headers(None))
    assert missing.status_code == 422 and missing.get_json()["errors"][0]["field"] == "file"
    as_json = apis["producer"].post(path, {"file": "aGVsbG8="})
    assert as_json.status_code == 415 and as_json.mimetype == "application/problem+json"
    assert apis["producer"].get(path).get_json()["items"] == []


def test_multipart_posts_are_idempotent(apis, market):
    path = f"/lots/{market['lot']['id']}/documents"
    key = {"Idempotency-Key": "doc-1"}
    first = upload(apis["producer"], path, PNG, "a.png", key)
    again = upload(apis["producer"], path, PNG, "a.png", key)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert len(apis["producer"].get(path).get_json()["items"]) == 1
    assert upload(apis["producer"], path, PDF, "b.pdf", key).status_code == 422


# ----------------------------------------------------------------------------- lot import


LOT_HEADER = [lot_import.header(*c[:3]) for c in lot_import.COLUMNS]


def test_lots_are_imported_all_or_nothing(apis, market):
    name = DAQING_PLANT["name"]
    good = _csv(LOT_HEADER, [[name, "fly_ash", "1000", "-5", "2026-11-01", "", "", "", "", ""],
                             [name, "钢渣", "250.5", "12.30", "2026-12-01", "", "30", "Slag", "", ""]])
    done = upload(apis["producer"], "/lots/import", good, "lots.csv")
    assert done.status_code == 201 and done.get_json() == {"imported": 2}
    assert apis["producer"].get("/lots/own").get_json()["items"][0]["title"] == "Slag"

    bad = _csv(LOT_HEADER, [[name, "fly_ash", "1000", "-5", "2026-11-01", "", "", "", "", ""],
                            [name, "fly_ash", "lots", "-5", "2026-11-01", "", "", "", "", ""],
                            ["Not mine", "nope", "10", "1", "tomorrow", "", "", "", "", ""]])
    refused = upload(apis["producer"], "/lots/import", bad, "lots.csv")
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["type"].endswith("/import-rejected")
    assert {e["line"] for e in problem["errors"]} == {3, 4}
    assert all(e["field"] == "file" and e["message"] for e in problem["errors"])
    assert len([e for e in problem["errors"] if e["line"] == 4]) >= 2  # every reason of the row
    assert len(apis["producer"].get("/lots/own").get_json()["items"]) == 3  # nothing more imported


def test_lot_import_reads_the_hazardous_columns_like_the_lot_api(apis, market):
    name = DAQING_PLANT["name"]
    row = [name, "oil_sludge", "50", "-800", "2026-11-01", "", "", "", "", "", "黑环危转〔2026〕018号", "液态", "T,I",
           "200 L 钢桶"]
    refused = upload(apis["producer"], "/lots/import", _csv(LOT_HEADER, [row, row[:12] + ["X"] + row[13:]]),
                     "lots.csv")
    assert refused.status_code == 422 and {e["line"] for e in refused.get_json()["errors"]} == {3}
    done = upload(apis["producer"], "/lots/import", _csv(LOT_HEADER, [row]), "lots.csv")
    assert done.status_code == 201, done.get_json()
    lot = apis["producer"].get("/lots/own").get_json()["items"][0]
    assert lot["category"] == "oil_sludge"
    assert {k: lot.get(k) for k in ("transfer_approval_ref", "waste_form", "hazard_characteristics",
                                     "packaging_type")} == {"transfer_approval_ref": "黑环危转〔2026〕018号",
                                                            "waste_form": "liquid", "hazard_characteristics": "T,I",
                                                            "packaging_type": "200 L 钢桶"}


def test_lot_import_permissions_and_bad_files(apis, market):
    good = _csv(LOT_HEADER, [[DAQING_PLANT["name"], "fly_ash", "1", "1", "2026-11-01", "", "", "", "", ""]])
    assert upload(apis["recycler"], "/lots/import", good, "lots.csv").status_code == 403
    assert upload(apis["unverified"], "/lots/import", good, "lots.csv").status_code == 403
    no_header = upload(apis["producer"], "/lots/import", b"a,b\n1,2\n", "lots.csv")
    assert no_header.status_code == 422 and no_header.get_json()["errors"][0]["field"] == "file"
    assert upload(apis["producer"], "/lots/import", b"PK\x03\x04broken", "lots.xlsx").status_code == 422
    assert apis["producer"].post("/lots/import", {}).status_code == 415


def test_lot_import_templates(apis):
    as_csv = apis["recycler"].get("/lots/import-template", query_string={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert as_csv.data.decode("utf-8-sig").splitlines()[0].startswith("设施 / Facility")
    as_xlsx = apis["producer"].get("/lots/import-template")
    assert load_workbook(io.BytesIO(as_xlsx.data)).active["A1"].value == "设施 / Facility"
    assert apis["producer"].get("/lots/import-template", query_string={"format": "pdf"}).status_code == 422


# ----------------------------------------------------------------------------- generation report import


REPORT_HEADER = [f"{zh} / {en}" for _k, zh, en in generation_reports.COLUMNS]


def test_generation_reports_are_imported_all_or_nothing(apis, market):
    name = DAQING_PLANT["name"]
    # Columns: generated, stored, self-utilised, supplied, disposed, … (each month balances).
    good = _csv(REPORT_HEADER, [[name, "fly_ash", "2026-01", "100", "10", "50", "40", "0"],
                                [name, "fly_ash", "2026-02", "120", "10", "60", "50", "0"]])
    done = upload(apis["producer"], "/generation-reports/import", good, "reports.csv")
    assert done.status_code == 201 and done.get_json() == {"imported": 2}
    assert len(apis["producer"].get("/generation-reports").get_json()["items"]) == 2

    bad = _csv(REPORT_HEADER, [[name, "fly_ash", "2026-03", "100", "10", "50", "40", "0"],
                               [name, "fly_ash", "2026-13", "x", "10", "50", "0", "0"],
                               ["Elsewhere", "fly_ash", "2026-03", "1", "1", "1", "0", "0"]])
    refused = upload(apis["producer"], "/generation-reports/import", bad, "reports.csv")
    assert refused.status_code == 422
    assert {e["line"] for e in refused.get_json()["errors"]} == {3, 4}
    assert len(apis["producer"].get("/generation-reports").get_json()["items"]) == 2


def test_generation_report_import_permissions_and_template(apis, market):
    book = Workbook()
    book.active.append(REPORT_HEADER)
    out = io.BytesIO()
    book.save(out)
    assert upload(apis["recycler"], "/generation-reports/import", out.getvalue(), "r.xlsx").status_code == 403
    assert upload(apis["regulator"], "/generation-reports/import", out.getvalue(), "r.xlsx").status_code == 403
    empty = upload(apis["producer"], "/generation-reports/import", out.getvalue(), "r.xlsx")
    assert empty.status_code == 422 and empty.get_json()["errors"][0]["field"] == "file"
    template = apis["producer"].get("/generation-reports/template")
    assert template.status_code == 200
    assert load_workbook(io.BytesIO(template.data)).active["A2"].value == DAQING_PLANT["name"]
    assert apis["recycler"].get("/generation-reports/template").status_code == 403


# ----------------------------------------------------------------------------- own lots, guidance, carriers


def test_own_lots_price_guidance_and_carriers(apis, market):
    lot_id = market["lot"]["id"]
    apis["recycler"].post(f"/lots/{lot_id}/bids", {"facility_id": market["cement"]["id"],
                                                   "price_yuan_per_t": "80.00", "tonnes": "600"})
    own = apis["producer"].get("/lots/own").get_json()["items"]
    assert [(lot["id"], lot["active_bids"]) for lot in own] == [(lot_id, 1)]
    assert apis["recycler"].get("/lots/own").status_code == 403
    guidance = apis["recycler"].get(f"/lots/{lot_id}/price-guidance").get_json()
    # the viewer's own bid does not count: no competitor, no band
    assert guidance["competing_buyers"] == 0 and guidance["low_yuan_per_t"] is None
    assert guidance["reason"] == "too_few_buyers" and guidance["state"] == "open"
    assert apis["recycler"].get("/lots/999999/price-guidance").status_code == 404
    carrier = make_user("carrier", email="c@example.com")
    names = [c["name"] for c in apis["producer"].get("/carriers").get_json()["items"]]
    assert carrier.organization.name in names
    assert apis["recycler"].get("/carriers").status_code == 403


# ----------------------------------------------------------------------------- notifications


def test_notifications_inbox_and_marking_read(apis, market, users):
    lot_id = market["lot"]["id"]
    apis["recycler"].post(f"/lots/{lot_id}/bids", {"facility_id": market["cement"]["id"],
                                                   "price_yuan_per_t": "80.00", "tonnes": "600"})
    inbox = apis["producer"].get("/notifications").get_json()
    assert inbox["unread"] == 1 and inbox["items"][0]["kind"] == "bid_received"
    note = inbox["items"][0]
    assert note["message"] and note["read_at"] is None
    english = apis["producer"].get("/notifications", headers={"Accept-Language": "en"}).get_json()
    assert "sealed bid" in english["items"][0]["message"]

    assert apis["recycler"].post(f"/notifications/{note['id']}/read").status_code == 404
    read = apis["producer"].post(f"/notifications/{note['id']}/read")
    assert read.status_code == 200 and read.get_json()["read_at"] is not None
    assert apis["producer"].post(f"/notifications/{note['id']}/read").status_code == 200
    assert apis["producer"].get("/notifications", query_string={"unread": "true"}).get_json()["items"] == []
    assert apis["producer"].get("/notifications").get_json()["unread"] == 0
    assert apis["producer"].post("/notifications/read-all").get_json() == {"marked": 0}
    assert apis["producer"].post("/notifications/999999/read").status_code == 404
    assert apis["producer"].get("/notifications", query_string={"cursor": "junk"}).status_code == 400
    assert apis["producer"].get("/notifications", query_string={"unread": "maybe"}).status_code == 422


# ----------------------------------------------------------------------------- utilisation declarations


def test_utilisation_declarations_are_listed_for_the_parties(apis, awarded):
    award_id = awarded["award_id"]
    shipment = apis["producer"].post(f"/awards/{award_id}/shipments",
                                     {"tonnes": "600", "vehicle_plate": "黑E·12345"}).get_json()
    apis["recycler"].post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "600"})
    made = apis["recycler"].post("/utilisation-declarations",
                                 {"award_id": award_id, "product": "cement", "tonnes": "100"}).get_json()
    for who in ("recycler", "producer", "regulator"):
        page = apis[who].get("/utilisation-declarations", query_string={"award_id": award_id}).get_json()
        assert [d["id"] for d in page["items"]] == [made["id"]], who
    assert apis["other_recycler"].get("/utilisation-declarations").get_json()["items"] == []
    assert apis["other_recycler"].get("/utilisation-declarations",
                                      query_string={"award_id": award_id}).status_code == 403
    assert apis["officer"].get("/utilisation-declarations").status_code == 403
    assert apis["recycler"].get("/utilisation-declarations", query_string={"award_id": 0}).status_code == 422


# ----------------------------------------------------------------------------- demand profiles


def test_demand_profiles_are_filtered(apis, market):
    cement = market["cement"]["id"]
    body = {"facility_id": cement, "category": "fly_ash", "period_start": "2026-11-01",
            "period_end": "2027-03-31", "tonnes": "500", "price_yuan_per_t": "20.00"}
    first = apis["recycler"].post("/demand-profiles", body).get_json()
    second = apis["recycler"].post("/demand-profiles", {**body, "tonnes": "300"}).get_json()
    apis["recycler"].post(f"/demand-profiles/{first['id']}/deactivate")
    active = apis["recycler"].get("/demand-profiles", query_string={"active": "true"}).get_json()["items"]
    assert [p["id"] for p in active] == [second["id"]]
    stopped = apis["recycler"].get("/demand-profiles", query_string={"active": "false", "category": "fly_ash",
                                                                     "facility_id": cement}).get_json()["items"]
    assert [p["id"] for p in stopped] == [first["id"]]
    assert apis["recycler"].get("/demand-profiles", query_string={"category": "steel_slag"}).get_json()["items"] == []
    assert apis["recycler"].get("/demand-profiles", query_string={"category": "Fly Ash"}).status_code == 422
    assert apis["producer"].get("/demand-profiles", query_string={"active": "true"}).status_code == 403


# ----------------------------------------------------------------------------- targets, warnings, missing


def test_targets_are_read_by_viewers_and_set_by_the_regulator(apis):
    saved = apis["regulator"].post("/bases/daqing/targets", {"family": "bulk_industrial", "year": 2026,
                                                             "target_rate": "0.57", "source": "plan"})
    assert saved.status_code == 200 and saved.get_json()["target_rate"] == "0.5700"
    again = apis["regulator"].post("/bases/daqing/targets", {"family": "bulk_industrial", "year": 2026,
                                                             "target_rate": "0.6"}).get_json()
    assert again["id"] == saved.get_json()["id"] and again["source"] == "plan"
    listed = apis["officer"].get("/bases/daqing/targets").get_json()
    mine = [t for t in listed["items"] if (t["family"], t["year"]) == ("bulk_industrial", 2026)]
    assert listed["base"] == "daqing" and [t["target_rate"] for t in mine] == ["0.6000"]
    stats = apis["officer"].get("/bases/daqing/statistics", query_string={"year": 2026}).get_json()
    assert stats["target_rate"] == "0.6000"

    assert apis["officer"].post("/bases/daqing/targets", {"family": "bulk_industrial", "year": 2026,
                                                          "target_rate": "0.9"}).status_code == 403
    assert apis["jixi_officer"].get("/bases/daqing/targets").status_code == 403
    assert apis["producer"].get("/bases/daqing/targets").status_code == 403
    for bad in ({"target_rate": "57"}, {"target_rate": 0.5}, {"family": "gold"}, {"year": 1999}):
        body = {"family": "bulk_industrial", "year": 2026, "target_rate": "0.5", **bad}
        assert apis["regulator"].post("/bases/daqing/targets", body).status_code == 422, bad


def test_warnings_and_missing_reports(apis, market):
    plant = market["plant"]["id"]
    apis["regulator"].post("/bases/daqing/targets", {"family": "bulk_industrial", "year": 2026,
                                                     "target_rate": "0.9"})
    apis["producer"].post("/generation-reports", {"facility_id": plant, "category": "fly_ash",
                                                  "period": "2026-03-01", "generated_t": "100", "stored_t": "50",
                                                  "self_utilised_t": "50", "disposed_t": "0"})
    found = apis["officer"].get("/bases/daqing/warnings", query_string={"month": "2026-03"}).get_json()
    assert found["month"] == "2026-03"
    behind = [w for w in found["items"] if w["kind"] == "behind"]
    assert behind and behind[0]["rate"] == "0.5000" and behind[0]["gap_points"]  # trajectory toward 0.9
    assert apis["officer"].get("/bases/daqing/warnings").get_json()["month"] == "2026-03"
    missing = apis["officer"].get("/bases/daqing/missing-reports", query_string={"month": "2026-04"}).get_json()
    assert [f["facility_id"] for f in missing["items"]] == [plant]
    assert apis["officer"].get("/bases/daqing/missing-reports",
                               query_string={"month": "2026-03"}).get_json()["items"] == []
    assert apis["officer"].get("/bases/daqing/warnings", query_string={"month": "2026-13"}).status_code == 422
    assert apis["jixi_officer"].get("/bases/daqing/missing-reports").status_code == 403
    assert apis["recycler"].get("/bases/daqing/warnings").status_code == 403
    assert apis["regulator"].get("/bases/atlantis/warnings").status_code == 404


# ----------------------------------------------------------------------------- scenarios


def test_scenarios_run_and_are_listed(apis, market):
    apis["recycler"].post(f"/lots/{market['lot']['id']}/bids", {"facility_id": market["cement"]["id"],
                                                                "price_yuan_per_t": "80.00", "tonnes": "600"})
    ran = apis["officer"].post("/bases/daqing/scenarios", {"subsidies": {"fly_ash": "20.00"},
                                                           "carbon_price_yuan_per_t": "50", "freight_change_pct": 10,
                                                           "haul_limit_km": 300})
    assert ran.status_code == 201, ran.get_json()
    body = ran.get_json()
    assert body["base"] == "daqing" and body["rows"][0]["category"] == "fly_ash"
    assert body["rows"][0]["scenario_t"] == "600.000" and body["total"]["scenario_t"] == "600.000"
    assert body["parameters"]["subsidies"] == {"fly_ash": 20.0}
    listed = apis["officer"].get("/bases/daqing/scenarios").get_json()["items"]
    assert [s["id"] for s in listed] == [body["id"]]
    assert apis["regulator"].get("/bases/daqing/scenarios").get_json()["items"][0]["id"] == body["id"]
    assert apis["regulator"].get("/bases/province/scenarios").get_json()["items"] == []
    assert apis["recycler"].get("/allocations").get_json()["items"] == []  # nothing real changed


def test_scenario_permissions_and_bad_levers(apis):
    assert apis["producer"].post("/bases/daqing/scenarios", {}).status_code == 403
    assert apis["jixi_officer"].post("/bases/daqing/scenarios", {}).status_code == 403
    unknown = apis["officer"].post("/bases/daqing/scenarios", {"subsidies": {"nope": "1"}})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "subsidies.nope"
    negative = apis["officer"].post("/bases/daqing/scenarios", {"carbon_price_yuan_per_t": "-1"})
    assert negative.status_code == 422
    assert apis["officer"].post("/bases/daqing/scenarios", {"freight_change_pct": 900}).status_code == 422
    assert apis["officer"].post("/bases/daqing/scenarios", {"categories": ["nope"]}).status_code == 422
    empty = apis["officer"].post("/bases/daqing/scenarios", {})
    assert empty.status_code == 201 and empty.get_json()["rows"] == []


# ----------------------------------------------------------------------------- evaluation register


def test_evaluation_register(apis, users, db):
    org_id = users["producer"].organization_id
    made = apis["regulator"].post("/evaluations", {"organization_id": org_id, "status": "applied"})
    assert made.status_code == 201 and made.get_json()["organization_name"]
    evaluation = made.get_json()
    changed = apis["regulator"].put(f"/evaluations/{evaluation['id']}", {
        "organization_id": org_id, "status": "evaluated", "evaluated_on": "2025-06-30", "note": "ok"})
    assert changed.status_code == 200 and changed.get_json()["status"] == "evaluated"
    page = apis["officer"].get("/evaluations").get_json()
    assert [e["id"] for e in page["items"]] == [evaluation["id"]] and page["next_cursor"] is None
    assert apis["officer"].get(f"/evaluations/{evaluation['id']}").get_json()["note"] == "ok"
    progress = apis["officer"].get("/evaluations/progress").get_json()
    assert progress["evaluated"] == 1 and progress["target"] == 300 and progress["by_status"]["evaluated"] == 1
    assert progress["demo"] is False and page["items"][0]["demo"] is False
    users["producer"].organization.is_demo = True  # an invented entry is marked as such over the API too
    db.session.commit()
    assert apis["officer"].get("/evaluations/progress").get_json()["demo"] is True
    assert apis["officer"].get(f"/evaluations/{evaluation['id']}").get_json()["demo"] is True


def test_evaluation_register_permissions_and_bad_input(apis, users):
    org_id = users["producer"].organization_id
    assert apis["officer"].post("/evaluations", {"organization_id": org_id, "status": "applied"}).status_code == 403
    assert apis["producer"].get("/evaluations").status_code == 403
    assert apis["regulator"].put("/evaluations/999999", {"organization_id": org_id,
                                                         "status": "applied"}).status_code == 404
    no_date = apis["regulator"].post("/evaluations", {"organization_id": org_id, "status": "evaluated"})
    assert no_date.status_code == 422 and no_date.get_json()["errors"][0]["field"] == "evaluated_on"
    no_org = apis["regulator"].post("/evaluations", {"organization_id": 999999, "status": "applied"})
    assert no_org.status_code == 422 and no_org.get_json()["errors"][0]["field"] == "organization_id"
    assert apis["regulator"].post("/evaluations", {"organization_id": org_id, "status": "done"}).status_code == 422
    assert apis["officer"].get("/evaluations", query_string={"cursor": "bad"}).status_code == 400


def test_every_new_operation_is_documented(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    upload_op = paths["/api/v1/lots/{lot_id}/documents"]["post"]
    schema_ref = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    form = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert form["properties"]["file"]["format"] == "binary" and form["required"] == ["file"]
    assert {"413", "415", "422"} <= set(upload_op["responses"])
    assert "Idempotency-Key" in {p["name"] for p in upload_op["parameters"]}
    download = paths["/api/v1/lots/{lot_id}/documents/{document_id}"]["get"]["responses"]["200"]["content"]
    assert set(download) == {"image/jpeg", "image/png", "application/pdf"}
    for path, method in [("/api/v1/facilities/{facility_id}", "put"), ("/api/v1/facilities/{facility_id}", "patch"),
                         ("/api/v1/lots/import", "post"), ("/api/v1/generation-reports/import", "post"),
                         ("/api/v1/notifications", "get"), ("/api/v1/notifications/{notification_id}/read", "post"),
                         ("/api/v1/utilisation-declarations", "get"), ("/api/v1/evaluations", "post"),
                         ("/api/v1/evaluations/{evaluation_id}", "put"), ("/api/v1/bases/{code}/targets", "get"),
                         ("/api/v1/bases/{code}/warnings", "get"), ("/api/v1/bases/{code}/scenarios", "post")]:
        operation = paths[path][method]
        assert "application/problem+json" in operation["responses"]["403"]["content"], (path, method)
    line = doc["components"]["schemas"]["FieldError"]["properties"]["line"]
    assert {"type": "integer"} in line["anyOf"]


# ----------------------------------------------------------------------------- administration


def test_administrators_verify_organisations(reference, make_api, users):
    from app.services import accounts

    admin = make_api(accounts.create_admin(reference.session, "admin@example.com", "Admin", "correct horse battery"))
    unverified_org = users["unverified"].organization_id
    listed = admin.get("/organizations", query_string={"limit": 2}).get_json()
    assert listed["items"][0]["id"] == unverified_org and listed["items"][0]["verified"] is False
    assert listed["next_cursor"]
    done = admin.post(f"/organizations/{unverified_org}/verification", {"verified": True})
    assert done.status_code == 200 and done.get_json()["verified"] is True and done.get_json()["verified_at"]
    assert make_api(users["unverified"]).get("/me").get_json()["can_trade"] is True
    assert admin.post("/organizations/999999/verification", {"verified": True}).status_code == 404
    assert admin.post(f"/organizations/{unverified_org}/verification", {"verified": "yes"}).status_code == 422
    assert make_api(users["regulator"]).get("/organizations").status_code == 403
    assert make_api(users["producer"]).post(f"/organizations/{unverified_org}/verification",
                                            {"verified": False}).status_code == 403
