"""Hazardous regime: licensed receivers (by HW class), the province rule, permitted carriers, e-manifest export."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.services import awards, bids, clearing, dispatch, emanifest, hazardous, shipments
from app.services.errors import PermissionDenied, ServiceError
from models import Allocation, Award, Licence, Lot, OrganizationRole, Shipment
from tests.conftest import csrf_token
from tests.factories import BidFactory, FacilityFactory, LotFactory, OrganizationFactory, UserFactory, category

TODAY = dt.date.today()
NEXT_YEAR = TODAY + dt.timedelta(days=365)
YESTERDAY = TODAY - dt.timedelta(days=1)


def _market(db, *, ref=None, licence_codes=("HW08",), licence_until=NEXT_YEAR, outside=False, bid=True):
    """A Daqing oily-sludge lot (HW08 071-001-08) and one treatment plant, in Harbin or (outside) in Songyuan, Jilin."""
    producer_org = OrganizationFactory(name="大庆采油厂（测试）")
    producer = UserFactory(email="producer@example.com", organization=producer_org, role="producer")
    site = FacilityFactory(organization=producer_org, name="Daqing well site", lon=125.10, lat=46.59,
                           prefecture_code="230600", address="大庆市让胡路区")
    lot = LotFactory(facility=site, category=category("oil_sludge"), title="含油污泥 100 t", tonnes=Decimal("100.000"),
                     reserve_yuan_per_t=Decimal("-900.00"), transfer_approval_ref=ref, waste_form="semi_solid",
                     hazard_characteristics="T,I", packaging_type="吨袋")
    plant_org = OrganizationFactory(name="危废处置中心（测试）", roles=[OrganizationRole(role="recycler")])
    plant_user = UserFactory(email="plant@example.com", organization=plant_org, role="recycler")
    where = dict(lon=124.82, lat=45.14, prefecture_code="220700", in_province=False) if outside else \
        dict(lon=126.70, lat=45.80, prefecture_code="230100", in_province=True)
    plant = FacilityFactory(organization=plant_org, name="Treatment plant", kind="recycler", max_haul_km=900, **where)
    if licence_codes is not None:
        db.session.add(Licence(facility_id=plant.id, number="黑危废经第0001号", category_codes=list(licence_codes),
                               valid_until=licence_until))
        db.session.commit()
    if bid:
        BidFactory(lot=lot, facility=plant, price_yuan_per_t=Decimal("-400.00"), tonnes=Decimal("100.000"))
    return {"producer": producer, "lot": lot, "plant": plant, "plant_user": plant_user, "site": site}


def _clear(db) -> int:
    clearing.start_clearing(db.session, None, "oil_sludge")
    return db.session.scalar(sa.select(sa.func.count(Allocation.id)))


def _carrier(permit="黑交运管许可危字230100000001号", until=NEXT_YEAR):
    org = OrganizationFactory(name="危货运输（测试）", roles=[OrganizationRole(role="carrier")], dg_permit_no=permit,
                              dg_permit_valid_until=until)
    user = UserFactory(email=f"carrier{org.id}@example.com", organization=org, role="carrier")
    return org, user


def _awarded(db, **kwargs):
    m = _market(db, **kwargs)
    assert _clear(db) == 1
    allocation = db.session.scalar(sa.select(Allocation))
    awards.decide(db.session, m["producer"], allocation.id, True)
    awards.decide(db.session, m["plant_user"], allocation.id, True)
    m["award"] = db.session.scalar(sa.select(Award))
    return m


# ----------------------------------------------------------------------------- licences


def test_a_licence_covers_by_category_code_hw_class_or_waste_code(reference):
    sludge = category("oil_sludge")
    assert hazardous.licence_covers(["HW08"], sludge) and hazardous.licence_covers(["071-001-08"], sludge)
    assert hazardous.licence_covers(["oil_sludge"], sludge) and hazardous.licence_covers(["*"], sludge)
    assert not hazardous.licence_covers(["HW11"], sludge) and not hazardous.licence_covers([], sludge)
    assert not hazardous.licence_covers(["071-002-08"], sludge)  # drill cuttings' code, not sludge's


@pytest.mark.parametrize("codes, until, expected", [
    (("HW08",), NEXT_YEAR, 1),          # the HW class covers the category
    (("HW11",), NEXT_YEAR, 0),          # another class does not
    (("HW08",), YESTERDAY, 0),          # an expired licence is no licence
    (None, None, 0),                    # none at all
])
def test_clearing_only_to_a_receiver_whose_valid_licence_covers_the_hw_code(db, reference, codes, until, expected):
    _market(db, licence_codes=codes, licence_until=until)
    assert _clear(db) == expected


def test_a_bid_on_a_hazardous_lot_needs_a_covering_licence(db, reference):
    m = _market(db, licence_codes=("HW11",), bid=False)
    with pytest.raises(ServiceError) as refused:
        bids.place_bid(db.session, m["plant_user"], m["lot"].id, bids.BidInput(
            facility_id=m["plant"].id, price_yuan_per_t=Decimal("-400"), tonnes=Decimal("10")))
    assert refused.value.field == "facility_id" and "oil_sludge" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("bids"))) == 0


# ----------------------------------------------------------------------------- the province rule


def test_without_a_transfer_approval_a_hazardous_lot_never_matches_outside_the_province(db, reference):
    _market(db, outside=True)
    assert _clear(db) == 0


def test_with_a_transfer_approval_reference_it_may(db, reference):
    _market(db, outside=True, ref="黑环危转〔2026〕017号")
    assert _clear(db) == 1


def test_a_bid_from_outside_the_province_is_refused_without_the_reference(db, reference):
    m = _market(db, outside=True, bid=False)
    terms = bids.BidInput(facility_id=m["plant"].id, price_yuan_per_t=Decimal("-400"), tonnes=Decimal("10"))
    with pytest.raises(ServiceError) as refused:
        bids.place_bid(db.session, m["plant_user"], m["lot"].id, terms)
    assert refused.value.field == "facility_id"
    db.session.rollback()
    lot = db.session.get(Lot, m["lot"].id)
    lot.transfer_approval_ref = "黑环危转〔2026〕017号"
    db.session.commit()
    assert bids.place_bid(db.session, m["plant_user"], m["lot"].id, terms).id


# ----------------------------------------------------------------------------- carriers


def test_may_carry_hazardous_only_with_a_valid_permit(db, reference):
    from app import policy

    sludge = category("oil_sludge")
    valid, _u = _carrier()
    expired, _u2 = _carrier(until=YESTERDAY)
    none = OrganizationFactory(roles=[OrganizationRole(role="carrier")])
    undated = OrganizationFactory(roles=[OrganizationRole(role="carrier")], dg_permit_no="X-1")
    assert policy.may_carry(valid, sludge)
    for org in (expired, none, undated):
        assert policy.may_carry(org) and not policy.may_carry(org, sludge)
    assert policy.may_carry(expired, category("fly_ash"))  # bulk waste needs no permit


@pytest.mark.parametrize("case", ["no_carrier", "no_permit", "expired_permit"])
def test_dispatch_refuses_a_hazardous_load_without_a_permitted_carrier(db, reference, case):
    m = _awarded(db)
    org = {"no_carrier": None, "no_permit": _carrier(permit=None, until=None)[0],
           "expired_permit": _carrier(until=YESTERDAY)[0]}[case]
    with pytest.raises(ServiceError, match="道路危险货物运输许可证") as refused:
        shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345",
                           org.id if org else None, packaging_count=10)
    assert refused.value.field == "carrier_organization_id"
    assert db.session.scalar(sa.select(sa.func.count(Shipment.id))) == 0
    assert db.session.get(Award, m["award"].id).dispatched_tonnes == 0


def test_dispatch_refuses_when_the_receivers_licence_lapsed_after_the_award(db, reference):
    m = _awarded(db)
    org, _user = _carrier()
    licence = db.session.scalar(sa.select(Licence))
    licence.valid_until = YESTERDAY
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345", org.id, 10)
    assert "oil_sludge" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count(Shipment.id))) == 0


def test_dispatch_needs_the_number_of_packages(db, reference):
    m = _awarded(db)
    org, _user = _carrier()
    for count in (None, 0, -3, 10**9):
        with pytest.raises(ServiceError) as refused:
            shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345", org.id, count)
        assert refused.value.field == "packaging_count"


def test_a_permitted_load_carries_the_permit_and_licence_and_the_receiver_states_the_method(db, reference):
    m = _awarded(db)
    org, _user = _carrier()
    load = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E·12345", org.id, 12)
    assert (load.carrier_permit_no, load.receiver_licence_no, load.packaging_count) == (
        "黑交运管许可危字230100000001号", "黑危废经第0001号", 12)
    with pytest.raises(ServiceError) as refused:
        shipments.receive(db.session, m["plant_user"], load.id, Decimal("9.9"))
    assert refused.value.field == "disposal_method"
    with pytest.raises(ServiceError):
        shipments.receive(db.session, m["plant_user"], load.id, Decimal("9.9"), "=cmd")
    received = shipments.receive(db.session, m["plant_user"], load.id, Decimal("9.9"), "r9")
    assert received.disposal_method == "R9" and received.status == "received"


def test_the_dispatch_form_shows_the_permit_refusal(auth, client, db, reference):
    m = _awarded(db)
    org, _user = _carrier(until=YESTERDAY)
    auth.login("producer@example.com")
    url = f"/awards/{m['award'].id}"
    assert "hazardous-dispatch" in client.get(url).get_data(as_text=True)
    response = client.post(f"/shipments/awards/{m['award'].id}/dispatch", data={
        "csrf_token": csrf_token(client, url), "tonnes": "10", "vehicle_plate": "黑E12345",
        "carrier_organization_id": str(org.id), "packaging_count": "5"})
    assert response.status_code == 400
    assert "道路危险货物运输许可证" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Shipment.id))) == 0


def test_a_carrier_whose_permit_lapsed_cannot_plan_the_hazardous_load(db, reference):
    m = _awarded(db)
    org, user = _carrier()
    load = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345", org.id, 12)
    vehicle = dispatch.add_vehicle(db.session, user, dispatch.VehicleInput(
        "黑A12345", Decimal("30"), Decimal("5"), 500, "哈尔滨市", None, None))
    org.dg_permit_valid_until = YESTERDAY
    db.session.commit()
    with pytest.raises(ServiceError, match="道路危险货物运输许可证") as refused:
        dispatch.start_plan(db.session, user, [load.id], [vehicle.id], TODAY, 1, dispatch.TIME_LIMITS_S[0],
                            enqueue=lambda plan_id: "never")
    assert refused.value.field == "shipment_ids"


def test_the_carrier_records_its_permit_on_the_vehicles_page(auth, client, db, reference):
    _org, user = _carrier(permit=None, until=None)
    auth.login(user.email)
    page = client.get("/dispatch/vehicles").get_data(as_text=True)
    assert "dg-permit-status" in page and "text-danger" in page
    token = csrf_token(client, "/dispatch/vehicles")
    bad = client.post("/dispatch/permit", data={"csrf_token": token, "dg_permit_no": "黑危运 001"})
    assert bad.status_code == 400 and "黑危运 001" in bad.get_data(as_text=True)
    ok = client.post("/dispatch/permit", data={"csrf_token": token, "dg_permit_no": "黑危运 001",
                                                "dg_permit_valid_until": NEXT_YEAR.isoformat()})
    assert ok.status_code == 302
    db.session.expire_all()
    assert user.organization.dg_permit_no == "黑危运 001" and user.organization.dg_permit_valid_until == NEXT_YEAR


def test_only_carriers_record_a_permit(db, reference):
    m = _market(db)
    with pytest.raises(PermissionDenied):
        dispatch.set_permit(db.session, m["producer"], "X", NEXT_YEAR)


# ----------------------------------------------------------------------------- lots


def test_transfer_facts_are_checked_and_kept_for_hazardous_lots_only(db, reference):
    from app.services import lots

    m = _market(db, bid=False)
    base = dict(facility_id=m["site"].id, tonnes=Decimal("5"), reserve_yuan_per_t=Decimal("-500"),
                available_from=TODAY)
    with pytest.raises(ServiceError) as refused:
        lots.post(db.session, m["producer"], lots.LotInput(category="fly_ash", transfer_approval_ref="X-1", **base))
    assert refused.value.field == "transfer_approval_ref"
    db.session.rollback()
    with pytest.raises(ServiceError) as refused:
        lots.post(db.session, m["producer"], lots.LotInput(category="oil_sludge", hazard_characteristics="T, Q",
                                                           **base))
    assert refused.value.field == "hazard_characteristics"
    db.session.rollback()
    lot = lots.post(db.session, m["producer"], lots.LotInput(
        category="oil_sludge", transfer_approval_ref=" 黑环危转〔2026〕018号 ", waste_form="liquid",
        hazard_characteristics="I，T", packaging_type="200 L 钢桶", **base))
    assert (lot.transfer_approval_ref, lot.waste_form, lot.hazard_characteristics, lot.packaging_type) == (
        "黑环危转〔2026〕018号", "liquid", "T,I", "200 L 钢桶")


# ----------------------------------------------------------------------------- the e-manifest export


def _shipped(db):
    m = _awarded(db)
    org, carrier_user = _carrier()
    load = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345", org.id, 12)
    shipments.receive(db.session, m["plant_user"], load.id, Decimal("9.95"), "D10")
    return m, carrier_user


def test_the_e_manifest_csv_has_one_row_per_load_in_the_forms_order(auth, client, db, reference):
    m, carrier_user = _shipped(db)
    auth.login(carrier_user.email)
    response = client.get("/shipments/e-manifest.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == list(emanifest.COLUMNS) and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["废物类别"] == "HW08" and row["废物代码"] == "071-001-08" and row["形态"] == "半固态"
    assert row["危险特性"] == "T,I" and row["包装方式"] == "吨袋" and row["包装数量"] == "12"
    assert row["移出量（吨）"] == "10.000" and row["接受量（吨）"] == "9.950"
    assert row["道路危险货物运输许可证编号"] == "黑交运管许可危字230100000001号"
    assert row["危险废物经营许可证编号"] == "黑危废经第0001号" and row["利用/处置方式代码"] == "D10"
    assert row["载具牌号"] == "黑E12345" and row["移出人名称"] == "大庆采油厂（测试）"
    assert "e-manifest-export" in client.get("/shipments/manifests").get_data(as_text=True)


def test_an_e_manifest_with_a_demo_organisations_load_ends_with_the_demo_mark(auth, client, db, reference):
    # Rows of invented loads must not be keyed into the provincial system unnoticed.
    m, carrier_user = _shipped(db)
    auth.login(carrier_user.email)
    rows = list(csv.reader(io.StringIO(client.get("/shipments/e-manifest.csv").data.decode("utf-8-sig"))))
    assert len(rows) == 2
    m["producer"].organization.is_demo = True
    db.session.commit()
    rows = list(csv.reader(io.StringIO(client.get("/shipments/e-manifest.csv").data.decode("utf-8-sig"))))
    assert len(rows) == 3 and rows[-1][0].startswith("演示数据")


def test_the_e_manifest_xlsx_and_who_sees_which_loads(auth, client, db, reference):
    m, _carrier_user = _shipped(db)
    auth.login("plant@example.com")
    book = load_workbook(io.BytesIO(client.get("/shipments/e-manifest.xlsx").data))
    sheet = book.active
    assert [c.value for c in sheet[1]] == list(emanifest.COLUMNS) and sheet.max_row == 2
    assert sheet.cell(2, emanifest.COLUMNS.index("接受量（吨）") + 1).value == pytest.approx(9.95)
    auth.logout()
    stranger = UserFactory(email="other@example.com", role="producer")
    assert emanifest.loads(db.session, stranger) == []
    official = UserFactory(email="officer@example.com", role="base_officer",
                           organization=OrganizationFactory(roles=[OrganizationRole(role="base_operator")]))
    with pytest.raises(PermissionDenied):
        emanifest.loads(db.session, official)


def test_freight_rates_are_configurable_per_deployment(app, db, reference):
    """FREIGHT_RATES overrides geo's (unverified) tariff defaults in the clearing's costs."""
    from app.services.clearing import problem

    _market(db)
    sludge = category("oil_sludge")
    base = problem.build_category_problem(db.session, sludge, TODAY).problem.cost_table.fen_per_t.copy()
    app.config["FREIGHT_RATES"] = {"road_yuan_per_tkm": 4.0}
    try:
        dearer = problem.build_category_problem(db.session, sludge, TODAY).problem.cost_table.fen_per_t
    finally:
        app.config["FREIGHT_RATES"] = {}
    assert len(base) == 1 and dearer[0] > base[0] * 5
    with pytest.raises(ValueError):
        from geo.rates import resolve_rates

        resolve_rates({"rail_yuan_per_tonne": 1})


def test_the_lot_page_shows_the_hazardous_facts(client, db, reference):
    m = _market(db, bid=False)
    page = client.get(f"/lots/{m['lot'].id}").get_data(as_text=True)
    assert "HW08 071-001-08" in page and 'id="lot-transfer"' in page and "吨袋" in page


def test_a_facility_licence_may_name_a_whole_hw_class(db, reference):
    from app.services import facilities

    user = UserFactory(email="plant2@example.com", role="recycler",
                       organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))

    def data(*codes):
        return facilities.FacilityInput(name="处置厂", kind="recycler", lon=126.70, lat=45.80, max_haul_km=300,
                                        licences=(facilities.LicenceInput("黑危废经第0002号", codes, NEXT_YEAR),))

    plant = facilities.create(db.session, user, data("HW08", "incineration_fly_ash"))
    assert plant.licences[0].category_codes == ["HW08", "incineration_fly_ash"]
    assert hazardous.covering_licence(db.session, plant.id, category("oil_based_cuttings"), TODAY) is not None
    with pytest.raises(ServiceError) as refused:
        facilities.create(db.session, user, data("HW99"))
    assert refused.value.field == "licences"


# ----------------------------------------------------------------------------- standing demand


def _profile_input(m, category_code="oil_sludge", start=TODAY):
    from app.services import bids as bid_service

    return bid_service.ProfileInput(facility_id=m["plant"].id, category_code=category_code, period_start=start,
                                    period_end=start + dt.timedelta(days=90), tonnes=Decimal("500"),
                                    price_yuan_per_t=Decimal("-400"), max_haul_km=500, quality_limits={})


@pytest.mark.parametrize("codes, until, start, created", [
    (("HW08",), NEXT_YEAR, TODAY, True),
    (("071-001-08",), None, TODAY, True),
    (("HW11",), NEXT_YEAR, TODAY, False),                              # another HW class
    (("HW08",), YESTERDAY, TODAY, False),                              # lapsed
    (("HW08",), NEXT_YEAR, NEXT_YEAR + dt.timedelta(days=1), False),   # lapses before the profile starts
    (None, None, TODAY, False),                                        # no licence at all
])
def test_a_hazardous_demand_profile_needs_a_covering_licence(db, reference, codes, until, start, created):
    from app.services import bids as bid_service
    from models import DemandProfile

    m = _market(db, licence_codes=codes, licence_until=until, bid=False)
    if created:
        assert bid_service.create_profile(db.session, m["plant_user"], _profile_input(m, start=start)).id
    else:
        with pytest.raises(ServiceError) as refused:
            bid_service.create_profile(db.session, m["plant_user"], _profile_input(m, start=start))
        assert refused.value.field == "facility_id" and "oil_sludge" in refused.value.message
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(DemandProfile.id))) == (1 if created else 0)


def test_a_non_hazardous_profile_needs_no_licence(db, reference):
    from app.services import bids as bid_service

    m = _market(db, licence_codes=None, bid=False)
    assert bid_service.create_profile(db.session, m["plant_user"], _profile_input(m, "fly_ash")).id


def test_the_profile_form_shows_the_licence_refusal(auth, client, db, reference):
    from models import DemandProfile

    m = _market(db, licence_codes=("HW11",), bid=False)
    auth.login(m["plant_user"].email)
    token = csrf_token(client, "/bids/profiles/new")
    response = client.post("/bids/profiles/new", data={
        "csrf_token": token, "facility_id": m["plant"].id, "category": "oil_sludge",
        "period_start": TODAY.isoformat(), "period_end": (TODAY + dt.timedelta(days=30)).isoformat(),
        "tonnes": "500", "price_yuan_per_t": "-400", "max_haul_km": "300"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "no valid licence for the hazardous category oil_sludge" in page and 'value="500' in page
    assert db.session.scalar(sa.select(sa.func.count(DemandProfile.id))) == 0


# ----------------------------------------------------------------------------- trucks on the permit


def _truck(db, user, plate="黑A12345", hazardous_ok=False):
    return dispatch.add_vehicle(db.session, user, dispatch.VehicleInput(
        plate, Decimal("30"), Decimal("5"), 800, "哈尔滨市", None, None, hazardous_ok))


def _hazardous_plan(db, *, listed: bool):
    m = _awarded(db)
    org, user = _carrier()
    load = shipments.dispatch(db.session, m["producer"], m["award"].id, Decimal("10"), "黑E12345", org.id, 12)
    truck = _truck(db, user, hazardous_ok=listed)
    plan = dispatch.start_plan(db.session, user, [load.id], [truck.id], TODAY, 1, dispatch.TIME_LIMITS_S[0])
    db.session.expire_all()
    return m, user, load, truck, plan


def test_only_trucks_on_the_permit_carry_hazardous_loads_in_a_plan(db, reference):
    from models import DispatchPlan

    _m, _user, load, truck, plan = _hazardous_plan(db, listed=False)
    plan = db.session.get(DispatchPlan, plan.id)
    assert plan.status == "ready" and plan.stops == []
    assert plan.unserved == [{"shipment": load.id, "tonnes": "10.000", "reason": "no_hazardous_vehicle"}]
    problem = dispatch.build_problem(db.session, plan)
    assert [ld.hazardous for ld in problem.loads] == [True] and [v.hazardous_ok for v in problem.vehicles] == [False]


def test_a_truck_on_the_permit_carries_it(db, reference):
    from models import DispatchPlan

    _m, _user, load, _truck_row, plan = _hazardous_plan(db, listed=True)
    plan = db.session.get(DispatchPlan, plan.id)
    assert plan.status == "ready" and not plan.unserved and {s.shipment_id for s in plan.stops} == {load.id}


def test_a_listed_truck_of_a_carrier_whose_permit_lapsed_is_not_offered_to_the_solver(db, reference):
    from models import DispatchPlan

    _m, user, _load, _truck_row, plan = _hazardous_plan(db, listed=True)
    user.organization.dg_permit_valid_until = YESTERDAY
    db.session.commit()
    assert [v.hazardous_ok for v in dispatch.build_problem(db.session, db.session.get(DispatchPlan, plan.id))
            .vehicles] == [False]


def test_a_truck_is_put_on_the_permit_only_with_a_valid_permit_and_by_its_own_carrier(db, reference):
    _org, user = _carrier(permit=None, until=None)
    with pytest.raises(ServiceError) as refused:
        _truck(db, user, hazardous_ok=True)
    assert refused.value.field == "hazardous_ok"
    db.session.rollback()
    truck = _truck(db, user)
    with pytest.raises(ServiceError):
        dispatch.set_hazardous_ok(db.session, user, truck.id, True)
    _org2, permitted = _carrier()
    with pytest.raises(PermissionDenied):
        dispatch.set_hazardous_ok(db.session, permitted, truck.id, True)  # another carrier's truck
    own = _truck(db, permitted, plate="黑A54321")
    assert dispatch.set_hazardous_ok(db.session, permitted, own.id, True).hazardous_ok is True
    assert dispatch.set_hazardous_ok(db.session, permitted, own.id, False).hazardous_ok is False
    # Taking a truck off the permit needs no permit (a lapsed permit must not lock a truck on it).
    user.organization.dg_permit_no, user.organization.dg_permit_valid_until = "x", YESTERDAY
    assert dispatch.set_hazardous_ok(db.session, user, truck.id, False).hazardous_ok is False


def test_the_vehicles_page_adds_and_toggles_trucks_on_the_permit(auth, client, db, reference):
    from models import Vehicle

    _org, user = _carrier()
    auth.login(user.email)
    token = csrf_token(client, "/dispatch/vehicles")
    added = client.post("/dispatch/vehicles", data={
        "csrf_token": token, "plate": "黑A11111", "capacity_t": "30", "cost_yuan_per_km": "5", "max_km": "800",
        "depot_place": "哈尔滨", "hazardous_ok": "y"})
    assert added.status_code == 302
    truck = db.session.scalar(sa.select(Vehicle))
    assert truck.hazardous_ok is True
    page = client.get("/dispatch/vehicles", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "On the permit" in page
    off = client.post(f"/dispatch/vehicles/{truck.id}/hazardous", data={"csrf_token": token, "hazardous_ok": "0"})
    assert off.status_code == 302
    db.session.expire_all()
    assert db.session.get(Vehicle, truck.id).hazardous_ok is False
    assert client.post(f"/dispatch/vehicles/{truck.id}/hazardous", data={"hazardous_ok": "1"}).status_code == 400


def test_the_plan_page_gives_the_reason_in_words(auth, client, db, reference):
    _m, user, _load, _truck_row, plan = _hazardous_plan(db, listed=False)
    auth.login(user.email)
    page = client.get(f"/dispatch/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "none of the chosen trucks is listed on your dangerous-goods transport permit" in page
    zh = client.get(f"/dispatch/plans/{plan.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "所选车辆均未列入贵单位的道路危险货物运输许可" in zh
