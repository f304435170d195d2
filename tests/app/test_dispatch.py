"""Carrier dispatch planning: vehicles, a plan through the job, accepting it, who may, and what goes wrong."""

import datetime as dt
import threading
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa
from flask_babel import gettext

from app.extensions import db as database
from app.services import awards, clearing, dispatch, shipments
from app.services.errors import PermissionDenied, ServiceError
from matching.errors import ProblemError
from models import Allocation, Award, DispatchPlan, Notification, OrganizationRole, Shipment, User, Vehicle
from tests.conftest import csrf_token
from tests.factories import OrganizationFactory, UserFactory, small_market

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(db, reference):
    """Two awards from a Harbin lot (near cement in Harbin, far cement in Qiqihar), three loads given to a carrier."""
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    for allocation in db.session.scalars(sa.select(Allocation)).all():
        recycler = m["near_user"] if allocation.facility_id == m["near"].id else m["far_user"]
        awards.decide(db.session, m["producer"], allocation.id, True)
        awards.decide(db.session, recycler, allocation.id, True)
    carrier_org = OrganizationFactory(name="龙运物流（测试）", roles=[OrganizationRole(role="carrier")])
    m["carrier"] = UserFactory(email="carrier@example.com", organization=carrier_org, role="carrier")
    other_org = OrganizationFactory(name="别家物流（测试）", roles=[OrganizationRole(role="carrier")])
    m["other_carrier"] = UserFactory(email="other@example.com", organization=other_org, role="carrier")
    loads = []
    for award in db.session.scalars(sa.select(Award).order_by(Award.id)).all():
        for tonnes in ("10", "12"):
            loads.append(shipments.dispatch(db.session, m["producer"], award.id, Decimal(tonnes), "黑A12345",
                                            carrier_org.id))
    m["loads"] = loads
    m["truck"] = dispatch.add_vehicle(db.session, m["carrier"], dispatch.VehicleInput(
        "黑A·D0001", Decimal(32), Decimal("4.00"), 900, depot_place="哈尔滨"))
    return m


def _plan(db, m, **kw):
    args = dict(shipment_ids=[s.id for s in m["loads"]], vehicle_ids=[m["truck"].id],
                start_date=dt.date.today(), days=1, time_limit_s=1)
    args.update(kw)
    return dispatch.start_plan(db.session, m["carrier"], **args)


def test_a_carrier_adds_a_vehicle_with_a_place_as_depot(auth, client, db, world):
    auth.login("carrier@example.com")
    response = client.post("/dispatch/vehicles", data={
        "csrf_token": csrf_token(client, "/dispatch/vehicles"), "plate": "黑B 12345", "capacity_t": "35",
        "cost_yuan_per_km": "4.2", "max_km": "800", "depot_place": "大庆"})
    assert response.status_code == 302
    truck = db.session.scalar(sa.select(Vehicle).where(Vehicle.plate == "黑B12345"))
    assert truck.capacity_t == Decimal("35.000") and truck.depot_name == "大庆市" and 124 < truck.depot_lon < 126
    assert "黑B12345" in client.get("/dispatch/vehicles").get_data(as_text=True)


