"""Browsing and reading lots."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import Bid, Facility, Lot, WasteCategory

SORTS = {
    "newest": (Lot.created_at.desc(), Lot.id.desc()),
    "tonnes_desc": (Lot.remaining_tonnes.desc(), Lot.id.desc()),
    "tonnes_asc": (Lot.remaining_tonnes.asc(), Lot.id.asc()),
    "reserve_asc": (Lot.reserve_yuan_per_t.asc(), Lot.id.asc()),
    "available": (Lot.available_from.asc(), Lot.id.asc()),
}
BROWSABLE = ("open", "matched")


@dataclass(frozen=True)
class LotFilters:
    """What a buyer narrows the list by; None means no filter."""

    category: str | None = None
    prefecture: str | None = None
    base_id: int | None = None
    min_tonnes: Decimal | None = None
    max_tonnes: Decimal | None = None
    available_by: dt.date | None = None
    sort: str = "newest"


@dataclass(frozen=True)
class Page:
    """One page of results."""

    items: list[Lot]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(filters: LotFilters) -> sa.Select:
    query = sa.select(Lot).join(Lot.facility).join(Lot.category).where(Lot.status.in_(BROWSABLE))
    if filters.category:
        query = query.where(WasteCategory.code == filters.category)
    if filters.prefecture:
        query = query.where(Facility.prefecture_code == filters.prefecture)
    if filters.base_id:
        query = query.where(Facility.base_id == filters.base_id)
    if filters.min_tonnes is not None:
        query = query.where(Lot.remaining_tonnes >= filters.min_tonnes)
    if filters.max_tonnes is not None:
        query = query.where(Lot.remaining_tonnes <= filters.max_tonnes)
    if filters.available_by is not None:
        query = query.where(Lot.available_from <= filters.available_by)
    return query


def search(session: so.Session, filters: LotFilters, page: int, per_page: int) -> Page:
    """One page of browsable lots matching the filters, in the chosen order."""
    query = _filtered(filters)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = max(1, page)
    rows = session.scalars(
        query.order_by(*SORTS.get(filters.sort, SORTS["newest"])).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total or 0)


def active_bid_count(session: so.Session, lot_id: int) -> int:
    """How many sealed bids a lot has: the count is public, the amounts are not."""
    return session.scalar(
        sa.select(sa.func.count(Bid.id)).where(Bid.lot_id == lot_id, Bid.status == "active")
    ) or 0
