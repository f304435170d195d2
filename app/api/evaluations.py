"""API resource: the register of enterprises evaluated for comprehensive utilisation (the plan's 300)."""
from __future__ import annotations

from decimal import Decimal

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.extensions import db
from app.services import evaluations
from models import EnterpriseEvaluation


def evaluation_out(evaluation: EnterpriseEvaluation) -> more_schemas.Evaluation:
    """An entry of the register as the API shows it."""
    return more_schemas.Evaluation(
        id=evaluation.id, organization_id=evaluation.organization_id,
        organization_name=evaluation.organization.name, demo=evaluation.organization.is_demo, status=evaluation.status,
        evaluated_on=evaluation.evaluated_on, note=evaluation.note, created_at=evaluation.created_at,
        updated_at=evaluation.updated_at)


@op("GET", "/evaluations", summary="The evaluation register", tag="evaluations", query=schemas.PageQuery,
    response=more_schemas.EvaluationPage, allow=policy.may_view_statistics)
def list_evaluations(query: schemas.PageQuery):
    """Every entry, most recently changed first (base officers and regulators)."""
    rows = evaluations.register(db.session)
    position = pagination.decode(query.cursor, ("offset",))
    start = position["offset"] if position else 0
    page = rows[start:start + query.limit]
    more = start + query.limit < len(rows)
    cursor = pagination.encode({"offset": start + query.limit}) if more else None
    return more_schemas.EvaluationPage(items=[evaluation_out(e) for e in page], next_cursor=cursor)


@op("GET", "/evaluations/progress", summary="Progress against the plan's 300 evaluated enterprises",
    tag="evaluations", response=more_schemas.EvaluationProgress, allow=policy.may_view_statistics)
def progress():
    """Enterprises by status and the share of the plan's target evaluated."""
    found = evaluations.progress(db.session)
    return more_schemas.EvaluationProgress(**{**found, "share": Decimal(found["evaluated"]) / found["target"]})


@op("GET", "/evaluations/<int:evaluation_id>", summary="Read an entry of the register", tag="evaluations",
    response=more_schemas.Evaluation, allow=policy.may_view_statistics)
def get_evaluation(evaluation_id: int):
    """One entry of the register."""
    return evaluation_out(get_or_404(EnterpriseEvaluation, evaluation_id))


def _save(body: more_schemas.EvaluationIn, evaluation_id: int | None) -> EnterpriseEvaluation:
    user = current_user()
    try:
        return evaluations.save(db.session, user, body.organization_id, body.status, body.evaluated_on, body.note,
                                evaluation_id)
    except evaluations.ServiceError as exc:
        if exc.field == "organization":
            exc.field = "organization_id"
        raise


@op("POST", "/evaluations", summary="Add an entry to the register", tag="evaluations",
    body=more_schemas.EvaluationIn, response=more_schemas.Evaluation, status=201, allow=policy.may_edit_register)
def create_evaluation(body: more_schemas.EvaluationIn):
    """Add an enterprise's evaluation (regulators only); `evaluated` needs `evaluated_on`."""
    return evaluation_out(_save(body, None))


@op("PUT", "/evaluations/<int:evaluation_id>", summary="Change an entry of the register", tag="evaluations",
    body=more_schemas.EvaluationIn, response=more_schemas.Evaluation, allow=policy.may_edit_register)
def update_evaluation(evaluation_id: int, body: more_schemas.EvaluationIn):
    """Replace an entry of the register (regulators only)."""
    get_or_404(EnterpriseEvaluation, evaluation_id)
    return evaluation_out(_save(body, evaluation_id))
