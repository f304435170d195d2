"""API resource: dispatch — a carrier's vehicles, route plans of its loads, accepting a plan (with its schemas)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Optional

from flask_babel import gettext as _
from pydantic import Field

from app import policy
from app.api import pagination, schemas
from app.api.auth import current_user, require
from app.api.blueprint import op
from app.api.shipments import shipment_out
from app.api.types import DecimalOut, Id, MoneyIn, MoneyOut, Timestamp, TonnesIn, TonnesOut
from app.extensions import db
from app.services import dispatch
from app.services.errors import ServiceError
from models import DispatchPlan, Vehicle

IdList = Annotated[list[Id], Field(max_length=1000)]


class VehicleIn(schemas.Input):
    """A truck: its depot is a county or city of Heilongjiang (`depot_place`) or WGS84 `depot_lon`/`depot_lat`."""

    plate: schemas.Text(16, 1)
    capacity_t: TonnesIn
    cost_yuan_per_km: MoneyIn
    max_km: Annotated[int, Field(ge=0, le=1_000_000)]
    depot_place: Optional[schemas.Text(50)] = None
    depot_lon: Optional[float] = None
    depot_lat: Optional[float] = None


class VehicleOut(schemas.Output):
    """A truck of the carrier organisation."""

    id: int
    plate: str
    capacity_t: TonnesOut
    cost_yuan_per_km: MoneyOut
    max_km: int
    depot_name: Optional[str]
    depot_lon: Optional[float]
    depot_lat: Optional[float]
    active: bool


class VehiclePage(schemas.Output):
    """A page of vehicles."""

    items: list[VehicleOut]
    next_cursor: Optional[str]


class WindowIn(schemas.Input):
    """A load's optional dates for this plan: ready for pickup from `ready_on`, delivered by `due_by`."""

    shipment_id: Id
    ready_on: Optional[dt.date] = None
    due_by: Optional[dt.date] = None


class WindowOut(schemas.Output):
    """A load's dates the plan was asked to respect."""

    shipment_id: int
    ready_on: Optional[dt.date]
    due_by: Optional[dt.date]


class DispatchPlanIn(schemas.Input):
    """Which loads onto which vehicles, from which day, over how many days, searching how many seconds.

    `windows` gives loads a ready and/or due date; a load whose dates leave no day of the plan comes back
    in `unserved` with reason `time_window`."""

    shipment_ids: IdList
    vehicle_ids: IdList
    start_date: dt.date
    days: Annotated[int, Field(ge=0, le=1000)] = 1
    time_limit_s: Annotated[int, Field(ge=0, le=3600)] = 10
    windows: Annotated[list[WindowIn], Field(max_length=1000)] = []


class StopOut(schemas.Output):
    """A pickup or drop-off of a truckload of one shipment."""

    shipment_id: int
    manifest_no: str
    action: str
    facility_id: int
    facility_name: str
    tonnes: TonnesOut
    leg_km: DecimalOut


class RouteOut(schemas.Output):
    """One vehicle's route on one day: depot, stops, back to the depot."""

    vehicle_id: int
    plate: str
    day: int
    date: dt.date
    km: DecimalOut
    empty_km: DecimalOut
    return_km: DecimalOut
    cost_yuan: MoneyOut
    stops: list[StopOut]


class UnservedOut(schemas.Output):
    """Tonnes of a load the plan does not move, and the reason code."""

    shipment_id: int
    tonnes: TonnesOut
    reason: str


class DispatchPlanOut(schemas.Output):
    """A plan: progress while it runs, then km, empty km and CO2 against one round trip per truckload."""

    id: int
    status: str
    done: bool
    progress_pct: int
    start_date: dt.date
    days: int
    time_limit_s: int
    job_id: Optional[str]
    error: Optional[str]
    solver_status: Optional[str]
    total_km: Optional[DecimalOut]
    empty_km: Optional[DecimalOut]
    baseline_km: Optional[DecimalOut]
    baseline_empty_km: Optional[DecimalOut]
    cost_yuan: Optional[MoneyOut]
    co2_kg: Optional[DecimalOut]
    baseline_co2_kg: Optional[DecimalOut]
    co2_saved_kg: Optional[DecimalOut]
    co2_source: str
    created_at: Timestamp
    started_at: Optional[Timestamp]
    finished_at: Optional[Timestamp]
    accepted_at: Optional[Timestamp]
    routes: list[RouteOut]
    unserved: list[UnservedOut]
    windows: list[WindowOut]


