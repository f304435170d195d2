"""Seasonal plan: winter ash, a kiln stopped by the staggered-production rule, base yards and what-ifs."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.services import seasonal
from app.services.errors import PermissionDenied, ServiceError
from app.services.utilisation import Scope
from models import AuditEvent, Lot, MatchRun, OrganizationRole, Yard
from tests.factories import (
    BidFactory,
    DemandProfileFactory,
    FacilityFactory,
    LotFactory,
    OrganizationFactory,
    UserFactory,
    category,
    resource_base,
)

TODAY = dt.date(2026, 11, 1)
WINTER_ONLY = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]  # a plant making ash November to February only


def winter_market(kiln_calendar=seasonal.KILN_STAGGERED_MONTHS):
    """1,200 t of fly ash made November–February in Daqing; a kiln next door stopped in winter buys 1,200 t."""
    base = resource_base("daqing")
    chp = FacilityFactory(name="CHP", lon=125.10, lat=46.59, base=base, generation_profile=WINTER_ONLY)
    kiln = FacilityFactory(name="Kiln", kind="recycler", lon=125.15, lat=46.62, base=base, max_haul_km=300,
                           operating_months=list(kiln_calendar))
    lot = LotFactory(facility=chp, tonnes=Decimal(1200), reserve_yuan_per_t=Decimal(-20),
                     available_from=TODAY, available_to=dt.date(2027, 10, 31))
    DemandProfileFactory(facility=kiln, tonnes=Decimal(1200), price_yuan_per_t=Decimal(30),
                         period_start=TODAY, period_end=dt.date(2027, 10, 31))
    return base, lot, kiln


def add_yard(base, capacity=2000, cost=1):
    yard = Yard(name="Daqing base yard", base=base, category=category("fly_ash"), lon=125.12, lat=46.60,
                capacity_t=Decimal(capacity), cost_yuan_per_t_month=Decimal(cost), loss_pct_per_month=Decimal(0))
    seasonal_session().add(yard)
    seasonal_session().commit()
    return yard


def seasonal_session():
    from app.extensions import db

    return db.session


def rate_of(result, code="daqing"):
    return next(b for b in result["bases"] if b["code"] == code)["rate"]


def test_winter_ash_is_landfilled_when_the_kiln_is_stopped_and_there_is_no_yard(reference):
    winter_market()
    result = seasonal.plan(reference.session, "2026-11", today=TODAY)
    assert result["status"] == "optimal"
    assert result["totals"]["offered_t"] == 1200.0
    assert result["totals"]["delivered_t"] == 0.0 and result["totals"]["disposed_t"] == 1200.0
    assert rate_of(result) == 0.0


def test_a_base_yard_carries_winter_ash_to_the_kiln_in_spring(reference):
    base, _lot, _kiln = winter_market()
    add_yard(base)
    result = seasonal.plan(reference.session, "2026-11", today=TODAY)
    months = {m["period"]: m for m in result["months"]}
    # The kiln runs half of March and all of April on: the stock waits in the yard and is used up by the end.
    assert all(months[p]["delivered_t"] == 0 for p in ("2026-11", "2026-12", "2027-01", "2027-02"))
    assert result["totals"]["delivered_t"] == 1200.0 and result["totals"]["disposed_t"] == 0.0
    (yard,) = result["yards"]
    assert max(yard["levels_t"]) <= yard["capacity_t"] and yard["levels_t"][-1] == 0
    assert yard["levels_t"][3] > 0  # February's month-end stock
    assert rate_of(result) == 1.0
    assert result["storage_cost_yuan"] > 0


def test_a_full_yard_leaves_the_rest_to_landfill(reference):
    base, _lot, _kiln = winter_market()
    add_yard(base, capacity=500)
    result = seasonal.plan(reference.session, "2026-11", today=TODAY)
    assert max(result["yards"][0]["levels_t"]) == 500.0
    assert 0 < result["totals"]["disposed_t"] < 1200


def test_what_ifs_change_rate_and_cost_without_touching_real_data(reference):
    base, lot, kiln = winter_market()
    session = reference.session
    yards_before = session.scalar(sa.select(sa.func.count(Yard.id)))
    run = seasonal.run_plan(session, None, Scope("base", base=base), "2026-11",
                            seasonal.WhatIf(yard={"category": "fly_ash", "lon": 125.12, "lat": 46.60,
                                                  "capacity_t": Decimal(2000), "cost_yuan_per_t_month": Decimal(1)}),
                            today=TODAY)
    comparison = run.results["comparison"]
    daqing = next(r for r in comparison["rates"] if r["code"] == "daqing")
    assert daqing["baseline"] == 0.0 and daqing["scenario"] == 1.0 and daqing["change"] == 1.0
    assert comparison["disposed_change_t"] == -1200.0 and comparison["storage_cost_change_yuan"] > 0
    moved = seasonal.plan(session, "2026-11", seasonal.WhatIf(kiln_facility_id=kiln.id, kiln_stopped_months=(7,)),
                          today=TODAY)
    # Running all but July, the kiln spreads its 1,200 t over 11 months: winter takes 4/11 of the ash as it comes.
    assert rate_of(moved) == round(4 / 11, 4)
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count(Yard.id))) == yards_before
    assert session.get(Lot, lot.id).remaining_tonnes == Decimal(1200)
    assert session.get(type(kiln), kiln.id).operating_months == list(seasonal.KILN_STAGGERED_MONTHS)
    stored = session.get(MatchRun, run.id)
    assert stored.is_scenario and stored.solver == "seasonal"
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.entity_type == "match_run",
                                                      AuditEvent.entity_id == run.id)).action == "seasonal_plan"


def test_a_bid_on_one_lot_never_takes_pooled_yard_stock(reference):
    """The kiln bids only on a Harbin lot: winter ash stored in the Daqing yard must not reach that bid."""
    base = resource_base("daqing")
    chp = FacilityFactory(name="CHP", lon=125.10, lat=46.59, base=base, generation_profile=WINTER_ONLY)
    kiln = FacilityFactory(name="Kiln", kind="recycler", lon=125.15, lat=46.62, base=base, max_haul_km=300,
                           operating_months=list(seasonal.KILN_STAGGERED_MONTHS))
    LotFactory(facility=chp, tonnes=Decimal(1200), reserve_yuan_per_t=Decimal(-20), available_from=TODAY,
               available_to=dt.date(2027, 10, 31))
    other = LotFactory(facility=FacilityFactory(lon=126.6, lat=45.7), tonnes=Decimal(1),
                       reserve_yuan_per_t=Decimal(0), available_from=dt.date(2027, 5, 1))
    BidFactory(lot=other, facility=kiln, tonnes=Decimal(1200), price_yuan_per_t=Decimal(30))
    add_yard(base)
    result = seasonal.plan(reference.session, "2026-11", today=TODAY)
    assert all(level == 0 for level in result["yards"][0]["levels_t"])
    assert rate_of(result) == 0.0


def test_a_recycler_never_takes_its_own_organisations_stock_through_a_pooled_yard(reference):
    """One group owns the CHP and the kiln: the direct clearing never pairs them, and neither may the yard."""
    base, lot, kiln = winter_market()
    kiln.organization = lot.facility.organization
    add_yard(base)
    result = seasonal.plan(reference.session, "2026-11", today=TODAY)
    assert result["totals"]["delivered_t"] == 0.0 and result["totals"]["disposed_t"] == 1200.0
    assert all(level == 0 for level in result["yards"][0]["levels_t"])


def test_a_yard_shared_with_a_rivals_ash_still_serves_a_group_that_stores_nothing(reference):
    """A stranger's winter ash still reaches the kiln through the yard; the group's own lot is kept out of it."""
    base, own_lot, kiln = winter_market()
    own_lot.facility.organization = kiln.organization
    rival = FacilityFactory(name="Rival CHP", lon=125.11, lat=46.58, base=base, generation_profile=WINTER_ONLY)
    LotFactory(facility=rival, tonnes=Decimal(600), reserve_yuan_per_t=Decimal(-20), available_from=TODAY,
               available_to=dt.date(2027, 10, 31))
    add_yard(base)
    result = seasonal.plan(reference.session, "2026-11", today=TODAY)
    # Only the rival's 600 t can reach the group's kiln, and only through the yard in spring.
    assert result["totals"]["delivered_t"] == 600.0 and result["totals"]["disposed_t"] == 1200.0
    assert max(result["yards"][0]["levels_t"]) == 600.0


def test_a_bad_start_month_is_refused(reference):
    with pytest.raises(ServiceError):
        seasonal.plan(reference.session, "2026-13", today=TODAY)


@pytest.mark.parametrize(
    "values, ok",
    [
        ("1 1 1 1 1 1 1 1 1 1 1 1", True),
        ([0, 0, 0.5, 1, 1, 1, 0.5, 1, 1, 0.5, 0, 0], True),
        ("1 1 1", False),
        ("1 1 1 1 1 1 1 1 1 1 1 2", False),
        ("1 1 1 1 1 1 1 1 1 1 1 -1", False),
        ("1 1 1 1 1 1 1 1 1 1 1 nan", False),
        ("a b c d e f g h i j k l", False),
    ],
)
def test_calendars_take_twelve_shares_between_0_and_1(values, ok):
    if ok:
        assert len(seasonal.parse_months(values, "calendar", 1.0)) == 12
    else:
        with pytest.raises(ServiceError):
            seasonal.parse_months(values, "calendar", 1.0)


def test_a_profile_must_generate_something():
    with pytest.raises(ServiceError):
        seasonal.parse_months([0] * 12, "profile", None)
    assert seasonal.parse_months([5] * 12, "profile", None) == [5.0] * 12


def _officer(base_code):
    org = OrganizationFactory(roles=[OrganizationRole(role="base_operator")], base=resource_base(base_code))
    return UserFactory(role="base_officer", organization=org)


def test_a_base_officer_manages_yards_only_in_their_own_base(reference):
    officer = _officer("daqing")
    daqing, jixi = Scope("base", base=resource_base("daqing")), Scope("base", base=resource_base("jixi"))
    data = {"name": "Yard", "category": "fly_ash", "lon": 125.1, "lat": 46.6, "capacity_t": "1000",
            "cost_yuan_per_t_month": "2"}
    yard = seasonal.add_yard(reference.session, officer, daqing, data)
    assert yard.base_id == daqing.base.id
    with pytest.raises(PermissionDenied):
        seasonal.add_yard(reference.session, officer, jixi, data)
    with pytest.raises(ServiceError):  # a Daqing yard is not Jixi's to delete
        seasonal.delete_yard(reference.session, officer, jixi, yard.id)
    producer = UserFactory(role="producer")
    with pytest.raises(PermissionDenied):
        seasonal.add_yard(reference.session, producer, daqing, data)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"capacity_t": "0"}, "capacity_t"),
        ({"capacity_t": "-5"}, "capacity_t"),
        ({"cost_yuan_per_t_month": "-1"}, "cost_yuan_per_t_month"),
        ({"loss_pct_per_month": "100"}, "loss_pct_per_month"),
        ({"category": "no_such"}, "category"),
        ({"lon": 500}, "lon"),
        ({"name": ""}, "name"),
    ],
)
def test_absurd_yards_are_refused(reference, change, field):
    regulator = UserFactory(role="regulator")
    data = {"name": "Yard", "category": "fly_ash", "lon": 125.1, "lat": 46.6, "capacity_t": "1000",
            "cost_yuan_per_t_month": "2"} | change
    with pytest.raises(ServiceError) as err:
        seasonal.add_yard(reference.session, regulator, Scope("province"), data)
    assert err.value.field == field
    assert reference.session.scalar(sa.select(sa.func.count(Yard.id))) == 0


def test_only_the_facility_organisation_sets_its_calendar(reference):
    plant = FacilityFactory()
    owner = UserFactory(organization=plant.organization)
    seasonal.set_seasons(reference.session, owner, plant, list(seasonal.KILN_STAGGERED_MONTHS), None)
    assert plant.operating_months[10] == 0.0
    with pytest.raises(PermissionDenied):
        seasonal.set_seasons(reference.session, UserFactory(), plant, None, None)


# ----------------------------------------------------------------------------- pages


def test_an_officer_plans_the_year_and_reads_it_month_by_month(client, auth, reference):
    from tests.conftest import csrf_token

    base, _lot, kiln = winter_market()
    add_yard(base)
    auth.login(_officer("daqing").email)
    token = csrf_token(client, "/bases/daqing/seasonal")
    response = client.post("/bases/daqing/seasonal", data={
        "csrf_token": token, "start": "2026-11", "kiln": str(kiln.id), "kiln_stopped": ["7"]})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2027-10" in page and "Daqing base yard" in page and "gufei-yard-chart" in page
    run_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    data = client.get(f"/bases/daqing/seasonal/{run_id}.json").get_json()
    assert len(data["periods"]) == 12 and data["yards"][0]["levels_t"][3] > 0
    # The map's popups name each category in the page's language, not by its code.
    codes = {f["category"] for lines in data["flows"].values() for f in lines}
    assert codes == {"fly_ash"} and data["category_names"] == {"fly_ash": "粉煤灰"}
    en = client.get(f"/bases/daqing/seasonal/{run_id}.json", headers={"Accept-Language": "en"}).get_json()
    assert en["category_names"] == {"fly_ash": "Fly ash"}


def test_the_plan_form_keeps_what_was_typed_when_the_what_if_is_absurd(client, auth, reference):
    from tests.conftest import csrf_token

    auth.login(_officer("daqing").email)
    token = csrf_token(client, "/bases/daqing/seasonal")
    response = client.post("/bases/daqing/seasonal", data={
        "csrf_token": token, "start": "2026-11", "yard_category": "fly_ash", "yard_lon": "125.1",
        "yard_lat": "46.6", "yard_capacity_t": "-5", "yard_cost": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "125.1" in page
    assert reference.session.scalar(sa.select(sa.func.count(MatchRun.id))) == 0


@pytest.mark.parametrize("path", ["/bases/jixi/seasonal", "/bases/jixi/yards"])
def test_an_officer_cannot_open_another_base(client, auth, reference, path):
    auth.login(_officer("daqing").email)
    assert client.get(path).status_code == 403


def test_a_producer_cannot_plan_or_manage_yards(client, auth, reference):
    auth.login(UserFactory(role="producer").email)
    assert client.get("/bases/daqing/seasonal").status_code == 403
    assert client.get("/bases/daqing/yards").status_code == 403


def test_another_officers_plan_is_not_shown(client, auth, reference):
    base, _lot, _kiln = winter_market()
    run = seasonal.run_plan(reference.session, _officer("daqing"), Scope("base", base=base), "2026-11", today=TODAY)
    auth.login(_officer("daqing").email)
    assert client.get(f"/bases/daqing/seasonal/{run.id}").status_code == 404


def test_an_officer_adds_and_removes_a_yard_through_the_page(client, auth, reference):
    from tests.conftest import csrf_token

    auth.login(_officer("daqing").email)
    token = csrf_token(client, "/bases/daqing/yards")
    bad = client.post("/bases/daqing/yards", data={"csrf_token": token, "name": "North yard", "category": "fly_ash",
                                                   "lon": "125.1", "lat": "46.6", "capacity_t": "0",
                                                   "cost_yuan_per_t_month": "2"})
    assert bad.status_code == 422 and "North yard" in bad.get_data(as_text=True)
    good = client.post("/bases/daqing/yards", data={"csrf_token": token, "name": "North yard", "category": "fly_ash",
                                                    "lon": "125.1", "lat": "46.6", "capacity_t": "5000",
                                                    "cost_yuan_per_t_month": "2"})
    assert good.status_code == 302
    yard = reference.session.scalar(sa.select(Yard))
    assert yard.capacity_t == Decimal(5000) and yard.base_id == resource_base("daqing").id
    client.post(f"/bases/daqing/yards/{yard.id}/delete", data={"csrf_token": token})
    assert reference.session.scalar(sa.select(sa.func.count(Yard.id))) == 0


def test_a_plant_sets_the_kiln_calendar_with_one_button(client, auth, reference):
    from tests.conftest import csrf_token

    plant = FacilityFactory(kind="recycler")
    auth.login(UserFactory(role="recycler", organization=plant.organization).email)
    token = csrf_token(client, f"/facilities/{plant.id}/seasons")
    response = client.post(f"/facilities/{plant.id}/seasons", data={"csrf_token": token, "kiln_default": "1"})
    assert response.status_code == 302
    reference.session.expire_all()
    assert reference.session.get(type(plant), plant.id).operating_months == list(seasonal.KILN_STAGGERED_MONTHS)
    bad = client.post(f"/facilities/{plant.id}/seasons", data={"csrf_token": token, "operating_months": "1 2 3"})
    assert bad.status_code == 422 and "1 2 3" in bad.get_data(as_text=True)


def test_a_stranger_cannot_change_a_plants_seasons(client, auth, reference):
    plant = FacilityFactory()
    auth.login(UserFactory(role="producer").email)
    assert client.get(f"/facilities/{plant.id}/seasons").status_code == 403


def test_the_plan_page_shows_the_kiln_calendars_of_the_base(client, auth, reference):
    _base, _lot, kiln = winter_market()
    auth.login(_officer("daqing").email)
    page = client.get("/bases/daqing/seasonal").get_data(as_text=True)
    assert kiln.name in page and "table-danger" in page