@pytest.mark.parametrize("change, message", [
    ({"capacity_t": "0"}, "Capacity must lie between"),
    ({"capacity_t": "1e9"}, "Capacity must lie between"),
    ({"max_km": "100000"}, "Maximum km a day must lie between"),
    ({"depot_place": "", "depot_lon": "116.4", "depot_lat": "39.9"}, "outside Heilongjiang"),
    ({"depot_place": "Atlantis"}, "Unknown place"),
    ({"plate": "ABC"}, "Chinese vehicle plate"),
    ({"plate": "黑A·D0001"}, "already has a vehicle with this plate"),
])
def test_a_bad_vehicle_re_renders_with_its_message_and_input(auth, client, db, world, change, message):
    auth.login("carrier@example.com")
    data = {"plate": "黑B 99999", "capacity_t": "32", "cost_yuan_per_km": "4", "max_km": "900",
            "depot_place": "哈尔滨", **change}
    response = client.post("/dispatch/vehicles", data={"csrf_token": csrf_token(client, "/dispatch/vehicles"), **data},
                           headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message in page and data["cost_yuan_per_km"] in page
    assert db.session.scalar(sa.select(sa.func.count(Vehicle.id))) == 1


def test_the_plan_page_plans_every_load_and_beats_the_baseline(auth, client, db, world):
    auth.login("carrier@example.com")
    page = client.get("/dispatch/").get_data(as_text=True)
    assert all(s.manifest_no in page for s in world["loads"])
    response = client.post("/dispatch/plans", data={
        "csrf_token": csrf_token(client, "/dispatch/"), "shipment_ids": [s.id for s in world["loads"]],
        "vehicle_ids": [world["truck"].id], "start_date": dt.date.today().isoformat(), "days": "2",
        "time_limit_s": "1"})
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(DispatchPlan))
    assert plan.status == "ready" and plan.unserved == []
    # 10 t and 12 t ride together to each recycler: fewer km than four round trips.
    assert plan.total_km < plan.baseline_km and plan.empty_km < plan.baseline_empty_km
    assert plan.co2_kg == (plan.total_km * dispatch.TRUCK_CO2_KG_PER_KM).quantize(Decimal("0.001"), ROUND_HALF_UP)
    sheet = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "黑AD0001" in sheet and all(s.manifest_no in sheet for s in world["loads"]) and "run-sheet" in sheet
    routes = client.get(f"/dispatch/plans/{plan.id}/routes.geojson").get_json()
    first = routes["features"][0]["geometry"]["coordinates"]
    assert first[0] == first[-1] == [world["truck"].depot_lon, world["truck"].depot_lat]


def test_accepting_gives_loads_a_truck_a_stop_and_an_arrival_the_recycler_sees(auth, client, db, world):
    plan = _plan(db, world)
    dispatch.accept_plan(db.session, world["carrier"], plan.id)
    db.session.expire_all()
    planned = db.session.scalars(sa.select(Shipment)).all()
    assert all(s.vehicle_id == world["truck"].id and s.dispatch_plan_id == plan.id for s in planned)
    assert all(s.expected_arrival == dt.date.today() and s.route_sequence >= 1 for s in planned)
    auth.login("near@example.com")
    award = db.session.scalar(sa.select(Award).join(Allocation).where(Allocation.facility_id == world["near"].id))
    page = client.get(f"/awards/{award.id}").get_data(as_text=True)
    assert dt.date.today().isoformat() in page and "黑AD0001" in page
    assert dispatch.plannable_shipments(db.session, world["carrier"]) == []


def test_accepting_tells_the_producer_and_the_recycler_which_truck_comes_and_when(db, world):
    plan = _plan(db, world)
    dispatch.accept_plan(db.session, world["carrier"], plan.id)
    notes = db.session.scalars(sa.select(Notification).where(Notification.kind == "shipment_planned")).all()
    told = {(note.user_id, note.params["manifest"]) for note in notes}
    near_loads = [s.manifest_no for s in world["loads"] if s.award.allocation.facility_id == world["near"].id]
    assert {(world["producer"].id, s.manifest_no) for s in world["loads"]} <= told
    assert {(world["near_user"].id, manifest) for manifest in near_loads} <= told
    assert (world["far_user"].id, near_loads[0]) not in told and world["carrier"].id not in {u for u, _ in told}
    assert all(note.params["plate"] == "黑AD0001" and note.params["arrival"] == dt.date.today().isoformat()
               for note in notes)


def test_a_shipment_cannot_be_claimed_by_two_accepted_plans(db, world):
    first, second = _plan(db, world), _plan(db, world)
    dispatch.accept_plan(db.session, world["carrier"], first.id)
    with pytest.raises(ServiceError):
        dispatch.accept_plan(db.session, world["carrier"], second.id)
    db.session.expire_all()
    assert db.session.get(DispatchPlan, second.id).status == "ready"
    assert {s.dispatch_plan_id for s in db.session.scalars(sa.select(Shipment))} == {first.id}


