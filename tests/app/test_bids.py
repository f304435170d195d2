"""Sealed bids: who sees what, placing, withdrawing, permissions."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.services import bids
from app.services.errors import ServiceError
from models import AuditEvent, Bid, Licence, Notification, WasteCategory
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, OrganizationFactory, UserFactory, small_market

EN = {"Accept-Language": "en"}


def test_producer_sees_how_many_bids_but_no_amounts(auth, client, reference):
    m = small_market()
    auth.login("producer@example.com")
    page = client.get("/bids/received", headers=EN).get_data(as_text=True)
    assert 'class="text-end bid-count">2<' in page
    assert "83.21" not in page and "70.00" not in page and "600" not in page.split("bid-count")[0][-40:]
    data = client.get(f"/bids/lots/{m['lot'].id}/status.json").get_json()
    assert data == {"lot": m["lot"].id, "active_bids": 2}


def test_lot_page_never_shows_bid_amounts(auth, client, reference):
    m = small_market()
    auth.login("far@example.com")
    page = client.get(f"/lots/{m['lot'].id}", headers=EN).get_data(as_text=True)
    assert "83.21" not in page


def test_a_recycler_sees_only_its_own_bids(auth, client, reference):
    m = small_market()
    auth.login("far@example.com")
    page = client.get("/bids", headers=EN).get_data(as_text=True)
    assert "70.00" in page and "83.21" not in page
    data = client.get(f"/bids/lots/{m['lot'].id}/status.json").get_json()
    assert "active_bids" not in data
    assert [b["price_yuan_per_t"] for b in data["own_bids"]] == [70.0]


def test_an_outsider_gets_403_on_the_bid_status(auth, client, reference):
    m = small_market()
    UserFactory(email="other@example.com", role="recycler")
    auth.login("other@example.com")
    assert client.get(f"/bids/lots/{m['lot'].id}/status.json").status_code == 403


def test_anonymous_users_are_sent_to_login(client, reference):
    m = small_market()
    for url in ("/bids", "/bids/received", f"/bids/lots/{m['lot'].id}/new", f"/bids/lots/{m['lot'].id}/status.json"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_placing_a_bid_through_the_form_notifies_the_producer_without_the_price(auth, client, db, reference):
    m = small_market()
    org = OrganizationFactory()
    UserFactory(email="new@example.com", role="recycler", organization=org)
    plant = FacilityFactory(organization=org, kind="recycler", name="New plant")
    auth.login("new@example.com")
    url = f"/bids/lots/{m['lot'].id}/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "facility_id": plant.id,
                                      "price_yuan_per_t": "91.50", "tonnes": "250", "max_haul_km": ""})
    assert response.status_code == 302
    bid = db.session.scalar(sa.select(Bid).where(Bid.facility_id == plant.id))
    assert bid.price_yuan_per_t == Decimal("91.50") and bid.status == "active"
    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == m["producer"].id))
    assert note.kind == "bid_received" and "91.5" not in str(note.params)


def test_a_bad_bid_re_renders_with_the_input_and_saves_nothing(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    url = f"/bids/lots/{m['lot'].id}/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, url), "facility_id": m["near"].id,
                                      "price_yuan_per_t": "55.55", "tonnes": "-3"}, headers=EN)
    assert response.status_code == 400
    assert "55.55" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Bid.id))) == 2


def test_an_unverified_recycler_cannot_bid(auth, client, reference):
    m = small_market()
    org = OrganizationFactory(verified=False)
    UserFactory(email="unv@example.com", role="recycler", organization=org)
    auth.login("unv@example.com")
    assert client.get(f"/bids/lots/{m['lot'].id}/new").status_code == 403


def test_withdrawing_an_active_bid(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    response = client.post(f"/bids/{m['near_bid'].id}/withdraw", data={"csrf_token": csrf_token(client, "/bids")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Bid, m["near_bid"].id).status == "withdrawn"


def test_another_organisation_cannot_withdraw_my_bid(auth, client, db, reference):
    m = small_market()
    auth.login("far@example.com")
    response = client.post(f"/bids/{m['near_bid'].id}/withdraw", data={"csrf_token": csrf_token(client, "/bids")})
    assert response.status_code == 403


def test_an_allocated_bid_cannot_be_withdrawn(db, reference):
    m = small_market()
    bid = m["near_bid"]
    bid.status = "allocated"
    db.session.commit()
    with pytest.raises(ServiceError):
        bids.withdraw_bid(db.session, m["near_user"], bid.id)
    db.session.expire_all()
    assert db.session.get(Bid, bid.id).status == "allocated"


# ----------------------------------------------------------------------------- category-wide bids

CATEGORY_URL = "/bids/category/new"


def _category_bid(client, facility_id, **changes):
    data = {"csrf_token": csrf_token(client, CATEGORY_URL), "facility_id": facility_id, "category": "fly_ash",
            "price_yuan_per_t": "77.70", "tonnes": "400", "max_haul_km": "", **changes}
    return client.post(CATEGORY_URL, data=data, headers=EN)


def test_my_bids_links_to_the_category_wide_bid_form(auth, client, reference):
    small_market()
    auth.login("near@example.com")
    page = client.get("/bids", headers=EN).get_data(as_text=True)
    assert f'href="{CATEGORY_URL}"' in page
    form = client.get(CATEGORY_URL, headers=EN)
    assert form.status_code == 200 and 'name="category"' in form.get_data(as_text=True)


def test_placing_a_category_wide_bid_takes_the_facilitys_haul_and_audits_it(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    response = _category_bid(client, m["near"].id)
    assert response.status_code == 302 and response.headers["Location"].endswith("/bids")
    bid = db.session.scalar(sa.select(Bid).where(Bid.lot_id.is_(None)))
    assert (bid.category.code, bid.facility_id, bid.price_yuan_per_t, bid.tonnes, bid.max_haul_km, bid.status) == (
        "fly_ash", m["near"].id, Decimal("77.70"), Decimal("400.000"), 300, "active")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "bid",
                                                          AuditEvent.entity_id == bid.id))
    assert event.action == "placed" and event.payload["category"] == "fly_ash" and event.payload["lot"] is None
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    page = client.get("/bids", headers=EN).get_data(as_text=True)
    assert "Every compatible lot of" in page and "77.70" in page


def test_an_explicit_haul_overrides_the_facilitys(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    assert _category_bid(client, m["near"].id, max_haul_km="120").status_code == 302
    assert db.session.scalar(sa.select(Bid.max_haul_km).where(Bid.lot_id.is_(None))) == 120


def test_a_bad_category_bid_re_renders_with_the_input_and_saves_nothing(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    response = _category_bid(client, m["near"].id, price_yuan_per_t="66.66", tonnes="-3")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "66.66" in page and "is-invalid" in page
    assert db.session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id.is_(None))) == 0


def test_a_category_bid_needs_a_haul_limit_when_the_facility_has_none(auth, client, db, reference):
    m = small_market()
    plant = FacilityFactory(organization=m["near"].organization, kind="recycler", name="No haul", max_haul_km=None)
    auth.login("near@example.com")
    response = _category_bid(client, plant.id)
    assert response.status_code == 400 and "maximum haul" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id.is_(None))) == 0


def test_a_category_bid_without_csrf_is_refused(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    response = client.post(CATEGORY_URL, data={"facility_id": m["near"].id, "category": "fly_ash",
                                               "price_yuan_per_t": "70", "tonnes": "10"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id.is_(None))) == 0


def test_a_hazardous_category_bid_needs_a_licence(auth, client, db, reference):
    m = small_market()
    hazardous = db.session.scalar(sa.select(WasteCategory).where(WasteCategory.hazardous.is_(True)).limit(1))
    auth.login("near@example.com")
    response = _category_bid(client, m["near"].id, category=hazardous.code)
    assert response.status_code == 400 and "licence" in response.get_data(as_text=True)
    db.session.add(Licence(facility_id=m["near"].id, number="HW-9", category_codes=[hazardous.code]))
    db.session.commit()
    assert _category_bid(client, m["near"].id, category=hazardous.code).status_code == 302


@pytest.mark.parametrize("who", ["producer@example.com", "unv@example.com"])
def test_only_verified_recyclers_place_category_bids(auth, client, db, reference, who):
    small_market()
    UserFactory(email="unv@example.com", role="recycler", organization=OrganizationFactory(verified=False))
    auth.login(who)
    assert client.get(CATEGORY_URL).status_code == 403


def test_a_category_bid_from_another_organisations_facility_is_refused(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    assert _category_bid(client, m["far"].id).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id.is_(None))) == 0


def test_anonymous_users_are_sent_to_login_from_the_category_bid_form(client, reference):
    response = client.get(CATEGORY_URL)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_category_bids_stay_sealed_from_producers_and_other_recyclers(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    assert _category_bid(client, m["near"].id, price_yuan_per_t="91.37").status_code == 302
    auth.logout()
    auth.login("producer@example.com")
    page = client.get("/bids/received", headers=EN).get_data(as_text=True)
    assert 'class="text-end bid-count">2<' in page and "91.37" not in page
    assert client.get(f"/bids/lots/{m['lot'].id}/status.json").get_json()["active_bids"] == 2
    assert "91.37" not in client.get(f"/lots/{m['lot'].id}", headers=EN).get_data(as_text=True)
    auth.logout()
    auth.login("far@example.com")
    assert "91.37" not in client.get("/bids", headers=EN).get_data(as_text=True)


def test_withdrawing_a_category_bid_before_the_clearing(auth, client, db, reference):
    m = small_market()
    bid = bids.place_category_bid(db.session, m["near_user"], "fly_ash", bids.BidInput(
        facility_id=m["near"].id, price_yuan_per_t=Decimal("70"), tonnes=Decimal("100")))
    auth.login("near@example.com")
    response = client.post(f"/bids/{bid.id}/withdraw", data={"csrf_token": csrf_token(client, "/bids")})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Bid, bid.id).status == "withdrawn"
    actions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.entity_type == "bid", AuditEvent.entity_id == bid.id).order_by(AuditEvent.id)).all()
    assert actions == ["placed", "withdrawn"]
