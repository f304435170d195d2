"""API resource: resource-utilisation bases and their utilisation statistics."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from app.api import pagination, schemas
from app.api.auth import current_user, require_roles
from app.api.blueprint import op
from app.api.errors import ApiError
from app.extensions import db
from app.services import utilisation
from app.services.utilisation import Scope
from models import GenerationReport, ResourceBase

VIEWERS = ("base_officer", "regulator")
OVERSEERS = ("admin", "regulator")


def _visible_bases() -> list[ResourceBase]:
    user = current_user()
    rows = db.session.scalars(sa.select(ResourceBase).order_by(ResourceBase.id.desc())).all()
    if user.role in OVERSEERS:
        return list(rows)
    return [b for b in rows if b.id == user.organization.base_id]


def _scope(code: str) -> Scope:
    """The scope named in the path if the user may see it, as on the base dashboards (404 unknown, 403 not yours)."""
    user = current_user()
    if code == "province":
        scope = Scope("province")
    else:
        base = db.session.scalar(sa.select(ResourceBase).where(ResourceBase.code == code[:20]))
        if base is None:
            raise ApiError(404)
        scope = Scope("base", base=base)
    if user.role in OVERSEERS:
        return scope
    if user.role == "base_officer" and scope.kind == "base" and user.organization.base_id == scope.base.id:
        return scope
    raise ApiError(403, _("A base officer sees only the statistics of their own base."))


def _default_year() -> int:
    latest = db.session.scalar(sa.select(sa.func.max(GenerationReport.period)))
    return latest.year if latest else dt.date.today().year


@op("GET", "/bases", summary="List the bases you may see", tag="bases", query=schemas.PageQuery,
    response=schemas.BasePage)
def list_bases(query: schemas.PageQuery):
    """Every base for regulators; a base officer's own base."""
    require_roles(current_user(), *VIEWERS)
    page, cursor = pagination.after_id(_visible_bases(), query.cursor, query.limit)
    return schemas.BasePage(items=[schemas.Base.model_validate(b) for b in page], next_cursor=cursor)


@op("GET", "/bases/<code>/statistics", summary="Utilisation rates of a base for a year", tag="bases",
    query=schemas.StatsQuery, response=schemas.BaseStatistics)
def statistics(code: str, query: schemas.StatsQuery):
    """Rate = utilised / (generated + from storage), by category and in total, with the year's target.

    `code` is a base code (e.g. daqing) or `province`.
    """
    require_roles(current_user(), *VIEWERS)
    scope = _scope(code)
    year = query.year or _default_year()
    table = utilisation.year_table(db.session, scope, year, "en")
    target = utilisation.targets(db.session, scope).get(year)
    return schemas.BaseStatistics(base=scope.code, year=year, target_rate=target,
                                  rows=[schemas.RateRow(**r) for r in table.rows],
                                  total=schemas.RateRow(**table.total))
