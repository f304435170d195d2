"""Independent categories built and solved in parallel processes (fork), results identical to one process.

Each child inherits the app, opens its own database connections (never the parent's), builds and solves
one category and sends back the JSON payload the Celery workers use; the parent yields them in the
categories' order, so the join writes the same allocations whatever the number of processes.
"""
from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import sqlalchemy.orm as so
from flask import current_app

from models import WasteCategory

_APP = None  # the Flask app the forked children inherit


def _child_init() -> None:
    from app.extensions import db

    with _APP.app_context():
        # Connections are not shared across fork: drop the inherited pool without closing the parent's sockets.
        db.engine.dispose(close=False)


def _solve(category_id: int, today: dt.date) -> dict:
    from app.extensions import db
    from app.services.clearing import runs

    with _APP.app_context():
        try:
            category = db.session.get(WasteCategory, category_id)
            return runs.solved_to_payload(runs.solve_one_category(db.session, category, today))
        finally:
            db.session.remove()


def solve_in_processes(session: so.Session, categories: list[WasteCategory], today: dt.date,
                       workers: int) -> Iterator:
    """Solved categories, in order, computed by up to ``workers`` forked processes."""
    global _APP
    from app.services.clearing import runs

    _APP = current_app._get_current_object()
    ids = [c.id for c in categories]
    session.rollback()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(ids)), mp_context=context,
                             initializer=_child_init) as pool:
        futures = [pool.submit(_solve, i, today) for i in ids]
        for future in futures:
            yield runs.solved_from_payload(session, future.result())
