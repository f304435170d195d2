"""API resource: lots — search with the page's filters, read, post, edit, withdraw; bid status."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from app import policy
from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user, require
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.extensions import db
from app.services import bids, facilities, guidance, lots
from models import Lot


def lot_out(lot: Lot, road_km: float | None = None) -> schemas.Lot:
    """A lot as the API shows it: the number of sealed bids to its producer only, never their amounts."""
    bid_count = lots.active_bid_count(db.session, lot.id) if policy.may_see_bid_count(g.get("api_user"), lot) else None
    return schemas.Lot(
        id=lot.id, facility_id=lot.facility_id, category=lot.category.code, title=lot.title,
        description=lot.description, tonnes=lot.tonnes, remaining_tonnes=lot.remaining_tonnes,
        reserve_yuan_per_t=lot.reserve_yuan_per_t, available_from=lot.available_from,
        available_to=lot.available_to, min_shipment_t=lot.min_shipment_t, quality=lot.quality or {},
        status=lot.status, state=lots.state(lot), settle_on=lot.settle_on,
        prefecture_code=lot.facility.prefecture_code, base_id=lot.facility.base_id,
        lon=lot.facility.lon, lat=lot.facility.lat, active_bids=bid_count,
        road_km=road_km, created_at=lot.created_at, updated_at=lot.updated_at,
        hw_code=lot.category.hw_code if lot.category.hazardous else None,
        transfer_approval_ref=lot.transfer_approval_ref, waste_form=lot.waste_form,
        hazard_characteristics=lot.hazard_characteristics, packaging_type=lot.packaging_type)


def lot_input(body: schemas.LotIn) -> lots.LotInput:
    """The service input of a lot body."""
    return lots.LotInput(
        facility_id=body.facility_id, category=body.category, tonnes=body.tonnes,
        reserve_yuan_per_t=body.reserve_yuan_per_t, available_from=body.available_from,
        available_to=body.available_to, min_shipment_t=body.min_shipment_t, title=body.title,
        description=body.description, quality=dict(body.quality), settle_on=body.settle_on,
        transfer_approval_ref=body.transfer_approval_ref, waste_form=body.waste_form,
        hazard_characteristics=body.hazard_characteristics, packaging_type=body.packaging_type)


def _filters(query: schemas.LotQuery) -> lots.LotFilters:
    near = None
    if query.near_facility_id is not None:
        mine = {f.id: f for f in facilities.mine(db.session, current_user())}
        facility = mine.get(query.near_facility_id)
        if facility is None:
            raise ApiError(422, _("near_facility_id must be one of your organisation's facilities."),
                           errors=[{"field": "near_facility_id", "message": _("Not one of your facilities.")}])
        near = (facility.lon, facility.lat)
    return lots.LotFilters(
        category=query.category, prefecture=query.prefecture, base_id=query.base_id, min_tonnes=query.min_tonnes,
        max_tonnes=query.max_tonnes, available_by=query.available_by, available_until=query.available_until,
        near=near, max_km=query.max_km if near else None,
        keyword=(query.q or "").strip() or None, min_price=query.min_price, max_price=query.max_price,
        sort=query.sort if (query.sort != "distance" or near) else "newest")


@op("GET", "/lots", summary="Search open lots", tag="lots", query=schemas.LotQuery, response=schemas.LotPage)
def list_lots(query: schemas.LotQuery):
    """Browsable lots filtered like the lots page: category, prefecture, base, tonnes range, availability, distance."""
    position = pagination.decode(query.cursor, ("page", "size"))
    size = position["size"] if position else query.limit
    number = position["page"] if position else 1
    if not 1 <= size <= pagination.MAX_LIMIT or number < 1:
        raise ApiError(400, _("The cursor is not valid; use the next_cursor of a previous page."),
                       errors=[{"field": "cursor", "message": _("Invalid cursor.")}])
    found = lots.search(db.session, _filters(query), number, size)
    cursor = pagination.encode({"page": number + 1, "size": size}) if number < found.pages else None
    return schemas.LotPage(items=[lot_out(lot, found.road_km.get(lot.id)) for lot in found.items],
                           next_cursor=cursor, total=found.total)


def _visible(lot_id: int) -> Lot:
    """A lot the user may see: drafts never, withdrawn ones only by their producer (as the lot page)."""
    lot = get_or_404(Lot, lot_id)
    if not policy.may_see_lot(current_user(), lot):
        raise ApiError(404)
    return lot


@op("GET", "/lots/<int:lot_id>", summary="Read a lot", tag="lots", response=schemas.Lot)
def get_lot(lot_id: int):
    """One lot with the number of sealed bids on it."""
    return lot_out(_visible(lot_id))


@op("POST", "/lots", summary="Post a lot", tag="lots", body=schemas.LotIn, response=schemas.Lot, status=201,
    allow=policy.may_produce)
def post_lot(body: schemas.LotIn):
    """Post an open lot at one of your producer facilities (verified producers only)."""
    user = current_user()
    return lot_out(lots.post(db.session, user, lot_input(body)))


@op("PUT", "/lots/<int:lot_id>", summary="Edit a lot", tag="lots", body=schemas.LotIn, response=schemas.Lot,
    allow=policy.may_produce)
def edit_lot(lot_id: int, body: schemas.LotIn):
    """Replace an open lot of your organisation with the body (only its producer may)."""
    user = current_user()
    lot = get_or_404(Lot, lot_id)
    require(policy.may_manage_lot(user, lot), _("Only the producer that posted this lot can change it."))
    return lot_out(lots.update(db.session, user, lot, lot_input(body)))


@op("POST", "/lots/<int:lot_id>/withdraw", summary="Withdraw a lot", tag="lots", response=schemas.Lot,
    allow=policy.may_produce)
def withdraw_lot(lot_id: int):
    """Withdraw an open lot of your organisation."""
    user = current_user()
    lot = get_or_404(Lot, lot_id)
    return lot_out(lots.withdraw(db.session, user, lot))


@op("GET", "/lots/<int:lot_id>/bid-status", summary="Bids on a lot as you may see them", tag="bids",
    response=schemas.LotBidStatus)
def lot_bid_status(lot_id: int):
    """The count of sealed bids for the lot's producer; your own bids for a bidder; 403 for anyone else."""
    from app.api.bids import bid_out

    user = current_user()
    _visible(lot_id)
    status = bids.lot_bid_status(db.session, user, lot_id)
    own = bids.own_bids_on_lot(db.session, user, lot_id)
    return schemas.LotBidStatus(lot_id=lot_id, active_bids=status.get("active_bids"),
                                own_bids=[bid_out(b) for b in own])