class DispatchPlanPage(schemas.Output):
    """A page of plans (without their routes)."""

    items: list[DispatchPlanOut]
    next_cursor: Optional[str]


def vehicle_out(vehicle: Vehicle) -> VehicleOut:
    """A vehicle as the API shows it."""
    return VehicleOut.model_validate(vehicle)


def plan_out(plan: DispatchPlan, with_routes: bool = True) -> DispatchPlanOut:
    """A plan as the API shows it; routes only when asked (lists leave them out)."""
    routes = []
    if with_routes and plan.status in ("ready", "accepted"):
        for r in dispatch.routes(db.session, plan):
            stops = [StopOut(shipment_id=s.shipment_id, manifest_no=s.shipment.manifest_no, action=s.action,
                             facility_id=dispatch.stop_facility(s).id, facility_name=dispatch.stop_facility(s).name,
                             tonnes=s.tonnes, leg_km=s.leg_km) for s in r.stops]
            routes.append(RouteOut(vehicle_id=r.vehicle.id, plate=r.vehicle.plate, day=r.day, date=r.date, km=r.km,
                                   empty_km=r.empty_km, return_km=r.return_km, cost_yuan=r.cost_yuan, stops=stops))
    unserved = [UnservedOut(shipment_id=u["shipment"], tonnes=Decimal(u["tonnes"]), reason=u["reason"])
                for u in plan.unserved or []]
    return DispatchPlanOut(
        id=plan.id, status=plan.status, done=plan.status not in ("queued", "running"),
        progress_pct=dispatch.progress_pct(plan), start_date=plan.start_date, days=plan.days,
        time_limit_s=plan.time_limit_s, job_id=plan.job_id, error=plan.error, solver_status=plan.solver_status,
        total_km=plan.total_km, empty_km=plan.empty_km, baseline_km=plan.baseline_km,
        baseline_empty_km=plan.baseline_empty_km, cost_yuan=plan.cost_yuan, co2_kg=plan.co2_kg,
        baseline_co2_kg=plan.baseline_co2_kg, co2_saved_kg=plan.co2_saved_kg, co2_source=str(dispatch.CO2_SOURCE),
        created_at=plan.created_at, started_at=plan.started_at, finished_at=plan.finished_at,
        accepted_at=plan.accepted_at, routes=routes, unserved=unserved,
        windows=[WindowOut(shipment_id=k, ready_on=r, due_by=d)
                 for k, (r, d) in sorted(dispatch.plan_windows(plan).items())])


def _carrier():
    user = current_user()
    require(policy.may_see_manifests(user))
    return user


class PermitIn(schemas.Input):
    """The organisation's road dangerous-goods transport permit (道路危险货物运输许可证); no number clears it."""

    number: Optional[schemas.Text(40)] = None
    valid_until: Optional[dt.date] = None


class PermitOut(schemas.Output):
    """The permit on record and whether it is valid today (hazardous loads need a valid one)."""

    number: Optional[str]
    valid_until: Optional[dt.date]
    valid: bool


def permit_out(user) -> PermitOut:
    """The user's organisation's permit."""
    number, until = dispatch.permit(user)
    return PermitOut(number=number, valid_until=until, valid=policy.carries_hazardous(user.organization, None))


@op("GET", "/carrier-permit", summary="Your dangerous-goods transport permit", tag="dispatch", response=PermitOut,
    allow=policy.may_keep_permit)
def get_permit():
    """The carrier organisation's road dangerous-goods transport permit and whether it is valid today."""
    return permit_out(current_user())


@op("PUT", "/carrier-permit", summary="Record your dangerous-goods transport permit", tag="dispatch", body=PermitIn,
    response=PermitOut, allow=policy.may_keep_permit)
def put_permit(body: PermitIn):
    """Record the permit number and valid-until date; hazardous loads are named to and moved by permit holders only."""
    user = current_user()
    dispatch.set_permit(db.session, user, body.number, body.valid_until)
    return permit_out(user)


@op("GET", "/vehicles", summary="List your vehicles", tag="dispatch", query=schemas.PageQuery, response=VehiclePage,
    allow=policy.may_see_manifests)
