"""Bad input: fuzzed forms never cause a 500; SQL-looking text, absurd numbers and broken files are refused clearly."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models import Award, Bid, Lot
from tests.conftest import sign_in
from tests.factories import LotFactory, small_market

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NASTY = st.sampled_from([
    "", " ", "0", "-1", "1e30", "-1e30", "99999999999999", "1e-30", "NaN", "Infinity", "-Infinity", "0x10",
    "1,000", "１２３", "' OR 1=1 --", "'; DROP TABLE lots; --", "<script>alert(1)</script>", "\x00", "🙂" * 50,
    "9" * 400, "2026-02-30", "2026-13-01", "0000-00-00", "a" * 5000,
])
FIELD = st.one_of(NASTY, st.text(max_size=60), st.integers().map(str), st.floats(allow_nan=True).map(str))


@pytest.fixture
def signed_in(app, client, db, reference, monkeypatch):
    """The client signed in as a verified producer with a facility and an award to dispatch against."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # the fuzz is aimed at the forms, not CSRF
    m = small_market()
    sign_in(client, m["producer"])
    return m


def _post(client, url, data):
    response = client.post(url, data=data)
    assert response.status_code < 500, f"{url} {data!r} → {response.status_code}"
    return response


@FUZZ
@given(email=FIELD, password=FIELD, name=FIELD, code=FIELD, role=FIELD)
def test_register_and_login_never_fail(app, client, db, monkeypatch, email, password, name, code, role):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    _post(client, "/register", {"organization_name": name, "credit_code": code, "role": role, "user_name": name,
                                "email": email, "password": password, "confirm": password})
    _post(client, "/login", {"email": email, "password": password})


@FUZZ
@given(name=FIELD, kind=FIELD, lon=FIELD, lat=FIELD, system=FIELD, haul=FIELD)
def test_facility_form_never_fails(signed_in, client, name, kind, lon, lat, system, haul):
    _post(client, "/facilities/new", {"name": name, "kind": kind, "lon": lon, "lat": lat, "system": system,
                                      "max_haul_km": haul})


@FUZZ
@given(category=FIELD, tonnes=FIELD, reserve=FIELD, start=FIELD, end=FIELD, title=FIELD, minimum=FIELD)
def test_lot_form_never_fails(signed_in, client, category, tonnes, reserve, start, end, title, minimum):
    _post(client, "/lots/new", {"facility": str(signed_in["lot_facility"].id), "category": category,
                                "title": title, "tonnes": tonnes, "reserve_yuan_per_t": reserve,
                                "available_from": start, "available_to": end, "min_shipment_t": minimum})


@FUZZ
@given(price=FIELD, tonnes=FIELD, haul=FIELD)
def test_bid_form_never_fails(signed_in, client, price, tonnes, haul):
    sign_in(client, signed_in["far_user"])
    lot = LotFactory(facility=signed_in["lot_facility"])
    _post(client, f"/bids/lots/{lot.id}/new", {"facility_id": str(signed_in["far"].id), "price_yuan_per_t": price,
                                              "tonnes": tonnes, "max_haul_km": haul})


@pytest.fixture
def award(signed_in, db):
    """An open 600 t award on the producer's lot."""
    from app.services import awards, clearing

    run = clearing.start_clearing(db.session, None, "fly_ash")
    allocation = clearing.run_allocations(db.session, run.id)[0]
    awards.decide(db.session, signed_in["producer"], allocation.id, True)
    awards.decide(db.session, signed_in["near_user"], allocation.id, True)
    return db.session.scalar(sa.select(Award))


@FUZZ
@given(tonnes=FIELD, plate=FIELD, carrier=FIELD)
def test_dispatch_form_never_fails(award, client, tonnes, plate, carrier):
    _post(client, f"/shipments/awards/{award.id}/dispatch", {"tonnes": tonnes, "vehicle_plate": plate,
                                                            "carrier_organization_id": carrier})


@pytest.mark.parametrize("field, value", [
    ("tonnes", "1e30"), ("tonnes", "99999999999999"), ("tonnes", "Infinity"), ("tonnes", "NaN"),
    ("reserve_yuan_per_t", "99999999999999"), ("reserve_yuan_per_t", "-1e30"),
    ("title", "'; DROP TABLE lots; --"),
])
def test_absurd_or_sql_looking_lot_input_is_refused_or_stored_verbatim(signed_in, client, db, field, value):
    data = {"facility": str(signed_in["lot_facility"].id), "category": "fly_ash", "title": "ok",
            "tonnes": "100", "reserve_yuan_per_t": "10", "available_from": "2026-11-01", field: value}
    response = client.post("/lots/new?lang=en", data=data)
    if field == "title":  # bound parameters: the text is just a title
        assert response.status_code == 302
        assert db.session.scalar(sa.select(Lot).where(Lot.title == value)) is not None
    else:
        assert response.status_code == 400 and 'class="invalid-feedback' in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(sa.func.count(Lot.id))) == 1  # only small_market's lot


@pytest.mark.parametrize("field, value", [("price_yuan_per_t", "99999999999999"), ("tonnes", "1e30"),
                                          ("price_yuan_per_t", "9999999999.99"), ("tonnes", "9999999999"),
                                          ("price_yuan_per_t", "-Infinity"), ("max_haul_km", "9" * 30)])
def test_absurd_bids_are_refused_with_a_form_error(signed_in, client, db, field, value):
    sign_in(client, signed_in["far_user"])
    data = {"facility_id": str(signed_in["far"].id), "price_yuan_per_t": "80", "tonnes": "10", field: value}
    response = client.post(f"/bids/lots/{signed_in['lot'].id}/new?lang=en", data=data)
    assert response.status_code == 400 and 'class="invalid-feedback' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Bid.id))) == 2  # only small_market's two bids


def test_a_malformed_xlsx_import_is_a_form_error(signed_in, client):
    response = client.post("/lots/import?lang=en", content_type="multipart/form-data", data={
        "file": (io.BytesIO(b"PK\x03\x04 this is not really a zip"), "lots.xlsx")})
    assert response.status_code == 400
    assert 'class="invalid-feedback' in response.get_data(as_text=True) or "alert" in response.get_data(as_text=True)


def test_a_huge_dispatch_is_refused_with_a_form_error(award, client, db):
    response = client.post(f"/shipments/awards/{award.id}/dispatch?lang=en",
                           data={"tonnes": "1e30", "vehicle_plate": "黑A12345"})
    assert response.status_code == 400
    assert db.session.get(Award, award.id).dispatched_tonnes == Decimal("0.000")


