"""The register of enterprises evaluated for comprehensive utilisation, and progress against the plan's 300."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import policy
from app.services import audit
from app.services.errors import PermissionDenied, ServiceError
from models import EnterpriseEvaluation, Organization, User
from models.bases import EVALUATION_STATUSES

PLAN_TARGET = 300  # 黑龙江省工业领域碳达峰实施方案 (2022): 300 enterprises evaluated by 2025
PLAN_YEAR = 2025
# The plan's targets belong to the 14th Five-Year Plan period: only evaluations dated within it count.
PLAN_START = dt.date(2021, 1, 1)


def register(session: so.Session) -> list[EnterpriseEvaluation]:
    """Every evaluation with its organisation, newest first."""
    return list(session.scalars(sa.select(EnterpriseEvaluation)
                                .options(so.joinedload(EnterpriseEvaluation.organization))
                                .order_by(EnterpriseEvaluation.updated_at.desc(), EnterpriseEvaluation.id.desc())))


def progress(session: so.Session) -> dict:
    """Three queries: counts by status, enterprises evaluated within the plan period (2021–2025) against 300, and
    whether any entry is a demo organisation's (invented: every view marks it)."""
    e = EnterpriseEvaluation
    counts = dict(session.execute(sa.select(e.status, sa.func.count(sa.distinct(e.organization_id)))
                                  .group_by(e.status)).all())
    evaluated = session.scalar(sa.select(sa.func.count(sa.distinct(e.organization_id))).where(
        e.status == "evaluated", e.evaluated_on >= PLAN_START, e.evaluated_on <= dt.date(PLAN_YEAR, 12, 31)))
    demo = session.scalar(sa.select(sa.exists().where(e.organization_id == Organization.id,
                                                      Organization.is_demo.is_(True))))
    return {"by_status": {s: counts.get(s, 0) for s in EVALUATION_STATUSES}, "evaluated": evaluated,
            "target": PLAN_TARGET, "year": PLAN_YEAR, "from_year": PLAN_START.year, "share": evaluated / PLAN_TARGET,
            "demo": bool(demo)}


def save(session: so.Session, user: User, organization_id: int, status: str, evaluated_on: dt.date | None,
         note: str | None, evaluation_id: int | None = None) -> EnterpriseEvaluation:
    """Create or edit an evaluation (regulator and admin only), with its audit event."""
    if not policy.may_edit_register(user):
        raise PermissionDenied(_("Only the regulator edits the evaluation register."))
    if status not in EVALUATION_STATUSES:
        raise ServiceError(_("Choose a status."), field="status")
    if status == "evaluated" and evaluated_on is None:
        raise ServiceError(_("An evaluated enterprise needs the evaluation date."), field="evaluated_on")
    if session.get(Organization, organization_id) is None:
        raise ServiceError(_("Choose an organisation."), field="organization")
    if evaluation_id is None:
        evaluation = EnterpriseEvaluation(organization_id=organization_id)
        session.add(evaluation)
    else:
        evaluation = session.get(EnterpriseEvaluation, evaluation_id)
        if evaluation is None:
            raise ServiceError(_("No such evaluation."))
    evaluation.organization_id = organization_id
    evaluation.status = status
    evaluation.evaluated_on = evaluated_on
    evaluation.note = (note or "").strip() or None
    session.flush()
    audit.record(session, user.id, "evaluation", evaluation.id, "saved",
                 {"organization": organization_id, "status": status, "evaluated_on": evaluated_on})
    session.commit()
    return evaluation
