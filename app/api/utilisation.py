"""API resource: utilisation declarations — what received material became."""
from __future__ import annotations

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user
from app.api.awards import award_for
from app.api.blueprint import op
from app.extensions import db
from app.services import shipments
from models import UtilisationRecord


def declaration_out(record: UtilisationRecord) -> schemas.UtilisationDeclaration:
    """A declaration as the API shows it."""
    return schemas.UtilisationDeclaration(
        id=record.id, award_id=record.award_id, facility_id=record.facility_id,
        source_facility_id=record.source_facility_id, category=record.category.code, product=record.product,
        tonnes=record.tonnes, period=record.period, supply_period=record.supply_period,
        declared_at=record.declared_at)


@op("POST", "/utilisation-declarations", summary="Declare utilisation", tag="utilisation",
    body=schemas.UtilisationIn, response=schemas.UtilisationDeclaration, status=201, allow=policy.may_recycle)
def declare(body: schemas.UtilisationIn):
    """The recycler declares tonnes of an award's received material used as a product in a month."""
    user = current_user()
    award_for(body.award_id)
    record = shipments.declare_utilisation(db.session, user, body.award_id, body.product, body.tonnes, body.period)
    return declaration_out(record)


@op("GET", "/utilisation-declarations", summary="List utilisation declarations", tag="utilisation",
    query=more_schemas.DeclarationQuery, response=more_schemas.UtilisationDeclarationPage,
    allow=policy.may_read_declarations)
def list_declarations(query: more_schemas.DeclarationQuery):
    """Declarations your organisation made or whose material it generated (regulators: all), newest first;
    `award_id` narrows to one award you are party to."""
    user = current_user()
    if query.award_id is not None:
        award_for(query.award_id)
    rows = shipments.declarations(db.session, user, query.award_id)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.UtilisationDeclarationPage(items=[declaration_out(r) for r in page], next_cursor=cursor)
