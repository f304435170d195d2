"""API resource: sealed bids — place on a lot or on a whole category, list and read your own, withdraw."""
from __future__ import annotations

from app import policy
from app.api import pagination, schemas
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.extensions import db
from app.services import bids
from models import Bid, Lot


def bid_out(bid: Bid) -> schemas.Bid:
    """One of your bids as the API shows it."""
    return schemas.Bid(id=bid.id, lot_id=bid.lot_id, category=bid.category.code, facility_id=bid.facility_id,
                       price_yuan_per_t=bid.price_yuan_per_t, tonnes=bid.tonnes, max_haul_km=bid.max_haul_km,
                       status=bid.status, created_at=bid.created_at)


@op("GET", "/bids", summary="List your organisation's bids", tag="bids", query=schemas.PageQuery,
    response=schemas.BidPage, allow=policy.may_recycle)
def list_bids(query: schemas.PageQuery):
    """Your organisation's sealed bids, newest first (nobody else's, ever)."""
    user = current_user()
    page, cursor = pagination.after_id(bids.own_bids(db.session, user), query.cursor, query.limit)
    return schemas.BidPage(items=[bid_out(b) for b in page], next_cursor=cursor)


@op("POST", "/lots/<int:lot_id>/bids", summary="Place a sealed bid on a lot", tag="bids", body=schemas.BidIn,
    response=schemas.Bid, status=201, allow=policy.may_recycle)
def place_bid(lot_id: int, body: schemas.BidIn):
    """Bid a price per tonne delivered for tonnes of the lot, from one of your recycling facilities."""
    user = current_user()
    lot = get_or_404(Lot, lot_id)
    if lot.status == "draft":
        raise ApiError(404)
    bid = bids.place_bid(db.session, user, lot_id, bids.BidInput(
        facility_id=body.facility_id, price_yuan_per_t=body.price_yuan_per_t, tonnes=body.tonnes,
        max_haul_km=body.max_haul_km))
    return bid_out(bid)


@op("POST", "/bids", summary="Place a sealed category-wide bid", tag="bids", body=schemas.CategoryBidIn,
    response=schemas.Bid, status=201, allow=policy.may_recycle)
def place_category_bid(body: schemas.CategoryBidIn):
    """Bid a price per tonne delivered for tonnes from every compatible open lot of a category within your haul.

    The clearing takes the lots giving the most surplus after freight, within the facility's quality limits and
    licences; the haul limit is max_haul_km or, when left out, the facility's. Nobody else sees the bid.
    """
    user = current_user()
    bid = bids.place_category_bid(db.session, user, body.category, bids.BidInput(
        facility_id=body.facility_id, price_yuan_per_t=body.price_yuan_per_t, tonnes=body.tonnes,
        max_haul_km=body.max_haul_km))
    return bid_out(bid)


def _own(bid_id: int) -> Bid:
    """A bid of the user's organisation; another's is 404, so sealed bids do not even show they exist."""
    bid = get_or_404(Bid, bid_id)
    if bid.facility.organization_id != current_user().organization_id:
        raise ApiError(404)
    return bid


@op("GET", "/bids/<int:bid_id>", summary="Read one of your bids", tag="bids", response=schemas.Bid,
    allow=policy.may_recycle)
def get_bid(bid_id: int):
    """One of your organisation's bids."""
    return bid_out(_own(bid_id))


@op("POST", "/bids/<int:bid_id>/withdraw", summary="Withdraw a bid", tag="bids", response=schemas.Bid,
    allow=policy.may_recycle)
def withdraw_bid(bid_id: int):
    """Withdraw one of your active bids."""
    user = current_user()
    _own(bid_id)
    return bid_out(bids.withdraw_bid(db.session, user, bid_id))
