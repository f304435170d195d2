"""A base officer plans the winter in the browser: the yard chart draws and each month's map shows deliveries."""
from tests.app.test_seasonal import _officer, add_yard, winter_market
from tests.factories import PASSWORD

CHART = "Chart.getChart(document.querySelector('canvas.gufei-yard-chart'))"


def test_an_officer_sees_the_yard_fill_and_empty_and_the_spring_deliveries(live_server, browser, reference,
                                                                           screenshots):
    base, _lot, _kiln = winter_market()
    add_yard(base)
    officer = _officer("daqing")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", officer.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/bases/daqing/seasonal")
    page.fill("input[name=start]", "2026-11")
    page.click("input[name=submit]")
    page.wait_for_load_state("networkidle")
    assert "/seasonal/" in page.url and "季节性计划" in page.content()
    page.wait_for_function(f"() => window.Chart && {CHART}")
    levels = page.evaluate(f"() => {CHART}.data.datasets[0].data")
    assert max(levels) > 0 and levels[-1] == 0
    page.select_option("#season-month", "2027-04")
    page.wait_for_selector(".gufei-season-map path.leaflet-interactive")
    screenshots(page, "seasonal-plan")
    assert not errors, errors
    context.close()
