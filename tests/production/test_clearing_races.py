"""No tonne allocated twice: clearings racing each other, and a lot edit racing a clearing's join.

PostgreSQL only (row locks and real concurrent connections); each thread has its own app context and session.
"""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import db as database
from app.services import audit, bids, clearing, lots
from app.services.clearing import runs, write
from app.services.errors import ServiceError
from models import Allocation, AuditEvent, Award, Bid, ClearingLock, Lot, MatchRun, User
from tests.factories import BidFactory, LotFactory, category, small_market
from tests.production.conftest import on_postgres

pytestmark = pytest.mark.skipif(not on_postgres(), reason="needs TEST_DATABASE_URL on PostgreSQL (row locks)")


def _threads(app, *works) -> list:
    """Run each work in its own thread with its own session, released together; outcomes in order."""
    barrier = threading.Barrier(len(works))
    outcomes: list = [None] * len(works)

    def run(k):
        with app.app_context():
            barrier.wait()
            try:
                outcomes[k] = works[k]()
            except ServiceError as exc:
                database.session.rollback()
                outcomes[k] = exc
            except Exception as exc:  # reported by the assertion below
                database.session.rollback()
                outcomes[k] = f"UNEXPECTED {type(exc).__name__}: {exc}"
            finally:
                database.session.remove()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(works))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [o for o in outcomes if isinstance(o, str) and o.startswith("UNEXPECTED")], outcomes
    return outcomes


def _assert_no_tonne_twice(db) -> None:
    """Every lot's allocated tonnes equal what left it, and no bid or lot is over-allocated."""
    db.session.rollback()
    db.session.expire_all()
    for lot in db.session.scalars(sa.select(Lot)):
        allocated = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Allocation.tonnes), 0)).where(
            Allocation.lot_id == lot.id, Allocation.status.in_(("proposed", "accepted"))))
        assert lot.tonnes - lot.remaining_tonnes == allocated, lot.id
        assert lot.remaining_tonnes >= 0
    for bid in db.session.scalars(sa.select(Bid)):
        allocated = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Allocation.tonnes), 0)).where(
            Allocation.bid_id == bid.id))
        assert allocated <= bid.tonnes, bid.id


@pytest.fixture
def slow_solve(monkeypatch):
    """Solves that take a moment, so two runs started together certainly overlap."""
    import time

    real = runs.solve_category

    def slow(part, solver="auto"):
        time.sleep(0.5)
        return real(part, solver)

    monkeypatch.setattr(runs, "solve_category", slow)


def test_two_clearings_of_one_category_started_together_allocate_each_tonne_once(app, db, reference, slow_solve):
    m = small_market()
    outcomes = _threads(app, lambda: clearing.start_clearing(database.session, None, "fly_ash").status,
                        lambda: clearing.start_clearing(database.session, None, "fly_ash").status)
    assert sorted(map(str, outcomes)).count("succeeded") == 1, outcomes
    busy = next(o for o in outcomes if isinstance(o, clearing.ClearingBusy))
    assert busy.status == 409 and busy.run_id is not None
    _assert_no_tonne_twice(db)
    assert db.session.scalar(sa.select(sa.func.sum(Allocation.tonnes))) == Decimal("600.000")
    assert db.session.get(Bid, m["near_bid"].id).status == "allocated"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClearingLock)) == 0  # all freed


def test_a_province_wide_clearing_and_a_category_clearing_never_overlap(app, db, reference, slow_solve):
    small_market()
    outcomes = _threads(app, lambda: clearing.start_clearing(database.session, None, None).status,
                        lambda: clearing.start_clearing(database.session, None, "fly_ash").status)
    assert [isinstance(o, clearing.ClearingBusy) for o in outcomes].count(True) == 1, outcomes
    _assert_no_tonne_twice(db)
    assert db.session.scalar(sa.select(sa.func.sum(Allocation.tonnes))) == Decimal("600.000")


def test_a_lot_edit_waits_for_the_join_and_cannot_resurrect_allocated_tonnes(app, db, reference, monkeypatch):
    m = small_market()
    producer_id = m["producer"].id
    lot_id = m["lot"].id
    in_join = threading.Event()
    real_take_bids = write._take_bids

    def take_bids_slowly(session, bid_ids):  # the join holds the lot's row lock while the edit arrives
        in_join.set()
        threading.Event().wait(1.0)
        return real_take_bids(session, bid_ids)

    monkeypatch.setattr(write, "_take_bids", take_bids_slowly)

    def edit():
        in_join.wait(30)
        lot = database.session.get(Lot, lot_id)
        data = lots.LotInput(facility_id=lot.facility_id, category="fly_ash", tonnes=Decimal("1600"),
                             reserve_yuan_per_t=Decimal("10"), available_from=lot.available_from)
        return lots.update(database.session, database.session.get(User, producer_id), lot, data).tonnes

    outcomes = _threads(app, lambda: clearing.start_clearing(database.session, None, "fly_ash").status, edit)
    assert outcomes[0] == "succeeded"
    assert isinstance(outcomes[1], ServiceError)  # it waited, re-read the lot and found it matched
    _assert_no_tonne_twice(db)
    lot = db.session.get(Lot, lot_id)
    assert (lot.tonnes, lot.remaining_tonnes) == (Decimal("1000.000"), Decimal("400.000"))


