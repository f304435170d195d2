"""Dispatch: a carrier's trucks, planning its dispatched shipments into routes, accepting a plan.

CO2 of a plan counts every km driven at the project's road factor per truck-km: geo.rates' road intensity
(0.05 kg CO2 per t·km, UK DEFRA, a laden articulated truck at a 25 t payload) times that 25 t payload,
i.e. 1.25 kg CO2 per km. An empty truck burns less than a laden one, so counting its km at the laden rate
overstates both the plan's and the baseline's CO2 alike; the saving (baseline − plan) is an estimate and
is labelled so wherever it is shown.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

import geo
from app import policy
from app.services import audit, notifications, quantities
from app.services.errors import PermissionDenied, ServiceError
from app.services.shipments import normalise_plate
from geo.rates import DEFAULT_RATES
from matching import dispatch as routing
from matching.errors import ProblemError
from models import (
    Allocation,
    Award,
    DispatchPlan,
    DispatchStop,
    Facility,
    Lot,
    Organization,
    Shipment,
    User,
    Vehicle,
    utcnow,
)

logger = logging.getLogger(__name__)

REFERENCE_PAYLOAD_T = Decimal(25)  # the payload behind DEFRA's per t·km road factor
TRUCK_CO2_KG_PER_KM = Decimal(str(DEFAULT_RATES.road_co2_kg_per_tkm)) * REFERENCE_PAYLOAD_T
CO2_SOURCE = _l("UK DEFRA road freight factor, 0.05 kg CO2 per t·km at a 25 t payload (geo/rates.py), "
                "counted per truck-km")

# Limits of the use case (forms and schemas only parse).
CAPACITY_T = (Decimal(1), Decimal(60))
COST_YUAN_PER_KM = (Decimal("0.5"), Decimal(50))
MAX_KM = (50, 2000)
MAX_SHIPMENTS, MAX_VEHICLES, MAX_DAYS = 300, 50, 14
# A ready or due date further than this from the plan's first day is a typing error, not a window.
WINDOW_SPAN = dt.timedelta(days=366)
TIME_LIMITS_S = (1, 5, 10, 30, 60)
# A plan still running this long after its time limit lost its worker (building the model and the road
# matrix takes seconds, not minutes).
STALE_AFTER_S = 300


# ----------------------------------------------------------------------------- who may plan


def _require_carrier(user: User) -> None:
    """Only verified users of a carrier organisation plan its trucks."""
    org = user.organization
    if user.role != "carrier" or not org.verified or "carrier" not in org.role_names:
        raise PermissionDenied(_("Only verified carriers plan dispatch."))


# ----------------------------------------------------------------------------- vehicles


@dataclass
class VehicleInput:
    """What the vehicle form collects: the depot is a place name (county seat) or WGS84 lon/lat."""

    plate: str
    capacity_t: Decimal
    cost_yuan_per_km: Decimal
    max_km: int
    depot_place: str | None = None
    depot_lon: float | None = None
    depot_lat: float | None = None


def _in(value, bounds, field: str, message: str):
    if value is None or not (bounds[0] <= value <= bounds[1]):
        raise ServiceError(message, field=field)
    return value


def _depot(data: VehicleInput) -> tuple[str | None, float, float]:
    if data.depot_place and data.depot_place.strip():
        try:
            place = geo.find_place(data.depot_place.strip())
        except geo.UnknownPlaceError:
            raise ServiceError(_("Unknown place: give a county or city of Heilongjiang, or coordinates."),
                               field="depot_place") from None
        return place.name_zh, float(place.lon), float(place.lat)
    if data.depot_lon is None or data.depot_lat is None:
        raise ServiceError(_("Give the depot as a place or as longitude and latitude."), field="depot_place")
    try:
        geo.locate(data.depot_lon, data.depot_lat)
    except (geo.OutOfRegionError, ValueError):
        raise ServiceError(_("The depot lies outside Heilongjiang and its service area."), field="depot_lon") from None
    return None, float(data.depot_lon), float(data.depot_lat)


def add_vehicle(session: so.Session, user: User, data: VehicleInput) -> Vehicle:
    """Register a truck of the user's carrier organisation."""
    _require_carrier(user)
    plate = normalise_plate(data.plate)
    capacity = _in(data.capacity_t, CAPACITY_T, "capacity_t",
                   _("Capacity must lie between %(lo)s and %(hi)s t.", lo=CAPACITY_T[0], hi=CAPACITY_T[1]))
    cost = _in(data.cost_yuan_per_km, COST_YUAN_PER_KM, "cost_yuan_per_km",
               _("Cost must lie between %(lo)s and %(hi)s yuan/km.", lo=COST_YUAN_PER_KM[0], hi=COST_YUAN_PER_KM[1]))
    max_km = _in(data.max_km, MAX_KM, "max_km",
                 _("Maximum km a day must lie between %(lo)s and %(hi)s.", lo=MAX_KM[0], hi=MAX_KM[1]))
    name, lon, lat = _depot(data)
    vehicle = Vehicle(organization_id=user.organization_id, plate=plate, capacity_t=quantities.tonnes(capacity),
                      cost_yuan_per_km=quantities.yuan(cost), max_km=int(max_km), depot_name=name,
                      depot_lon=lon, depot_lat=lat)
    session.add(vehicle)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
        raise ServiceError(_("Your organisation already has a vehicle with this plate."), field="plate") from None
    audit.record(session, user.id, "vehicle", vehicle.id, "added",
                 {"plate": plate, "capacity_t": vehicle.capacity_t, "max_km": vehicle.max_km})
    session.commit()
    return vehicle


