"""Fifty concurrent bids, accepts and dispatches on one lot: it is never oversold and never awarded twice.

PostgreSQL only (SQLite serialises writers); each thread has its own app context and session.
"""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db as database
from app.services import awards, bids, clearing, shipments
from app.services.errors import PermissionDenied, ServiceError
from models import Allocation, Award, Bid, Lot, OrganizationRole, Shipment, User
from tests.factories import FacilityFactory, LotFactory, OrganizationFactory, UserFactory
from tests.production.conftest import on_postgres

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs TEST_DATABASE_URL on PostgreSQL (row locks)")
THREADS = 50


def in_threads(app, work, n: int = THREADS) -> list:
    """Run work(k) for k in range(n) in n threads released together; returns outcomes ("ok" or the error)."""
    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def run(k):
        with app.app_context():
            barrier.wait()
            try:
                work(k)
                outcomes[k] = "ok"
            except (ServiceError, PermissionDenied) as exc:
                database.session.rollback()
                outcomes[k] = exc
            except Exception as exc:  # a database error is a failure of the test, reported below
                database.session.rollback()
                outcomes[k] = f"UNEXPECTED {type(exc).__name__}: {exc}"
            finally:
                database.session.remove()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    unexpected = [o for o in outcomes if isinstance(o, str) and o.startswith("UNEXPECTED")]
    assert not unexpected, unexpected[:3]
    return outcomes


@pytest.fixture
def market(db, reference):
    """A 1000 t lot and fifty verified recyclers, each with a facility near it."""
    producer_org = OrganizationFactory()
    producer = UserFactory(organization=producer_org, email="producer@example.com")
    lot = LotFactory(facility=FacilityFactory(organization=producer_org), tonnes=Decimal("1000.000"))
    recyclers = []
    for k in range(THREADS):
        org = OrganizationFactory(roles=[OrganizationRole(role="recycler")])
        user = UserFactory(organization=org, role="recycler", email=f"recycler{k}@example.com")
        facility = FacilityFactory(organization=org, kind="recycler", lon=126.7, lat=45.8, max_haul_km=300)
        recyclers.append((user.id, facility.id))
    return {"producer": producer.id, "lot": lot.id, "recyclers": recyclers}


def _user(user_id: int) -> User:
    return database.session.get(User, user_id)


def test_fifty_concurrent_bids_then_accepts_then_dispatches_never_oversell(app, db, market):
    lot_id = market["lot"]

    def bid(k):
        user_id, facility_id = market["recyclers"][k]
        bids.place_bid(database.session, _user(user_id), lot_id,
                       bids.BidInput(facility_id, Decimal(60 + k), Decimal("40.000")))

    assert in_threads(app, bid) == ["ok"] * THREADS
    assert db.session.scalar(sa.select(sa.func.count(Bid.id)).where(Bid.lot_id == lot_id)) == THREADS

    run = clearing.start_clearing(db.session, None, "fly_ash")
    db.session.expire_all()
    allocations = db.session.scalars(sa.select(Allocation).where(Allocation.run_id == run.id)).all()
    assert sum(a.tonnes for a in allocations) == Decimal("1000.000")  # 25 best bids × 40 t
    target = allocations[0]
    recycler_user = next(u for u, f in market["recyclers"] if f == target.facility_id)

    def accept(k):  # both sides accept the same allocation, 25 times each, at once
        awards.decide(database.session, _user(market["producer"] if k % 2 else recycler_user), target.id, True)

    in_threads(app, accept)
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Award.id)).where(Award.allocation_id == target.id)) == 1
    award = db.session.scalar(sa.select(Award).where(Award.allocation_id == target.id))

    def dispatch(k):  # fifty 3 t loads against a 40 t award: thirteen fit
        shipments.dispatch(database.session, _user(market["producer"]), award.id, Decimal("3"), f"黑A{k:05d}")

    outcomes = in_threads(app, dispatch)
    db.session.expire_all()
    award = db.session.get(Award, award.id)
    shipped = db.session.scalar(sa.select(sa.func.sum(Shipment.dispatched_tonnes)).where(Shipment.award_id == award.id))
    assert outcomes.count("ok") == 13 and shipped == award.dispatched_tonnes == Decimal("39.000")
    lot = db.session.get(Lot, lot_id)
    assert lot.remaining_tonnes >= 0


def test_fifty_concurrent_clearings_of_one_lot_allocate_it_once(app, db, market):
    user_id, facility_id = market["recyclers"][0]
    bids.place_bid(db.session, _user(user_id), market["lot"], bids.BidInput(facility_id, Decimal("80"),
                                                                            Decimal("1000.000")))

    def clear(_k):
        clearing.start_clearing(database.session, None, "fly_ash")

    in_threads(app, clear, 10)
    db.session.expire_all()
    allocated = db.session.scalar(sa.select(sa.func.sum(Allocation.tonnes)).where(Allocation.lot_id == market["lot"]))
    assert allocated == Decimal("1000.000")
    assert db.session.get(Lot, market["lot"]).remaining_tonnes == 0
