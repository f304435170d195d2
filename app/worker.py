"""The Celery entry module: `celery --app app.worker worker` builds the Flask app and exposes its Celery app."""
from __future__ import annotations

from celery.signals import worker_ready

from app import create_app

app = create_app()
celery = app.extensions["celery"]


@worker_ready.connect
def sweep_on_start(**_kwargs) -> None:
    """A starting worker first fails the runs its predecessors left running without a heartbeat."""
    from app.jobs import sweep_task

    sweep_task.delay()