def retire_vehicle(session: so.Session, user: User, vehicle_id: int) -> Vehicle:
    """Take a truck out of planning (its past plans keep it)."""
    _require_carrier(user)
    vehicle = session.get(Vehicle, vehicle_id)
    if vehicle is None or vehicle.organization_id != user.organization_id:
        raise PermissionDenied(_("No such vehicle."))
    vehicle.active = False
    audit.record(session, user.id, "vehicle", vehicle.id, "retired", {})
    session.commit()
    return vehicle


def vehicles(session: so.Session, user: User) -> list[Vehicle]:
    """The organisation's active trucks."""
    return list(session.scalars(sa.select(Vehicle).where(
        Vehicle.organization_id == user.organization_id, Vehicle.active.is_(True)).order_by(Vehicle.plate)))


def plannable_shipments(session: so.Session, user: User) -> list[Shipment]:
    """Loads given to the organisation, dispatched but neither received nor already in an accepted plan."""
    return list(session.scalars(sa.select(Shipment).where(
        Shipment.carrier_organization_id == user.organization_id, Shipment.status == "dispatched",
        Shipment.dispatch_plan_id.is_(None)).order_by(Shipment.id)))


def _check_hazardous_loads(user: User, loads: list[Shipment]) -> None:
    """Hazardous loads are planned and moved only while the carrier's dangerous-goods permit is valid."""
    for load in loads:
        category = load.award.allocation.lot.category
        if category.hazardous and not policy.may_carry(user.organization, category, utcnow().date()):
            raise ServiceError(_("Load %(manifest)s is hazardous waste: your organisation needs a valid road "
                                 "dangerous-goods transport permit (道路危险货物运输许可证) to move it.",
                                 manifest=load.manifest_no), field="shipment_ids")


def permit(user: User) -> tuple[str | None, dt.date | None]:
    """The organisation's road dangerous-goods transport permit: number and valid-until (None when not recorded)."""
    org = user.organization
    return org.dg_permit_no, org.dg_permit_valid_until


def set_permit(session: so.Session, user: User, number: str | None, valid_until: dt.date | None) -> Organization:
    """Record (or, with no number, clear) the carrier organisation's 道路危险货物运输许可证."""
    policy.require(policy.may_keep_permit(user))
    if "carrier" not in user.organization.role_names:
        raise ServiceError(_("Only carrier organisations hold a dangerous-goods transport permit."))
    number = (number or "").strip() or None
    if number is not None and len(number) > 40:
        raise ServiceError(_("At most %(n)d characters.", n=40), field="dg_permit_no")
    if number is not None and valid_until is None:
        raise ServiceError(_("Give the date the permit is valid until."), field="dg_permit_valid_until")
    if number is None and valid_until is not None:
        raise ServiceError(_("Give the permit number."), field="dg_permit_no")
    if valid_until is not None and valid_until.year > utcnow().year + 20:
        raise ServiceError(_("A permit valid for more than 20 years is not plausible: check the date."),
                           field="dg_permit_valid_until")
    org = session.get(Organization, user.organization_id)
    org.dg_permit_no, org.dg_permit_valid_until = number, valid_until
    audit.record(session, user.id, "organization", org.id, "dg_permit",
                 {"number": number, "valid_until": valid_until})
    session.commit()
    return org


