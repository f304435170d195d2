"""Clearing through real Celery workers on Redis: fan-out per category, one join, a worker killed mid-run."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.services import clearing
from models import Allocation, Lot, MatchRun
from tests.factories import BidFactory, LotFactory, category, small_market
from tests.production.conftest import wait_for


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
    run = db.session.get(MatchRun, run_id)
    assert run is not None, f"run {run_id} vanished"
    return run


def test_a_worker_clears_each_category_in_its_own_task_and_joins_them(db, reference, start_worker, enqueue):
    m, slag = _two_category_market()
    worker = start_worker()
    run = clearing.start_clearing(db.session, None, None, enqueue=enqueue)
    done = wait_for(lambda: _run(db, run.id).status in ("succeeded", "failed") and _run(db, run.id), 60,
                    "the run to finish", worker)
    assert done.status == "succeeded", done.message
    assert done.progress_pct == 100 and done.job_id
    allocations = db.session.scalars(sa.select(Allocation).order_by(Allocation.lot_id)).all()
    assert sorted((a.lot_id, a.facility_id, a.tonnes) for a in allocations) == sorted([
        (m["lot"].id, m["near"].id, Decimal("600.000")), (slag.id, m["near"].id, Decimal("500.000"))])
    assert set(done.input_snapshot) == {"fly_ash", "steel_slag"}
    assert db.session.get(Lot, m["lot"].id).remaining_tonnes == Decimal("400.000")
    log = worker.output()
    assert log.count("gufei.clearing.category") >= 2 and "gufei.clearing.join" in log


def test_a_run_whose_worker_is_killed_ends_failed_with_nothing_written(db, reference, start_worker, enqueue,
                                                                       redis_client):
    m, slag = _two_category_market()
    worker = start_worker("tests.production.slow_worker", SLOW_SOLVE_SECONDS="4")
    run = clearing.start_clearing(db.session, None, None, enqueue=enqueue)
    wait_for(lambda: (_run(db, run.id).message or "").startswith("solved 1/2"), 60,
             "the first category to be solved", worker)
    worker.kill()  # SIGKILL while the second category is being solved
    assert _run(db, run.id).status == "running"
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0

    from app.jobs import HEARTBEAT_KEY

    wait_for(lambda: not redis_client.exists(HEARTBEAT_KEY.format(run_id=run.id)), 10, "the heartbeat to expire")
    replacement = start_worker()  # a starting worker sweeps runs left without a heartbeat
    failed = wait_for(lambda: _run(db, run.id).status == "failed" and _run(db, run.id), 60,
                      "the sweep to fail the run", replacement)
    assert failed.failure_reason == "worker_lost"
    assert db.session.scalar(sa.select(sa.func.count(Allocation.id))) == 0
    assert db.session.get(Lot, m["lot"].id).remaining_tonnes == Decimal("1000.000")
    assert db.session.get(Lot, slag.id).remaining_tonnes == Decimal("500.000")


def test_no_test_or_bench_flushes_a_redis_database_or_picks_one_by_default():
    """Two runs on one machine must not disturb each other: Redis only when TEST_REDIS_URL names a database of the
    run's own, and then only the app's and Celery's keys are deleted."""
    import re
    from pathlib import Path

    from tests.production import conftest

    root = Path(__file__).resolve().parents[2]
    flush = re.compile(r"flush(all|db)|FLUSH(ALL|DB)")
    offenders = [str(path.relative_to(root)) for folder in ("tests", "bench", "Makefile") for path in
                 ((root / folder).rglob("*") if (root / folder).is_dir() else [root / folder])
                 if path.is_file() and path.suffix in ("", ".py", ".sh", ".toml", ".cfg", ".ini")
                 and path != Path(__file__) and flush.search(path.read_text(errors="ignore"))]
    assert offenders == []
    assert re.search(r'environ\.get\("TEST_REDIS_URL", ""\)', Path(conftest.__file__).read_text())
    assert all(pattern.rstrip("*") for pattern in conftest.OUR_KEYS)  # never "*"
