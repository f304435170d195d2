"""Lot states everywhere: lists show only what can still be bought, my lots, search, price filters, pages."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.services import lots
from models import Lot, OrganizationRole
from tests.conftest import csrf_token
from tests.factories import BidFactory, FacilityFactory, LotFactory, OrganizationFactory, UserFactory, category

TODAY = dt.date(2026, 12, 1)


def _lot(**kw) -> Lot:
    base = dict(tonnes=Decimal(1000), remaining_tonnes=Decimal(1000), status="open",
                available_from=TODAY - dt.timedelta(days=5), available_to=None)
    base.update(kw)
    return Lot(**base)


@pytest.mark.parametrize(("kw", "expected"), [
    ({}, "open"),
    ({"status": "matched", "remaining_tonnes": Decimal(400)}, "partly_matched"),
    ({"status": "awarded", "remaining_tonnes": Decimal(1)}, "partly_matched"),
    ({"status": "shipping", "remaining_tonnes": Decimal(1)}, "partly_matched"),
    ({"status": "matched", "remaining_tonnes": Decimal(0)}, "matched"),
    ({"status": "awarded", "remaining_tonnes": Decimal(0)}, "sold"),
    ({"status": "utilised", "remaining_tonnes": Decimal(0)}, "sold"),
    ({"status": "withdrawn"}, "withdrawn"),
    ({"status": "expired"}, "expired"),
    ({"available_to": TODAY - dt.timedelta(days=1)}, "expired"),
    ({"available_to": TODAY}, "open"),
])
def test_state_combines_status_tonnes_left_and_window(kw, expected):
    lot = _lot(**kw)
    assert lots.state(lot, TODAY) == expected
    buyable = expected in ("open", "partly_matched") and lot.status in lots.BUYABLE_STATUSES
    assert lots.is_buyable(lot, TODAY) == buyable


def test_lots_on_offer_hide_what_cannot_be_bought(client, reference):
    LotFactory(title="Still open")
    LotFactory(title="Part awarded", status="awarded", remaining_tonnes=Decimal("250"))
    LotFactory(title="All matched", status="matched", remaining_tonnes=Decimal("0"))
    LotFactory(title="All sold", status="awarded", remaining_tonnes=Decimal("0"))
    LotFactory(title="Taken back", status="withdrawn")
    LotFactory(title="Window over", available_to=dt.date.today() - dt.timedelta(days=1))
    page = client.get("/lots?lang=en").get_data(as_text=True)
    assert "Still open" in page and "Part awarded" in page and "Partly matched" in page
    for gone in ("All matched", "All sold", "Taken back", "Window over"):
        assert gone not in page
    assert "2 lots found" in page


def test_a_fully_matched_lot_page_shows_its_state_and_takes_no_bid(client, auth, reference):
    lot = LotFactory(title="All matched", status="matched", remaining_tonnes=Decimal("0"))
    buyer = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    FacilityFactory(organization=buyer.organization, kind="recycler")
    auth.login(buyer.email)
    response = client.get(f"/lots/{lot.id}?lang=en")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="lot-closed"' in page and "Matched" in page and 'id="place-bid"' not in page


def test_a_bid_on_a_sold_lot_is_refused(client, auth, reference):
    lot = LotFactory(status="awarded", remaining_tonnes=Decimal("0"))
    buyer = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    facility = FacilityFactory(organization=buyer.organization, kind="recycler")
    auth.login(buyer.email)
    url = f"/bids/lots/{lot.id}/new"
    response = client.post(url, data={"csrf_token": csrf_token(client, "/lots"), "facility": facility.id,
                                      "price_yuan_per_t": "50", "tonnes": "10"})
    assert response.status_code in (302, 400, 403, 404)  # 403: app.policy.may_bid_on refuses a sold lot
    from models import Bid
    assert reference.session.query(Bid).count() == 0


def test_keyword_search_covers_titles_descriptions_organisations_and_categories_in_both_languages(client, reference):
    org = OrganizationFactory(name="建龙西林钢铁")
    LotFactory(title="Converter slag", category=category("steel_slag"), facility=FacilityFactory(organization=org))
    LotFactory(title="Plain ash", description="dry, from the electrostatic precipitator")
    LotFactory(title="50%_off ash")

    def found(q):
        return client.get("/lots", query_string={"q": q, "lang": "en"}).get_data(as_text=True)

    assert "Converter slag" in found("西林") and "Plain ash" not in found("西林")
    assert "Converter slag" in found("steel SLAG")          # English category name, any case
    assert "Converter slag" in found("钢渣")                 # Chinese category name
    assert "Plain ash" in found("precipitator") and "Converter slag" not in found("precipitator")
    assert "Converter slag" in found("slag 西林") and "Converter slag" not in found("slag nowhere")
    assert "50%_off ash" in found("%_") and "Plain ash" not in found("%_")   # LIKE wildcards are literal


def test_price_filter_bounds_the_reserve(client, reference):
    LotFactory(title="Pay to remove", reserve_yuan_per_t=Decimal("-20.00"))
    LotFactory(title="Cheap", reserve_yuan_per_t=Decimal("5.00"))
    LotFactory(title="Dear", reserve_yuan_per_t=Decimal("60.00"))
    page = client.get("/lots?min_price=-5&max_price=10").get_data(as_text=True)
    assert "Cheap" in page and "Dear" not in page and "Pay to remove" not in page
    page = client.get("/lots?max_price=0").get_data(as_text=True)
    assert "Pay to remove" in page and "Cheap" not in page


def test_a_page_past_the_last_shows_the_last_page_and_keeps_the_filters(app, client, reference):
    for n in range(app.config["LOTS_PER_PAGE"] + 3):
        LotFactory(title=f"Ash lot {n:03d}")
    page = client.get("/lots?page=9999&category=fly_ash&lang=en").get_data(as_text=True)
    assert "Page 2 of 2" in page and "No lots match" not in page and "Ash lot 000" in page
    assert "category=fly_ash" in page.split('rel="prev"')[1].split(">")[0]


def test_the_language_switch_keeps_the_filters(client, reference):
    page = client.get("/lots?category=fly_ash&min_tonnes=5&lang=en").get_data(as_text=True)
    switch = page.split('lang="zh-CN" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "category=fly_ash" in switch and "min_tonnes=5" in switch and "lang=zh_CN" in switch


def test_my_lots_lists_every_state_with_tonnes_left_bids_and_actions(client, auth, reference):
    user = UserFactory()
    plant = FacilityFactory(organization=user.organization)
    open_lot = LotFactory(facility=plant, title="Mine open")
    BidFactory(lot=open_lot)
    BidFactory(lot=open_lot)
    LotFactory(facility=plant, title="Mine sold", status="awarded", remaining_tonnes=Decimal("0"))
    LotFactory(facility=plant, title="Mine withdrawn", status="withdrawn")
    LotFactory(title="Someone else's")
    auth.login(user.email)
    page = client.get("/lots/mine?lang=en").get_data(as_text=True)
    assert "Mine open" in page and "Mine sold" in page and "Mine withdrawn" in page
    assert "Someone else" not in page
    row = page.split(f'id="lot-{open_lot.id}"')[1].split("</tr>")[0]
    assert 'bid-count">2<' in row and "Withdraw" in row and "data-confirm" in row and "1,000 t / 1,000 t" in row
    sold = client.get("/lots/mine?state=sold&lang=en").get_data(as_text=True)
    assert "Mine sold" in sold and "Mine open" not in sold


def test_withdrawing_from_my_lots_returns_there(client, auth, reference):
    user = UserFactory()
    lot = LotFactory(facility=FacilityFactory(organization=user.organization), title="To withdraw")
    auth.login(user.email)
    response = client.post(f"/lots/{lot.id}/withdraw",
                           data={"csrf_token": csrf_token(client, "/lots/mine"), "next": "mine"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/lots/mine")
    assert reference.session.get(Lot, lot.id).status == "withdrawn"


def test_my_lots_is_for_producers(client, auth, reference):
    buyer = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    auth.login(buyer.email)
    assert client.get("/lots/mine").status_code == 403


def test_generated_titles_are_rebuilt_in_english_and_own_titles_kept(client, reference):
    plant = FacilityFactory(name="西林炼钢厂")
    slag = category("steel_slag")
    generated = LotFactory(facility=plant, category=slag, title=f"{slag.name_zh} 2,000 吨 · 西林炼钢厂")
    own = LotFactory(facility=plant, category=slag, title="优质钢渣")
    page = client.get(f"/lots/{generated.id}?lang=en").get_data(as_text=True)
    assert f"{slag.name_en} 2,000 t · 西林炼钢厂" in page and " 吨 " not in page
    assert "优质钢渣" in client.get(f"/lots/{own.id}?lang=en").get_data(as_text=True)
    assert f"{slag.name_zh} 2,000 吨" in client.get(f"/lots/{generated.id}?lang=zh_CN").get_data(as_text=True)
