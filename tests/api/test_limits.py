"""Attacks on bounds (issue 12, failure 3): the services decide, so the API and the pages answer alike."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest

from app.services import quantities
from models import Lot
from tests.api.conftest import lot_body
from tests.conftest import csrf_token, sign_in


@pytest.mark.parametrize("field, value", [("price_yuan_per_t", "9999999999.99"), ("tonnes", "9999999999"),
                                          ("tonnes", "20000000"), ("price_yuan_per_t", "-50000.01")])
def test_an_absurd_bid_is_a_422_problem_and_stored_nowhere(apis, market, field, value):
    body = {"facility_id": market["cement"]["id"], "price_yuan_per_t": "80", "tonnes": "10", field: value}
    response = apis["recycler"].post(f"/lots/{market['lot']['id']}/bids", body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"][0]["field"] == field
    assert apis["recycler"].get("/bids").get_json()["items"] == []


def test_the_largest_bid_allowed_still_fits_every_money_column():
    largest = quantities.MAX_TONNES * quantities.MAX_YUAN_PER_TONNE
    assert largest < Decimal("999999999999.99")  # Numeric(14, 2): award amounts, transport cost, surplus


@pytest.mark.parametrize("changes", [{"tonnes": "20000000"}, {"description": "x" * 4500},
                                     {"reserve_yuan_per_t": "1000000"}])
def test_api_and_page_refuse_the_same_lot(apis, market, client, users, changes):
    api = apis["producer"].post("/lots", lot_body(market["plant"]["id"], **changes))
    assert api.status_code == 422
    sign_in(client, users["producer"])
    form = {"facility": market["plant"]["id"], "category": "fly_ash", "tonnes": "1000", "reserve_yuan_per_t": "10",
            "available_from": "2026-11-01", "csrf_token": csrf_token(client, "/lots/new"), **changes}
    page = client.post("/lots/new", data=form)
    assert page.status_code == 400


def test_a_lot_from_the_form_is_stored_to_the_kilogram(client, users, market, db):
    sign_in(client, users["producer"])
    form = {"facility": market["plant"]["id"], "category": "fly_ash", "tonnes": "1.0005", "reserve_yuan_per_t": "10",
            "available_from": "2026-11-01", "csrf_token": csrf_token(client, "/lots/new")}
    assert client.post("/lots/new", data=form).status_code == 302
    stored = db.session.query(Lot).order_by(Lot.id.desc()).first()
    assert stored.tonnes == Decimal("1.001") and stored.remaining_tonnes == Decimal("1.001")  # half up


@pytest.mark.parametrize("period", ["9999-12-01", "0001-01-01", "1999-12-01"])
def test_a_report_for_an_absurd_month_is_refused(apis, market, period):
    response = apis["producer"].post("/generation-reports", {
        "facility_id": market["plant"]["id"], "category": "fly_ash", "period": period, "generated_t": "1000",
        "stored_t": "0", "self_utilised_t": "0", "disposed_t": "0"})
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "period"


def test_a_receipt_far_above_the_load_is_refused_and_a_declaration_stays_within_it(apis, awarded):
    award_id = awarded["award_id"]
    shipment = apis["producer"].post(f"/awards/{award_id}/shipments",
                                     {"tonnes": "100", "vehicle_plate": "黑E·12345"}).get_json()
    refused = apis["recycler"].post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "99000"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "received_tonnes"
    within = apis["recycler"].post(f"/shipments/{shipment['id']}/receive", {"received_tonnes": "104"})
    assert within.status_code == 200
    too_much = apis["recycler"].post("/utilisation-declarations", {"award_id": award_id, "product": "cement",
                                                                   "tonnes": "99000"})
    assert too_much.status_code == 422
    assert apis["recycler"].post("/utilisation-declarations", {"award_id": award_id, "product": "cement",
                                                               "tonnes": "104"}).status_code == 201


@pytest.mark.parametrize("month", ["0000-01", "9999-12"])
def test_a_month_no_calendar_can_hold_is_refused_on_every_page_and_route_never_a_500(apis, users, market, client,
                                                                                      month):
    for path in (f"/bases/daqing/warnings?month={month}", f"/bases/daqing/missing?month={month}"):
        assert apis["regulator"].get(path).status_code in (404, 422)
    plan = apis["regulator"].post("/bases/daqing/seasonal-plans", {"start": month})
    assert plan.status_code == 422 and plan.get_json()["errors"][0]["field"] == "start"
    sign_in(client, users["regulator"])
    for path in (f"/bases/daqing/warnings?month={month}", f"/bases/province/missing?month={month}"):
        assert client.get(path).status_code == 200  # the form says so; the page shows the latest month instead
    page = client.post("/bases/daqing/seasonal", data={"start": month,
                                                       "csrf_token": csrf_token(client, "/bases/daqing/seasonal")})
    assert page.status_code == 422
    sign_in(client, users["producer"])
    report = client.post("/bases/reports?lang=en", data={
        "facility": market["plant"]["id"], "category": "fly_ash", "period": month, "generated_t": "10",
        "stored_t": "10", "self_utilised_t": "0", "supplied_t": "0", "disposed_t": "0", "dumped_t": "0",
        "from_storage_t": "0", "csrf_token": csrf_token(client, "/bases/reports")})
    assert report.status_code == 400 and "YYYY-MM" in report.get_data(as_text=True)


def _received(apis, award_id: str, tonnes: str) -> None:
    shipment = apis["producer"].post(f"/awards/{award_id}/shipments",
                                     {"tonnes": tonnes, "vehicle_plate": "黑E·12345"}).get_json()
    assert apis["recycler"].post(f"/shipments/{shipment['id']}/receive",
                                 {"received_tonnes": tonnes}).status_code == 200


@pytest.mark.parametrize("period", ["9999-12-01", "0001-01-01", "1999-12-01"])
def test_a_declaration_for_an_absurd_month_is_refused(apis, awarded, period):
    _received(apis, awarded["award_id"], "100")
    response = apis["recycler"].post("/utilisation-declarations", {"award_id": awarded["award_id"],
                                                                   "product": "cement", "tonnes": "10",
                                                                   "period": period})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "period"
    assert apis["recycler"].get("/utilisation-declarations").get_json()["items"] == []


def test_declarations_add_up_to_at_most_what_was_received(apis, awarded):
    declare = lambda t: apis["recycler"].post("/utilisation-declarations", {  # noqa: E731
        "award_id": awarded["award_id"], "product": "cement", "tonnes": t}).status_code
    assert declare("1") == 422  # nothing weighed in yet
    _received(apis, awarded["award_id"], "100")
    assert declare("60") == 201
    assert declare("40.001") == 422  # 60 + 40.001 > 100
    assert declare("40") == 201
    assert declare("0.001") == 422


@pytest.mark.parametrize("field, value", [("price_yuan_per_t", "9999999999.99"), ("tonnes", "9999999999"),
                                          ("tonnes", "20000000"), ("price_yuan_per_t", "-50000.01")])
def test_absurd_category_bids_and_demand_profiles_are_refused_by_api_and_page_alike(apis, market, users, client,
                                                                                    field, value):
    body = {"facility_id": market["cement"]["id"], "category": "fly_ash", "period_start": "2026-11-01",
            "period_end": "2027-10-31", "tonnes": "50", "price_yuan_per_t": "70", "max_haul_km": 200, field: value}
    assert apis["recycler"].post("/demand-profiles", body).status_code == 422
    assert apis["recycler"].post("/bids", body).status_code == 422
    sign_in(client, users["recycler"])
    form = {**body, "facility": market["cement"]["id"], "csrf_token": csrf_token(client, "/bids")}
    assert client.post("/bids/profiles/new", data=form).status_code == 400
    assert client.post("/bids/category/new", data=form).status_code == 400
    assert apis["recycler"].get("/demand-profiles").get_json()["items"] == []
    assert apis["recycler"].get("/bids").get_json()["items"] == []


def test_every_page_that_takes_tonnes_stores_them_to_the_kilogram(client, users, market, awarded, db):
    from models import Shipment

    sign_in(client, users["producer"])
    csv_file = ("facility,category,tonnes,reserve_yuan_per_t,available_from\n"
                f"{market['plant']['name']},fly_ash,2.0005,10,2026-11-01\n").encode()
    imported = client.post("/lots/import", content_type="multipart/form-data", data={
        "file": (io.BytesIO(csv_file), "lots.csv"), "csrf_token": csrf_token(client, "/lots/import")})
    assert imported.status_code == 302
    imported = db.session.query(Lot).order_by(Lot.id.desc()).first()
    assert imported.tonnes == Decimal("2.001") and imported.remaining_tonnes == Decimal("2.001")
    edit = {"facility": market["plant"]["id"], "category": "fly_ash", "tonnes": "3.0005", "reserve_yuan_per_t": "10",
            "available_from": "2026-11-01", "csrf_token": csrf_token(client, f"/lots/{imported.id}/edit")}
    assert client.post(f"/lots/{imported.id}/edit", data=edit).status_code == 302
    db.session.expire_all()
    assert db.session.get(Lot, imported.id).tonnes == Decimal("3.001")
    token = csrf_token(client, f"/awards/{awarded['award_id']}")
    assert client.post(f"/shipments/awards/{awarded['award_id']}/dispatch", data={
        "tonnes": "10.0005", "vehicle_plate": "黑E12345", "csrf_token": token}).status_code == 302
    shipment = db.session.query(Shipment).one()
    assert shipment.dispatched_tonnes == Decimal("10.001")
    sign_in(client, users["recycler"])
    assert client.post(f"/shipments/{shipment.id}/receive", data={
        "received_tonnes": "10.0004", "csrf_token": csrf_token(client, f"/awards/{awarded['award_id']}")
    }).status_code == 302
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).received_tonnes == Decimal("10.000")


@pytest.mark.parametrize("capacity", ["20000000", "9999999999"])
def test_a_facility_capacity_beyond_the_limit_is_refused_by_api_and_page_alike(apis, users, client, db, capacity):
    from models import FacilityCapacity
    from tests.api.conftest import DAQING_CEMENT

    body = {**DAQING_CEMENT, "capacities": [{"category": "fly_ash", "tonnes_per_month": capacity}]}
    api = apis["recycler"].post("/facilities", body)
    assert api.status_code == 422 and api.get_json()["errors"][0]["field"] == "capacities"
    sign_in(client, users["recycler"])
    page = client.post("/facilities/new", data={
        "name": "大庆水泥", "kind": "recycler", "lon": "125.02", "lat": "46.62", "system": "wgs84",
        "max_haul_km": "300", "capacities-0-category": "fly_ash", "capacities-0-tonnes_per_month": capacity,
        "csrf_token": csrf_token(client, "/facilities/new")})
    assert page.status_code == 400
    if capacity == "20000000":  # within the form's parse range: the service refuses it, and the page says why
        assert "10,000,000" in page.get_data(as_text=True)
    assert db.session.query(FacilityCapacity).count() == 0


def test_a_facility_capacity_from_the_page_is_stored_to_the_kilogram(users, client, db):
    from models import FacilityCapacity

    sign_in(client, users["recycler"])
    assert client.post("/facilities/new", data={
        "name": "大庆水泥", "kind": "recycler", "lon": "125.02", "lat": "46.62", "system": "wgs84",
        "max_haul_km": "300", "capacities-0-category": "fly_ash", "capacities-0-tonnes_per_month": "1.0005",
        "csrf_token": csrf_token(client, "/facilities/new")}).status_code == 302
    assert db.session.query(FacilityCapacity).one().tonnes_per_month == Decimal("1.001")
