"""API resource: utilisation declarations — what received material became."""
from __future__ import annotations

from app.api import schemas
from app.api.auth import current_user, require_trader
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
        tonnes=record.tonnes, period=record.period, declared_at=record.declared_at)


@op("POST", "/utilisation-declarations", summary="Declare utilisation", tag="utilisation",
    body=schemas.UtilisationIn, response=schemas.UtilisationDeclaration, status=201)
def declare(body: schemas.UtilisationIn):
    """The recycler declares tonnes of an award's received material used as a product in a month."""
    user = current_user()
    require_trader(user, "recycler")
    award_for(body.award_id)
    record = shipments.declare_utilisation(db.session, user, body.award_id, body.product, body.tonnes, body.period)
    return declaration_out(record)
