"""API resource: a base's storage yards and its seasonal plans (twelve months, kiln calendars, yards, what-ifs)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import get_locale

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user, require
from app.api.bases import _scope
from app.api.blueprint import op
from app.api.errors import ApiError
from app.extensions import db
from app.services import seasonal
from app.services.errors import ServiceError
from app.services.utilisation import Scope
from models import MatchRun, Yard

TAG = "seasonal"


def yard_out(yard: Yard) -> more_schemas.Yard:
    """A yard as the API shows it."""
    return more_schemas.Yard(id=yard.id, name=yard.name, base=yard.base.code if yard.base else None,
                             category=yard.category.code, lon=yard.lon, lat=yard.lat, capacity_t=yard.capacity_t,
                             cost_yuan_per_t_month=yard.cost_yuan_per_t_month,
                             loss_pct_per_month=yard.loss_pct_per_month, is_demo=yard.is_demo)


def _decimals(value: Any) -> Any:
    """Plan figures are kept as JSON numbers; read them back as exact decimals of what was written."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    return value


def plan_out(run: MatchRun) -> more_schemas.SeasonalPlan:
    """A seasonal plan run from its stored results."""
    results, parameters = run.results or {}, run.parameters or {}
    scenario, comparison = results.get("scenario"), results.get("comparison")
    return more_schemas.SeasonalPlan(
        id=run.id, base=str(parameters.get("scope") or "province"), start=str(parameters.get("start") or ""),
        parameters=parameters, baseline=more_schemas.PlanResult(**_decimals(results["baseline"])),
        scenario=None if scenario is None else more_schemas.PlanResult(**_decimals(scenario)),
        comparison=None if comparison is None else more_schemas.PlanComparison(**_decimals(comparison)),
        created_at=run.created_at)


def _manager_scope(code: str) -> Scope:
    """The scope, if the user may manage its yards (a base officer their own base, the regulator any)."""
    user = current_user()
    require(policy.may_view_statistics(user))
    return _scope(code)


# ----------------------------------------------------------------------------- yards


@op("GET", "/bases/<code>/yards", summary="Storage yards of a base", tag=TAG, query=schemas.PageQuery,
    response=more_schemas.YardPage, allow=policy.may_view_statistics)
def list_yards(code: str, query: schemas.PageQuery):
    """The shared yards of a base (every yard for `province`), newest first."""
    scope = _manager_scope(code)
    rows = sorted(seasonal.yards(db.session, scope), key=lambda y: -y.id)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.YardPage(items=[yard_out(y) for y in page], next_cursor=cursor)


@op("POST", "/bases/<code>/yards", summary="Add a storage yard", tag=TAG, body=more_schemas.YardIn,
    response=more_schemas.Yard, status=201, allow=policy.may_view_statistics)
def create_yard(code: str, body: more_schemas.YardIn):
    """Record a yard in the base (base officers in their own base; the regulator anywhere)."""
    scope = _manager_scope(code)
    return yard_out(seasonal.add_yard(db.session, current_user(), scope, body.model_dump()))


@op("PATCH", "/bases/<code>/yards/<int:yard_id>", summary="Change a storage yard", tag=TAG,
    body=more_schemas.YardPatch, response=more_schemas.Yard, allow=policy.may_view_statistics)
def update_yard(code: str, yard_id: int, body: more_schemas.YardPatch):
    """Change fields of a yard of the base; the others keep their values."""
    scope = _manager_scope(code)
    return yard_out(seasonal.update_yard(db.session, current_user(), scope, yard_id,
                                         body.model_dump(exclude_unset=True)))


# ----------------------------------------------------------------------------- plans


# The service names what-if fields as the plan page's form does; the API's body names them so.
_WHAT_IF_FIELDS = {"yard_category": "what_if_yard.category", "yard_lon": "what_if_yard.lon",
                   "yard_capacity_t": "what_if_yard.capacity_t", "yard_cost": "what_if_yard.cost_yuan_per_t_month",
                   "kiln": "kiln_facility_id", "kiln_stopped": "kiln_stopped_months"}


def _what_if(body: more_schemas.SeasonalPlanIn) -> seasonal.WhatIf:
    yard = None if body.what_if_yard is None else body.what_if_yard.model_dump()
    return seasonal.WhatIf(yard=yard, kiln_facility_id=body.kiln_facility_id,
                           kiln_stopped_months=tuple(body.kiln_stopped_months))


@op("POST", "/bases/<code>/seasonal-plans", summary="Plan the next twelve months", tag=TAG,
    body=more_schemas.SeasonalPlanIn, response=more_schemas.SeasonalPlan, status=201,
    allow=policy.may_view_statistics)
def create_plan(code: str, body: more_schemas.SeasonalPlanIn):
    """Solve twelve months from `start` exactly — kiln calendars, generation profiles, yards, landfill — and, with a
    what-if yard or kiln, compare. Nothing real changes; the plan is kept (see GET)."""
    user = current_user()
    require(policy.may_view_statistics(user))
    scope = _scope(code)
    try:
        what_if = seasonal.check_what_if(db.session, _what_if(body))
    except ServiceError as exc:
        raise ServiceError(exc.message, field=_WHAT_IF_FIELDS.get(exc.field, exc.field)) from None
    run = seasonal.run_plan(db.session, user, scope, body.start, what_if, locale=str(get_locale()))
    return plan_out(run)


@op("GET", "/bases/<code>/seasonal-plans", summary="Recent seasonal plans of a base", tag=TAG,
    query=schemas.PageQuery, response=more_schemas.SeasonalPlanPage, allow=policy.may_view_statistics)
def list_plans(code: str, query: schemas.PageQuery):
    """The latest seasonal plans of this base (officers: their own; regulators: everyone's)."""
    user = current_user()
    require(policy.may_view_statistics(user))
    scope = _scope(code)
    rows = [r for r in seasonal.recent(db.session, user, limit=100) if (r.parameters or {}).get("scope") == scope.code]
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.SeasonalPlanPage(items=[plan_out(r) for r in page], next_cursor=cursor)


@op("GET", "/bases/<code>/seasonal-plans/<int:run_id>", summary="Read a seasonal plan", tag=TAG,
    response=more_schemas.SeasonalPlan, allow=policy.may_view_statistics)
def get_plan(code: str, run_id: int):
    """A plan month by month: deliveries, yard stock, landfill, each base's projected rate, and the what-if."""
    user = current_user()
    require(policy.may_view_statistics(user))
    scope = _scope(code)
    run = seasonal.get_run(db.session, user, run_id)
    if run is None or (run.parameters or {}).get("scope") != scope.code:
        raise ApiError(404)
    return plan_out(run)
