"""What a new user meets first: decided rows say who is awaited, forms vanish when done, confirmations,
the administrator's organisation list, one display time zone."""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import sqlalchemy as sa

from app.services import accounts, awards, clearing, notifications, shipments
from app.services.errors import ServiceError
from models import Allocation, Award, Notification, Organization, OrganizationRole
from tests.conftest import csrf_token
from tests.factories import OrganizationFactory, small_market

EN = {"Accept-Language": "en"}


def _cleared(db):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    m["allocation"] = db.session.scalar(sa.select(Allocation))
    return m


def _row(page: str, allocation_id: int) -> str:
    return page.split(f'id="allocation-{allocation_id}"')[1].split("</tr>")[0]


def test_after_accepting_the_row_names_who_the_deal_waits_for_instead_of_buttons(auth, client, db, reference):
    m = _cleared(db)
    a = m["allocation"]
    auth.login("producer@example.com")
    row = _row(client.get("/awards", headers=EN).get_data(as_text=True), a.id)
    assert 'value="accept"' in row and "data-confirm" in row  # decline asks first
    client.post(f"/awards/allocations/{a.id}/decision",
                data={"csrf_token": csrf_token(client, "/awards"), "decision": "accept"})
    row = _row(client.get("/awards", headers=EN).get_data(as_text=True), a.id)
    assert 'value="accept"' not in row and "You accepted." in row and "Waiting for the recycler." in row
    auth.logout()
    auth.login("near@example.com")
    row = _row(client.get("/awards", headers=EN).get_data(as_text=True), a.id)
    assert 'value="accept"' in row  # the recycler still has to answer


def test_the_dispatch_form_disappears_once_the_whole_award_has_left(auth, client, db, reference):
    m = _cleared(db)
    a = m["allocation"]
    awards.decide(db.session, m["producer"], a.id, True)
    awards.decide(db.session, m["near_user"], a.id, True)
    award = db.session.scalar(sa.select(Award))
    auth.login("producer@example.com")
    assert "/dispatch" in client.get(f"/awards/{award.id}").get_data(as_text=True)
    shipments.dispatch(db.session, m["producer"], award.id, Decimal("300"), "黑A·12345", None)
    assert "/dispatch" in client.get(f"/awards/{award.id}").get_data(as_text=True)
    shipments.dispatch(db.session, m["producer"], award.id, award.tonnes - Decimal("300"), "黑A·12346", None)
    assert "/dispatch" not in client.get(f"/awards/{award.id}").get_data(as_text=True)


def test_withdraw_and_revoke_ask_for_confirmation(auth, client, db, reference):
    m = small_market()
    auth.login("producer@example.com")
    page = client.get(f"/lots/{m['lot'].id}").get_data(as_text=True)
    withdraw_form = page.split("/withdraw")[1].split(">")[0]
    assert "data-confirm=" in withdraw_form


def _admin(db):
    return accounts.create_admin(db.session, "root@example.com", "Root", "correct horse battery")


def test_the_organisation_list_searches_filters_and_pages(auth, client, db, reference):
    _admin(db)
    for n in range(60):
        OrganizationFactory(name=f"批量企业 {n:02d}", verified=n % 2 == 0)
    OrganizationFactory(name="大庆水泥", roles=[OrganizationRole(role="recycler")], verified=False)
    auth.login("root@example.com")
    first = client.get("/admin/organizations?lang=en").get_data(as_text=True)
    assert "62 organisations" in first and "Page 1 of 2" in first and first.count('<tr id="org-') == 50
    found = client.get("/admin/organizations?q=大庆&lang=en").get_data(as_text=True)
    assert "大庆水泥" in found and "批量企业" not in found and "1 organisation" in found
    recyclers = client.get("/admin/organizations?role=recycler&verified=no").get_data(as_text=True)
    assert "大庆水泥" in recyclers and "批量企业" not in recyclers
    pending = client.get("/admin/organizations?verified=no&page=99&lang=en").get_data(as_text=True)
    assert "Page 1 of 1" not in pending and "31 organisations" in pending and "批量企业 01" in pending
    assert "verified=no" in pending.split('rel="next"')[0] or 'rel="prev"' in pending


def test_the_operator_cannot_be_revoked_on_the_page_or_through_the_service(auth, client, db, reference):
    admin = _admin(db)
    operator = db.session.get(Organization, admin.organization_id)
    operator.verified = True
    db.session.commit()
    auth.login("root@example.com")
    page = client.get("/admin/organizations?lang=en").get_data(as_text=True)
    row = page.split(f'id="org-{operator.id}"')[1].split("</tr>")[0]
    assert "Revoke" not in row and "Platform operator" in row
    response = client.post(f"/admin/organizations/{operator.id}/verification",
                           data={"csrf_token": csrf_token(client, "/admin/organizations"), "verified": "0"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, operator.id).verified is True
    try:
        accounts.set_verified(db.session, admin, operator.id, False)
    except ServiceError:
        pass
    else:
        raise AssertionError("the operator lost its verification")


def test_other_organisations_revoke_with_confirmation(auth, client, db, reference):
    _admin(db)
    org = OrganizationFactory(name="可撤销企业")
    auth.login("root@example.com")
    page = client.get("/admin/organizations").get_data(as_text=True)
    row = page.split(f'id="org-{org.id}"')[1].split("</tr>")[0]
    assert "data-confirm" in row and 'name="verified" value="0"' in row


def test_notification_deadlines_use_the_display_zone_like_every_list(auth, client, db, reference):
    m = _cleared(db)
    a = m["allocation"]
    a.deadline = dt.datetime(2026, 12, 3, 12, 20)  # stored naive UTC, as SQLite returns it
    db.session.commit()
    note = db.session.scalar(sa.select(Notification).where(Notification.kind.like("allocation%_proposed")))
    note.params = {**note.params, "deadline": "2026-12-03 12:20 UTC"}  # as the clearing writes it
    db.session.commit()
    auth.login("producer@example.com")
    inbox = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "2026-12-03 20:20 (UTC+8)" in inbox and " UTC<" not in inbox and "12:20" not in inbox
    desk = client.get("/awards", headers=EN).get_data(as_text=True)
    assert "2026-12-03 20:20 (UTC+8)" in desk
    # The time each message arrived is in the same zone, named.
    assert re.search(r'small text-muted">\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\)<', inbox)


def test_old_notifications_with_a_utc_suffix_are_shown_in_the_display_zone(app, db):
    note = Notification(kind="allocation_proposed", params={"tonnes": "5", "lot": "x", "facility": "y",
                                                            "deadline": "2026-12-03 12:20 UTC"})
    with app.test_request_context("/?lang=en"):
        assert "2026-12-03 20:20 (UTC+8)" in notifications.message(note)


def test_the_display_zone_is_a_setting(monkeypatch):
    from app.settings import Config

    assert Config().BABEL_DEFAULT_TIMEZONE == "Asia/Shanghai"
    monkeypatch.setenv("DISPLAY_TIMEZONE", "Asia/Urumqi")
    assert Config().BABEL_DEFAULT_TIMEZONE == "Asia/Urumqi"
