"""Clearing: one package whose modules are the stages, imported downward only.

``problem`` turns the database into a matching problem (shared with price guidance and scenarios),
``runs`` starts, builds, solves, fails and sweeps runs, ``write`` joins solved categories into the
database in bulk, ``queries`` reads runs back. Jobs call these services, never the other way round.
"""
from app.services.clearing.problem import (
    CLEARABLE_LOT_STATUSES,
    PENDING_ALLOCATION_STATUSES,
    CategoryProblem,
    build_category_problem,
    clearable_categories,
)
from app.services.clearing.queries import (
    HeldCategory,
    allocation_page,
    flows_geojson,
    held_categories,
    list_runs,
    run_allocations,
    run_status,
    run_summary,
    status_message,
    summary_figures,
)
from app.services.clearing.runs import (
    ClearingBusy,
    MarketMoved,
    SolvedCategory,
    begin_run,
    execute_run,
    fail_run,
    record_progress,
    result_from_payload,
    result_to_payload,
    solve_category,
    solve_one_category,
    solved_from_payload,
    solved_to_payload,
    start_clearing,
    sweep_stale_runs,
)
from app.services.clearing.write import join_run, money

__all__ = [
    "CLEARABLE_LOT_STATUSES", "PENDING_ALLOCATION_STATUSES", "CategoryProblem", "ClearingBusy", "HeldCategory",
    "MarketMoved", "SolvedCategory", "allocation_page", "begin_run", "build_category_problem",
    "clearable_categories", "execute_run", "fail_run", "flows_geojson", "held_categories", "join_run", "list_runs",
    "money", "record_progress", "result_from_payload", "result_to_payload", "run_allocations", "run_status",
    "run_summary", "solve_category", "solve_one_category", "solved_from_payload", "solved_to_payload",
    "start_clearing", "status_message", "summary_figures", "sweep_stale_runs",
]
