"""Maps a person can read: base layer with roads, railways and place names; clustered lots; lot mini-map."""

from app.services import clearing
from tests.app.test_bases_pages import daqing_data  # noqa: F401 - daqing_data: one 2025 delivery from a Daqing plant
from tests.app.test_dispatch import _plan, world  # noqa: F401 - world: loads given to a carrier, one truck
from tests.app.test_seasonal import _officer, add_yard, winter_market
from tests.factories import PASSWORD, FacilityFactory, LotFactory, OrganizationFactory, UserFactory, small_market


def _signed_in_page(browser, live_server, locale="zh-CN", email=None):
    if email is None:
        email = "viewer@example.com"
        UserFactory(email=email)
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form [type=submit]")
    page.wait_for_load_state()
    return context, page, errors


def _wait_until_settled(page):
    """The page marks a map ready once its view is final and its base layers are drawn (gufei-map.js):
    markers are clustered once, at the final zoom, so nothing is re-rendered after this."""
    page.wait_for_selector(".lots-map[data-map-ready=true]", timeout=15000)


def test_lot_map_draws_the_base_layer_and_clusters_stacked_lots(live_server, browser, reference, screenshots):
    plant = FacilityFactory()
    for _ in range(4):  # four lots at one plant: one cluster reading 4, not one marker hiding three
        LotFactory(facility=plant)
    context, page, errors = _signed_in_page(browser, live_server)
    page.goto(f"{live_server}/lots/map")
    _wait_until_settled(page)
    screenshots(page, "lots-map")
    # Exactly one cluster, reading 4, and it stays: no animation re-clusters it after the map settled.
    assert page.locator(".marker-cluster").count() == 1
    assert page.inner_text(".marker-cluster") == "4"
    assert page.locator(".lots-map .leaflet-marker-icon:not(.marker-cluster)").count() == 0
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
    # Zooming out stops while the province still fills a good part of the map (not a blob in a grey field).
    for _ in range(6):
        page.click(".lots-map .leaflet-control-zoom-out", force=True)
        page.wait_for_timeout(300)
    screenshots(page, "lots-map-zoomed-out")
    assert "leaflet-disabled" in page.get_attribute(".lots-map .leaflet-control-zoom-out", "class")
    width = page.evaluate("""() => {
        const r = [...document.querySelectorAll('.lots-map .leaflet-gufei-area-pane path')]
            .map(p => p.getBoundingClientRect());
        return Math.max(...r.map(b => b.right)) - Math.min(...r.map(b => b.left));
    }""")
    assert width > 250  # Heilongjiang's prefectures span ~300 px at zoom 5
    assert errors == []
    context.close()


def test_lot_page_mini_map_opens_on_the_plant_with_nearby_towns(live_server, browser, reference, screenshots):
    lot = LotFactory()
    context, page, errors = _signed_in_page(browser, live_server)
    page.goto(f"{live_server}/lots/{lot.id}")
    _wait_until_settled(page)
    assert page.locator(".lots-map .leaflet-marker-icon").count() == 1
    assert page.locator(".lots-map .gufei-label:not(.gufei-label-city)").count() > 0
    screenshots(page, "lot-page")
    assert page.evaluate("document.querySelector('.lots-map').querySelectorAll('.gufei-label').length") > 3
    assert errors == []
    context.close()


def test_english_ui_labels_places_in_pinyin(live_server, browser, reference, screenshots):
    """The English UI reads place names in pinyin from the geo data (built with pypinyin), never Chinese."""
    lot = LotFactory()
    context, page, errors = _signed_in_page(browser, live_server, locale="en-US")
    page.goto(f"{live_server}/lots/{lot.id}")
    _wait_until_settled(page)
    screenshots(page, "lot-page-en")
    labels = page.eval_on_selector_all(".lots-map .gufei-label", "els => els.map(e => e.textContent.trim())")
    counties = page.eval_on_selector_all(
        ".lots-map .gufei-label:not(.gufei-label-city)", "els => els.map(e => e.textContent.trim())"
    )
    assert counties, "the mini-map shows county seats"
    assert all(label and not any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in labels), labels
    assert "Harbin" in labels
    assert errors == []
    context.close()


def _labels_in_view(page, selector):
    """How many place-name labels lie wholly inside the map's box (a settled map shows where it is)."""
    return page.evaluate("""(sel) => {
        const box = document.querySelector(sel).getBoundingClientRect();
        return [...document.querySelectorAll(sel + ' .gufei-label')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom;
        }).length;
    }""", selector)


def test_clearing_flow_map_settles_on_its_flows_over_the_base_layer(live_server, browser, db, reference, screenshots):
    small_market()
    run = clearing.start_clearing(db.session, None, "fly_ash")
    UserFactory(email="regulator@example.com", role="regulator", organization=OrganizationFactory(name="省工信厅"))
    context, page, errors = _signed_in_page(browser, live_server, email="regulator@example.com")
    page.goto(f"{live_server}/clearing/runs/{run.id}")
    page.wait_for_selector("#flow-map[data-map-ready=true]", timeout=15000)
    screenshots(page, "flow-map")
    assert page.locator("#flow-map .gufei-map-legend").count() == 1
    # The view was set before the flows were added: the flow and both ends are in the final view.
    assert page.locator("#flow-map path.leaflet-interactive[stroke='#1565c0']").count() >= 1
    assert page.evaluate("document.querySelector('#flow-map .leaflet-gufei-base-pane').childElementCount") > 0
    assert _labels_in_view(page, "#flow-map") >= 2
    assert errors == []
    context.close()


