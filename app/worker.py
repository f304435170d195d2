"""The Celery entry module: `celery --app app.worker worker` builds the Flask app and exposes its Celery app."""
from __future__ import annotations

from celery.signals import worker_ready

from app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]  # the name celery's --app finds (a module attribute `app` would shadow it)


@worker_ready.connect
def sweep_on_start(**_kwargs) -> None:
    """A starting worker first fails the runs its predecessors left running without a heartbeat."""
    from app.jobs import sweep_task

    sweep_task.delay()
