"""Hazardous regime over the API: 422 problems for unpermitted carriers, the permit resource, the e-manifest."""

import csv
import io
from decimal import Decimal

import sqlalchemy as sa

from app.services import emanifest, shipments
from models import Shipment
from tests.app.test_hazardous import NEXT_YEAR, YESTERDAY, _awarded, _carrier


def test_dispatch_with_an_unpermitted_carrier_is_a_422_problem(db, reference, make_api):
    m = _awarded(db)
    expired, _user = _carrier(until=YESTERDAY)
    api = make_api(m["producer"])
    body = {"tonnes": "10", "vehicle_plate": "黑E12345", "carrier_organization_id": expired.id,
            "packaging_count": 4}
    refused = api.post(f"/awards/{m['award'].id}/shipments", body)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"][0]["field"] == "carrier_organization_id"
    assert api.post(f"/awards/{m['award'].id}/shipments", {**body, "packaging_count": 0}).status_code == 422
    valid, _user2 = _carrier()
    made = api.post(f"/awards/{m['award'].id}/shipments", {**body, "carrier_organization_id": valid.id})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["carrier_permit_no"] and made.get_json()["receiver_licence_no"] == "黑危废经第0001号"
    receiver = make_api(m["plant_user"])
    shipment_id = made.get_json()["id"]
    assert receiver.post(f"/shipments/{shipment_id}/receive", {"received_tonnes": "10"}).status_code == 422
    done = receiver.post(f"/shipments/{shipment_id}/receive", {"received_tonnes": "10", "disposal_method": "R9"})
    assert done.status_code == 200 and done.get_json()["disposal_method"] == "R9"


def test_the_permit_resource(db, reference, make_api):
    org, user = _carrier(permit=None, until=None)
    api = make_api(user)
    assert api.get("/carrier-permit").get_json() == {"number": None, "valid_until": None, "valid": False}
    assert api.put("/carrier-permit", {"number": "黑危运 002"}).status_code == 422  # no valid-until date
    saved = api.put("/carrier-permit", {"number": "黑危运 002", "valid_until": NEXT_YEAR.isoformat()})
    assert saved.status_code == 200 and saved.get_json()["valid"] is True
    assert api.put("/carrier-permit", {"number": "x" * 41, "valid_until": NEXT_YEAR.isoformat()}).status_code == 422


def test_the_e_manifest_over_the_api(db, reference, make_api):
    m = _awarded(db)
    org, carrier_user = _carrier()
    load = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345", org.id, 3)
    response = make_api(carrier_user).get("/manifests/e-manifest?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(emanifest.COLUMNS) and rows[1][0] == load.manifest_no
    assert make_api(m["producer"]).get("/manifests/e-manifest").mimetype.endswith("spreadsheetml.sheet")
    assert db.session.scalar(sa.select(sa.func.count(Shipment.id))) == 1


def test_the_carrier_list_says_who_may_carry_hazardous_waste(db, reference, make_api):
    m = _awarded(db)
    valid, _u = _carrier()
    lapsed, _u2 = _carrier(until=YESTERDAY)
    items = {c["id"]: c["carries_hazardous"] for c in make_api(m["producer"]).get("/carriers").get_json()["items"]}
    assert items == {valid.id: True, lapsed.id: False}
