"""Periodic jobs: allocation expiry and audit checkpoints run on Celery beat, or in the app's own scheduler."""
import datetime as dt
import threading
from decimal import Decimal

import sqlalchemy as sa

from app import jobs
from app.extensions import celery
from app.services import clearing
from models import Allocation, AuditCheckpoint, AuditEvent, Lot, utcnow
from tests.factories import small_market


def _overdue_allocation(db):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    allocation = db.session.scalar(sa.select(Allocation))
    allocation.deadline = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    return m, allocation.id


def test_beat_schedules_expiry_checkpoints_and_the_sweep(app):
    schedule = celery.conf.beat_schedule
    assert schedule["expire-overdue-allocations"] == {
        "task": "gufei.allocations.expire", "schedule": float(app.config["ALLOCATION_EXPIRY_SECONDS"])}
    assert schedule["checkpoint-audit-chain"] == {
        "task": "gufei.audit.checkpoint", "schedule": float(app.config["AUDIT_CHECKPOINT_SECONDS"])}
    assert schedule["sweep-stale-clearing-runs"]["task"] == "gufei.clearing.sweep"
    # Every scheduled name is a registered task, and the in-process scheduler knows each one.
    for entry in schedule.values():
        assert entry["task"] in celery.tasks and entry["task"] in jobs.IN_PROCESS_JOBS


def test_the_expiry_task_expires_overdue_allocations_and_returns_their_tonnes(db, reference):
    m, allocation_id = _overdue_allocation(db)
    assert jobs.expire_allocations_task.run() == 1
    db.session.expire_all()
    assert db.session.get(Allocation, allocation_id).status == "expired"
    lot = db.session.get(Lot, m["lot"].id)
    assert lot.remaining_tonnes == Decimal("1000.000") and lot.status == "open"
    assert jobs.expire_allocations_task.run() == 0  # nothing twice


def test_the_checkpoint_task_signs_the_chains_head(db, reference):
    _overdue_allocation(db)
    head = db.session.scalar(sa.select(sa.func.max(AuditEvent.id)))
    assert jobs.audit_checkpoint_task.run() == head
    mark = db.session.scalar(sa.select(AuditCheckpoint))
    assert mark.event_id == head and mark.event_count == db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))


def test_the_in_process_scheduler_runs_each_job_when_due_and_not_before(app, db, reference):
    _, allocation_id = _overdue_allocation(db)
    now = [1000.0]
    scheduler = jobs.Scheduler(app, clock=lambda: now[0])
    assert scheduler.tick() == []  # the first turns come one interval after start
    now[0] += app.config["ALLOCATION_EXPIRY_SECONDS"]
    assert "gufei.allocations.expire" in scheduler.tick()
    db.session.expire_all()
    assert db.session.get(Allocation, allocation_id).status == "expired"
    assert "gufei.allocations.expire" not in scheduler.tick()  # not again until its next turn
    now[0] += app.config["AUDIT_CHECKPOINT_SECONDS"]
    assert set(scheduler.tick()) == {"gufei.allocations.expire", "gufei.audit.checkpoint", "gufei.clearing.sweep"}
    assert db.session.scalar(sa.select(sa.func.count(AuditCheckpoint.id))) == 1


def test_a_failing_job_is_logged_and_the_scheduler_carries_on(app, db, reference, monkeypatch, caplog):
    now = [0.0]
    scheduler = jobs.Scheduler(app, clock=lambda: now[0])

    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setitem(jobs.IN_PROCESS_JOBS, "gufei.audit.checkpoint", broken)
    now[0] += app.config["AUDIT_CHECKPOINT_SECONDS"]
    assert "gufei.audit.checkpoint" in scheduler.tick()
    assert "periodic job gufei.audit.checkpoint failed" in caplog.text
    assert scheduler.due["gufei.audit.checkpoint"] > now[0]  # tried again at its next turn


def test_the_scheduler_runs_only_where_no_celery_beat_does(app, monkeypatch):
    assert not jobs.wants_scheduler(app)  # tests drive jobs themselves
    monkeypatch.setitem(app.config, "TESTING", False)
    assert jobs.wants_scheduler(app)  # `make run`: no Redis, so the app process schedules
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/99")
    assert not jobs.wants_scheduler(app)  # Celery beat on the worker does it
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    monkeypatch.setitem(app.config, "PERIODIC_JOBS_IN_THREAD", False)
    assert not jobs.wants_scheduler(app)


def test_one_scheduler_thread_per_app_however_often_it_is_started(app, monkeypatch):
    monkeypatch.setattr(jobs, "_SCHEDULERS", {})
    first = jobs.start_scheduler(app)
    try:
        assert jobs.start_scheduler(app) is first
        assert [t for t in threading.enumerate() if t.name == "gufei-scheduler" and t.is_alive()]
    finally:
        first.stop.set()
