"""Sealed bids on a lot or on a whole category, and standing demand profiles: place, list (sealed), withdraw.

A category-wide bid offers a price delivered for tonnes of every compatible lot of a category within the
bidding facility's haul radius; the clearing pairs it like a demand profile. It notifies nobody when placed:
which lots it can reach depends on freight, quality and licences at clearing time, and telling every producer
of the category that a buyer exists would spam them and reveal nothing they can act on. Producers' bid counts
stay counts of bids on their lot.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import labels, policy
from app.services import audit, hazardous, lots, notifications, quantities
from app.services.errors import PermissionDenied, ServiceError
from models import Bid, DemandProfile, Facility, Lot, User, WasteCategory, utcnow

BIDDABLE_LOT_STATUSES = policy.LOT_BIDDABLE_STATUSES
RECYCLER_KINDS = ("recycler", "both")


@dataclass(frozen=True)
class BidInput:
    """What the bid form collects."""

    facility_id: int
    price_yuan_per_t: Decimal
    tonnes: Decimal
    max_haul_km: int | None = None


@dataclass(frozen=True)
class ProfileInput:
    """What the demand-profile form collects."""

    facility_id: int
    category_code: str
    period_start: dt.date
    period_end: dt.date
    tonnes: Decimal
    price_yuan_per_t: Decimal
    max_haul_km: int | None = None
    quality_limits: dict[str, Any] = field(default_factory=dict)


def _require_trader(user: User) -> None:
    policy.require(policy.may_bid_on(user), policy.refusal_reason(user))


def recycler_facilities(session: so.Session, user: User) -> list[Facility]:
    """The user's organisation's facilities that can receive material."""
    return list(session.scalars(sa.select(Facility).where(
        Facility.organization_id == user.organization_id, Facility.kind.in_(RECYCLER_KINDS)).order_by(Facility.id)))


def _own_recycler_facility(session: so.Session, user: User, facility_id: int) -> Facility:
    facility = session.get(Facility, facility_id)
    if facility is None or facility.organization_id != user.organization_id or facility.kind not in RECYCLER_KINDS:
        raise ServiceError(_("Choose one of your organisation's recycling facilities."), field="facility_id")
    return facility


MAX_HAUL_KM = 5000


def _check_terms(data: BidInput) -> BidInput:
    """The bid's terms rounded to the kilogram and fen, or ServiceError when out of range (web and API alike)."""
    if problem := quantities.tonnes_problem(data.tonnes):
        raise ServiceError(problem, field="tonnes")
    if problem := quantities.price_problem(data.price_yuan_per_t):
        raise ServiceError(problem, field="price_yuan_per_t")
    if data.max_haul_km is not None and not 0 < data.max_haul_km <= MAX_HAUL_KM:
        raise ServiceError(_("The maximum haul must be between 1 and %(max)d km.", max=MAX_HAUL_KM),
                           field="max_haul_km")
    return dataclasses.replace(data, tonnes=quantities.tonnes(data.tonnes),
                               price_yuan_per_t=quantities.yuan(data.price_yuan_per_t))


def place_bid(session: so.Session, user: User, lot_id: int, data: BidInput) -> Bid:
    """Place a sealed bid on an open lot from one of the user's recycler facilities."""
    _require_trader(user)
    lot = session.get(Lot, lot_id)
    if lot is None or not lots.is_buyable(lot):
        raise ServiceError(_("This lot is not open for bids."))
    if lot.facility.organization_id == user.organization_id:
        raise ServiceError(_("You cannot bid on your own organisation's lot."))
    facility = _own_recycler_facility(session, user, data.facility_id)
    data = _check_terms(data)
    _check_hazardous(session, facility, lot.category, lot)
    bid = Bid(lot=lot, category_id=lot.category_id, facility=facility, price_yuan_per_t=data.price_yuan_per_t,
              tonnes=data.tonnes, max_haul_km=data.max_haul_km, status="active", created_by_id=user.id)
    session.add(bid)
    session.flush()
    audit.record(session, user.id, "bid", bid.id, "placed", {
        "lot": lot.id, "facility": facility.id, "price_yuan_per_t": data.price_yuan_per_t, "tonnes": data.tonnes,
        "max_haul_km": data.max_haul_km})
    count = active_bid_count(session, lot.id)
    notifications.notify_organisation(session, lot.facility.organization_id, "bid_received",
                                      {"lot": lot.title, "count": count}, f"/bids/received#lot-{lot.id}")
    session.commit()
    notifications.deliver_pending(session)
    return bid


