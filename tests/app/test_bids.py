"""Sealed bids: who sees what, placing, withdrawing, permissions."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.services import bids
from app.services.errors import ServiceError
from models import Bid, Notification
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
