"""API resource: clearing runs — start one, read its status and results and its allocations."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app import policy
from app.api import pagination, schemas
from app.api.allocations import allocation_out
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.extensions import db
from app.services import clearing
from models import Allocation, MatchRun


def _result_decimal(results: dict, key: str) -> Decimal | None:
    value = (results or {}).get(key)
    return None if value is None else Decimal(str(value))


def _held_by_run(runs: list[MatchRun]) -> dict[int, list[str]]:
    """Run id → codes of the categories it holds now (one query for the whole page)."""
    running = {r.id for r in runs if not r.finished_at}
    held: dict[int, list[str]] = {}
    for h in clearing.held_categories(db.session) if running else []:
        held.setdefault(h.run_id, []).append(h.category.code)
    return held


def run_out(run: MatchRun, held: dict[int, list[str]] | None = None) -> schemas.MatchRun:
    """A run with its status, the categories it holds while running and, once succeeded, its totals."""
    if held is None:
        held = _held_by_run([run])
    status = clearing.run_status(run, db.session)
    count = db.session.scalar(sa.select(sa.func.count(Allocation.id)).where(Allocation.run_id == run.id)) or 0
    return schemas.MatchRun(
        id=run.id, status=run.status, done=status["done"], category=run.category.code if run.category else None,
        progress_pct=run.progress_pct, message=status["message"], job_id=run.job_id, allocations=count,
        tonnes_matched=run.tonnes_matched, transport_cost_yuan=run.transport_cost_yuan,
        objective_yuan=run.objective_yuan, co2_t=run.co2_t,
        surplus_yuan=_result_decimal(run.results, "surplus_yuan"),
        seconds=run.seconds,
        failure_reason=run.failure_reason, timings=run.timings, locked_categories=held.get(run.id, []),
        created_at=run.created_at, started_at=run.started_at, finished_at=run.finished_at)


def _run(run_id: int) -> MatchRun:
    run = get_or_404(MatchRun, run_id)
    if run.is_scenario:
        return get_or_404(MatchRun, 0)
    return run


@op("GET", "/match-runs", summary="List clearing runs", tag="match-runs", query=schemas.PageQuery,
    response=schemas.MatchRunPage, allow=policy.may_see_clearing)
def list_runs(query: schemas.PageQuery):
    """The latest clearing runs (base officers, regulators); a running one lists the categories it holds."""
    page, cursor = pagination.after_id(clearing.list_runs(db.session, limit=500), query.cursor, query.limit)
    held = _held_by_run(page)
    return schemas.MatchRunPage(items=[run_out(r, held) for r in page], next_cursor=cursor)


@op("POST", "/match-runs", summary="Start a clearing", tag="match-runs", body=schemas.MatchRunIn,
    response=schemas.MatchRun, status=202, allow=policy.may_start_clearing)
def start_run(body: schemas.MatchRunIn):
    """Queue a clearing of every category (or one) as a job; poll the run until `done`."""
    user = current_user()
    try:
        run = clearing.start_clearing(db.session, user, body.category)
    except clearing.ClearingBusy as exc:
        raise ApiError(409, exc.message, slug="clearing-busy") from None
    db.session.refresh(run)
    return run_out(run)


@op("GET", "/match-runs/<int:run_id>", summary="Read a clearing run", tag="match-runs", response=schemas.MatchRun,
    allow=policy.may_see_clearing)
def get_run(run_id: int):
    """A run's status, progress and totals."""
    return run_out(_run(run_id))


@op("GET", "/match-runs/<int:run_id>/allocations", summary="Allocations of a clearing run", tag="match-runs",
    query=schemas.PageQuery, response=schemas.AllocationPage, allow=policy.may_see_clearing)
def run_allocations(run_id: int, query: schemas.PageQuery):
    """The allocations a run proposed."""
    user = current_user()
    _run(run_id)
    position = pagination.decode(query.cursor, ("before",))
    stmt = sa.select(Allocation).where(Allocation.run_id == run_id).order_by(Allocation.id.desc())
    if position is not None:
        stmt = stmt.where(Allocation.id < position["before"])
    rows = list(db.session.scalars(stmt.limit(query.limit + 1)))
    page, cursor = pagination.after_id(rows, None, query.limit)
    # Officers of a base see the allocations touching their base; the province sees all.
    page = [a for a in page if policy.may_see_allocation(user, a)]
    return schemas.AllocationPage(items=[allocation_out(a, user) for a in page], next_cursor=cursor)
