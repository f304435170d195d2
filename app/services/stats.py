"""Headline counts and figures of the market."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import Bid, DemandProfile, Facility, Lot, Organization, ResourceBase, WasteCategory


def counts(session: so.Session) -> dict[str, int]:
    """Row counts of the main entities, in one query."""
    def count(model) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(model).scalar_subquery()

    row = session.execute(sa.select(
        count(Organization).label("organizations"),
        count(Facility).label("facilities"),
        count(WasteCategory).label("categories"),
        count(Lot).label("lots"),
        count(Bid).label("bids"),
        count(DemandProfile).label("demand_profiles"),
        count(ResourceBase).label("bases"),
    )).one()
    return dict(row._mapping)


def open_tonnes(session: so.Session) -> Decimal:
    """Tonnes on offer in open lots."""
    total = session.scalar(sa.select(sa.func.sum(Lot.remaining_tonnes)).where(Lot.status == "open"))
    return Decimal(total or 0)


def open_tonnes_by_category(session: so.Session) -> list[tuple[WasteCategory, Decimal]]:
    """Tonnes on offer in open lots per category, largest first."""
    rows = session.execute(
        sa.select(WasteCategory, sa.func.sum(Lot.remaining_tonnes).label("t"))
        .join(Lot, Lot.category_id == WasteCategory.id)
        .where(Lot.status == "open")
        .group_by(WasteCategory.id)
        .order_by(sa.desc("t"))
    ).all()
    return [(category, Decimal(total or 0)) for category, total in rows]

