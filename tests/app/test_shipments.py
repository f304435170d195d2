"""Shipments: dispatch with manifests, weighbridge receipt and the 2 % flag, limits, utilisation, concurrency."""

import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db as database
from app.services import awards, clearing, shipments
from app.services.errors import ServiceError
from models import Allocation, Award, Lot, Notification, Shipment, User, UtilisationRecord
from tests.conftest import csrf_token
from tests.factories import small_market


def _awarded(db):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    allocation = db.session.scalar(sa.select(Allocation))
    awards.decide(db.session, m["producer"], allocation.id, True)
    awards.decide(db.session, m["near_user"], allocation.id, True)
    m["award"] = db.session.scalar(sa.select(Award))
    return m


def _dispatch(client, award_id, tonnes, plate="黑A·12345"):
    url = f"/awards/{award_id}"
    return client.post(
        f"/shipments/awards/{award_id}/dispatch",
        data={
            "csrf_token": csrf_token(client, url),
            "tonnes": tonnes,
            "vehicle_plate": plate,
            "carrier_organization_id": "",
        },
    )


def test_dispatch_issues_a_manifest_number_and_notifies_the_recycler(auth, client, db, reference):
    m = _awarded(db)
    auth.login("producer@example.com")
    assert _dispatch(client, m["award"].id, "30").status_code == 302
    shipment = db.session.scalar(sa.select(Shipment))
    assert re.fullmatch(r"GF-\d{8}-\d{6}", shipment.manifest_no)
    assert shipment.vehicle_plate == "黑A12345"
    db.session.expire_all()
    award = db.session.get(Award, m["award"].id)
    assert award.dispatched_tonnes == Decimal("30.000") and award.status == "shipping"
    assert db.session.get(Lot, m["lot"].id).status == "shipping"
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == m["near_user"].id)).all()
    assert "shipment_dispatched" in kinds


def test_a_bad_plate_re_renders_with_400_and_keeps_the_input(auth, client, db, reference):
    m = _awarded(db)
    auth.login("producer@example.com")
    response = _dispatch(client, m["award"].id, "31.5", plate="XYZ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "31.5" in page and "XYZ" in page
    assert db.session.scalar(sa.select(sa.func.count(Shipment.id))) == 0


def test_over_dispatch_is_rejected(auth, client, db, reference):
    m = _awarded(db)
    auth.login("producer@example.com")
    assert _dispatch(client, m["award"].id, "590").status_code == 302
    response = _dispatch(client, m["award"].id, "10.001")
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Award, m["award"].id).dispatched_tonnes == Decimal("590.000")


def test_the_recycler_cannot_dispatch_and_the_producer_cannot_receive(auth, client, db, reference):
    m = _awarded(db)
    auth.login("near@example.com")
    assert _dispatch(client, m["award"].id, "1").status_code == 403
    auth.logout()
    shipment = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("5"), "黑A12345")
    auth.login("producer@example.com")
    response = client.post(
        f"/shipments/{shipment.id}/receive", data={"csrf_token": csrf_token(client, "/awards"), "received_tonnes": "5"}
    )
    assert response.status_code == 403


def test_a_weight_difference_above_2_percent_is_flagged_to_both(auth, client, db, reference):
    m = _awarded(db)
    shipment = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("30"), "黑A12345")
    auth.login("near@example.com")
    response = client.post(
        f"/shipments/{shipment.id}/receive",
        data={"csrf_token": csrf_token(client, f"/awards/{m['award'].id}"), "received_tonnes": "29.1"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert shipment.discrepancy_flagged and shipment.discrepancy_pct == Decimal("0.0300")
    for user in (m["producer"], m["near_user"]):
        kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id)).all()
        assert "discrepancy_flagged" in kinds


def test_a_difference_within_2_percent_is_not_flagged(db, reference):
    m = _awarded(db)
    shipment = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("30"), "黑A12345")
    shipment = shipments.receive(db.session, m["near_user"], shipment.id, Decimal("29.4"))
    assert not shipment.discrepancy_flagged


def test_delivery_and_utilisation_close_the_chain(db, reference):
    m = _awarded(db)
    shipment = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("600"), "黑A12345")
    shipments.receive(db.session, m["near_user"], shipment.id, Decimal("598"))
    assert db.session.get(Award, m["award"].id).status == "delivered"
    with pytest.raises(ServiceError):
        shipments.declare_utilisation(db.session, m["near_user"], m["award"].id, "cement", Decimal("599"))
    record = shipments.declare_utilisation(db.session, m["near_user"], m["award"].id, "cement", Decimal("598"))
    assert record.source_facility_id == m["lot_facility"].id and record.period.day == 1
    db.session.expire_all()
    assert db.session.get(Award, m["award"].id).status == "utilised"
    assert db.session.get(Lot, m["lot"].id).status == "utilised"
    assert db.session.scalar(sa.select(sa.func.count(UtilisationRecord.id))) == 1


def test_concurrent_dispatches_never_exceed_the_award(app, db, reference):
    m = _awarded(db)
    award_id, producer_id = m["award"].id, m["producer"].id
    if database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers; the conditional update is covered by test_over_dispatch_is_rejected")
    outcomes = []

    def worker():
        with app.app_context():
            user = database.session.get(User, producer_id)
            try:
                shipments.dispatch(database.session, user, award_id, Decimal("100"), "黑A12345")
                outcomes.append("ok")
            except ServiceError:
                database.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    award = db.session.get(Award, award_id)
    assert outcomes.count("ok") == 6 and outcomes.count("refused") == 4
    assert award.dispatched_tonnes == Decimal("600.000")
    total = db.session.scalar(sa.select(sa.func.sum(Shipment.dispatched_tonnes)))
    assert Decimal(str(total)) == Decimal("600.000")


def test_the_carrier_sees_its_manifests_and_is_notified(auth, client, db, reference):
    from models import OrganizationRole
    from tests.factories import OrganizationFactory, UserFactory

    m = _awarded(db)
    haulier = OrganizationFactory(name="龙运物流", roles=[OrganizationRole(role="carrier")])
    driver = UserFactory(email="dispatch@haulier.example", role="carrier", organization=haulier)
    other = UserFactory(email="dispatch@other.example", role="carrier",
                        organization=OrganizationFactory(roles=[OrganizationRole(role="carrier")]))
    shipment = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("30"), "黑A12345", haulier.id)
    kinds = db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == driver.id)).all()
    assert "manifest_assigned" in kinds
    auth.login(driver.email)
    assert shipment.manifest_no in client.get("/shipments/manifests").get_data(as_text=True)
    auth.logout()
    auth.login(other.email)
    assert shipment.manifest_no not in client.get("/shipments/manifests").get_data(as_text=True)


def test_only_carriers_open_the_manifests_page(auth, client, db, reference):
    m = _awarded(db)
    auth.login(m["producer"].email)
    assert client.get("/shipments/manifests").status_code == 403