def list_vehicles(query: schemas.PageQuery):
    """The carrier organisation's active vehicles."""
    rows = sorted(dispatch.vehicles(db.session, _carrier()), key=lambda v: v.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return VehiclePage(items=[vehicle_out(v) for v in page], next_cursor=cursor)


@op("POST", "/vehicles", summary="Add a vehicle", tag="dispatch", body=VehicleIn, response=VehicleOut, status=201,
    allow=policy.may_see_manifests)
def add_vehicle(body: VehicleIn):
    """Register a truck of your carrier organisation (verified carriers only)."""
    data = dispatch.VehicleInput(body.plate, body.capacity_t, body.cost_yuan_per_km, body.max_km, body.depot_place,
                                 body.depot_lon, body.depot_lat)
    return vehicle_out(dispatch.add_vehicle(db.session, _carrier(), data))


@op("POST", "/vehicles/<int:vehicle_id>/retire", summary="Retire a vehicle", tag="dispatch", response=VehicleOut,
    allow=policy.may_see_manifests)
def retire_vehicle(vehicle_id: int):
    """Take a truck out of planning."""
    return vehicle_out(dispatch.retire_vehicle(db.session, _carrier(), vehicle_id))


@op("GET", "/dispatch-loads", summary="Loads waiting for a plan", tag="dispatch", query=schemas.PageQuery,
    response=schemas.ShipmentPage, allow=policy.may_see_manifests)
def list_plannable(query: schemas.PageQuery):
    """Loads given to your carrier organisation, dispatched, not received and not in an accepted plan."""
    rows = sorted(dispatch.plannable_shipments(db.session, _carrier()), key=lambda s: s.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.ShipmentPage(items=[shipment_out(s) for s in page], next_cursor=cursor)


@op("GET", "/dispatch-plans", summary="List your dispatch plans", tag="dispatch", query=schemas.PageQuery,
    response=DispatchPlanPage, allow=policy.may_see_manifests)
def list_plans(query: schemas.PageQuery):
    """Your organisation's plans, newest first (read one for its routes)."""
    page, cursor = pagination.after_id(dispatch.plans(db.session, _carrier(), limit=1000), query.cursor, query.limit)
    return DispatchPlanPage(items=[plan_out(p, with_routes=False) for p in page], next_cursor=cursor)


@op("POST", "/dispatch-plans", summary="Plan routes", tag="dispatch", body=DispatchPlanIn, response=DispatchPlanOut,
    status=202, allow=policy.may_see_manifests)
def start_plan(body: DispatchPlanIn):
    """Queue a plan of the chosen loads onto the chosen vehicles as a job; poll it until `done`."""
    windows = {}
    for w in body.windows:
        if w.shipment_id in windows:
            raise ServiceError(_("Give each load's dates once."), field="windows")
        windows[w.shipment_id] = (w.ready_on, w.due_by)
    plan = dispatch.start_plan(db.session, _carrier(), body.shipment_ids, body.vehicle_ids, body.start_date,
                               body.days, body.time_limit_s, windows=windows)
    return plan_out(plan)


@op("GET", "/dispatch-plans/<int:plan_id>", summary="Read a dispatch plan", tag="dispatch", response=DispatchPlanOut,
    allow=policy.may_see_manifests)
def get_plan(plan_id: int):
    """A plan with its routes (per vehicle and day), unserved loads and figures against the baseline."""
    return plan_out(dispatch.plan_for(db.session, _carrier(), plan_id))


@op("POST", "/dispatch-plans/<int:plan_id>/accept", summary="Accept a dispatch plan", tag="dispatch",
    response=DispatchPlanOut, allow=policy.may_see_manifests)
def accept_plan(plan_id: int):
    """Loads get their vehicle, stop number and expected arrival; producers and recyclers see the arrival."""
    return plan_out(dispatch.accept_plan(db.session, _carrier(), plan_id))


@op("POST", "/dispatch-plans/<int:plan_id>/discard", summary="Discard a dispatch plan", tag="dispatch",
    response=DispatchPlanOut, allow=policy.may_see_manifests)
def discard_plan(plan_id: int):
    """Drop a plan that is not accepted."""
    return plan_out(dispatch.discard_plan(db.session, _carrier(), plan_id))
