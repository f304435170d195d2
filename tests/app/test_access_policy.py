"""Attacks on who may do what (issue 12, failures 1 and 2): each one is refused by app.policy on pages and API."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app import policy
from app.services import accounts, api_tokens, awards, shipments
from app.services.errors import ServiceError
from models import Allocation, Award, EnterpriseEvaluation, MatchRun, Organization, OrganizationRole, User
from tests.conftest import csrf_token, sign_in
from tests.factories import (
    FacilityFactory,
    OrganizationFactory,
    UserFactory,
    resource_base,
    small_market,
)

VALID_CODE = "91350100M000100Y43"


def _api(client, user):
    secret = api_tokens.create(client.application.extensions["database"].session, user, "attack").secret
    return lambda method, path, **kw: client.open("/api/v1" + path, method=method,
                                                  headers={"Authorization": f"Bearer {secret}"}, **kw)


@pytest.mark.parametrize("role", ["regulator", "base_operator"])
def test_nobody_registers_as_an_official(client, db, role):
    assert f'value="{role}"' not in client.get("/register").get_data(as_text=True)
    response = client.post("/register", data={
        "organization_name": "自封监管局", "credit_code": VALID_CODE, "role": role, "user_name": "冒充者",
        "email": "fake@example.com", "password": "long enough pw", "confirm": "long enough pw",
        "csrf_token": csrf_token(client, "/register")})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 0
    with pytest.raises(ServiceError):
        accounts.register(db.session, accounts.Registration("自封监管局", VALID_CODE, role, "冒充者",
                                                            "fake@example.com", "long enough pw"))


def test_an_unverified_officials_token_does_nothing(client, db, reference):
    """An account of an unverified agency (registered before this fix, say) can neither clear nor edit nor read."""
    regulator = UserFactory(role="regulator", organization=OrganizationFactory(
        verified=False, roles=[OrganizationRole(role="regulator")]))
    target = OrganizationFactory()
    entry = EnterpriseEvaluation(organization_id=target.id, status="applied")
    db.session.add(entry)
    db.session.commit()
    api = _api(client, regulator)
    assert api("POST", "/match-runs", json={}).status_code == 403
    edited = api("PUT", f"/evaluations/{entry.id}", json={"organization_id": target.id, "status": "evaluated",
                                                           "evaluated_on": "2026-01-01"})
    assert edited.status_code == 403 and edited.get_json()["type"].endswith("/unverified")
    assert api("GET", "/bases/province/statistics").status_code == 403
    assert api("GET", "/awards").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(MatchRun.id))) == 0
    db.session.expire_all()
    assert db.session.get(EnterpriseEvaluation, entry.id).status == "applied"
    sign_in(client, regulator)
    assert client.get("/bases/province/export.csv").status_code == 403
    assert client.post("/clearing/runs", data={"csrf_token": csrf_token(client, "/")}).status_code == 403


def test_an_unverified_producers_token_cannot_post_lots(client, db, reference):
    user = UserFactory(organization=OrganizationFactory(verified=False))
    plant = FacilityFactory(organization=user.organization)
    response = _api(client, user)("POST", "/lots", json={"facility_id": plant.id, "category": "fly_ash",
                                                         "tonnes": "10", "reserve_yuan_per_t": "1",
                                                         "available_from": "2026-11-01"})
    assert response.status_code == 403


def test_a_withdrawn_lot_is_not_open_on_the_bid_page(client, db, reference):
    m = small_market()
    lot = m["lot"]
    lot.status = "withdrawn"
    db.session.commit()
    sign_in(client, m["near_user"])
    assert client.get(f"/bids/lots/{lot.id}/new").status_code == 404
    assert client.get(f"/lots/{lot.id}").status_code == 404


def test_a_lot_that_is_already_awarded_takes_no_bids_on_the_page(client, db, reference):
    m = small_market()
    m["lot"].status = "awarded"
    db.session.commit()
    sign_in(client, m["near_user"])
    assert client.get(f"/bids/lots/{m['lot'].id}/new").status_code == 403


def test_bid_counts_show_only_to_the_lots_producer_on_page_and_api(client, db, reference):
    m = small_market()
    stranger = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    for user, sees in ((m["producer"], True), (stranger, False)):
        body = _api(client, user)("GET", f"/lots/{m['lot'].id}").get_json()
        assert (body["active_bids"] is not None) is sees
        sign_in(client, user)
        assert ('id="bid-count"' in client.get(f"/lots/{m['lot'].id}").get_data(as_text=True)) is sees


def _cleared_market(db):
    from app.services import clearing

    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    return m, db.session.scalar(sa.select(Allocation))


def test_an_officer_of_another_base_reads_no_allocation_prices(client, db, reference):
    m, allocation = _cleared_market(db)
    ends = {allocation.lot.facility.base_id, allocation.facility.base_id}
    elsewhere = next(code for code in ("daqing", "jixi", "qiqihar", "qitaihe") if resource_base(code).id not in ends)
    officer = UserFactory(role="base_officer", organization=OrganizationFactory(
        roles=[OrganizationRole(role="base_operator")], base_id=resource_base(elsewhere).id))
    api = _api(client, officer)
    assert api("GET", f"/allocations/{allocation.id}").status_code == 403
    assert api("GET", f"/match-runs/{allocation.run_id}/allocations").get_json()["items"] == []
    regulator = UserFactory(role="regulator", organization=OrganizationFactory(
        roles=[OrganizationRole(role="regulator")]))
    assert _api(client, regulator)("GET", f"/allocations/{allocation.id}").status_code == 200


def test_only_a_verified_carrier_can_be_named_and_notified(db, reference):
    m, allocation = _cleared_market(db)
    awards.decide(db.session, m["producer"], allocation.id, True)
    awards.decide(db.session, m["near_user"], allocation.id, True)
    award = db.session.scalar(sa.select(Award))
    not_a_carrier = OrganizationFactory(roles=[OrganizationRole(role="recycler")])
    unverified = OrganizationFactory(verified=False, roles=[OrganizationRole(role="carrier")])
    carrier = OrganizationFactory(roles=[OrganizationRole(role="carrier")])
    for org in (not_a_carrier, unverified):
        with pytest.raises(ServiceError) as refused:
            shipments.dispatch(db.session, m["producer"], award.id, Decimal("1"), "黑A12345", org.id)
        assert refused.value.field == "carrier_organization_id"
    assert {o.id for o in shipments.carriers(db.session)} == {carrier.id}
    assert shipments.dispatch(db.session, m["producer"], award.id, Decimal("1"), "黑A12345", carrier.id).id


def test_may_carry_hazardous_waste_needs_a_permit(db, reference):
    from models import WasteCategory

    carrier = OrganizationFactory(roles=[OrganizationRole(role="carrier")])
    hazardous = db.session.scalar(sa.select(WasteCategory).where(WasteCategory.hazardous.is_(True)))
    assert policy.may_carry(carrier) and not policy.may_carry(carrier, hazardous)  # tests/app/test_hazardous.py
    assert not policy.may_carry(OrganizationFactory(verified=False, roles=[OrganizationRole(role="carrier")]))


def test_an_administrator_invites_an_official_from_the_admin_page(client, db, reference):
    admin = accounts.create_admin(db.session, "root@example.com", "Root", "correct horse battery")
    sign_in(client, admin)
    response = client.post("/admin/officials", data={
        "role": "base_officer", "base_code": "jixi", "organization_name": "鸡西基地办公室",
        "credit_code": VALID_CODE, "user_name": "孙科长", "email": "sun@example.com",
        "csrf_token": csrf_token(client, "/admin/officials")})
    assert response.status_code == 200
    password = response.get_data(as_text=True).split('id="one-time-password"')[1].split("<code>")[1].split("<")[0]
    officer = db.session.scalar(sa.select(User).where(User.email == "sun@example.com"))
    assert officer.role == "base_officer" and officer.organization.verified
    assert officer.organization.base_id == resource_base("jixi").id
    assert accounts.authenticate(db.session, "sun@example.com", password, "-", accounts.Throttle(5, 50, 15))


def test_an_official_is_invited_from_the_command_line(runner, db, reference):
    result = runner.invoke(args=["invite-official", "--email", "zhou@example.com", "--name", "周敏",
                                 "--role", "regulator", "--organization", "省工信厅", "--credit-code", VALID_CODE])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "zhou@example.com"))
    assert user.role == "regulator" and user.organization.verified
    assert policy.may_edit_register(user) and policy.may_start_clearing(user)


def test_an_invitation_for_a_trading_role_is_refused(db, reference):
    with pytest.raises(ServiceError):
        accounts.invite_official(db.session, None, accounts.Invitation("x", VALID_CODE, "producer", "x",
                                                                       "x@example.com"))


def test_a_base_officer_oversees_only_their_base(db, reference):
    officer = UserFactory(role="base_officer", organization=OrganizationFactory(
        roles=[OrganizationRole(role="base_operator")], base_id=resource_base("daqing").id))
    assert policy.may_oversee(officer, resource_base("daqing"))
    assert not policy.may_oversee(officer, resource_base("jixi"))
    assert not policy.may_oversee(officer)  # the province
    assert not policy.may_start_clearing(officer) and not policy.may_edit_register(officer)
