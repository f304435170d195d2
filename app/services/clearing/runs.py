"""Clearing runs: start one (locking its categories), build and solve each category, fail or sweep a run.

Stages of a run: ``queued`` → ``building`` → ``solving`` (categories done / total) → ``writing`` →
succeeded, or failed with a reason code the pages translate (FAILURE_REASONS); the log keeps the detail.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

import matching
from app.services import audit
from app.services.clearing import problem as problems
from app.services.errors import ServiceError
from matching.solve import collector_paused
from models import ClearingLock, MatchRun, User, WasteCategory, utcnow

logger = logging.getLogger(__name__)

FAILURE_REASONS = ("enqueue_failed", "stuck_queued", "worker_lost", "database_error", "market_moved",
                   "solver_error", "internal_error")


class ClearingBusy(ServiceError):
    """A category the new run needs is being cleared by another run (HTTP 409)."""

    status = 409

    def __init__(self, message: str, run_id: int | None) -> None:
        super().__init__(message, field="category")
        self.run_id = run_id


class MarketMoved(ServiceError):
    """A lot, bid or profile changed between the build and the join: nothing of the category is written."""


# ----------------------------------------------------------------------------- starting a run


def _lock_categories(session: so.Session, run: MatchRun, category: WasteCategory | None) -> None:
    """Insert one lock row per category the run covers (all of them for a province-wide run).

    The primary key on the category makes the database refuse a second holder, whatever the timing.
    """
    ids = [category.id] if category else list(session.scalars(sa.select(WasteCategory.id).order_by(WasteCategory.id)))
    session.execute(sa.insert(ClearingLock), [{"category_id": i, "run_id": run.id} for i in ids])


def _busy(session: so.Session, category: WasteCategory | None, locale: str | None) -> ClearingBusy:
    holder = session.execute(sa.select(ClearingLock.run_id, WasteCategory).join(
        WasteCategory, WasteCategory.id == ClearingLock.category_id).where(
        *([ClearingLock.category_id == category.id] if category else [])).limit(1)).first()
    if holder is None:  # the other run ended meanwhile: a retry will succeed
        return ClearingBusy(_("Another clearing was starting at the same moment; please try again."), None)
    run_id, held = holder
    return ClearingBusy(_("A clearing of %(category)s is already under way (run %(run)d); wait until it ends.",
                          category=held.display_name(locale or "zh_CN"), run=run_id), run_id)


def start_clearing(session: so.Session, user: User | None, category_code: str | None = None,
                   enqueue: Callable[[int], str] | None = None, locale: str | None = None,
                   sweep: Callable[[], Any] | None = None) -> MatchRun:
    """Queue a clearing run (optionally for one category) and hand it to the job queue.

    Raises ClearingBusy when another run holds one of its categories. Runs whose worker is gone are swept
    first, so a crashed worker never holds a category for ever. A run that cannot be enqueued (the broker
    is down) is failed at once with reason ``enqueue_failed``.
    """
    queue = current_app.extensions["clearing_queue"]  # bound by app.jobs.init_app
    (sweep or queue.sweep)()
    category = None
    if category_code:
        category = session.scalar(sa.select(WasteCategory).where(WasteCategory.code == category_code))
        if category is None:
            raise ServiceError(_("Unknown category %(code)s.", code=category_code), field="category")
    run = MatchRun(status="queued", category_id=category.id if category else None, solver="auto",
                   parameters={"category": category_code or None,
                               "deadline_days": current_app.config["ALLOCATION_DEADLINE_DAYS"]},
                   created_by_id=user.id if user else None, progress_pct=0, stage="queued", message="queued")
    session.add(run)
    try:
        session.flush()
        _lock_categories(session, run, category)
        audit.record(session, user.id if user else None, "match_run", run.id, "queued", {"category": category_code})
        session.commit()
    except sa_exc.IntegrityError:
        session.rollback()
        raise _busy(session, category, locale) from None
    enqueue = enqueue or queue.enqueue
    run_id = run.id
    try:
        job_id = enqueue(run_id)
    except Exception as exc:  # the broker refused or timed out: the run must not stay queued for ever
        logger.exception("clearing run %s could not be enqueued", run_id)
        fail_run(session, run_id, "enqueue_failed", f"could not enqueue: {type(exc).__name__}")
        return session.get(MatchRun, run_id)
    session.execute(sa.update(MatchRun).where(MatchRun.id == run_id).values(job_id=job_id)
                    .execution_options(synchronize_session=False))
    session.commit()
    return session.get(MatchRun, run_id, populate_existing=True)


# ----------------------------------------------------------------------------- building and solving


@dataclass
class SolvedCategory:
    """One category's solved result with what the join needs to write it: the unit passed between workers."""

    category: WasteCategory
    result: matching.Result | None  # None while its prices and explanations are being worked out (`pending`)
    snapshot: dict[str, Any]
    # demand id → (facility, bid, profile), for the demands that received an allocation
    demand_refs: dict[str, tuple[int, int | None, int | None]] = field(default_factory=dict)
    # (road km, rail km or None) aligned with the allocations
    arc_km: list[tuple[float, float | None]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    allocations: list[matching.Allocation] | None = None  # the result's, known before the rest of it
    pending: Future | None = None  # (result, seconds) of the prices and explanations

    def __post_init__(self) -> None:
        if self.allocations is None:
            self.allocations = self.result.allocations

    def finished(self) -> matching.Result:
        """The full result, once its prices and explanations are worked out (Unfinished if that failed)."""
        if self.result is None:
            try:
                self.result, seconds = self.pending.result()
            except Exception as exc:  # the category fails alone, as if its solve had failed
                logger.exception("clearing: category %s could not be solved", self.category.code)
                raise Unfinished(reason_of(exc)) from exc
            finally:
                self.pending = None
            self.timings["solve"] = self.timings.get("solve", 0.0) + seconds
        return self.result


class Unfinished(Exception):
    """A category whose prices and explanations could not be worked out: reported, nothing of it written."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def solve_category(part: problems.CategoryProblem, solver: str = "auto") -> matching.Result | matching.FlowSolution:
    """Solve one category's problem (the unit of parallel work): its Result.

    Called by `solve_one_category` with somewhere to finish it, a non-empty problem's flow solution instead:
    its prices and explanations are then worked out there, meanwhile.
    """
    if part.problem.is_empty:
        return _empty_result(part)
    if _FINISH_IN.get() is not None:
        return matching.solve_category_flow(part.problem, solver)
    return matching.solve_category(part.problem, solver)


# Where `solve_category` leaves the rest of the solve to be worked out (set by solve_one_category).
_FINISH_IN: ContextVar[Executor | None] = ContextVar("finish_in", default=None)


def _empty_result(part: problems.CategoryProblem) -> matching.Result:
    unmatched = [matching.Unmatched(lot.id, lot.tonnes, "no_compatible_recycler", "no demand for this category")
                 for lot in part.problem.lots]
    return matching.Result("optimal", Decimal(0), unmatched=unmatched, solver="mincostflow", gap=0.0)


def _timed_finish(solution: matching.FlowSolution) -> tuple[matching.Result, float]:
    started = time.perf_counter()
    return solution.finish(), time.perf_counter() - started


def solve_one_category(session: so.Session, category: WasteCategory, today: dt.date,
                       finish_in: Executor | None = None) -> SolvedCategory:
    """Build and solve one category's problem, then release its arrays (the unit of parallel work).

    With ``finish_in``, the prices and explanations (the part of the solve the allocations do not need)
    are worked out there, e.g. while the join writes the allocations; `SolvedCategory.finished` waits.
    """
    started = time.perf_counter()
    part = problems.build_category_problem(session, category, today)
    session.rollback()  # end the read transaction: a long solve must not hold a snapshot open
    built = time.perf_counter()
    token = _FINISH_IN.set(finish_in)
    try:
        outcome = solve_category(part)  # looked up here, so a test or a slow worker can wrap it
    finally:
        _FINISH_IN.reset(token)
    solved = time.perf_counter()
    result, solution = (None, outcome) if isinstance(outcome, matching.FlowSolution) else (outcome, None)
    allocations = outcome.allocations
    used = sorted({a.demand_id for a in allocations})
    out = SolvedCategory(category, result, part.snapshot(), {d: part.demand_ref(d) for d in used},
                         part.arc_km([a.lot_id for a in allocations], [a.demand_id for a in allocations]),
                         {"build": built - started, "solve": solved - built}, allocations)
    if result is None:
        out.pending = finish_in.submit(_timed_finish, solution)
    part.release()
    return out


def _set_progress(session: so.Session, run_id: int, **values: Any) -> None:
    session.execute(sa.update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "running")
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()


def begin_run(session: so.Session, run_id: int) -> tuple[MatchRun, list[WasteCategory]]:
    """Mark a queued run running and return it with the categories to solve (none if it is not runnable)."""
    run = session.get(MatchRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise ServiceError(f"no match run {run_id}")
    if run.status not in ("queued", "running"):
        session.rollback()
        return run, []
    categories = [run.category] if run.category else problems.clearable_categories(session)
    run.status = "running"
    run.started_at = run.started_at or utcnow()
    run.stage, run.progress_pct, run.message = "building", 5, "building"
    run.categories_total = len(categories)
    session.commit()
    return run, categories


def record_progress(session: so.Session, run_id: int, done: int, total: int) -> None:
    """Categories done / total on the run, never moving backwards (workers finish in any order)."""
    pct = 10 + int(80 * done / max(1, total))
    session.execute(sa.update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "running",
                                              MatchRun.progress_pct < pct)
                    .values(progress_pct=pct, stage="solving", categories_done=done, categories_total=total,
                            message=f"solved {done}/{total} categories")
                    .execution_options(synchronize_session=False))
    session.commit()


def reason_of(exc: BaseException) -> str:
    """The failure reason code of an exception raised while clearing."""
    if isinstance(exc, MarketMoved):
        return "market_moved"
    if isinstance(exc, Unfinished):
        return exc.reason
    if isinstance(exc, sa_exc.SQLAlchemyError):
        return "database_error"
    if isinstance(exc, (matching.ProblemError, matching.SolverError)):
        return "solver_error"
    return "internal_error"


def execute_run(session: so.Session, run_id: int, reraise: bool = False, workers: int | None = None) -> MatchRun:
    """Run a queued clearing in this process: build and solve per category, then write per category."""
    run, categories = begin_run(session, run_id)
    if run.status != "running":
        return run
    # Rows, Decimals and payloads by the hundred thousand: the collector cost 0.17-0.31 s of a 2.7 s run.
    with collector_paused():
        _execute(session, run_id, categories, reraise, workers)
    return session.get(MatchRun, run_id, populate_existing=True)


def _execute(session: so.Session, run_id: int, categories: list[WasteCategory], reraise: bool,
             workers: int | None) -> None:
    from app.services.clearing import write

    try:
        today = utcnow().date()
        solved, failed = [], {}
        # The last category's prices and explanations are worked out in a thread while the join writes.
        with ThreadPoolExecutor(1) as finishing:
            for done, part in enumerate(solve_categories(session, categories, today, workers, finishing), start=1):
                if isinstance(part, CategoryFailed):
                    failed[part.code] = part.reason  # one bad category does not sink the others
                else:
                    solved.append(part)
                record_progress(session, run_id, done, len(categories))
            write.join_run(session, run_id, solved, failed)
    except Exception as exc:  # recorded on the run (reason) and logged (detail); re-raised for Celery
        logger.exception("clearing run %s failed", run_id)
        fail_run(session, run_id, reason_of(exc), f"{type(exc).__name__}")
        if reraise:
            raise


def solve_categories(session: so.Session, categories: list[WasteCategory], today: dt.date,
                     workers: int | None = None, finish_in: Executor | None = None):
    """Solved categories one by one, in parallel processes when more than one worker is configured.

    ``finish_in``: where the last category's prices and explanations are worked out (in one process).
    """
    workers = workers if workers is not None else int(current_app.config.get("CLEARING_WORKERS", 1))
    if workers > 1 and len(categories) > 1:
        from app.services.clearing import parallel

        yield from parallel.solve_in_processes(session, categories, today, workers)
        return
    for k, category in enumerate(categories):
        code = category.code
        try:
            yield solve_one_category(session, category, today, finish_in if k == len(categories) - 1 else None)
        except Exception as exc:  # the category fails alone; logged with its traceback, reason on the run
            logger.exception("clearing: category %s could not be built or solved", code)
            session.rollback()
            yield CategoryFailed(code, reason_of(exc))


@dataclass(frozen=True)
class CategoryFailed:
    """A category that could not be built or solved: reported on the run, the others still written."""

    code: str
    reason: str


# ----------------------------------------------------------------------------- ending a run


def release_locks(session: so.Session, run_id: int) -> None:
    """Free the run's categories (in the caller's transaction)."""
    session.execute(sa.delete(ClearingLock).where(ClearingLock.run_id == run_id)
                    .execution_options(synchronize_session=False))


def fail_run(session: so.Session, run_id: int, reason: str, detail: str = "", seconds: float | None = None) -> bool:
    """Mark a queued or running run failed with a reason code; nothing of it is written; False if it had ended."""
    session.rollback()
    logger.error("clearing run %s failed (%s): %s", run_id, reason, detail)
    run = session.get(MatchRun, run_id, with_for_update=True, populate_existing=True)
    if run is None or run.status not in ("queued", "running"):
        session.rollback()
        return False
    run.status, run.stage, run.failure_reason = "failed", "failed", reason
    run.message = reason if not detail else f"{reason}: {detail}"[:500]
    run.finished_at = utcnow()
    started = run.started_at or run.created_at
    if seconds is None and started is not None:
        started = started if started.tzinfo else started.replace(tzinfo=dt.UTC)
        seconds = (run.finished_at - started).total_seconds()
    run.seconds = seconds
    release_locks(session, run_id)
    audit.record(session, run.created_by_id, "match_run", run.id, "failed", {"reason": reason})
    session.commit()
    return True


def sweep_stale_runs(session: so.Session, is_alive: Callable[[int], bool], queued_timeout_s: float | None = None,
                     now: dt.datetime | None = None) -> list[int]:
    """Fail running runs whose workers stopped beating and runs queued longer than the timeout."""
    failed = []
    for run_id in session.scalars(sa.select(MatchRun.id).where(MatchRun.status == "running")).all():
        if not is_alive(run_id) and fail_run(session, run_id, "worker_lost", "no heartbeat"):
            failed.append(run_id)
    if queued_timeout_s is not None:
        cutoff = (now or utcnow()) - dt.timedelta(seconds=queued_timeout_s)
        stuck = session.scalars(sa.select(MatchRun.id).where(MatchRun.status == "queued",
                                                             MatchRun.created_at < cutoff)).all()
        failed += [run_id for run_id in stuck if fail_run(session, run_id, "stuck_queued", "no worker took it")]
    session.rollback()
    return failed


# ----------------------------------------------------------------------------- payloads between workers


def solved_to_payload(solved: SolvedCategory) -> dict[str, Any]:
    """A JSON-safe, lossless form of a solved category (Decimals as strings) for the Celery result backend."""
    return {
        "category_id": solved.category.id,
        "demand_refs": {k: list(v) for k, v in solved.demand_refs.items()},
        "arc_km": [list(x) for x in solved.arc_km],
        "snapshot": solved.snapshot,
        "timings": solved.timings,
        "result": result_to_payload(solved.result),
    }


def solved_from_payload(session: so.Session, data: dict[str, Any]) -> SolvedCategory:
    """The inverse of solved_to_payload."""
    return SolvedCategory(
        category=session.get(WasteCategory, data["category_id"]), result=result_from_payload(data["result"]),
        snapshot=data["snapshot"], demand_refs={k: tuple(v) for k, v in data["demand_refs"].items()},
        arc_km=[tuple(x) for x in data["arc_km"]], timings=data.get("timings", {}))


_DECIMAL_FIELDS = ("tonnes", "surplus_yuan_per_t", "surplus_yuan", "transport_yuan_per_t", "transport_cost_yuan",
                   "price_yuan_per_t", "reserve_yuan_per_t", "netback_yuan_per_t")


def result_to_payload(r: matching.Result) -> dict[str, Any]:
    """A matching.Result as JSON without losing precision (ids keep their JSON type)."""
    return {
        "status": r.status, "objective_yuan": str(r.objective_yuan), "solver": r.solver, "gap": r.gap,
        "timings": r.timings,
        "allocations": [[a.lot_id, a.demand_id, *(str(getattr(a, f)) for f in _DECIMAL_FIELDS), a.km, a.co2_kg]
                        for a in r.allocations],
        "unmatched": [[u.lot_id, str(u.tonnes), u.reason, u.message, _plain(u.details)]
                      for u in r.unmatched],
        "lot_prices": [[k, str(v)] for k, v in r.lot_prices.items()],
        "demand_prices": [[k, str(v)] for k, v in r.demand_prices.items()],
    }


def _plain(value: Any) -> Any:
    """Explanation details as JSON: Decimals and numpy numbers as floats, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, (Decimal, np.floating)):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def result_from_payload(data: dict[str, Any]) -> matching.Result:
    """The inverse of result_to_payload."""
    allocations = []
    for lot_id, demand_id, *rest in data["allocations"]:
        values = dict(zip(_DECIMAL_FIELDS, (Decimal(v) for v in rest[:-2]), strict=True))
        allocations.append(matching.Allocation(lot_id=lot_id, demand_id=demand_id, km=rest[-2], co2_kg=rest[-1],
                                               **values))
    return matching.Result(
        status=data["status"], objective_yuan=Decimal(data["objective_yuan"]), allocations=allocations,
        lot_prices={k: Decimal(v) for k, v in data["lot_prices"]},
        demand_prices={k: Decimal(v) for k, v in data["demand_prices"]},
        unmatched=[matching.Unmatched(lot, Decimal(t), reason, message, details)
                   for lot, t, reason, message, details in data["unmatched"]],
        timings=data["timings"], solver=data["solver"], gap=data["gap"])
