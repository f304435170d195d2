"""Clearing through real Celery workers on Redis: fan-out per category, one join, a worker killed mid-run."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from production_helpers import REDIS_URL, wait_for

from app.services import clearing
from models import Allocation, Lot, MatchRun
from tests.factories import BidFactory, FacilityFactory, LotFactory, category, small_market


def _two_category_market():
    """small_market's fly ash plus a slag lot with one bid: two categories, two allocations expected."""
    m = small_market()
    slag = LotFactory(facility=m["lot_facility"], category=category("steel_slag"), tonnes=Decimal("500.000"))
    BidFactory(lot=slag, facility=m["near"], category=category("steel_slag"), price_yuan_per_t=Decimal("60.00"),
               tonnes=Decimal("500.000"))
    return m, slag


def _run(db, run_id: int) -> MatchRun:
    db.session.rollback()  # a fresh snapshot: the worker writes in its own transactions
    db.session.expire_all()
    return db.session.get(MatchRun, run_id)
