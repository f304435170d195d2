"""Background jobs: Celery on REDIS_URL, or in-process without it (a worker thread; synchronous in tests/CLI).

A clearing on Celery fans out: `gufei.clearing.run` marks the run running and starts a chord of one
`gufei.clearing.category` task per category; each builds and solves its category and returns the solved
category as a JSON payload (kept in the Redis result backend); `gufei.clearing.join` writes every
allocation, each category all or nothing. A failure marks the run failed with a reason code. Workers beat
a Redis key per run while they work; `gufei.clearing.sweep` (every CLEARING_SWEEP_SECONDS, when a worker
starts, and before every new clearing) fails any running run whose key expired — a worker killed mid-run —
and any run left queued longer than CLEARING_QUEUED_TIMEOUT_SECONDS. Without Redis a run's job id names its
host, process and thread, which is what the sweep checks. Broker timeouts are short: an enqueue against a
Redis that is down fails in about a second and the run is failed at once.

Jobs take ids, never ORM objects. Workers start from `app.worker` (`celery --app app.worker worker`).
"""
from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from celery import chord
from flask import Flask, current_app

from app.extensions import celery, db

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ClearingQueue:
    """How the clearing service hands a run to a worker and sweeps runs whose worker is gone."""

    enqueue: Callable[[int], str]
    sweep: Callable[[], list[int]]


# Periodic jobs, named once for Celery beat (`make worker`) and for the in-process scheduler (no REDIS_URL):
# schedule entry → (task name, the setting holding its interval in seconds).
PERIODIC_JOBS = {
    "sweep-stale-clearing-runs": ("gufei.clearing.sweep", "CLEARING_SWEEP_SECONDS"),
    "expire-overdue-allocations": ("gufei.allocations.expire", "ALLOCATION_EXPIRY_SECONDS"),
    "checkpoint-audit-chain": ("gufei.audit.checkpoint", "AUDIT_CHECKPOINT_SECONDS"),
}

HEARTBEAT_KEY = "gufei:clearing:{run_id}:heartbeat"
DONE_KEY = "gufei:clearing:{run_id}:done"


