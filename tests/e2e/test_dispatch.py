"""A carrier plans its loads in the browser: routes on the map, printable run sheets, acceptance."""
from tests.app.test_dispatch import world  # noqa: F401 - the fixture: loads given to a carrier, one truck
from tests.factories import PASSWORD


def test_a_carrier_plans_sees_the_map_prints_run_sheets_and_accepts(live_server, browser, world, screenshots):  # noqa: F811
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "carrier@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()
    page.click("a[href='/dispatch/']")
    assert all(s.manifest_no in page.content() for s in world["loads"])
    page.select_option("select[name=time_limit_s]", "1")
    page.click("form[action='/dispatch/plans'] button[type=submit]")
    page.wait_for_selector(".run-sheet")
    page.wait_for_selector("#dispatch-map path.leaflet-interactive")
    screenshots(page, "plan")
    assert page.locator(".run-sheet").count() >= 1 and "黑AD0001" in page.content()
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible() and not page.locator("#dispatch-map").is_visible()
    assert page.locator(".run-sheet").first.is_visible()
    screenshots(page, "print")
    page.emulate_media(media="screen")
    page.click("form[action$='/accept'] button[type=submit]")
    page.wait_for_load_state()
    assert "方案已采纳" in page.content()
    context.close()
