"""API resource: the token user's saved searches — list, create, delete (as on the saved-searches page).

A saved search alerts its owner's inbox (and e-mail) when a newly posted lot matches; the checks, the limit per
user and the keyword semantics are the service's (app/services/saved_searches.py, app/services/keywords.py).
"""
from __future__ import annotations

from typing import Optional

from flask import Response
from pydantic import Field

from app import policy
from app.api import pagination
from app.api.auth import current_user
from app.api.blueprint import op
from app.api.errors import ApiError
from app.api.schemas import Input, Output, PageQuery, Text
from app.api.types import Code, Id, MoneyIn, MoneyOut, Timestamp, TonnesIn, TonnesOut
from app.extensions import db
from app.services import saved_searches
from models import SavedSearch as SavedSearchRow


class SavedSearchIn(Input):
    """A search to save: every term optional except the name; a distance needs one of your facilities."""

    name: Text(100, 1)
    category: Optional[Code] = None
    keyword: Optional[Text(100)] = Field(default=None, description="Words as in GET /lots?q= (all must match).")
    min_tonnes: Optional[TonnesIn] = None
    max_tonnes: Optional[TonnesIn] = None
    max_price_yuan_per_t: Optional[MoneyIn] = Field(default=None, description="Highest reserve price, yuan/t.")
    facility_id: Optional[Id] = Field(default=None, description="One of your facilities: road distance origin.")
    max_km: Optional[Id] = Field(default=None, description="Road km from facility_id (1–5000).")


class SavedSearch(Output):
    """A saved search as its owner sees it."""

    id: int
    name: str
    category: Optional[str]
    keyword: Optional[str]
    min_tonnes: Optional[TonnesOut]
    max_tonnes: Optional[TonnesOut]
    max_price_yuan_per_t: Optional[MoneyOut]
    facility_id: Optional[int]
    max_km: Optional[int]
    created_at: Timestamp


class SavedSearchPage(Output):
    """A page of your saved searches, newest first."""

    items: list[SavedSearch]
    next_cursor: Optional[str]


def search_out(search: SavedSearchRow) -> SavedSearch:
    """A saved search as the API shows it."""
    return SavedSearch(
        id=search.id, name=search.name, category=search.category.code if search.category else None,
        keyword=search.keyword, min_tonnes=search.min_tonnes, max_tonnes=search.max_tonnes,
        max_price_yuan_per_t=search.max_price_yuan_per_t, facility_id=search.facility_id, max_km=search.max_km,
        created_at=search.created_at)


@op("GET", "/saved-searches", summary="Your saved searches", tag="saved-searches", query=PageQuery,
    response=SavedSearchPage, allow=policy.may_recycle)
def list_searches(query: PageQuery):
    """Your active saved searches, newest first."""
    rows = saved_searches.of_user(db.session, current_user())
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return SavedSearchPage(items=[search_out(s) for s in page], next_cursor=cursor)


@op("POST", "/saved-searches", summary="Save a search", tag="saved-searches", body=SavedSearchIn,
    response=SavedSearch, status=201, allow=policy.may_recycle)
def create_search(body: SavedSearchIn):
    """Save a search: newly posted lots that match it are announced in your inbox (and by e-mail)."""
    search = saved_searches.create(db.session, current_user(), saved_searches.SearchInput(
        name=body.name, category=body.category, keyword=body.keyword, min_tonnes=body.min_tonnes,
        max_tonnes=body.max_tonnes, max_price_yuan_per_t=body.max_price_yuan_per_t,
        facility_id=body.facility_id, max_km=body.max_km))
    return search_out(search)


@op("DELETE", "/saved-searches/<int:search_id>", summary="Delete a saved search", tag="saved-searches",
    status=204, allow=policy.may_recycle)
def delete_search(search_id: int):
    """Stop one of your saved searches (someone else's, or one already deleted, is not found)."""
    search = db.session.get(SavedSearchRow, search_id)
    if search is None or search.user_id != current_user().id or not search.active:
        raise ApiError(404)
    saved_searches.delete(db.session, current_user(), search_id)
    return Response(status=204)