def test_a_lot_shrunk_between_build_and_join_fails_the_category_cleanly_and_a_rerun_clears(app, db, reference,
                                                                                           monkeypatch):
    m = small_market()
    lot_id, producer_id = m["lot"].id, m["producer"].id
    real = runs.solve_category

    def solve_then_shrink(part, solver="auto"):
        result = real(part, solver)

        def shrink():  # the producer edits the lot down to 100 t in its own transaction
            with app.app_context():
                lot = database.session.get(Lot, lot_id)
                data = lots.LotInput(facility_id=lot.facility_id, category="fly_ash", tonnes=Decimal("100"),
                                     reserve_yuan_per_t=Decimal("10"), available_from=lot.available_from)
                lots.update(database.session, database.session.get(User, producer_id), lot, data)
                database.session.remove()

        t = threading.Thread(target=shrink)
        t.start()
        t.join(30)
        return result

    monkeypatch.setattr(runs, "solve_category", solve_then_shrink)
    run = clearing.start_clearing(db.session, None, "fly_ash")
    assert run.status == "failed" and run.failure_reason == "market_moved"
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0
    assert db.session.get(Bid, m["near_bid"].id).status == "active"
    monkeypatch.setattr(runs, "solve_category", real)
    again = clearing.start_clearing(db.session, None, "fly_ash")
    assert again.status == "succeeded"
    _assert_no_tonne_twice(db)
    assert db.session.scalar(sa.select(sa.func.sum(Allocation.tonnes))) == Decimal("100.000")


def test_one_moved_category_does_not_sink_the_others(app, db, reference, monkeypatch):
    m = small_market()
    slag = LotFactory(facility=m["lot_facility"], category=category("steel_slag"), tonnes=Decimal("500.000"))
    slag_bid = BidFactory(lot=slag, facility=m["near"], category=category("steel_slag"),
                          price_yuan_per_t=Decimal("60.00"), tonnes=Decimal("500.000"))
    real = runs.solve_category

    def solve_then_withdraw_slag_bid(part, solver="auto"):
        result = real(part, solver)
        if part.category.code == "steel_slag":
            with database.engine.begin() as other:  # another connection withdraws the bid meanwhile
                other.execute(sa.update(Bid.__table__).where(Bid.__table__.c.id == slag_bid.id)
                              .values(status="withdrawn"))
        return result

    monkeypatch.setattr(runs, "solve_category", solve_then_withdraw_slag_bid)
    run = clearing.start_clearing(db.session, None, None)
    db.session.expire_all()
    run = db.session.get(MatchRun, run.id)
    assert run.status == "succeeded" and set(run.results["failed_categories"]) == {"steel_slag"}
    assert [a.lot_id for a in db.session.scalars(sa.select(Allocation))] == [m["lot"].id]
    assert db.session.get(Lot, slag.id).remaining_tonnes == Decimal("500.000")
    message = clearing.status_message(db.session, run, "zh_CN")
    assert category("steel_slag").name_zh in message and "steel_slag" not in message
    _assert_no_tonne_twice(db)