# ----------------------------------------------------------------------------- plans


Window = tuple[dt.date | None, dt.date | None]


def _windows(windows: dict[int, Window] | None, shipment_ids: list[int], start_date: dt.date,
             manifests: dict[int, str]) -> dict[str, list[str | None]]:
    """Check each load's (ready from, due by) dates and return them as the plan stores them.

    The carrier agrees these per trip with the producer loading and the recycler weighing in, so they
    belong to the plan, not to the trade. A ready date before the first day means ready now; a due date
    past the last day puts no limit inside the plan. Only nonsense is refused here: a load due before it
    is ready or before the plan starts, or dates a year away. A window that merely falls outside the plan's
    days is planned as far as possible and reported as not planned, with the reason."""
    out: dict[str, list[str | None]] = {}
    for shipment_id, (ready, due) in sorted((windows or {}).items()):
        if shipment_id not in shipment_ids:
            raise ServiceError(_("Dates were given for a load that is not in the plan."), field="windows")
        if ready is None and due is None:
            continue
        manifest = manifests.get(shipment_id, str(shipment_id))
        for day in (ready, due):
            if day is not None and abs(day - start_date) > WINDOW_SPAN:
                raise ServiceError(_("The dates of load %(manifest)s lie more than a year from the plan's first day.",
                                     manifest=manifest), field="windows")
        if ready is not None and due is not None and due < ready:
            raise ServiceError(_("Load %(manifest)s is due before it is ready.", manifest=manifest), field="windows")
        if due is not None and due < start_date:
            raise ServiceError(_("Load %(manifest)s is due before the plan's first day.", manifest=manifest),
                               field="windows")
        out[str(shipment_id)] = [None if ready is None else ready.isoformat(), None if due is None else due.isoformat()]
    return out


def plan_windows(plan: DispatchPlan) -> dict[int, Window]:
    """Each load's (ready from, due by) dates as the plan was asked to respect them."""
    return {int(k): tuple(None if v is None else dt.date.fromisoformat(v) for v in pair)
            for k, pair in (plan.inputs or {}).get("windows", {}).items()}


def last_windows(session: so.Session, user: User) -> dict[int, Window]:
    """The dates each waiting load was last planned with, so planning again (after a discard) keeps them."""
    waiting = {s.id for s in plannable_shipments(session, user)}
    out: dict[int, Window] = {}
    for plan in plans(session, user):  # newest first: the latest dates win
        for shipment_id, window in plan_windows(plan).items():
            if shipment_id in waiting:
                out.setdefault(shipment_id, window)
    return out


def window_days(plan: DispatchPlan, window: Window) -> tuple[int | None, int | None]:
    """A window as plan days (0 = the first day): ready clipped at 0 and at the plan's length (so a load ready
    after the plan is reported as outside it), due clipped at the last day."""
    ready, due = window
    ready_day = None if ready is None else min(max(0, (ready - plan.start_date).days), plan.days)
    due_day = None if due is None else min((due - plan.start_date).days, plan.days - 1)
    return ready_day, due_day


