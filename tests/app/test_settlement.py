"""Settlement bills the weighed-in tonnes by default, the awarded tonnes when the lot says so; both are shown."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from app.services import awards, clearing, shipments
from models import Allocation, Award
from tests.conftest import csrf_token
from tests.factories import small_market

EN = {"Accept-Language": "en"}


def _awarded(db, settle_on="received"):
    m = small_market()
    m["lot"].settle_on = settle_on
    db.session.commit()
    clearing.start_clearing(db.session, None, "fly_ash")
    allocation = db.session.scalar(sa.select(Allocation))
    awards.decide(db.session, m["producer"], allocation.id, True)
    awards.decide(db.session, m["near_user"], allocation.id, True)
    m["award"] = db.session.scalar(sa.select(Award))
    return m


def _deliver(db, m, dispatched, received):
    load = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal(dispatched), "黑E·12345", None)
    shipments.receive(db.session, m["near_user"], load.id, Decimal(received))


def test_the_default_bill_is_on_the_weighed_in_tonnes(db, reference):
    m = _awarded(db)
    award = m["award"]
    _deliver(db, m, award.tonnes, award.tonnes - Decimal("1.5"))
    bill = awards.billing(award, shipments.received_total(db.session, award.id))
    assert bill.basis == "received" and bill.billed_tonnes == award.tonnes - Decimal("1.5")
    expected = (award.price_yuan_per_t * bill.billed_tonnes).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert bill.billed.recycler_pays_yuan == expected < award.recycler_pays_yuan
    parts = bill.billed.producer_receives_yuan + bill.billed.freight_yuan
    assert abs(parts - bill.billed.recycler_pays_yuan) <= Decimal("0.01")  # each rounded to the fen


def test_a_lot_may_settle_on_the_awarded_tonnes(db, reference):
    m = _awarded(db, "awarded")
    award = m["award"]
    _deliver(db, m, award.tonnes, award.tonnes - Decimal("1.5"))
    bill = awards.billing(award, shipments.received_total(db.session, award.id))
    assert bill.basis == "awarded" and bill.billed.recycler_pays_yuan == award.recycler_pays_yuan


def test_the_award_page_shows_both_figures_and_marks_the_billed_one(auth, client, db, reference):
    m = _awarded(db)
    award = m["award"]
    _deliver(db, m, "600", "598.5")
    auth.login("near@example.com")
    page = client.get(f"/awards/{award.id}", headers=EN).get_data(as_text=True)
    awarded_row = page.split('id="settlement-awarded"')[1].split("</tr>")[0]
    received_row = page.split('id="settlement-received"')[1].split("</tr>")[0]
    assert "600 t" in awarded_row and "billed" not in awarded_row
    assert "598.5 t" in received_row and "billed" in received_row
    billed = (award.price_yuan_per_t * Decimal('598.5')).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)
    assert f"{billed:,.2f}" in received_row


def test_the_api_reports_the_billed_figures(auth, client, db, reference):
    from app.services import api_tokens

    m = _awarded(db)
    _deliver(db, m, "600", "598.5")
    token = api_tokens.create(db.session, m["producer"], "t").secret
    body = client.get(f"/api/v1/awards/{m['award'].id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert body["settle_on"] == "received" and body["billed_tonnes"] == "598.500"


def test_the_lot_form_sets_the_settlement_basis(auth, client, db, reference):
    from tests.factories import FacilityFactory, UserFactory

    user = UserFactory()
    plant = FacilityFactory(organization=user.organization)
    auth.login(user.email)
    response = client.post("/lots/new", data={
        "csrf_token": csrf_token(client, "/lots/new"), "facility": str(plant.id), "category": "fly_ash",
        "tonnes": "100", "reserve_yuan_per_t": "5", "available_from": "2026-11-01", "settle_on": "awarded"})
    assert response.status_code == 302
    from models import Lot

    assert db.session.scalar(sa.select(Lot)).settle_on == "awarded"
    bad = client.post("/lots/new", data={
        "csrf_token": csrf_token(client, "/lots/new"), "facility": str(plant.id), "category": "fly_ash",
        "tonnes": "100", "reserve_yuan_per_t": "5", "available_from": "2026-11-01", "settle_on": "guess"})
    assert bad.status_code == 400
