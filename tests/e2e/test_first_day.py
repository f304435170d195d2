"""A new user's first day in the browser: a fully matched lot, a saved search firing, the English UI with no
Chinese but names, a phone-width awards page without sideways scroll, and confirmations that can be refused."""
from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa

from app.services import clearing
from models import Facility, Lot, Organization, OrganizationRole, User
from tests.factories import PASSWORD, FacilityFactory, LotFactory, OrganizationFactory, UserFactory, small_market

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _sign_in(browser, base_url: str, email: str, locale="zh-CN", width=1366):
    context = browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form [type=submit]")
    page.wait_for_load_state()
    return page


def _buyer(email="buyer@example.com"):
    org = OrganizationFactory(name="哈尔滨水泥（测试）", roles=[OrganizationRole(role="recycler")])
    UserFactory(email=email, organization=org, role="recycler", name="采购员")
    return FacilityFactory(organization=org, name="哈尔滨水泥厂", kind="recycler", lon=126.65, lat=45.75)


def test_a_fully_matched_lot_shows_its_state_and_leaves_the_list(live_server, browser, reference, screenshots):
    _buyer()
    done = LotFactory(title="Fully matched slag", status="matched", remaining_tonnes=Decimal("0"))
    LotFactory(title="Still open slag")
    page = _sign_in(browser, live_server, "buyer@example.com", locale="en")
    page.goto(f"{live_server}/lots?lang=en")
    assert "Still open slag" in page.content() and "Fully matched slag" not in page.content()
    response = page.goto(f"{live_server}/lots/{done.id}")
    screenshots(page, "fully-matched-lot")
    assert response.status == 200
    assert page.is_visible("#lot-closed") and page.inner_text("#lot-state-badge") == "Matched"
    assert page.locator("#place-bid").count() == 0 and page.locator("#ask-form").count() == 0


def test_a_saved_search_fires_when_a_matching_lot_is_posted(live_server, browser, reference, screenshots):
    _buyer()
    mill = OrganizationFactory(name="建龙西林钢铁（测试）")
    UserFactory(email="mill@example.com", organization=mill, role="producer")
    FacilityFactory(organization=mill, name="西林厂区", lon=126.96, lat=45.54)

    buyer = _sign_in(browser, live_server, "buyer@example.com", locale="en")
    buyer.goto(f"{live_server}/lots?category=steel_slag&min_tonnes=100&lang=en")
    buyer.click("#save-search")
    buyer.fill("input[name=name]", "Slag near Harbin")
    buyer.select_option("select[name=near]", label="哈尔滨水泥厂")
    buyer.fill("input[name=max_km]", "150")
    buyer.click("main form[action$='/searches'] [type=submit]")
    buyer.wait_for_load_state()
    assert "Slag near Harbin" in buyer.inner_text("#saved-searches")
    screenshots(buyer, "search-saved")

    producer = _sign_in(browser, live_server, "mill@example.com")
    producer.goto(f"{live_server}/lots/new")
    producer.select_option("select[name=category]", "steel_slag")
    producer.fill("input[name=title]", "Converter slag for the saved search")
    producer.fill("input[name=tonnes]", "800")
    producer.fill("input[name=reserve_yuan_per_t]", "5")
    producer.fill("input[name=available_from]", "2026-11-01")
    producer.click("#lot-form [type=submit]")
    producer.wait_for_load_state()

    buyer.goto(f"{live_server}/notifications?lang=en")
    screenshots(buyer, "alert-in-inbox")
    assert buyer.inner_text("#unread-count") == "1"
    buyer.click("text=New lot for your saved search Slag near Harbin")
    buyer.wait_for_load_state()
    assert "Converter slag for the saved search" in buyer.inner_text("h1")


def _names(session) -> list[str]:
    """Proper names the English UI may show in Chinese: organisations, facilities, users, the language switch."""
    names = [*session.scalars(sa.select(Organization.name)), *session.scalars(sa.select(Facility.name)),
             *session.scalars(sa.select(User.name)), "中文"]
    return sorted(set(names), key=len, reverse=True)


def test_the_english_ui_has_no_chinese_left_except_names(live_server, browser, reference, screenshots):
    m = small_market()
    clearing.start_clearing(reference.session, None, "fly_ash")
    lot = reference.session.get(Lot, m["lot"].id)
    page = _sign_in(browser, live_server, "near@example.com", locale="en")
    leaks = []
    for path in ("/", "/lots", f"/lots/{lot.id}", "/awards", "/bids", "/searches", "/notifications",
                 "/facilities", "/account/tokens"):
        page.goto(f"{live_server}{path}")
        # Map labels are place names drawn by the map layer (tests/e2e of the maps cover them).
        text = page.evaluate("""() => { const b = document.body.cloneNode(true);
            b.querySelectorAll('.leaflet-container').forEach(e => e.remove()); return b.innerText; }""")
        for name in _names(reference.session):
            text = text.replace(name, "")
        found = CJK.findall(text)
        if found:
            leaks.append(f"{path}: {''.join(found)[:80]}")
    screenshots(page, "english")
    assert not leaks, "\n".join(leaks)


def test_the_awards_page_fits_a_phone_without_sideways_scroll(live_server, browser, reference, screenshots):
    small_market()
    clearing.start_clearing(reference.session, None, "fly_ash")
    for email in ("producer@example.com", "near@example.com"):
        page = _sign_in(browser, live_server, email, width=390)
        page.goto(f"{live_server}/awards")
        screenshots(page, f"awards-phone-{email.split('@')[0]}")
        assert page.locator("[id^=allocation-]").count() >= 1
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"sideways scroll: {widths}"
        assert page.is_visible("[id^=allocation-] button[value=accept]")


def test_withdrawing_asks_first_and_a_refusal_keeps_the_lot(live_server, browser, reference, screenshots):
    user = UserFactory(email="mill@example.com", role="producer")
    lot = LotFactory(facility=FacilityFactory(organization=user.organization), title="Keep me")
    page = _sign_in(browser, live_server, "mill@example.com", locale="en")
    page.goto(f"{live_server}/lots/mine")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.click(f"#lot-{lot.id} button:has-text('Withdraw')")
    page.wait_for_timeout(300)
    reference.session.expire_all()
    assert asked and reference.session.get(Lot, lot.id).status == "open"
    page.once("dialog", lambda d: d.accept())
    page.click(f"#lot-{lot.id} button:has-text('Withdraw')")
    page.wait_for_load_state()
    reference.session.expire_all()
    assert reference.session.get(Lot, lot.id).status == "withdrawn"
    screenshots(page, "withdrawn")