def test_dispatch_map_draws_routes_over_the_base_layer_and_settles(live_server, browser, db, world, screenshots):  # noqa: F811
    plan = _plan(db, world)
    context, page, errors = _signed_in_page(browser, live_server, email="carrier@example.com")
    page.goto(f"{live_server}/dispatch/plans/{plan.id}")
    page.wait_for_selector("#dispatch-map[data-map-ready=true]", timeout=15000)
    screenshots(page, "dispatch-map")
    assert page.locator("#dispatch-map .leaflet-overlay-pane path.leaflet-interactive").count() >= 1
    assert page.locator("#dispatch-map .gufei-label").count() > 0  # place names, not a bare outline
    assert _labels_in_view(page, "#dispatch-map") >= 2
    assert "OpenStreetMap" in page.inner_text("#dispatch-map .leaflet-control-attribution")
    assert errors == []
    context.close()


def test_seasonal_map_settles_and_redraws_each_month(live_server, browser, reference, screenshots):
    base, _lot, _kiln = winter_market()
    add_yard(base)
    officer = _officer("daqing")
    context, page, errors = _signed_in_page(browser, live_server, email=officer.email)
    page.goto(f"{live_server}/bases/daqing/seasonal")
    page.fill("input[name=start]", "2026-11")
    page.click("input[name=submit]")
    page.wait_for_selector(".gufei-season-map[data-map-ready=true]", timeout=15000)
    assert page.locator(".gufei-season-map .gufei-label").count() > 0
    page.select_option("#season-month", "2027-04")
    page.wait_for_selector(".gufei-season-map .leaflet-overlay-pane path.leaflet-interactive")
    screenshots(page, "seasonal-map")
    assert _labels_in_view(page, ".gufei-season-map") >= 2
    assert errors == []
    context.close()


def test_base_dashboard_flow_map_has_a_legend_of_tonnes_and_modes(live_server, browser, daqing_data, screenshots):  # noqa: F811
    from tests.app.test_bases_pages import _officer as base_officer

    officer = base_officer("daqing")
    context, page, errors = _signed_in_page(browser, live_server, email=officer.email)
    page.goto(f"{live_server}/bases/daqing?year=2025")
    page.wait_for_selector(".gufei-flow-map[data-map-ready=true]", timeout=15000)
    screenshots(page, "base-flow-map")
    legend = page.inner_text(".gufei-flow-map .gufei-map-legend")
    assert "成交吨数" in legend and "公路" in legend and "铁路" in legend and "300 t" in legend
    # The flow is drawn in the road colour the legend shows.
    assert page.locator(".gufei-flow-map path.leaflet-interactive[stroke='#1565c0']").count() == 1
    # The OpenStreetMap attribution is in the page's language.
    assert "OpenStreetMap 贡献者" in page.inner_text(".gufei-flow-map .leaflet-control-attribution")
    page.click(".gufei-flow-map path.leaflet-interactive[stroke='#1565c0']", force=True)
    assert "粉煤灰" in page.inner_text(".gufei-flow-map .leaflet-popup-content")
    assert errors == []
    context.close()


def test_dispatch_map_says_so_when_the_plan_has_no_runs(live_server, browser, db, world, screenshots):  # noqa: F811
    import datetime as dt

    late = world["loads"][0]
    soon = dt.date.today() + dt.timedelta(days=5)
    plan = _plan(db, world, shipment_ids=[late.id], windows={late.id: (soon, None)})
    assert plan.unserved and not plan.stops
    context, page, errors = _signed_in_page(browser, live_server, locale="en-US", email="carrier@example.com")
    page.goto(f"{live_server}/dispatch/plans/{plan.id}")
    page.wait_for_selector("#dispatch-map[data-map-ready=true]", timeout=15000)
    screenshots(page, "dispatch-map-empty")
    assert "no routes to draw" in page.inner_text("#dispatch-map .gufei-map-empty")
    assert page.locator("#dispatch-map .gufei-label").count() > 0  # the base layer is still there
    assert errors == []
    context.close()


def test_seasonal_map_has_a_legend_and_says_when_a_month_has_no_deliveries(live_server, browser, reference,
                                                                           screenshots):
    base, _lot, _kiln = winter_market()
    add_yard(base)
    officer = _officer("daqing")
    context, page, errors = _signed_in_page(browser, live_server, locale="en-US", email=officer.email)
    page.goto(f"{live_server}/bases/daqing/seasonal")
    page.fill("input[name=start]", "2026-11")
    page.click("input[name=submit]")
    page.wait_for_selector(".gufei-season-map[data-map-ready=true]", timeout=15000)
    flows = page.evaluate("""() => fetch(document.querySelector('.gufei-season-map').dataset.url)
        .then(r => r.json()).then(d => d.flows)""")
    busy = next(m for m, lines in flows.items() if lines)
    page.select_option("#season-month", busy)
    page.wait_for_selector(".gufei-season-map .gufei-map-legend")
    screenshots(page, "seasonal-map-legend")
    legend = page.inner_text(".gufei-season-map .gufei-map-legend")
    assert "Tonnes delivered" in legend and "straight to the buyer" in legend and "out of a storage yard" in legend
    assert page.locator(".gufei-season-map .gufei-map-empty").count() == 0
    # The kilns stop in winter, so the plan's first months deliver nothing: the map says so, without a legend.
    idle = [m for m, lines in flows.items() if not lines]
    assert idle
    page.select_option("#season-month", idle[0])
    page.wait_for_selector(".gufei-season-map .gufei-map-empty")
    assert page.inner_text(".gufei-season-map .gufei-map-empty") == "No deliveries in this month."
    assert page.locator(".gufei-season-map .gufei-map-legend").count() == 0
    assert page.locator(".gufei-season-map .leaflet-overlay-pane path.leaflet-interactive").count() == 0
    assert errors == []
    context.close()
