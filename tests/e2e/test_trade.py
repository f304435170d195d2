"""A whole trade in the browser: post → bid → clear → accept → dispatch → receive → utilise."""
from __future__ import annotations

import datetime as dt

from app.services.accounts import create_admin
from models import OrganizationRole
from tests.factories import PASSWORD, FacilityFactory, OrganizationFactory, UserFactory


def _sign_in(browser, base_url: str, email: str):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_load_state()
    return page


def test_a_lot_is_posted_bid_on_cleared_accepted_shipped_received_and_utilised(
        live_server, browser, reference, screenshots):
    mill = OrganizationFactory(name="建龙阿城钢铁（测试）")
    UserFactory(email="mill@example.com", organization=mill, role="producer")
    FacilityFactory(organization=mill, name="阿城厂区", kind="producer", lon=126.96, lat=45.54,
                    prefecture_code="230100")
    cement = OrganizationFactory(name="亚泰哈尔滨水泥（测试）", roles=[OrganizationRole(role="recycler")])
    UserFactory(email="cement@example.com", organization=cement, role="recycler")
    FacilityFactory(organization=cement, name="哈尔滨水泥厂", kind="recycler", lon=126.65, lat=45.75,
                    prefecture_code="230100", max_haul_km=200)
    create_admin(reference.session, "admin@example.com", "管理员", PASSWORD)

    producer = _sign_in(browser, live_server, "mill@example.com")
    producer.goto(f"{live_server}/lots/new")
    producer.select_option("select[name=category]", "steel_slag")
    producer.fill("input[name=title]", "转炉钢渣 500 吨（端到端测试）")
    producer.fill("input[name=tonnes]", "500")
    producer.fill("input[name=reserve_yuan_per_t]", "8")
    producer.fill("input[name=available_from]", dt.date.today().isoformat())
    screenshots(producer, "producer-posts-lot")
    producer.click("#lot-form [type=submit]")
    producer.wait_for_load_state()
    assert "转炉钢渣 500 吨（端到端测试）" in producer.content()
    lot_url = producer.url
    screenshots(producer, "lot-page")

    recycler = _sign_in(browser, live_server, "cement@example.com")
    recycler.goto(lot_url)
    recycler.click("#place-bid")
    recycler.fill("input[name=price_yuan_per_t]", "75")
    recycler.fill("input[name=tonnes]", "500")
    screenshots(recycler, "recycler-bids")
    recycler.click("form [type=submit]:not(.btn-outline-light)")
    recycler.wait_for_load_state()
    assert "75.00" in recycler.content()

    producer.goto(lot_url)
    assert producer.inner_text("#bid-count") == "1"
    assert "75.00" not in producer.content()

    admin = _sign_in(browser, live_server, "admin@example.com")
    admin.goto(f"{live_server}/clearing")
    admin.click("form[action$='/clearing/runs'] [type=submit]")
    admin.wait_for_load_state()
    admin.wait_for_selector("#run-status")
    screenshots(admin, "clearing-run")
    assert "转炉钢渣 500 吨（端到端测试）" in admin.content()

    for page, label in ((producer, "producer"), (recycler, "recycler")):
        page.goto(f"{live_server}/awards")
        page.click("button[name=decision][value=accept]")
        page.wait_for_load_state()
        screenshots(page, f"{label}-accepts")
    award_link = recycler.locator("a[href*='/awards/']").first
    award_url = live_server + award_link.get_attribute("href")

    producer.goto(award_url)
    producer.fill("form[action*='/dispatch'] input[name=tonnes]", "500")
    producer.fill("form[action*='/dispatch'] input[name=vehicle_plate]", "黑A12345")
    producer.click("form[action*='/dispatch'] [type=submit]")
    producer.wait_for_load_state()
    screenshots(producer, "dispatched")
    assert "GF-" in producer.content()

    recycler.goto(award_url)
    recycler.fill("form[action*='/receive'] input[name=received_tonnes]", "480")
    recycler.click("form[action*='/receive'] [type=submit]")
    recycler.wait_for_load_state()
    screenshots(recycler, "received-flagged")
    assert "badge bg-warning" in recycler.content()  # 4 % short of the dispatch: flagged

    recycler.select_option("form[action*='/utilisation'] select[name=product]", "cement")
    recycler.fill("form[action*='/utilisation'] input[name=tonnes]", "480")
    recycler.click("form[action*='/utilisation'] [type=submit]")
    recycler.wait_for_load_state()
    screenshots(recycler, "utilised")
    producer.goto(lot_url)
    assert "已综合利用" in producer.content() or "Utilised" in producer.content()