def init_app(app: Flask) -> None:
    """Bind the Celery app to REDIS_URL and run every task inside an app context."""
    redis_url = app.config.get("REDIS_URL")
    celery.conf.update(
        broker_url=redis_url or "memory://", result_backend=redis_url or None,
        task_ignore_result=not redis_url, task_serializer="json", result_serializer="json",
        accept_content=["json"], task_always_eager=False, broker_connection_retry_on_startup=True,
        # A task is acknowledged only when it finished; a worker lost mid-task leaves it to be redelivered
        # (the redelivered clearing task finds its run failed by the sweep and does nothing).
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        result_expires=24 * 3600, result_extended=False,
        # A broker that is down must fail the enqueue within seconds, not hang the request.
        broker_connection_timeout=2, broker_connection_max_retries=1,
        broker_transport_options={"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 1},
        redis_socket_connect_timeout=2, redis_socket_timeout=5,
        result_backend_transport_options={"retry_policy": {"max_retries": 1, "interval_start": 0,
                                                           "interval_step": 0.5, "interval_max": 0.5}},
        beat_schedule={name: {"task": task, "schedule": float(app.config[setting])}
                       for name, (task, setting) in PERIODIC_JOBS.items()},
    )

    class AppContextTask(celery.Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery.Task = AppContextTask
    app.extensions["celery"] = celery
    # Services reach the queue through the app, so they never import this module (jobs call services).
    app.extensions["clearing_queue"] = ClearingQueue(enqueue_clearing, sweep_stale)
    if wants_scheduler(app):
        # Serving without Celery (`make run`): the first request starts the scheduler thread, so CLI commands
        # and migrations, which build the app too, never run jobs behind the operator's back.
        app.before_request(lambda: start_scheduler(app) and None)


# ----------------------------------------------------------------------------- heartbeats


def _redis():
    import redis

    return redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)


def _ttl() -> int:
    return int(current_app.config.get("CLEARING_HEARTBEAT_SECONDS", 60))


def beat(run_id: int) -> None:
    """Record that a worker is alive and working on this run."""
    _redis().set(HEARTBEAT_KEY.format(run_id=run_id), str(time.time()), ex=_ttl())


def is_alive(run_id: int) -> bool:
    """Whether a worker beat for this run within the heartbeat period."""
    return bool(_redis().exists(HEARTBEAT_KEY.format(run_id=run_id)))


@contextlib.contextmanager
def beating(run_id: int) -> Iterator[None]:
    """Beat for the run every third of the heartbeat period while the block runs (a long solve included)."""
    beat(run_id)
    stop = threading.Event()
    interval = max(0.5, _ttl() / 3)
    app = current_app._get_current_object()

    def loop():
        with app.app_context():
            while not stop.wait(interval):
                beat(run_id)

    thread = threading.Thread(target=loop, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ----------------------------------------------------------------------------- Celery tasks


@celery.task(name="gufei.clearing.run")
def run_clearing_task(run_id: int) -> str:
    """Celery task: mark the run running and fan out one task per category, joined by `gufei.clearing.join`."""
    from app.services import clearing

    with beating(run_id):
        try:
            run, categories = clearing.begin_run(db.session, run_id)
            if run.status != "running":
                return run.status
            _redis().delete(DONE_KEY.format(run_id=run_id))
            total = len(categories)
            header = [solve_category_task.s(run_id, c.id, total) for c in categories]
            if not header:  # nothing to clear: the join writes an empty, successful run
                join_clearing_task.delay([], run_id, time.time())
                return "running"
            chord(header)(join_clearing_task.s(run_id, time.time()))
        except Exception as exc:  # failed now with its reason, not left queued (or running unbeaten) for the sweep
            from app.services.clearing import runs

            logger.exception("clearing run %s could not start", run_id)
            clearing.fail_run(db.session, run_id, runs.reason_of(exc), type(exc).__name__)
            return "failed"
        logger.info("clearing run %s fanned out to %d category tasks", run_id, total)
        return "running"


@celery.task(name="gufei.clearing.category")
def solve_category_task(run_id: int, category_id: int, total: int) -> dict:
    """Celery task: build and solve one category of a run; returns the solved payload, or {"error": ...}."""
    from app.services import clearing
    from models import MatchRun, WasteCategory, utcnow

    run = db.session.get(MatchRun, run_id)
    if run is None or run.status != "running":
        return {"skipped": run_id}
    category = db.session.get(WasteCategory, category_id)
    try:
        with beating(run_id):
            payload = clearing.solved_to_payload(clearing.solve_one_category(db.session, category, utcnow().date()))
    except Exception as exc:  # reported to the join, which fails the run; logged with its traceback here
        from app.services.clearing import runs

        logger.exception("clearing run %s: category %s failed", run_id, category.code)
        db.session.rollback()
        return {"error": f"{category.code}: {type(exc).__name__}", "reason": runs.reason_of(exc),
                "category": category.code}
    done = _redis().incr(DONE_KEY.format(run_id=run_id))
    clearing.record_progress(db.session, run_id, done, total)
    logger.info("clearing run %s: category %s solved (%d/%d)", run_id, category.code, done, total)
    return payload


@celery.task(name="gufei.clearing.join")
def join_clearing_task(payloads: list[dict], run_id: int, started_at: float | None = None) -> str:
    """Celery task: write the run's allocations (each category all or nothing), or fail the run."""
    from app.services import clearing
    from app.services.clearing import runs
    from models import MatchRun

    if any("skipped" in p for p in payloads):
        clearing.fail_run(db.session, run_id, "worker_lost", "a category task found the run no longer running")
        return "failed"
    # A category that could not be solved fails alone: the join writes the others and reports it.
    failed = {p["category"]: p.get("reason", "internal_error") for p in payloads if "error" in p}
    try:
        with beating(run_id), runs.collector_paused():
            solved = [clearing.solved_from_payload(db.session, p) for p in payloads if "error" not in p]
            clearing.join_run(db.session, run_id, solved, failed)
    except Exception as exc:  # recorded on the run; nothing of the join was committed
        logger.exception("clearing run %s: join failed", run_id)
        clearing.fail_run(db.session, run_id, runs.reason_of(exc), type(exc).__name__)
        return "failed"
    finally:
        _redis().delete(DONE_KEY.format(run_id=run_id))
    return db.session.get(MatchRun, run_id).status


@celery.task(name="gufei.clearing.sweep")
def sweep_task() -> list[int]:
    """Celery task: fail running runs whose workers stopped beating."""
    return _sweep_job()


def expire_allocations() -> int:
    """Expire allocations past their answer deadline (their tonnes go back to the lots); return how many."""
    from app.services import awards

    expired = awards.expire_overdue(db.session)
    if expired:
        logger.info("expired %d overdue allocations", expired)
    return expired


def checkpoint_audit() -> int | None:
    """Sign the audit chain's head; return the event it signed (None: no events yet)."""
    from app.services import audit

    mark = audit.checkpoint(db.session)
    if mark is not None:
        logger.info("audit checkpoint at event %s (%s events)", mark.event_id, mark.event_count)
    return mark.event_id if mark else None


@celery.task(name="gufei.allocations.expire")
def expire_allocations_task() -> int:
    """Celery task (beat): expire overdue allocations."""
    return expire_allocations()


@celery.task(name="gufei.audit.checkpoint")
def audit_checkpoint_task() -> int | None:
    """Celery task (beat): sign the audit chain's head."""
    return checkpoint_audit()


# ----------------------------------------------------------------------------- in-process scheduler


def _sweep_job() -> list[int]:
    failed = sweep_stale()
    if failed:
        logger.warning("marked stale clearing runs failed: %s", failed)
    return failed


# Task name → the function the in-process scheduler calls for it (the Celery tasks call the same functions).
IN_PROCESS_JOBS: dict[str, Callable[[], object]] = {
    "gufei.clearing.sweep": _sweep_job,
    "gufei.allocations.expire": expire_allocations,
    "gufei.audit.checkpoint": checkpoint_audit,
}


class Scheduler:
    """Runs PERIODIC_JOBS inside the app process, each every its interval, one at a time, each in its own app
    context; a failing job is logged with its traceback and tried again at its next turn."""

    def __init__(self, app: Flask, clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.clock = app, clock
        self.intervals = {task: float(app.config[setting]) for task, setting in PERIODIC_JOBS.values()}
        # First turns one interval after start: a restart loop never hammers the database.
        self.due = {task: clock() + interval for task, interval in self.intervals.items()}
        self.stop = threading.Event()

    def tick(self) -> list[str]:
        """Run every job that is due now; return their task names."""
        ran = []
        for task, due in sorted(self.due.items(), key=lambda item: item[1]):
            if self.clock() < due:
                continue
            with self.app.app_context():
                try:
                    IN_PROCESS_JOBS[task]()
                except Exception:  # a scheduler outlives one bad turn; the log keeps the detail
                    logger.exception("periodic job %s failed", task)
                    db.session.rollback()
                finally:
                    db.session.remove()
            self.due[task] = self.clock() + self.intervals[task]
            ran.append(task)
        return ran

    def run(self) -> None:
        """Tick until stopped, sleeping until the next job is due."""
        while not self.stop.wait(max(0.0, min(self.due.values()) - self.clock())):
            self.tick()


def wants_scheduler(app: Flask) -> bool:
    """Whether this app runs the periodic jobs itself: no Celery beat (no REDIS_URL), not switched off, not a test."""
    return not app.config.get("REDIS_URL") and bool(app.config.get("PERIODIC_JOBS_IN_THREAD")) and not app.testing


_SCHEDULERS: dict[int, Scheduler] = {}
_SCHEDULER_LOCK = threading.Lock()


def start_scheduler(app: Flask) -> Scheduler:
    """Start this process's scheduler thread for the app once (later calls return the running one)."""
    running = _SCHEDULERS.get(id(app))
    if running is not None:  # every request asks: no lock once it runs
        return running
    with _SCHEDULER_LOCK:
        scheduler = _SCHEDULERS.get(id(app))
        if scheduler is None:
            scheduler = _SCHEDULERS[id(app)] = Scheduler(app)
            threading.Thread(target=scheduler.run, name="gufei-scheduler", daemon=True).start()
            logger.info("periodic jobs run in this process: %s", ", ".join(sorted(scheduler.intervals)))
        return scheduler


# ----------------------------------------------------------------------------- enqueueing


def _run_in_thread(app: Flask, run_id: int, job_id: str) -> None:
    from app.services import clearing

    with app.app_context():
        logger.info("clearing run %s starting in a thread", run_id)
        try:
            clearing.execute_run(db.session, run_id)
        finally:
            db.session.remove()
            _THREADS.pop(job_id, None)


_THREADS: dict[str, threading.Thread] = {}  # job id → worker thread of this process
_THREAD_JOB = "thread-{host}-{pid}-{token}"


def _thread_job_alive(job_id: str | None) -> bool:
    """Whether an in-process job still runs: its thread (this process) or its process (this host) is alive.

    Job ids of another host or of another kind are taken as alive: only what can be checked is failed.
    """
    parts = (job_id or "").split("-")
    if len(parts) < 4 or parts[0] != "thread" or "-".join(parts[1:-2]) != socket.gethostname():
        return True
    pid = int(parts[-2]) if parts[-2].isdigit() else -1
    if pid == os.getpid():
        thread = _THREADS.get(job_id)
        return thread is not None and thread.is_alive()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[int]:
    """Fail runs whose worker is gone (Redis heartbeats, or in-process threads) and runs stuck queued."""
    from app.services import clearing
    from models import MatchRun

    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        def alive(run_id: int) -> bool:
            try:
                return is_alive(run_id)
            except Exception:  # Redis unreachable: judge nothing now, the enqueue will say so
                logger.warning("cannot check heartbeats: Redis unreachable")
                return True
    else:
        def alive(run_id: int) -> bool:
            return _thread_job_alive(db.session.scalar(sa.select(MatchRun.job_id).where(MatchRun.id == run_id)))
    return clearing.sweep_stale_runs(db.session, alive, app.config.get("CLEARING_QUEUED_TIMEOUT_SECONDS"))


def enqueue_clearing(run_id: int) -> str:
    """Start a clearing run as a job and return its job id.

    With REDIS_URL: a Celery task (a broker that is down raises within seconds). Without: a worker thread
    of this process (JOBS_IN_THREAD, the default), so the request returns at once and the page polls the
    same status JSON; tests and the CLI run it synchronously instead.
    """
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        result = run_clearing_task.apply_async(args=[run_id], retry=False)
        logger.info("clearing run %s queued as Celery task %s", run_id, result.id)
        return result.id
    if app.config.get("JOBS_IN_THREAD", True):
        job_id = _THREAD_JOB.format(host=socket.gethostname(), pid=os.getpid(), token=uuid.uuid4().hex[:12])
        thread = threading.Thread(target=_run_in_thread, args=(app, run_id, job_id), name=job_id, daemon=True)
        _THREADS[job_id] = thread
        thread.start()
        return job_id
    job_id = f"inline-{uuid.uuid4().hex[:12]}"
    from app.services import clearing

    clearing.execute_run(db.session, run_id)
    return job_id


# ----------------------------------------------------------------------------- dispatch plans


@celery.task(name="gufei.dispatch.plan")
def plan_dispatch_task(plan_id: int) -> str:
    """Solve one dispatch plan (routing is single-threaded: one worker slot per plan)."""
    from app.services import dispatch

    plan = dispatch.execute_plan(db.session, plan_id)
    return plan.status if plan else "missing"


def _plan_in_thread(app: Flask, plan_id: int) -> None:
    from app.services import dispatch

    with app.app_context():
        logger.info("dispatch plan %s starting in a thread", plan_id)
        dispatch.execute_plan(db.session, plan_id)


def enqueue_dispatch(plan_id: int) -> str:
    """Start solving a dispatch plan as a job and return its job id."""
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        return plan_dispatch_task.delay(plan_id).id
    job_id = f"inline-{uuid.uuid4().hex[:12]}"
    if app.config.get("JOBS_IN_THREAD"):
        threading.Thread(target=_plan_in_thread, args=(app, plan_id), name=job_id, daemon=True).start()
        return job_id
    from app.services import dispatch

    dispatch.execute_plan(db.session, plan_id)
    return job_id