@op("GET", "/lots/own", summary="Your organisation's lots with their bid counts", tag="lots",
    query=schemas.PageQuery, response=more_schemas.OwnLotPage, allow=policy.may_produce)
def own_lots(query: schemas.PageQuery):
    """Every lot of your organisation, whatever its status, newest first, with the number of sealed bids
    (never their amounts), as on the "bids received" page."""
    user = current_user()
    rows = [row.lot for row in bids.received_summary(db.session, user)]
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.OwnLotPage(items=[lot_out(lot) for lot in page], next_cursor=cursor)


@op("GET", "/lots/<int:lot_id>/price-guidance", summary="Price guidance for a lot", tag="lots",
    response=more_schemas.PriceGuidance)
def price_guidance(lot_id: int):
    """The band competing buyers offer for the lot after freight, as on the lot page: shown only when enough
    organisations other than yours compete, never depending on the lot's reserve; a lot with nothing left
    answers its state (matched, sold, withdrawn)."""
    lot = _visible(lot_id)
    advice = guidance.for_lot(db.session, lot, current_user())
    return more_schemas.PriceGuidance(
        lot_id=lot.id, state=advice.state, reason=advice.reason, competing_buyers=advice.buyers,
        low_yuan_per_t=advice.low_yuan_per_t, high_yuan_per_t=advice.high_yuan_per_t,
        prefectures=list(advice.prefectures))
