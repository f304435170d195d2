"""Attacks on bounds (issue 12, failure 3): the services decide, so the API and the pages answer alike."""
from __future__ import annotations

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
