"""Awards: both parties accept or decline an allocation before its deadline; netback settlement."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import policy
from app.services import audit, notifications, quantities
from app.services.errors import PermissionDenied, ServiceError
from models import Allocation, Award, Facility, Lot, User, utcnow

# Lot status that follows from the least advanced of its awards.
LOT_STATUS_FOR_AWARD = {"open": "awarded", "shipping": "shipping", "delivered": "delivered", "utilised": "utilised",
                        "closed": "utilised"}
AWARD_ORDER = ("open", "shipping", "delivered", "utilised", "closed")


@dataclass(frozen=True)
class Settlement:
    """Netback settlement of an award, exact to the fen."""

    recycler_pays_yuan: Decimal
    freight_yuan: Decimal
    producer_receives_yuan: Decimal
    netback_yuan_per_t: Decimal


def netback(price_yuan_per_t: Decimal, transport_yuan_per_t: Decimal, tonnes: Decimal) -> Settlement:
    """Recycler pays price × t, freight gets transport × t, producer receives (price − transport) × t."""
    per_t = price_yuan_per_t - transport_yuan_per_t
    return Settlement(
        recycler_pays_yuan=quantities.money_of(price_yuan_per_t, tonnes),
        freight_yuan=quantities.money_of(transport_yuan_per_t, tonnes),
        producer_receives_yuan=quantities.money_of(per_t, tonnes),
        netback_yuan_per_t=quantities.yuan(per_t),
    )


@dataclass(frozen=True)
class Billing:
    """What an award bills: on the weighed-in tonnes by default, on the awarded tonnes if the lot says so."""

    basis: str
    awarded_tonnes: Decimal
    received_tonnes: Decimal
    on_awarded: Settlement
    on_received: Settlement

    @property
    def billed_tonnes(self) -> Decimal:
        """The tonnes the money is computed on."""
        return self.awarded_tonnes if self.basis == "awarded" else self.received_tonnes

    @property
    def billed(self) -> Settlement:
        """The settlement that is invoiced."""
        return self.on_awarded if self.basis == "awarded" else self.on_received


def billing(award: Award, received_tonnes: Decimal) -> Billing:
    """Both settlements of an award, and which one is billed (the lot's settle_on)."""
    return Billing(
        basis=award.allocation.lot.settle_on or "received",
        awarded_tonnes=award.tonnes,
        received_tonnes=received_tonnes,
        on_awarded=Settlement(award.recycler_pays_yuan, award.freight_yuan, award.producer_receives_yuan,
                              award.netback_yuan_per_t),
        on_received=netback(award.price_yuan_per_t, award.freight_yuan_per_t, received_tonnes),
    )


def sides(allocation: Allocation, user: User) -> set[str]:
    """Which sides of an allocation the user's organisation is on (see app.policy.allocation_sides)."""
    return policy.allocation_sides(user, allocation)


@dataclass(frozen=True)
class Answers:
    """Where a proposed allocation stands for one organisation: its sides to answer and who is awaited."""

    to_answer: tuple[str, ...]
    awaited: tuple[str, ...]


def answers(allocation: Allocation, user: User) -> Answers:
    """Which of the user's sides still have to answer, and which sides the deal is waiting for."""
    decided = {"producer": allocation.producer_decision, "recycler": allocation.recycler_decision}
    awaited = tuple(side for side in ("producer", "recycler") if decided[side] is None)
    mine = sides(allocation, user)
    return Answers(tuple(side for side in awaited if side in mine), awaited)


def refresh_lot_status(session: so.Session, lot: Lot) -> None:
    """Set a traded lot's status from its pending allocations and awards."""
    if lot.status in ("draft", "withdrawn", "expired"):
        return
    statuses = session.scalars(sa.select(Allocation.status).where(Allocation.lot_id == lot.id)).all()
    if "proposed" in statuses:
        lot.status = "matched"
        return
    award_statuses = session.scalars(sa.select(Award.status).join(Allocation, Award.allocation_id == Allocation.id)
                                     .where(Allocation.lot_id == lot.id)).all()
    if award_statuses:
        least = min(award_statuses, key=AWARD_ORDER.index)
        lot.status = LOT_STATUS_FOR_AWARD[least]
    else:
        lot.status = "open"


def _return_tonnes(session: so.Session, allocation: Allocation) -> Lot:
    back = Lot.remaining_tonnes + allocation.tonnes  # clamped: SQLite's NUMERIC is floating point
    session.execute(sa.update(Lot).where(Lot.id == allocation.lot_id)
                    .values(remaining_tonnes=sa.case((back > Lot.tonnes, Lot.tonnes), else_=back))
                    .execution_options(synchronize_session=False))
    lot = session.get(Lot, allocation.lot_id)
    session.refresh(lot)
    return lot


def _close_unsuccessful(session: so.Session, allocation: Allocation, status: str, actor_id: int | None) -> None:
    """Mark a proposed allocation declined or expired and give its tonnes back to the lot."""
    changed = session.execute(sa.update(Allocation).where(Allocation.id == allocation.id,
                                                          Allocation.status == "proposed")
                              .values(status=status).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise ServiceError(_("This allocation was already settled."))
    session.refresh(allocation)
    lot = _return_tonnes(session, allocation)
    refresh_lot_status(session, lot)
    audit.record(session, actor_id, "allocation", allocation.id, status, {"tonnes_returned": allocation.tonnes})
    audit.record(session, actor_id, "lot", lot.id, "tonnes_returned",
                 {"allocation": allocation.id, "remaining_tonnes": lot.remaining_tonnes, "status": lot.status})
    params = {"tonnes": allocation.tonnes, "lot": lot.title}
    kind = "allocation_declined" if status == "declined" else "allocation_expired"
    for org_id in {lot.facility.organization_id, allocation.facility.organization_id}:
        notifications.notify_organisation(session, org_id, kind, params, "/awards")


def expire_overdue(session: so.Session, now: dt.datetime | None = None) -> int:
    """Expire proposed allocations past their deadline, returning their tonnes; return how many.

    A write for the job queue or `flask match expire`, never for a page read: the rows are locked, and rows
    another transaction holds (being answered or expired right now) are skipped, not waited for or doubled.
    """
    now = now or utcnow()
    overdue = session.scalars(sa.select(Allocation).where(Allocation.status == "proposed", Allocation.deadline < now)
                              .order_by(Allocation.id).with_for_update(skip_locked=True)).all()
    for allocation in overdue:
        _close_unsuccessful(session, allocation, "expired", None)
    session.commit()
    if overdue:
        notifications.deliver_pending(session)
    return len(overdue)


def _is_overdue(allocation: Allocation, now: dt.datetime) -> bool:
    deadline = allocation.deadline
    if deadline is None:
        return False
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=dt.UTC)
    return deadline < now


def decide(session: so.Session, user: User, allocation_id: int, accept: bool) -> Allocation:
    """Record the user's side's answer; both accepting makes an award, a decline returns the tonnes."""
    # Lock the row first: both sides answering at once then see each other's answer (one award, none lost),
    # and the audit chain's lock is always taken after this row's, never before (no deadlock).
    allocation = session.get(Allocation, allocation_id, with_for_update=True, populate_existing=True)
    if allocation is None:
        raise PermissionDenied(_("No such allocation."))
    mine = sides(allocation, user)
    if not mine:
        raise PermissionDenied(_("This allocation is not your organisation's."))
    policy.require(policy.may_decide_allocation(user, allocation), policy.refusal_reason(user))
    if allocation.status != "proposed":
        raise ServiceError(_("This allocation was already settled."))
    if _is_overdue(allocation, utcnow()):
        _close_unsuccessful(session, allocation, "expired", None)
        session.commit()
        raise ServiceError(_("The deadline has passed; the allocation expired and its tonnes went back to the lot."))
    decision = "accepted" if accept else "declined"
    if "producer" in mine:
        allocation.producer_decision = decision
    if "recycler" in mine:
        allocation.recycler_decision = decision
    audit.record(session, user.id, "allocation", allocation.id, f"{'/'.join(sorted(mine))}_{decision}")
    if not accept:
        _close_unsuccessful(session, allocation, "declined", user.id)
    elif allocation.producer_decision == "accepted" and allocation.recycler_decision == "accepted":
        _make_award(session, allocation, user.id)
    session.commit()
    notifications.deliver_pending(session)
    return allocation


def _make_award(session: so.Session, allocation: Allocation, actor_id: int) -> Award:
    changed = session.execute(sa.update(Allocation).where(Allocation.id == allocation.id,
                                                          Allocation.status == "proposed")
                              .values(status="accepted").execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise ServiceError(_("This allocation was already settled."))
    session.refresh(allocation)
    s = netback(allocation.price_yuan_per_t, allocation.transport_yuan_per_t, allocation.tonnes)
    award = Award(allocation_id=allocation.id, tonnes=allocation.tonnes, dispatched_tonnes=Decimal(0),
                  price_yuan_per_t=allocation.price_yuan_per_t, freight_yuan_per_t=allocation.transport_yuan_per_t,
                  netback_yuan_per_t=s.netback_yuan_per_t, recycler_pays_yuan=s.recycler_pays_yuan,
                  freight_yuan=s.freight_yuan, producer_receives_yuan=s.producer_receives_yuan, status="open")
    session.add(award)
    session.flush()
    audit.record(session, actor_id, "award", award.id, "awarded", {
        "allocation": allocation.id, "tonnes": award.tonnes, "recycler_pays_yuan": award.recycler_pays_yuan,
        "freight_yuan": award.freight_yuan, "producer_receives_yuan": award.producer_receives_yuan})
    lot = allocation.lot
    refresh_lot_status(session, lot)
    audit.record(session, actor_id, "lot", lot.id, "status", {"status": lot.status})
    params = {"tonnes": award.tonnes, "lot": lot.title}
    for org_id in {lot.facility.organization_id, allocation.facility.organization_id}:
        notifications.notify_organisation(session, org_id, "award_made", params, f"/awards/{award.id}")
    return award


@dataclass(frozen=True)
class Desk:
    """What an organisation has to act on: proposed allocations and its awards."""

    proposed: list[Allocation]
    settled: list[Allocation]
    awards: list[Award]


def desk(session: so.Session, user: User) -> Desk:
    """Allocations and awards of the user's organisation (either side): a read that changes nothing.

    Overdue proposals are expired by `expire_overdue` (a job) or when someone answers them (a locked write).
    """
    lot_facility = so.aliased(Facility)
    mine = sa.or_(Allocation.facility.has(Facility.organization_id == user.organization_id),
                  Allocation.lot_id.in_(sa.select(Lot.id).join(lot_facility, Lot.facility_id == lot_facility.id)
                                        .where(lot_facility.organization_id == user.organization_id)))
    allocations = session.scalars(sa.select(Allocation).where(mine).order_by(Allocation.id.desc()).limit(200)).all()
    awards = session.scalars(sa.select(Award).join(Allocation, Award.allocation_id == Allocation.id).where(mine)
                             .order_by(Award.id.desc()).limit(200)).all()
    return Desk([a for a in allocations if a.status == "proposed"],
                [a for a in allocations if a.status != "proposed"], list(awards))


def award_for(session: so.Session, user: User, award_id: int) -> Award:
    """An award the user's organisation is party to (admins see every award)."""
    award = session.get(Award, award_id)
    if award is None:
        raise PermissionDenied(_("No such award."))
    if not policy.may_see_award(user, award):
        raise PermissionDenied(_("This award is not your organisation's."))
    return award
