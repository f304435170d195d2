"""API resource: resource-utilisation bases and their utilisation statistics."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user, require
from app.api.blueprint import op
from app.api.errors import ApiError
from app.extensions import db
from app.services import catalogue, generation_reports, scenarios, utilisation
from app.services.utilisation import Scope
from models import MatchRun, ResourceBase


def _visible_bases() -> list[ResourceBase]:
    user = current_user()
    rows = db.session.scalars(sa.select(ResourceBase).order_by(ResourceBase.id.desc())).all()
    return [b for b in rows if policy.may_oversee(user, b)]


def _scope(code: str) -> Scope:
    """The scope named in the path if the user may see it, as on the base dashboards (404 unknown, 403 not yours)."""
    scope = utilisation.scope_named(db.session, code)
    if scope is None:
        raise ApiError(404)
    require(policy.may_oversee(current_user(), scope.base),
            _("A base officer sees only the statistics of their own base."))
    return scope


def _default_year() -> int:
    return utilisation.default_year(db.session)  # the latest year in the reporting window


@op("GET", "/bases", summary="List the bases you may see", tag="bases", query=schemas.PageQuery,
    response=schemas.BasePage, allow=policy.may_view_statistics)
def list_bases(query: schemas.PageQuery):
    """Every base for regulators; a base officer's own base."""
    page, cursor = pagination.after_id(_visible_bases(), query.cursor, query.limit)
    return schemas.BasePage(items=[schemas.Base.model_validate(b) for b in page], next_cursor=cursor)


@op("GET", "/bases/<code>/statistics", summary="Utilisation rates of a base for a year", tag="bases",
    query=schemas.StatsQuery, response=schemas.BaseStatistics, allow=policy.may_view_statistics)
def statistics(code: str, query: schemas.StatsQuery):
    """Rate = utilised / (generated + from storage), by category and in total, with the year's target.

    `code` is a base code (e.g. daqing) or `province`.
    """
    scope = _scope(code)
    year = query.year or _default_year()
    table = utilisation.year_table(db.session, scope, year, "en")
    target = utilisation.targets(db.session, scope).get(year)
    return schemas.BaseStatistics(base=scope.code, year=year, target_rate=target,
                                  target_assumed=utilisation.target_assumed(db.session, scope), demo=table.demo,
                                  rows=[schemas.RateRow(**r) for r in table.rows],
                                  total=schemas.RateRow(**table.total))


def _month(query: more_schemas.MonthQuery) -> dt.date:
    """The month asked for, else the latest month with reports (as the warnings and missing pages)."""
    if query.month:
        return utilisation.month_start(query.month)
    return utilisation.latest_month(db.session, utilisation.default_year(db.session))


# ----------------------------------------------------------------------------- targets


def target_out(target) -> more_schemas.Target:
    """A target as the API shows it."""
    return more_schemas.Target(id=target.id, base_id=target.base_id, family=target.family, year=target.year,
                               target_rate=target.target_rate, source=target.source)


@op("GET", "/bases/<code>/targets", summary="Targets of a base", tag="bases", response=more_schemas.TargetList,
    allow=policy.may_view_statistics)
def list_targets(code: str):
    """The utilisation-rate targets set for a base (or, for `province`, the province's own), by family and year."""
    scope = _scope(code)
    return more_schemas.TargetList(base=scope.code,
                                   items=[target_out(t) for t in utilisation.target_rows(db.session, scope)])


@op("POST", "/bases/<code>/targets", summary="Set a target of a base", tag="bases", body=more_schemas.TargetIn,
    response=more_schemas.Target, allow=policy.may_set_targets)
def set_target(code: str, body: more_schemas.TargetIn):
    """Create or replace the target rate (0–1) of a category family and year (regulators only)."""
    user = current_user()
    scope = _scope(code)
    return target_out(utilisation.save_target(db.session, user, scope, body.family, body.year, body.target_rate,
                                              body.source))


# ----------------------------------------------------------------------------- warnings and missing reports


def _warning_out(warning: utilisation.Warning) -> more_schemas.EarlyWarning:
    detail = warning.detail
    return more_schemas.EarlyWarning(
        kind=warning.kind, subject=warning.subject, rate=detail.get("rate"), target=detail.get("target"),
        gap_points=detail.get("gap_points"), facility_id=detail.get("facility_id"), added_t=detail.get("added_t"))


@op("GET", "/bases/<code>/warnings", summary="Early warnings of a base", tag="bases", query=more_schemas.MonthQuery,
    response=more_schemas.WarningList, allow=policy.may_view_statistics)