def start_plan(session: so.Session, user: User, shipment_ids: list[int], vehicle_ids: list[int],
               start_date: dt.date, days: int, time_limit_s: int,
               enqueue: Callable[[int], str] | None = None,
               windows: dict[int, Window] | None = None) -> DispatchPlan:
    """Queue a plan of the chosen shipments onto the chosen trucks and hand it to the job queue.

    ``windows`` maps a shipment id to its (ready from, due by) dates, either may be None."""
    _require_carrier(user)
    shipment_ids, vehicle_ids = sorted(set(shipment_ids or [])), sorted(set(vehicle_ids or []))
    if not shipment_ids or len(shipment_ids) > MAX_SHIPMENTS:
        raise ServiceError(_("Choose between 1 and %(n)d loads.", n=MAX_SHIPMENTS), field="shipment_ids")
    if not vehicle_ids or len(vehicle_ids) > MAX_VEHICLES:
        raise ServiceError(_("Choose between 1 and %(n)d vehicles.", n=MAX_VEHICLES), field="vehicle_ids")
    if not (days and 1 <= days <= MAX_DAYS):
        raise ServiceError(_("Plan between 1 and %(n)d days.", n=MAX_DAYS), field="days")
    if time_limit_s not in TIME_LIMITS_S:
        raise ServiceError(_("Choose a planning time."), field="time_limit_s")
    if start_date is None or start_date < utcnow().date() - dt.timedelta(days=1):
        raise ServiceError(_("The plan cannot start in the past."), field="start_date")
    own = {s.id: s for s in plannable_shipments(session, user)}
    if not set(shipment_ids) <= set(own):
        raise ServiceError(_("Some loads are not yours to plan, or were received or planned meanwhile."),
                           field="shipment_ids")
    _check_hazardous_loads(user, [own[i] for i in shipment_ids])
    if not set(vehicle_ids) <= {v.id for v in vehicles(session, user)}:
        raise ServiceError(_("Some vehicles are not your organisation's."), field="vehicle_ids")
    manifests = dict(session.execute(sa.select(Shipment.id, Shipment.manifest_no).where(
        Shipment.id.in_(shipment_ids))).all())
    inputs = {"shipments": shipment_ids, "vehicles": vehicle_ids}
    if checked := _windows(windows, shipment_ids, start_date, manifests):
        inputs["windows"] = checked
    plan = DispatchPlan(organization_id=user.organization_id, created_by_id=user.id, status="queued",
                        start_date=start_date, days=days, time_limit_s=time_limit_s, inputs=inputs)
    session.add(plan)
    session.flush()
    audit.record(session, user.id, "dispatch_plan", plan.id, "queued", plan.inputs)
    session.commit()
    if enqueue is None:
        from app import jobs

        enqueue = jobs.enqueue_dispatch
    try:
        job_id = enqueue(plan.id)
    except Exception as exc:  # the broker refused or timed out: the plan must not stay queued for ever
        logger.exception("dispatch plan %s could not be enqueued", plan.id)
        session.rollback()
        _fail(session, plan.id, f"could not enqueue: {type(exc).__name__}")
        raise ServiceError(_("The planning queue is unavailable; try again in a minute.")) from exc
    plan = session.get(DispatchPlan, plan.id)
    plan.job_id = job_id
    session.commit()
    return plan


def _fail(session: so.Session, plan_id: int, error: str, only_from: tuple[str, ...] = ("queued", "running")) -> bool:
    """Mark a plan failed (conditionally, so a finished plan is never overwritten)."""
    changed = session.execute(sa.update(DispatchPlan).where(
        DispatchPlan.id == plan_id, DispatchPlan.status.in_(only_from)).values(
        status="failed", error=error[:500], finished_at=utcnow()).execution_options(
        synchronize_session=False)).rowcount
    if changed:
        audit.record(session, None, "dispatch_plan", plan_id, "failed", {"error": error[:500]})
    session.commit()
    return bool(changed)


def _points(plan_shipments: list[Shipment], trucks: list[Vehicle]) -> tuple[list[str], dict[str, tuple]]:
    """Point ids (F<facility> or V<vehicle> for a depot given as coordinates) and their lon/lat."""
    where: dict[str, tuple] = {}
    for s in plan_shipments:
        for f in (s.award.allocation.lot.facility, s.award.allocation.facility):
            where[f"F{f.id}"] = (f.lon, f.lat)
    for v in trucks:
        where[_depot_point(v)] = v.depot_lonlat
    return list(where), where


def _depot_point(v: Vehicle) -> str:
    return f"F{v.depot_facility_id}" if v.depot_facility_id is not None else f"V{v.id}"


def build_problem(session: so.Session, plan: DispatchPlan) -> routing.DispatchProblem:
    """The routing problem of a plan: its shipments as loads, its trucks, road km between all points."""
    plan_shipments = list(session.scalars(sa.select(Shipment).where(Shipment.id.in_(plan.inputs["shipments"]))))
    trucks = list(session.scalars(sa.select(Vehicle).where(Vehicle.id.in_(plan.inputs["vehicles"]))))
    ids, where = _points(plan_shipments, trucks)
    lon = [where[i][0] for i in ids]
    lat = [where[i][1] for i in ids]
    km = geo.road_km_matrix(lon, lat, lon, lat)
    matrix = [[round(float(x), 3) if x == x and x != float("inf") else None for x in row] for row in km]
    windows = plan_windows(plan)
    loads = [routing.Load(str(s.id), f"F{s.award.allocation.lot.facility_id}", f"F{s.award.allocation.facility_id}",
                          quantities.tonnes(s.dispatched_tonnes), *window_days(plan, windows.get(s.id, (None, None))))
             for s in plan_shipments]
    fleet = [routing.Vehicle(str(v.id), _depot_point(v), quantities.tonnes(v.capacity_t),
                             Decimal(v.cost_yuan_per_km), Decimal(v.max_km)) for v in trucks]
    return routing.DispatchProblem(ids, matrix, fleet, loads, days=plan.days, time_limit_s=plan.time_limit_s)