def _check_hazardous(session: so.Session, facility: Facility, category: WasteCategory,
                     lot: Lot | None = None, on: dt.date | None = None) -> None:
    """A hazardous bid (or standing demand) needs a licence covering the category, valid `on` (default today);
    on one lot, also a receiver the lot may go to."""
    if not category.hazardous:
        return
    if hazardous.covering_licence(session, facility.id, category, on or utcnow().date()) is None:
        raise ServiceError(_("This facility holds no valid licence for the hazardous category %(category)s.",
                             category=category.code), field="facility_id")
    if lot is not None and not hazardous.may_go_to(category, lot.transfer_approval_ref, facility.in_province):
        raise ServiceError(_("This hazardous lot has no cross-province transfer approval: it may only go to a "
                             "receiver in Heilongjiang."), field="facility_id")


def place_category_bid(session: so.Session, user: User, category_code: str, data: BidInput) -> Bid:
    """Place a sealed bid on every compatible lot of a category within the facility's haul radius.

    The haul limit is the bid's own or, when left out, the facility's, fixed on the bid when it is placed;
    one of them is required, or the bid would reach every lot in the province. Nobody is notified.
    """
    _require_trader(user)
    category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == category_code))
    if category is None:
        raise ServiceError(_("Choose a category."), field="category")
    facility = _own_recycler_facility(session, user, data.facility_id)
    data = _check_terms(data)
    max_haul_km = data.max_haul_km or facility.max_haul_km
    if max_haul_km is None:
        raise ServiceError(_("Give a maximum haul: the facility has none on record."), field="max_haul_km")
    _check_hazardous(session, facility, category)
    bid = Bid(lot_id=None, category=category, facility=facility, price_yuan_per_t=data.price_yuan_per_t,
              tonnes=data.tonnes, max_haul_km=max_haul_km, status="active", created_by_id=user.id)
    session.add(bid)
    session.flush()
    audit.record(session, user.id, "bid", bid.id, "placed", {
        "lot": None, "category": category.code, "facility": facility.id, "price_yuan_per_t": data.price_yuan_per_t,
        "tonnes": data.tonnes, "max_haul_km": max_haul_km})
    session.commit()
    return bid


def withdraw_bid(session: so.Session, user: User, bid_id: int) -> Bid:
    """Withdraw one of the organisation's active bids (not once a clearing allocated it).

    Race-safe against a clearing's join, which allocates bids with ``UPDATE … WHERE status = 'active'`` and
    checks the row count: the bid's row lock is taken before its status is judged, so a withdrawal arriving
    during a join waits for it and then sees "allocated" (refused, with the reason), and a join arriving during
    a withdrawal waits and then finds the bid gone (that category fails cleanly, nothing written). The
    conditional UPDATE below keeps the same guarantee where there are no row locks (SQLite).
    """
    bid = session.get(Bid, bid_id)
    if bid is None or bid.facility.organization_id != user.organization_id:
        raise PermissionDenied(_("No such bid."))
    _require_trader(user)
    # Locked only now (ownership checked first, so nobody can hold another organisation's bid row), and
    # re-read: what the page showed may be stale by a whole clearing.
    session.execute(sa.select(Bid.id).where(Bid.id == bid.id).with_for_update())
    session.refresh(bid)
    if bid.status != "active":
        raise ServiceError(_("Only an active bid can be withdrawn; this one is %(status)s.",
                             status=labels.label(labels.BID_STATUS, bid.status)))
    changed = session.execute(
        sa.update(Bid).where(Bid.id == bid.id, Bid.status == "active").values(status="withdrawn")
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        session.rollback()
        raise ServiceError(_("The bid changed meanwhile; reload the page."))
    session.refresh(bid)
    audit.record(session, user.id, "bid", bid.id, "withdrawn", {"lot": bid.lot_id, "category": bid.category.code})
    session.commit()
    return bid


def own_bids(session: so.Session, user: User) -> list[Bid]:
    """The bids of the user's organisation, newest first (a recycler sees only its own)."""
    return list(session.scalars(sa.select(Bid).join(Facility, Bid.facility_id == Facility.id)
                                .where(Facility.organization_id == user.organization_id)
                                .order_by(Bid.id.desc())))


def own_bids_on_lot(session: so.Session, user: User, lot_id: int) -> list[Bid]:
    """The user's organisation's bids on one lot."""
    return [b for b in own_bids(session, user) if b.lot_id == lot_id]


def active_bid_count(session: so.Session, lot_id: int) -> int:
    """How many active sealed bids a lot has (the count is shown, the amounts are not)."""
    return session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id == lot_id, Bid.status == "active")) or 0