def test_a_foreign_carrier_is_refused_everywhere(auth, client, db, world):
    plan = _plan(db, world)
    other = world["other_carrier"]
    with pytest.raises(PermissionDenied):
        dispatch.accept_plan(db.session, other, plan.id)
    with pytest.raises(ServiceError):
        dispatch.start_plan(db.session, other, [world["loads"][0].id], [world["truck"].id], dt.date.today(), 1, 1)
    auth.login("other@example.com")
    assert client.get(f"/dispatch/plans/{plan.id}").status_code == 403
    assert client.get(f"/dispatch/plans/{plan.id}/routes.geojson").status_code == 403
    token = csrf_token(client, "/dispatch/")
    assert client.post(f"/dispatch/plans/{plan.id}/accept", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/dispatch/vehicles/{world['truck'].id}/retire", data={"csrf_token": token}).status_code == 403
    assert world["loads"][0].manifest_no not in client.get("/dispatch/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DispatchPlan, plan.id).status == "ready"


def test_producers_recyclers_and_unverified_carriers_cannot_plan(auth, client, db, world):
    world["other_carrier"].organization.verified = False
    db.session.commit()
    for email in ("producer@example.com", "near@example.com", "other@example.com"):
        auth.login(email)
        assert client.get("/dispatch/").status_code == 403
        auth.logout()
    with pytest.raises(PermissionDenied):
        dispatch.add_vehicle(db.session, world["producer"], dispatch.VehicleInput(
            "黑A99999", Decimal(30), Decimal(4), 900, depot_place="哈尔滨"))


@pytest.mark.parametrize("change, field", [
    ({"shipment_ids": []}, "shipment_ids"), ({"vehicle_ids": []}, "vehicle_ids"), ({"days": 0}, "days"),
    ({"days": 99}, "days"), ({"time_limit_s": 3600}, "time_limit_s"),
    ({"start_date": dt.date(2000, 1, 1)}, "start_date"), ({"vehicle_ids": [999999]}, "vehicle_ids"),
])
def test_absurd_plan_requests_are_refused_naming_the_field(db, world, change, field):
    with pytest.raises(ServiceError) as err:
        _plan(db, world, **change)
    assert err.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(DispatchPlan.id))) == 0


def test_a_received_load_is_no_longer_plannable(db, world):
    shipments.receive(db.session, world["near_user"], world["loads"][0].id, Decimal("10"))
    with pytest.raises(ServiceError):
        _plan(db, world)


def test_a_load_received_after_planning_blocks_acceptance_and_changes_nothing(db, world):
    plan = _plan(db, world)
    shipments.receive(db.session, world["near_user"], world["loads"][0].id, Decimal("10"))
    with pytest.raises(ServiceError):
        dispatch.accept_plan(db.session, world["carrier"], plan.id)
    db.session.expire_all()
    assert db.session.get(DispatchPlan, plan.id).status == "ready"
    assert all(s.vehicle_id is None for s in db.session.scalars(sa.select(Shipment)))


def test_a_planning_failure_ends_in_a_failed_plan_with_its_reason(db, world, monkeypatch):
    def broken(session, plan):
        raise ProblemError("no road network", "km")

    monkeypatch.setattr(dispatch, "build_problem", broken)
    plan = _plan(db, world)
    db.session.expire_all()
    plan = db.session.get(DispatchPlan, plan.id)
    assert plan.status == "failed" and "no road network" in plan.error and plan.stops == []
    with pytest.raises(ServiceError):
        dispatch.accept_plan(db.session, world["carrier"], plan.id)


def test_a_plan_solved_twice_is_solved_once(db, world):
    plan = _plan(db, world)
    stops = len(plan.stops)
    dispatch.execute_plan(db.session, plan.id)  # a redelivered job finds the plan no longer queued
    db.session.expire_all()
    assert len(db.session.get(DispatchPlan, plan.id).stops) == stops