def test_the_largest_lots_and_bids_the_limits_allow_never_sink_a_province_wide_clearing(app, db, reference):
    """Two lots of the largest tonnage paying the most for removal, each drawing the highest bid: every allocation and
    every run total still fits its Numeric(14, 2) column, or the category fails alone; fly ash clears regardless."""
    from app.services import quantities

    m = small_market()
    for _ in range(2):
        lot = LotFactory(facility=m["lot_facility"], category=category("steel_slag"), tonnes=quantities.MAX_TONNES,
                         reserve_yuan_per_t=-quantities.MAX_YUAN_PER_TONNE)
        BidFactory(lot=lot, facility=m["near"], category=category("steel_slag"),
                   price_yuan_per_t=quantities.MAX_YUAN_PER_TONNE, tonnes=quantities.MAX_TONNES)
    run = clearing.start_clearing(db.session, None, None)
    db.session.expire_all()
    run = db.session.get(MatchRun, run.id)
    assert run.status == "succeeded", (run.failure_reason, run.message)
    assert set(run.results["failed_categories"]) <= {"steel_slag"}
    assert m["lot"].id in {a.lot_id for a in db.session.scalars(sa.select(Allocation))}
    _assert_no_tonne_twice(db)
    from app.services import awards, shipments  # the largest award, its settlement and a weighbridge 10 % over

    largest = max(db.session.scalars(sa.select(Allocation)), key=lambda a: a.tonnes)
    awards.decide(db.session, m["producer"], largest.id, True)
    awards.decide(db.session, m["near_user"], largest.id, True)
    award = db.session.scalar(sa.select(Award).where(Award.allocation_id == largest.id))
    assert award.recycler_pays_yuan == largest.tonnes * largest.price_yuan_per_t
    load = shipments.dispatch(db.session, m["producer"], award.id, Decimal("30"), "黑A12345", None)
    assert shipments.receive(db.session, m["near_user"], load.id, Decimal("33")).discrepancy_pct == Decimal("0.1")


def test_a_bid_withdrawn_while_the_join_holds_it_waits_and_is_refused(app, db, reference, monkeypatch):
    """The join allocated the bid and has not committed yet: the withdrawal waits, then sees it allocated."""
    m = small_market()
    near_user_id, bid_id = m["near_user"].id, m["near_bid"].id
    in_join = threading.Event()
    real_take_profiles = write._take_profiles

    def take_profiles_slowly(session, wanted):  # the bids are updated (row-locked) but not committed
        in_join.set()
        threading.Event().wait(1.0)
        return real_take_profiles(session, wanted)

    monkeypatch.setattr(write, "_take_profiles", take_profiles_slowly)

    def withdraw():
        in_join.wait(30)
        return bids.withdraw_bid(database.session, database.session.get(User, near_user_id), bid_id).status

    outcomes = _threads(app, lambda: clearing.start_clearing(database.session, None, "fly_ash").status, withdraw)
    assert outcomes[0] == "succeeded"
    assert isinstance(outcomes[1], ServiceError), outcomes  # refused with the bid's state, not silently done
    _assert_no_tonne_twice(db)
    assert db.session.get(Bid, bid_id).status == "allocated"
    assert db.session.scalar(sa.select(sa.func.sum(Allocation.tonnes)).where(Allocation.bid_id == bid_id)) \
        == Decimal("600.000")
    assert not db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.entity_type == "bid", AuditEvent.entity_id == bid_id, AuditEvent.action == "withdrawn"))


def test_a_join_arriving_during_a_withdrawal_waits_and_allocates_nothing_to_the_withdrawn_bid(app, db, reference,
                                                                                             monkeypatch):
    """The withdrawal holds the bid's row (not committed) when the join arrives: that category fails cleanly."""
    m = small_market()
    near_user_id, bid_id, lot_id = m["near_user"].id, m["near_bid"].id, m["lot"].id
    withdrawing = threading.Event()
    real_record, real_solve = audit.record, runs.solve_category

    def record_slowly(session, user_id, entity, entity_id, action, *args, **kwargs):
        if (entity, entity_id, action) == ("bid", bid_id, "withdrawn"):  # the bid is updated, not committed
            withdrawing.set()
            threading.Event().wait(1.0)
        return real_record(session, user_id, entity, entity_id, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", record_slowly)
    outcome: list = []

    def withdraw():
        with app.app_context():
            try:
                outcome.append(bids.withdraw_bid(database.session, database.session.get(User, near_user_id),
                                                 bid_id).status)
            finally:
                database.session.remove()

    def solve_then_withdraw(part, solver="auto"):
        result = real_solve(part, solver)
        worker.append(threading.Thread(target=withdraw))
        worker[0].start()
        assert withdrawing.wait(30)
        return result

    worker: list = []
    monkeypatch.setattr(runs, "solve_category", solve_then_withdraw)
    run = clearing.start_clearing(db.session, None, "fly_ash")
    worker[0].join(30)
    assert outcome == ["withdrawn"]
    assert run.status == "failed" and run.failure_reason == "market_moved"
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0
    db.session.expire_all()
    assert db.session.get(Bid, bid_id).status == "withdrawn"
    assert db.session.get(Lot, lot_id).remaining_tonnes == Decimal("1000.000")
    # Nothing was written, so the clearing can simply run again, without the withdrawn bid.
    monkeypatch.setattr(runs, "solve_category", real_solve)
    again = clearing.start_clearing(db.session, None, "fly_ash")
    assert again.status == "succeeded"
    _assert_no_tonne_twice(db)
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id)).where(Allocation.bid_id == bid_id)) == 0