def execute_plan(session: so.Session, plan_id: int) -> DispatchPlan | None:
    """The job: solve a queued plan and store its routes and figures; a failure marks the plan failed."""
    changed = session.execute(sa.update(DispatchPlan).where(
        DispatchPlan.id == plan_id, DispatchPlan.status == "queued").values(
        status="running", started_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    session.commit()
    plan = session.get(DispatchPlan, plan_id)
    if changed != 1:
        return plan  # already taken by another worker, or discarded
    session.refresh(plan)
    try:
        result = routing.solve_dispatch(build_problem(session, plan))
    except (ProblemError, ValueError, geo.OutOfRegionError) as exc:
        logger.exception("dispatch plan %s failed", plan_id)
        session.rollback()
        _fail(session, plan_id, str(exc))
        session.refresh(plan)
        return plan
    _store(session, plan, result)
    return plan


def _store(session: so.Session, plan: DispatchPlan, result: routing.DispatchResult) -> None:
    for route in result.routes:
        for seq, stop in enumerate(route.stops):
            session.add(DispatchStop(plan_id=plan.id, vehicle_id=int(route.vehicle), shipment_id=int(stop.load),
                                     day=route.day, sequence=seq, action=stop.action, tonnes=stop.tonnes,
                                     leg_km=stop.leg_km))
    plan.solver_status = result.status
    plan.total_km, plan.empty_km = result.total_km, result.empty_km
    plan.baseline_km, plan.baseline_empty_km = result.baseline_km, result.baseline_empty_km
    plan.cost_yuan = result.cost_yuan
    plan.co2_kg = quantities.round_places(result.total_km * TRUCK_CO2_KG_PER_KM, 3)
    plan.baseline_co2_kg = quantities.round_places(result.baseline_km * TRUCK_CO2_KG_PER_KM, 3)
    plan.unserved = [{"shipment": int(u.load), "tonnes": str(u.tonnes), "reason": u.reason} for u in result.unserved]
    plan.route_figures = [{"vehicle": int(r.vehicle), "day": r.day, "km": str(r.km), "empty_km": str(r.empty_km),
                           "return_km": str(r.return_km), "cost_yuan": str(r.cost_yuan)} for r in result.routes]
    plan.status, plan.finished_at = "ready", utcnow()
    audit.record(session, None, "dispatch_plan", plan.id, "ready", {
        "km": plan.total_km, "empty_km": plan.empty_km, "baseline_km": plan.baseline_km,
        "unserved": len(plan.unserved), "seconds": round(result.seconds, 2)})
    session.commit()


def plan_for(session: so.Session, user: User, plan_id: int) -> DispatchPlan:
    """A plan the user's organisation made (admins see every plan); a job that died mid-plan shows as failed."""
    plan = session.get(DispatchPlan, plan_id)
    if plan is None or (user.role != "admin" and plan.organization_id != user.organization_id):
        raise PermissionDenied(_("No such plan."))
    if plan.status == "running" and _elapsed_s(plan) > plan.time_limit_s + STALE_AFTER_S:
        _fail(session, plan.id, "the planning job stopped before it finished", only_from=("running",))
        session.refresh(plan)
    return plan


def _elapsed_s(plan: DispatchPlan) -> float:
    if plan.started_at is None:
        return 0.0
    started = plan.started_at if plan.started_at.tzinfo else plan.started_at.replace(tzinfo=dt.UTC)
    return (utcnow() - started).total_seconds()


def plans(session: so.Session, user: User, limit: int = 50) -> list[DispatchPlan]:
    """The organisation's plans, newest first."""
    return list(session.scalars(sa.select(DispatchPlan).where(DispatchPlan.organization_id == user.organization_id)
                                .order_by(DispatchPlan.id.desc()).limit(limit)))


def plan_manifests(session: so.Session, plan: DispatchPlan) -> dict[int, str]:
    """Manifest numbers of the plan's shipments by id."""
    rows = session.execute(sa.select(Shipment.id, Shipment.manifest_no).where(
        Shipment.id.in_(plan.inputs.get("shipments", []))))
    return {row.id: row.manifest_no for row in rows}


def progress_pct(plan: DispatchPlan) -> int:
    """How far a running plan is: the solver searches for exactly its time limit."""
    if plan.status in ("ready", "accepted", "failed", "discarded"):
        return 100
    return max(0, min(99, int(100 * _elapsed_s(plan) / max(plan.time_limit_s, 1))))


def accept_plan(session: so.Session, user: User, plan_id: int) -> DispatchPlan:
    """Accept a ready plan: each planned shipment gets its truck, its place in the route and an arrival date.

    The database refuses a shipment already planned elsewhere or received meanwhile (conditional updates),
    so two plans accepted at once never both claim one shipment."""
    _require_carrier(user)
    plan = plan_for(session, user, plan_id)
    _check_hazardous_loads(user, list(session.scalars(sa.select(Shipment).where(
        Shipment.id.in_(list(_assignments(plan)))))))
    changed = session.execute(sa.update(DispatchPlan).where(
        DispatchPlan.id == plan.id, DispatchPlan.status == "ready").values(
        status="accepted", accepted_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        raise ServiceError(_("Only a ready plan can be accepted."))
    for shipment_id, (vehicle_id, sequence, day) in _assignments(plan).items():
        done = session.execute(sa.update(Shipment).where(
            Shipment.id == shipment_id, Shipment.dispatch_plan_id.is_(None), Shipment.status == "dispatched",
            Shipment.carrier_organization_id == plan.organization_id).values(
            dispatch_plan_id=plan.id, vehicle_id=vehicle_id, route_sequence=sequence,
            expected_arrival=plan.start_date + dt.timedelta(days=day)).execution_options(
            synchronize_session=False)).rowcount
        if done != 1:
            session.rollback()
            raise ServiceError(_("A load of this plan was received or planned meanwhile: plan again."))
    audit.record(session, user.id, "dispatch_plan", plan.id, "accepted",
                 {"shipments": sorted(_assignments(plan)), "km": plan.total_km, "baseline_km": plan.baseline_km})
    _tell_both_ends(session, plan)
    session.commit()
    session.refresh(plan)
    return plan


def _tell_both_ends(session: so.Session, plan: DispatchPlan) -> None:
    """The producer loading and the recycler weighing in learn which truck comes and when it arrives."""
    # The assignments were written with bulk UPDATEs, so loaded shipments must be refreshed, not reused.
    allocation = so.joinedload(Shipment.award).joinedload(Award.allocation)
    planned = session.scalars(sa.select(Shipment).where(Shipment.dispatch_plan_id == plan.id).options(
        so.joinedload(Shipment.vehicle), allocation.joinedload(Allocation.lot).joinedload(Lot.facility),
        allocation.joinedload(Allocation.facility)).execution_options(populate_existing=True)).unique().all()
    for shipment in planned:
        allocation = shipment.award.allocation
        params = {"manifest": shipment.manifest_no, "plate": shipment.vehicle.plate,
                  "arrival": shipment.expected_arrival.isoformat()}
        for organization_id in {allocation.lot.facility.organization_id, allocation.facility.organization_id}:
            notifications.notify_organisation(session, organization_id, "shipment_planned", params,
                                              f"/awards/{shipment.award_id}")


def _assignments(plan: DispatchPlan) -> dict[int, tuple[int, int, int]]:
    """Shipment → (vehicle of its first pickup, 1-based stop number in that route, day of its last drop-off)."""
    out: dict[int, tuple[int, int, int]] = {}
    last_drop: dict[int, int] = {}
    for stop in plan.stops:
        if stop.action == "pickup" and stop.shipment_id not in out:
            out[stop.shipment_id] = (stop.vehicle_id, stop.sequence + 1, stop.day)
        if stop.action == "dropoff":
            last_drop[stop.shipment_id] = max(stop.day, last_drop.get(stop.shipment_id, 0))
    return {k: (v, seq, last_drop.get(k, day)) for k, (v, seq, day) in out.items()}


def discard_plan(session: so.Session, user: User, plan_id: int) -> DispatchPlan:
    """Drop a plan that is not accepted."""
    _require_carrier(user)
    plan = plan_for(session, user, plan_id)
    changed = session.execute(sa.update(DispatchPlan).where(
        DispatchPlan.id == plan.id, DispatchPlan.status.in_(("queued", "ready", "failed"))).values(
        status="discarded").execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        raise ServiceError(_("This plan can no longer be discarded."))
    audit.record(session, user.id, "dispatch_plan", plan.id, "discarded", {})
    session.commit()
    session.refresh(plan)
    return plan


# ----------------------------------------------------------------------------- reading a plan


@dataclass
class RouteView:
    """One truck's route on one day, for the run sheet and the map."""

    vehicle: Vehicle
    day: int
    date: dt.date
    stops: list[DispatchStop]
    km: Decimal
    empty_km: Decimal
    return_km: Decimal
    cost_yuan: Decimal
    path: list[tuple[float, float]]


def routes(session: so.Session, plan: DispatchPlan) -> list[RouteView]:
    """The plan's routes: stops in order with the solver's km figures."""
    groups: dict[tuple[int, int], list[DispatchStop]] = {}
    for stop in plan.stops:
        groups.setdefault((stop.day, stop.vehicle_id), []).append(stop)
    figures = {(f["day"], f["vehicle"]): f for f in plan.route_figures or []}
    out = []
    for (day, vehicle_id), stops in sorted(groups.items()):
        vehicle = stops[0].vehicle
        f = figures[(day, vehicle_id)]
        path = [vehicle.depot_lonlat] + [_stop_lonlat(s) for s in stops] + [vehicle.depot_lonlat]
        out.append(RouteView(vehicle, day, plan.start_date + dt.timedelta(days=day), stops, Decimal(f["km"]),
                             Decimal(f["empty_km"]), Decimal(f["return_km"]), Decimal(f["cost_yuan"]), path))
    return out


def _stop_lonlat(stop: DispatchStop) -> tuple[float, float]:
    allocation = stop.shipment.award.allocation
    f = allocation.lot.facility if stop.action == "pickup" else allocation.facility
    return f.lon, f.lat


def stop_facility(stop: DispatchStop) -> Facility:
    """Where a stop happens: the lot's facility for a pickup, the recycler's for a drop-off."""
    allocation = stop.shipment.award.allocation
    return allocation.lot.facility if stop.action == "pickup" else allocation.facility


def routes_geojson(session: so.Session, plan: DispatchPlan) -> dict:
    """The routes as GeoJSON LineStrings (straight lines between stops; km are by road)."""
    features = []
    for k, r in enumerate(routes(session, plan)):
        line = {"type": "LineString", "coordinates": [list(p) for p in r.path]}
        features.append({"type": "Feature", "geometry": line,
                         "properties": {"index": k, "plate": r.vehicle.plate, "day": r.date.isoformat(),
                                        "km": float(r.km), "empty_km": float(r.empty_km)}})
    return {"type": "FeatureCollection", "features": features}


# ----------------------------------------------------------------------------- dashboards


def co2_saved(session: so.Session, facility_filter: sa.ColumnElement[bool] | None, year: int) -> dict:
    """CO2 that plans accepted in `year` saved against one round trip per truckload, apportioned to a scope by the
    tonnes each plan picked up at the scope's facilities (facility_filter None: every facility)."""
    start, end = dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    accepted = list(session.scalars(sa.select(DispatchPlan).where(
        DispatchPlan.status == "accepted", DispatchPlan.accepted_at >= start, DispatchPlan.accepted_at < end)))
    inside = None
    if facility_filter is not None:
        inside = set(session.scalars(sa.select(Facility.id).where(facility_filter)))
    saved, counted = Decimal(0), 0
    for plan in accepted:
        picked = [s for s in plan.stops if s.action == "pickup"]
        total = sum((s.tonnes for s in picked), Decimal(0))
        mine = sum((s.tonnes for s in picked if inside is None or stop_facility(s).id in inside), Decimal(0))
        if total and mine and plan.co2_saved_kg is not None:
            saved += plan.co2_saved_kg * mine / total
            counted += 1
    return {"co2_saved_t": quantities.tonnes(saved / 1000), "plans": counted, "source": str(CO2_SOURCE)}


def co2_saved_in_scope(session: so.Session, scope, year: int) -> dict:
    """CO2 saved by consolidation for a dashboard scope (a base, a prefecture or the province)."""
    return co2_saved(session, None if scope.kind == "province" else scope.facility_filter(), year)
