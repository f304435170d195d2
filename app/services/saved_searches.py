"""Saved searches: a buyer's standing filters; a newly posted lot that matches lands in the inbox and the outbox.

Matching runs inside the transaction that posts the lot, so a lot and its alerts commit together; the
e-mails go out through SMTP after the commit when SMTP is configured (notifications.deliver_pending).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

import geo
from app.services import audit, keywords, notifications
from app.services.errors import PermissionDenied, ServiceError
from models import Facility, Lot, SavedSearch, User, WasteCategory

MAX_PER_USER = 50
MAX_KM = 5000


@dataclass(frozen=True)
class SearchInput:
    """What the saved-search form (or the lots page's filters) says."""

    name: str
    category: str | None = None
    keyword: str | None = None
    min_tonnes: Decimal | None = None
    max_tonnes: Decimal | None = None
    max_price_yuan_per_t: Decimal | None = None
    facility_id: int | None = None
    max_km: int | None = None


def _check(session: so.Session, user: User, data: SearchInput) -> tuple[WasteCategory | None, Facility | None]:
    """The category and origin facility the input names; ServiceError on the first problem."""
    if not data.name.strip():
        raise ServiceError(_("Give the search a name."), field="name")
    category = None
    if data.category:
        category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == data.category))
        if category is None:
            raise ServiceError(_("Unknown category %(code)s.", code=data.category), field="category")
    for value, field in ((data.min_tonnes, "min_tonnes"), (data.max_tonnes, "max_tonnes")):
        if value is not None and value < 0:
            raise ServiceError(_("Tonnes cannot be negative."), field=field)
    if data.min_tonnes is not None and data.max_tonnes is not None and data.max_tonnes < data.min_tonnes:
        raise ServiceError(_("The largest size is below the smallest."), field="max_tonnes")
    facility = None
    if data.facility_id is not None:
        facility = session.get(Facility, data.facility_id)
        if facility is None or facility.organization_id != user.organization_id:
            raise ServiceError(_("Choose one of your organisation's facilities."), field="facility")
    if data.max_km is not None:
        if facility is None:
            raise ServiceError(_("Choose the facility the distance is measured from."), field="facility")
        if not 0 < data.max_km <= MAX_KM:
            raise ServiceError(_("The distance must be between 1 and %(max)d km.", max=MAX_KM), field="max_km")
    return category, facility


def create(session: so.Session, user: User, data: SearchInput) -> SavedSearch:
    """Save a search for the user; commit and audit."""
    category, facility = _check(session, user, data)
    words = keywords.parse(data.keyword, field="keyword")
    count = session.scalar(sa.select(sa.func.count(SavedSearch.id)).where(
        SavedSearch.user_id == user.id, SavedSearch.active.is_(True))) or 0
    if count >= MAX_PER_USER:
        raise ServiceError(_("You have %(n)d saved searches; delete one first.", n=count))
    search = SavedSearch(user_id=user.id, name=data.name.strip()[:100], category=category,
                         keyword=" ".join(words) or None, min_tonnes=data.min_tonnes,
                         max_tonnes=data.max_tonnes, max_price_yuan_per_t=data.max_price_yuan_per_t,
                         facility=facility, max_km=data.max_km if facility else None, active=True)
    session.add(search)
    session.flush()
    audit.record(session, user.id, "saved_search", search.id, "created", {"name": search.name})
    session.commit()
    return search


def of_user(session: so.Session, user: User) -> list[SavedSearch]:
    """The user's active saved searches, newest first."""
    return list(session.scalars(sa.select(SavedSearch).where(SavedSearch.user_id == user.id,
                                                             SavedSearch.active.is_(True))
                                .order_by(SavedSearch.id.desc())))


def delete(session: so.Session, user: User, search_id: int) -> None:
    """Stop one of the user's saved searches; commit and audit."""
    search = session.get(SavedSearch, search_id)
    if search is None or search.user_id != user.id:
        raise PermissionDenied(_("This saved search is not yours."))
    search.active = False
    audit.record(session, user.id, "saved_search", search.id, "deleted")
    session.commit()


def _terms_match(session: so.Session, search: SavedSearch, lot: Lot) -> bool:
    if search.category_id is not None and search.category_id != lot.category_id:
        return False
    if search.min_tonnes is not None and lot.remaining_tonnes < search.min_tonnes:
        return False
    if search.max_tonnes is not None and lot.remaining_tonnes > search.max_tonnes:
        return False
    if search.max_price_yuan_per_t is not None and lot.reserve_yuan_per_t > search.max_price_yuan_per_t:
        return False
    # The keywords mean what they mean on the lots page: the same SQL, run on the flushed lot.
    return keywords.lot_matches(session, lot.id, keywords.parse(search.keyword))


def matching(session: so.Session, lot: Lot) -> list[SavedSearch]:
    """Active saved searches of other organisations' users that the lot satisfies (distance by road)."""
    candidates = session.scalars(
        sa.select(SavedSearch).join(User, SavedSearch.user_id == User.id)
        .where(SavedSearch.active.is_(True), User.active.is_(True),
               User.organization_id != lot.facility.organization_id,
               sa.or_(SavedSearch.category_id.is_(None), SavedSearch.category_id == lot.category_id))
    ).all()
    found = [s for s in candidates if _terms_match(session, s, lot)]
    near = [s for s in found if s.max_km is not None]
    if near:
        km = geo.road_km_matrix([s.facility.lon for s in near], [s.facility.lat for s in near],
                                [lot.facility.lon], [lot.facility.lat])[:, 0]
        too_far = {s.id for s, k in zip(near, km, strict=True) if not np.isfinite(k) or k > s.max_km}
        found = [s for s in found if s.id not in too_far]
    return found


def notify_matches(session: so.Session, lots: Iterable[Lot]) -> int:
    """Notify the owners of saved searches each lot matches (one message per user and lot); return how many."""
    sent = 0
    for lot in lots:
        per_user: dict[int, SavedSearch] = {}
        for search in matching(session, lot):
            per_user.setdefault(search.user_id, search)
        for search in per_user.values():
            notifications.notify(session, [search.user], "saved_search_match",
                                 {"search": search.name, "lot": lot.title, "tonnes": lot.remaining_tonnes},
                                 f"/lots/{lot.id}")
            sent += 1
    return sent