def test_base_dashboards_show_co2_saved_by_accepted_plans(auth, client, db, world):
    from tests.factories import resource_base

    plan = _plan(db, world)
    dispatch.accept_plan(db.session, world["carrier"], plan.id)
    officer = UserFactory(email="officer@example.com", role="regulator")
    saved = dispatch.co2_saved(db.session, None, dt.date.today().year)
    assert saved["plans"] == 1
    assert saved["co2_saved_t"] == (plan.co2_saved_kg / 1000).quantize(Decimal("0.001"), ROUND_HALF_UP)
    assert saved["co2_saved_t"] > 0
    auth.login(officer.email)
    page = client.get("/bases/province").get_data(as_text=True)
    assert "consolidation-co2" in page and f"{saved['co2_saved_t']:,.1f}" in page
    assert resource_base("daqing") is not None
    daqing = dispatch.co2_saved(db.session, sa.false(), dt.date.today().year)
    assert daqing["plans"] == 0 and daqing["co2_saved_t"] == 0


def test_a_plan_that_cannot_be_queued_fails_at_once_with_a_clear_message(db, world):
    def broker_down(plan_id):
        raise ConnectionError("redis gone")

    with pytest.raises(ServiceError) as err:
        _plan(db, world, enqueue=broker_down)
    assert err.value.message == gettext("The planning queue is unavailable; try again in a minute.")
    db.session.expire_all()
    plan = db.session.scalar(sa.select(DispatchPlan))
    assert plan.status == "failed" and "ConnectionError" in plan.error
    assert len(dispatch.plannable_shipments(db.session, world["carrier"])) == len(world["loads"])


def test_a_plan_whose_worker_died_shows_as_failed(db, world):
    plan = _plan(db, world, enqueue=lambda plan_id: "lost-job")
    plan.status = "running"
    plan.started_at = dispatch.utcnow() - dt.timedelta(seconds=plan.time_limit_s + dispatch.STALE_AFTER_S + 1)
    db.session.commit()
    assert dispatch.plan_for(db.session, world["carrier"], plan.id).status == "failed"
    assert "stopped" in db.session.get(DispatchPlan, plan.id).error