@dataclass(frozen=True)
class LotBidSummary:
    """A producer's view of bids on its lot: how many, never how much."""

    lot: Lot
    active_bids: int


def received_summary(session: so.Session, user: User) -> list[LotBidSummary]:
    """Bid counts on the lots of the user's organisation."""
    counts = sa.select(Bid.lot_id, sa.func.count(Bid.id).label("n")).where(Bid.status == "active") \
        .group_by(Bid.lot_id).subquery()
    rows = session.execute(
        sa.select(Lot, sa.func.coalesce(counts.c.n, 0)).join(Facility, Lot.facility_id == Facility.id)
        .outerjoin(counts, counts.c.lot_id == Lot.id)
        .where(Facility.organization_id == user.organization_id).order_by(Lot.id.desc())).all()
    return [LotBidSummary(lot, int(n)) for lot, n in rows]


def lot_bid_status(session: so.Session, user: User, lot_id: int) -> dict[str, Any]:
    """JSON-safe bid status of a lot for the user: count for its producer, own bids for a bidder."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise ServiceError(_("No such lot."))
    own = own_bids_on_lot(session, user, lot_id)
    sees_count = policy.may_see_bid_count(user, lot)
    if not sees_count and not own:
        raise PermissionDenied(_("You have no bids on this lot."))
    out: dict[str, Any] = {"lot": lot.id}
    if sees_count:
        out["active_bids"] = active_bid_count(session, lot_id)
    if own:
        out["own_bids"] = [{"id": b.id, "price_yuan_per_t": float(b.price_yuan_per_t), "tonnes": float(b.tonnes),
                            "max_haul_km": b.max_haul_km, "status": b.status} for b in own]
    return out


def create_profile(session: so.Session, user: User, data: ProfileInput) -> DemandProfile:
    """Create a standing demand profile for a category and period."""
    _require_trader(user)
    facility = _own_recycler_facility(session, user, data.facility_id)
    category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == data.category_code))
    if category is None:
        raise ServiceError(_("Choose a category."), field="category")
    if data.period_end < data.period_start:
        raise ServiceError(_("The period must end after it starts."), field="period_end")
    # Refused here, not only filtered at clearing: a standing demand the facility may never receive is misleading.
    # A profile starting later needs the licence still valid when it starts.
    _check_hazardous(session, facility, category, on=max(utcnow().date(), data.period_start))
    if problem := quantities.tonnes_problem(data.tonnes):
        raise ServiceError(problem, field="tonnes")
    if problem := quantities.price_problem(data.price_yuan_per_t):
        raise ServiceError(problem, field="price_yuan_per_t")
    data = dataclasses.replace(data, tonnes=quantities.tonnes(data.tonnes),
                               price_yuan_per_t=quantities.yuan(data.price_yuan_per_t))
    profile = DemandProfile(facility=facility, category=category, tonnes=data.tonnes,
                            price_yuan_per_t=data.price_yuan_per_t, period_start=data.period_start,
                            period_end=data.period_end, max_haul_km=data.max_haul_km,
                            quality_limits=data.quality_limits, active=True)
    session.add(profile)
    session.flush()
    audit.record(session, user.id, "demand_profile", profile.id, "created", {
        "facility": facility.id, "category": category.code, "tonnes": data.tonnes,
        "price_yuan_per_t": data.price_yuan_per_t, "period": [data.period_start, data.period_end]})
    session.commit()
    return profile


def own_profiles(session: so.Session, user: User) -> list[DemandProfile]:
    """The demand profiles of the user's organisation."""
    return list(session.scalars(sa.select(DemandProfile).join(Facility, DemandProfile.facility_id == Facility.id)
                                .where(Facility.organization_id == user.organization_id)
                                .order_by(DemandProfile.id.desc())))


def deactivate_profile(session: so.Session, user: User, profile_id: int) -> DemandProfile:
    """Stop a standing demand profile from taking part in further clearings."""
    profile = session.get(DemandProfile, profile_id)
    if profile is None or profile.facility.organization_id != user.organization_id:
        raise PermissionDenied(_("No such demand profile."))
    _require_trader(user)
    if not profile.active:
        raise ServiceError(_("This demand profile is already inactive."))
    profile.active = False
    audit.record(session, user.id, "demand_profile", profile.id, "deactivated")
    session.commit()
    return profile