def list_warnings(code: str, query: more_schemas.MonthQuery):
    """For a month: the base and each bulk-waste category more than 5 points behind the target trajectory, and
    large producers whose storage grew three months running."""
    scope = _scope(code)
    month = _month(query)
    found = utilisation.warnings(db.session, scope, month.year, month.month, str(get_locale()))
    return more_schemas.WarningList(base=scope.code, month=month.strftime("%Y-%m"),
                                    items=[_warning_out(w) for w in found])


@op("GET", "/bases/<code>/missing-reports", summary="Producers that have not reported", tag="bases",
    query=more_schemas.MonthQuery, response=more_schemas.MissingReporterList, allow=policy.may_view_statistics)
def missing_reports(code: str, query: more_schemas.MonthQuery):
    """Producer facilities of the base (or the province) without a generation report for the month."""
    scope = _scope(code)
    month = _month(query)
    rows = generation_reports.missing_reporters(db.session, scope.base.id if scope.base else None, month)
    return more_schemas.MissingReporterList(base=scope.code, month=month.strftime("%Y-%m"), items=[
        more_schemas.MissingReporter(facility_id=f.id, name=f.name, organization_id=f.organization_id,
                                     organization_name=f.organization.name, prefecture_code=f.prefecture_code)
        for f in rows])


# ----------------------------------------------------------------------------- what-if scenarios


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _scenario_row(row: dict) -> more_schemas.ScenarioRow:
    values = {k: row.get(k) if k == "category" else _decimal(row.get(k)) for k in more_schemas.ScenarioRow.model_fields}
    return more_schemas.ScenarioRow(**values)


def scenario_out(run: MatchRun) -> more_schemas.Scenario:
    """A scenario run from its stored parameters and comparison (kept as JSON numbers)."""
    results = run.results or {}
    total = {k: _decimal(v) for k, v in (results.get("total") or {}).items()
             if k in more_schemas.ScenarioTotal.model_fields and v is not None}
    return more_schemas.Scenario(
        id=run.id, base=str(results.get("scope") or (run.parameters or {}).get("scope") or "province"),
        year=int(results.get("year") or run.created_at.year), parameters=run.parameters or {},
        rows=[_scenario_row(r) for r in results.get("rows", [])], total=more_schemas.ScenarioTotal(**total),
        created_at=run.created_at)


def _scenario_params(body: more_schemas.ScenarioIn) -> scenarios.ScenarioParams:
    known = {c.code for c in catalogue.categories(db.session)}
    problems = []
    for code, value in body.subsidies.items():
        if code not in known:
            problems.append({"field": f"subsidies.{code}", "message": _("Unknown category.")})
        elif not 0 <= value <= 10000:
            problems.append({"field": f"subsidies.{code}", "message": _("Between 0 and 10000 yuan per tonne.")})
    if not 0 <= body.carbon_price_yuan_per_t <= 10000:
        problems.append({"field": "carbon_price_yuan_per_t", "message": _("Between 0 and 10000 yuan per tonne.")})
    problems.extend({"field": "categories", "message": _("Unknown category %(code)s.", code=code)}
                    for code in body.categories if code not in known)
    if problems:
        raise ApiError(422, _("The request has invalid fields."), errors=problems)
    return scenarios.ScenarioParams(
        subsidies=dict(body.subsidies), carbon_price_yuan_per_t=body.carbon_price_yuan_per_t,
        freight_change_pct=body.freight_change_pct, haul_limit_km=body.haul_limit_km,
        categories=tuple(body.categories))


@op("POST", "/bases/<code>/scenarios", summary="Run a what-if scenario", tag="bases", body=more_schemas.ScenarioIn,
    response=more_schemas.Scenario, status=201, allow=policy.may_view_statistics)
def run_scenario(code: str, body: more_schemas.ScenarioIn):
    """Re-run the clearing in memory with subsidies, a carbon price, a freight change and a haul limit, and compare
    it with the baseline: matched tonnes, freight, net CO2 and the projected utilisation rate of the base.
    Nothing real changes; the comparison is kept (see GET)."""
    user = current_user()
    scope = _scope(code)
    run, _comparison = scenarios.run_scenario(db.session, user, _scenario_params(body), scope,
                                              utilisation.default_year(db.session))
    return scenario_out(run)


@op("GET", "/bases/<code>/scenarios", summary="Recent what-if scenarios of a base", tag="bases",
    query=schemas.PageQuery, response=more_schemas.ScenarioPage, allow=policy.may_view_statistics)
def list_scenarios(code: str, query: schemas.PageQuery):
    """The latest scenarios of this base (officers: their own; regulators: everyone's)."""
    user = current_user()
    scope = _scope(code)
    rows = [r for r in scenarios.recent(db.session, user, limit=100) if (r.parameters or {}).get("scope") == scope.code]
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.ScenarioPage(items=[scenario_out(r) for r in page], next_cursor=cursor)
