"""Background jobs: Celery on REDIS_URL, or in-process (synchronously, or in a thread) without it.

Jobs take ids, never ORM objects. A worker runs with the Flask app bound, e.g. a module holding
`app = create_app(); celery = app.extensions["celery"]` started as `celery -A that_module worker`.
"""
from __future__ import annotations

import logging
import threading
import uuid

from flask import Flask, current_app

from app.extensions import celery, db

logger = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Bind the Celery app to REDIS_URL and run every task inside an app context."""
    redis_url = app.config.get("REDIS_URL")
    celery.conf.update(
        broker_url=redis_url or "memory://", result_backend=redis_url or None,
        task_ignore_result=not redis_url, task_serializer="json", accept_content=["json"],
        task_always_eager=False, broker_connection_retry_on_startup=True,
    )

    class AppContextTask(celery.Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery.Task = AppContextTask
    app.extensions["celery"] = celery


@celery.task(name="gufei.clearing.run")
def run_clearing_task(run_id: int) -> str:
    """Celery task: execute one clearing run by id."""
    from app.services import clearing

    logger.info("clearing run %s starting in a worker", run_id)
    run = clearing.execute_run(db.session, run_id, reraise=True)
    logger.info("clearing run %s finished: %s", run_id, run.status)
    return run.status


def _run_in_thread(app: Flask, run_id: int) -> None:
    from app.services import clearing

    with app.app_context():
        logger.info("clearing run %s starting in a thread", run_id)
        clearing.execute_run(db.session, run_id)


def enqueue_clearing(run_id: int) -> str:
    """Start a clearing run as a job and return its job id."""
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        result = run_clearing_task.delay(run_id)
        logger.info("clearing run %s queued as Celery task %s", run_id, result.id)
        return result.id
    job_id = f"inline-{uuid.uuid4().hex[:12]}"
    if app.config.get("JOBS_IN_THREAD"):
        threading.Thread(target=_run_in_thread, args=(app, run_id), name=job_id, daemon=True).start()
        return job_id
    from app.services import clearing

    # Synchronous: the run row's job id is written first so the run page can show it.
    from models import MatchRun

    run = db.session.get(MatchRun, run_id)
    run.job_id = job_id
    db.session.commit()
    clearing.execute_run(db.session, run_id)
    return job_id
