"""A Celery worker whose category solves take SLOW_SOLVE_SECONDS longer: used to kill a worker mid-run."""
import os
import time

from app.services.clearing import runs
from app.worker import celery  # noqa: F401 - the app celery's --app loads

_solve = runs.solve_category


def _slow_solve(part, solver="auto"):
    time.sleep(float(os.environ.get("SLOW_SOLVE_SECONDS", "0")))
    return _solve(part, solver)


runs.solve_category = _slow_solve  # where solve_one_category looks it up
