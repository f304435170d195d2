"""API resource: awards — accepted allocations with their settlement."""
from __future__ import annotations

from app import policy
from app.api import pagination, schemas
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.extensions import db
from app.services import awards, shipments
from models import Award


def award_out(award: Award) -> schemas.Award:
    """An award with its netback settlement and the tonnes received and declared so far."""
    received = shipments.received_total(db.session, award.id)
    billing = awards.billing(award, received)
    return schemas.Award(
        id=award.id, allocation_id=award.allocation_id, lot_id=award.allocation.lot_id, tonnes=award.tonnes,
        settle_on=billing.basis, billed_tonnes=billing.billed_tonnes,
        billed_recycler_pays_yuan=billing.billed.recycler_pays_yuan, billed_freight_yuan=billing.billed.freight_yuan,
        billed_producer_receives_yuan=billing.billed.producer_receives_yuan,
        dispatched_tonnes=award.dispatched_tonnes, received_tonnes=received,
        declared_tonnes=shipments.declared_total(db.session, award.id), price_yuan_per_t=award.price_yuan_per_t,
        freight_yuan_per_t=award.freight_yuan_per_t, netback_yuan_per_t=award.netback_yuan_per_t,
        recycler_pays_yuan=award.recycler_pays_yuan, freight_yuan=award.freight_yuan,
        producer_receives_yuan=award.producer_receives_yuan, status=award.status, awarded_at=award.awarded_at)


def award_for(award_id: int) -> Award:
    """An award the user's organisation is party to (regulators and admins: any), else 403."""
    get_or_404(Award, award_id)
    return awards.award_for(db.session, current_user(), award_id)


@op("GET", "/awards", summary="List your awards", tag="awards", query=schemas.PageQuery,
    response=schemas.AwardPage, allow=policy.is_party)
def list_awards(query: schemas.PageQuery):
    """Awards your organisation is party to, newest first."""
    user = current_user()
    page, cursor = pagination.after_id(awards.desk(db.session, user).awards, query.cursor, query.limit)
    return schemas.AwardPage(items=[award_out(a) for a in page], next_cursor=cursor)


@op("GET", "/awards/<int:award_id>", summary="Read an award", tag="awards", response=schemas.Award,
    allow=policy.may_see_awards)
def get_award(award_id: int):
    """One award with its settlement."""
    return award_out(award_for(award_id))
