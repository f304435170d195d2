"""What-if scenarios run in memory: real lots and allocations stay untouched; a subsidy moves more tonnes."""
from decimal import Decimal

import sqlalchemy as sa

from app.services import scenarios
from models import Allocation, Bid, Lot, MatchRun
from tests.factories import DemandProfileFactory, FacilityFactory, LotFactory


def _marginal_market():
    """A fly-ash lot whose only buyer pays too little to cover freight and reserve."""
    plant = FacilityFactory(lon=126.63, lat=45.75)
    cement = FacilityFactory(kind="recycler", lon=127.2, lat=46.2, max_haul_km=400)
    lot = LotFactory(facility=plant, tonnes=Decimal(1000), reserve_yuan_per_t=Decimal(10))
    DemandProfileFactory(facility=cement, tonnes=Decimal(800), price_yuan_per_t=Decimal(11))
    return lot


def test_a_subsidy_increases_matched_tonnes(reference):
    _marginal_market()
    base = scenarios.compare(reference.session, scenarios.ScenarioParams())
    subsidised = scenarios.compare(reference.session, scenarios.ScenarioParams(subsidies={"fly_ash": Decimal(200)}))
    assert base["total"]["baseline_t"] == 0
    assert subsidised["total"]["scenario_t"] == Decimal(800)
    assert subsidised["rows"][0]["delta_t"] == Decimal(800)
    assert subsidised["rows"][0]["scenario_transport_yuan"] > 0


def test_a_haul_limit_and_dearer_freight_cut_matched_tonnes(reference):
    _marginal_market()
    generous = scenarios.ScenarioParams(subsidies={"fly_ash": Decimal(200)})
    assert scenarios.compare(reference.session, generous)["total"]["scenario_t"] == Decimal(800)
    capped = scenarios.ScenarioParams(subsidies={"fly_ash": Decimal(200)}, haul_limit_km=5)
    assert scenarios.compare(reference.session, capped)["total"]["scenario_t"] == 0


def test_a_scenario_leaves_real_data_untouched(reference):
    lot = _marginal_market()
    session = reference.session
    before = (session.scalar(sa.select(sa.func.count(Allocation.id))), session.scalar(sa.select(sa.func.count(Bid.id))),
              session.scalar(sa.select(Lot.remaining_tonnes).where(Lot.id == lot.id)))
    run, comparison = scenarios.run_scenario(session, None, scenarios.ScenarioParams(
        subsidies={"fly_ash": Decimal(200)}, carbon_price_yuan_per_t=Decimal(50), freight_change_pct=Decimal(10)))
    assert comparison["total"]["scenario_t"] == Decimal(800)
    session.expire_all()
    after = (session.scalar(sa.select(sa.func.count(Allocation.id))), session.scalar(sa.select(sa.func.count(Bid.id))),
             session.scalar(sa.select(Lot.remaining_tonnes).where(Lot.id == lot.id)))
    assert after == before
    assert session.scalar(sa.select(Lot.status).where(Lot.id == lot.id)) == "open"
    stored = session.get(MatchRun, run.id)
    assert stored.is_scenario and stored.results["total"]["scenario_t"] == 800.0


def test_the_scenario_page_runs_for_an_officer(client, auth, reference):
    from models import OrganizationRole
    from tests.conftest import csrf_token
    from tests.factories import OrganizationFactory, UserFactory, resource_base

    _marginal_market()
    org = OrganizationFactory(base_id=resource_base("daqing").id, roles=[OrganizationRole(role="base_operator")])
    auth.login(UserFactory(role="base_officer", organization=org).email)
    token = csrf_token(client, "/bases/daqing/scenarios")
    response = client.post("/bases/daqing/scenarios", data={
        "csrf_token": token, "subsidies-0-category": "fly_ash", "subsidies-0-yuan_per_t": "200",
        "carbon_price": "0", "freight_change_pct": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "+800.0" in page
    assert reference.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0


def test_recent_scenarios_are_described_in_words_not_a_raw_dict(client, auth, reference):
    from models import OrganizationRole
    from tests.conftest import csrf_token
    from tests.factories import OrganizationFactory, UserFactory, resource_base

    _marginal_market()
    org = OrganizationFactory(base_id=resource_base("daqing").id, roles=[OrganizationRole(role="base_operator")])
    auth.login(UserFactory(role="base_officer", organization=org).email)
    client.post("/bases/daqing/scenarios?lang=en", data={
        "csrf_token": csrf_token(client, "/bases/daqing/scenarios"), "subsidies-0-category": "fly_ash",
        "subsidies-0-yuan_per_t": "200", "carbon_price": "0", "freight_change_pct": "5"})
    page = client.get("/bases/daqing/scenarios?lang=en").get_data(as_text=True)
    recent = page.split('id="recent-scenarios"')[1].split("</ul>")[0]
    assert "subsidy on Fly ash: 200.00 yuan/t" in recent and "freight +5.0 %" in recent
    assert "{" not in recent and "subsidies" not in recent and "(UTC+8)" in recent