def test_concurrent_acceptances_never_give_a_load_two_plans(app, db, world):
    if database.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers; sequential double acceptance is covered above")
    plan_ids = [_plan(db, world).id for _ in range(4)]
    carrier_id = world["carrier"].id
    outcomes = []

    def worker(plan_id):
        with app.app_context():
            user = database.session.get(User, carrier_id)
            try:
                dispatch.accept_plan(database.session, user, plan_id)
                outcomes.append("ok")
            except ServiceError:
                database.session.rollback()
                outcomes.append("refused")
            finally:
                database.session.remove()

    threads = [threading.Thread(target=worker, args=(pid,)) for pid in plan_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert outcomes.count("ok") == 1 and outcomes.count("refused") == 3
    accepted = db.session.scalars(sa.select(DispatchPlan.id).where(DispatchPlan.status == "accepted")).all()
    assert {s.dispatch_plan_id for s in db.session.scalars(sa.select(Shipment))} == set(accepted)


# ----------------------------------------------------------------------------- ready and due dates


def _window_form(client, m, days, **dates):
    data = {"csrf_token": csrf_token(client, "/dispatch/"), "shipment_ids": [s.id for s in m["loads"]],
            "vehicle_ids": [m["truck"].id], "start_date": dt.date.today().isoformat(), "days": str(days),
            "time_limit_s": "1"}
    data.update(dates)
    return client.post("/dispatch/plans", data=data, headers=EN)


def test_ready_and_due_dates_shape_the_plan_and_show_on_the_run_sheet(auth, client, db, world):
    auth.login("carrier@example.com")
    today, (first, second) = dt.date.today(), world["loads"]
    assert f'name="ready_on-{first.id}"' in client.get("/dispatch/").get_data(as_text=True)
    ready, due_late = today + dt.timedelta(days=2), today + dt.timedelta(days=30)
    response = _window_form(client, world, 3, **{
        f"ready_on-{first.id}": ready.isoformat(), f"due_by-{first.id}": due_late.isoformat(),
        f"ready_on-{second.id}": (today - dt.timedelta(days=3)).isoformat(), f"due_by-{second.id}": today.isoformat()})
    assert response.status_code == 302
    plan = db.session.scalar(sa.select(DispatchPlan))
    assert plan.status == "ready" and plan.unserved == []
    # Ready before the first day means ready now; due after the last day puts no limit inside the plan.
    assert dispatch.window_days(plan, dispatch.plan_windows(plan)[first.id]) == (2, 2)
    assert dispatch.window_days(plan, dispatch.plan_windows(plan)[second.id]) == (0, 0)
    days = {s.shipment_id: s.day for s in plan.stops}
    assert days[first.id] == 2 and days[second.id] == 0
    sheet = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert f"{ready.isoformat()} / {due_late.isoformat()}" in sheet and f"/ {today.isoformat()}" in sheet
    dispatch.accept_plan(db.session, world["carrier"], plan.id)
    db.session.expire_all()
    assert db.session.get(Shipment, first.id).expected_arrival == today + dt.timedelta(days=2)


def test_a_load_whose_dates_leave_no_day_of_the_plan_is_not_planned_with_the_reason(auth, client, db, world):
    auth.login("carrier@example.com")
    late = world["loads"][0]
    ready = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    response = _window_form(client, world, 2, **{f"ready_on-{late.id}": ready})
    plan = db.session.scalar(sa.select(DispatchPlan))
    assert response.status_code == 302 and plan.status == "ready"
    assert plan.unserved == [{"shipment": late.id, "tonnes": "10.000", "reason": "time_window"}]
    assert late.id not in {s.shipment_id for s in plan.stops}
    page = client.get(f"/dispatch/plans/{plan.id}", headers=EN).get_data(as_text=True)
    assert "Its ready and due dates leave no day of the plan to carry it" in page and ready in page
    zh = client.get(f"/dispatch/plans/{plan.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    with client.application.test_request_context(headers={"Accept-Language": "zh-CN"}):
        reason = gettext("Its ready and due dates leave no day of the plan to carry it")
    assert reason != "Its ready and due dates leave no day of the plan to carry it" and reason in zh


@pytest.mark.parametrize("offsets, message", [
    ((3, 1), "Load %(manifest)s is due before it is ready."),
    ((None, -1), "Load %(manifest)s is due before the plan's first day."),
    ((400, None), "The dates of load %(manifest)s lie more than a year from the plan's first day."),
    ((-400, 2), "The dates of load %(manifest)s lie more than a year from the plan's first day."),
])
def test_absurd_dates_are_refused_by_the_service(db, world, offsets, message):
    today, load = dt.date.today(), world["loads"][0]
    window = tuple(None if o is None else today + dt.timedelta(days=o) for o in offsets)
    with pytest.raises(ServiceError) as refused:
        _plan(db, world, windows={load.id: window})
    assert refused.value.field == "windows"
    assert refused.value.message == gettext(message, manifest=load.manifest_no)
    assert db.session.scalar(sa.select(sa.func.count(DispatchPlan.id))) == 0


def test_dates_for_a_load_outside_the_plan_are_refused(db, world):
    first, second = world["loads"][:2]
    with pytest.raises(ServiceError) as refused:
        _plan(db, world, shipment_ids=[first.id], windows={second.id: (dt.date.today(), None)})
    assert refused.value.message == gettext("Dates were given for a load that is not in the plan.")


def test_a_date_that_is_not_a_date_re_renders_the_form_with_its_input(auth, client, db, world):
    auth.login("carrier@example.com")
    load = world["loads"][0]
    due = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    response = _window_form(client, world, 2, **{f"ready_on-{load.id}": "2026-13-45", f"due_by-{load.id}": due})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Give dates as YYYY-MM-DD." in page and due in page
    response = _window_form(client, world, 2, **{f"ready_on-{load.id}": due,
                                                 f"due_by-{load.id}": dt.date.today().isoformat()})
    assert response.status_code == 400 and "is due before it is ready" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(DispatchPlan.id))) == 0


def test_planning_again_after_a_discard_keeps_each_loads_dates(auth, client, db, world):
    auth.login("carrier@example.com")
    load = world["loads"][0]
    due = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    assert _window_form(client, world, 2, **{f"due_by-{load.id}": due}).status_code == 302
    plan = db.session.scalar(sa.select(DispatchPlan))
    dispatch.discard_plan(db.session, world["carrier"], plan.id)
    page = client.get("/dispatch/").get_data(as_text=True)
    assert f'name="due_by-{load.id}" aria-label' in page and f'value="{due}"' in page
