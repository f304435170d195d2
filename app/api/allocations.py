"""API resource: allocations — list yours, read, accept or decline for your side."""
from __future__ import annotations

from flask_babel import gettext as _

from app import policy
from app.api import pagination, schemas
from app.api.auth import current_user, require
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.extensions import db
from app.services import awards
from models import Allocation, User


def allocation_out(allocation: Allocation, user: User) -> schemas.Allocation:
    """An allocation with the sides of it the user's organisation is on."""
    return schemas.Allocation(
        id=allocation.id, run_id=allocation.run_id, lot_id=allocation.lot_id,
        producer_facility_id=allocation.lot.facility_id, facility_id=allocation.facility_id,
        tonnes=allocation.tonnes, price_yuan_per_t=allocation.price_yuan_per_t,
        reserve_yuan_per_t=allocation.reserve_yuan_per_t, transport_yuan_per_t=allocation.transport_yuan_per_t,
        transport_cost_yuan=allocation.transport_cost_yuan, surplus_yuan=allocation.surplus_yuan,
        road_km=allocation.road_km, rail_km=allocation.rail_km, status=allocation.status,
        producer_decision=allocation.producer_decision, recycler_decision=allocation.recycler_decision,
        deadline=allocation.deadline, award_id=allocation.award.id if allocation.award else None,
        your_sides=sorted(awards.sides(allocation, user)))


@op("GET", "/allocations", summary="List your allocations", tag="allocations", query=schemas.PageQuery,
    response=schemas.AllocationPage, allow=policy.is_party)
def list_allocations(query: schemas.PageQuery):
    """Allocations your organisation is party to (either side), newest first; overdue ones expire first."""
    user = current_user()
    desk = awards.desk(db.session, user)
    rows = sorted([*desk.proposed, *desk.settled], key=lambda a: a.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.AllocationPage(items=[allocation_out(a, user) for a in page], next_cursor=cursor)


def _party_allocation(allocation_id: int, user: User) -> Allocation:
    allocation = get_or_404(Allocation, allocation_id)
    if not policy.may_see_allocation(user, allocation):
        raise ApiError(403, _("This allocation is not your organisation's."))
    return allocation


@op("GET", "/allocations/<int:allocation_id>", summary="Read an allocation", tag="allocations",
    response=schemas.Allocation, allow=policy.may_see_allocations)
def get_allocation(allocation_id: int):
    """One allocation your organisation is party to."""
    user = current_user()
    return allocation_out(_party_allocation(allocation_id, user), user)


def _decide(allocation_id: int, accept: bool) -> schemas.Allocation:
    user = current_user()
    allocation = get_or_404(Allocation, allocation_id)
    require(policy.may_decide_allocation(user, allocation), _("This allocation is not your organisation's."))
    allocation = awards.decide(db.session, user, allocation_id, accept)
    db.session.refresh(allocation)
    return allocation_out(allocation, user)


@op("POST", "/allocations/<int:allocation_id>/accept", summary="Accept an allocation", tag="allocations",
    response=schemas.Allocation, allow=policy.is_party)
def accept(allocation_id: int):
    """Accept for your side; when both sides accepted, the award is made (see award_id)."""
    return _decide(allocation_id, True)


@op("POST", "/allocations/<int:allocation_id>/decline", summary="Decline an allocation", tag="allocations",
    response=schemas.Allocation, allow=policy.is_party)
def decline(allocation_id: int):
    """Decline for your side; the tonnes go back to the lot."""
    return _decide(allocation_id, False)
