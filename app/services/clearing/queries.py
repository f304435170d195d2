"""Reading clearing runs: status for the poller (translated), summaries, allocation pages, flow lines."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from models import Allocation, ClearingLock, Lot, MatchRun, WasteCategory

FAILURE_MESSAGES = {
    "enqueue_failed": _l("The clearing could not be handed to a worker: the job queue is unreachable. "
                         "Nothing was written; try again later."),
    "stuck_queued": _l("No worker took the clearing in time. Nothing was written; try again."),
    "worker_lost": _l("The worker running the clearing stopped. Nothing was written; run it again."),
    "database_error": _l("A database error stopped the clearing. Nothing was written; the operators have the "
                         "details in the log."),
    "market_moved": _l("Lots, bids or standing demand changed while the clearing ran. Nothing was written; "
                       "run it again."),
    "solver_error": _l("The solver could not clear this market. Nothing was written."),
    "internal_error": _l("The clearing stopped on an internal error. Nothing was written; the operators have "
                         "the details in the log."),
}


def _category_names(session: so.Session, codes: list[str], locale: str) -> str:
    rows = session.scalars(sa.select(WasteCategory).where(WasteCategory.code.in_(codes))).all()
    return "、".join(sorted(c.display_name(locale) for c in rows)) if locale.startswith("zh") else ", ".join(
        sorted(c.display_name(locale) for c in rows))


def status_message(session: so.Session, run: MatchRun, locale: str = "zh_CN") -> str:
    """What the run is doing or why it ended, in the reader's language (never a code or a job id)."""
    if run.status == "failed":
        return str(FAILURE_MESSAGES.get(run.failure_reason or "", FAILURE_MESSAGES["internal_error"]))
    if run.status == "succeeded":
        failed = (run.results or {}).get("failed_categories") or {}
        if failed:
            names = _category_names(session, sorted(failed), locale)
            if set(failed.values()) == {"market_moved"}:
                return _("Done, except %(categories)s: lots or bids changed while the clearing ran, so nothing of "
                         "them was written; run them again.", categories=names)
            return _("Done, except %(categories)s, which could not be cleared: nothing of them was written; the "
                     "operators have the details in the log.", categories=names)
        return _("Done.")
    if run.stage == "solving":
        return _("%(done)d of %(total)d categories solved.", done=run.categories_done, total=run.categories_total)
    if run.stage == "writing":
        return _("Writing the allocations.")
    if run.status == "running":
        return _("Reading lots and demand.")
    return _("Waiting for a worker.")


def run_status(run: MatchRun, session: so.Session | None = None, locale: str = "zh_CN") -> dict[str, Any]:
    """JSON status of a run for the progress poller: badge, bar and message move together."""
    from app.labels import RUN_STATUS

    message = status_message(session, run, locale) if session is not None else run.message
    return {"run_id": run.id, "status": run.status, "status_label": str(RUN_STATUS.get(run.status, run.status)),
            "stage": run.stage, "progress_pct": run.progress_pct, "message": message, "job_id": run.job_id,
            "done": run.status in ("succeeded", "failed")}


def run_allocations(session: so.Session, run_id: int) -> list[Allocation]:
    """The allocations of a run with their lots and facilities."""
    return list(session.scalars(sa.select(Allocation).where(Allocation.run_id == run_id)
                                .options(so.selectinload(Allocation.facility)).order_by(Allocation.id)))


@dataclass(frozen=True)
class AllocationPage:
    """One page of a run's allocations."""

    items: list[Allocation]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the allocations fill (at least one)."""
        return max(1, -(-self.total // self.per_page))


def allocation_page(session: so.Session, run_id: int, page: int = 1, per_page: int = 50,
                    status: str | None = None, category: str | None = None) -> AllocationPage:
    """A page of a run's allocations, optionally of one status or lot category, lots and facilities loaded."""
    stmt = sa.select(Allocation).where(Allocation.run_id == run_id)
    if status:
        stmt = stmt.where(Allocation.status == status)
    if category:
        stmt = stmt.join(Lot, Lot.id == Allocation.lot_id).join(WasteCategory, WasteCategory.id == Lot.category_id) \
            .where(WasteCategory.code == category)
    total = session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    items = session.scalars(stmt.options(so.selectinload(Allocation.facility),
                                         so.selectinload(Allocation.lot).selectinload(Lot.facility))
                            .order_by(Allocation.id).offset((page - 1) * per_page).limit(per_page)).all()
    return AllocationPage(list(items), page, per_page, total)


def run_summary(session: so.Session, run: MatchRun) -> dict[str, Any]:
    """The figures the CLI prints as JSON: totals, timings and the list of allocations, numbers as numbers."""
    allocations = run_allocations(session, run.id) if run.status == "succeeded" else []
    results = run.results or {}
    return {
        "run_id": run.id, "status": run.status, "message": run.message if run.status == "failed" else None,
        "failure_reason": run.failure_reason,
        "allocations": [{"id": a.id, "lot": a.lot_id, "facility": a.facility_id, "bid": a.bid_id,
                         "demand_profile": a.demand_profile_id, "tonnes": float(a.tonnes),
                         "price_yuan_per_t": float(a.price_yuan_per_t),
                         "transport_yuan_per_t": float(a.transport_yuan_per_t),
                         "surplus_yuan": float(a.surplus_yuan), "road_km": a.road_km, "rail_km": a.rail_km}
                        for a in allocations],
        "tonnes_matched": float(run.tonnes_matched or 0),
        "transport_cost_yuan": float(run.transport_cost_yuan or 0),
        "co2_t": float(run.co2_t or 0),
        "surplus_yuan": float(results.get("surplus_yuan", 0)),
        "seconds": float(run.seconds or 0),
        "timings": run.timings or {},
        "failed_categories": results.get("failed_categories", {}),
    }


def summary_figures(run: MatchRun) -> dict[str, float]:
    """The surplus figure of a run page (no allocation rows loaded)."""
    results = run.results or {}
    return {"surplus_yuan": float(results.get("surplus_yuan", 0))}


def flows_geojson(session: so.Session, run_id: int) -> dict[str, Any]:
    """Producer → recycler lines of a run as GeoJSON, with tonnes for the line width."""
    features = []
    rows = session.scalars(sa.select(Allocation).where(Allocation.run_id == run_id).options(
        so.selectinload(Allocation.facility), so.selectinload(Allocation.lot).selectinload(Lot.facility))
        .order_by(Allocation.id))
    for a in rows:
        lot = a.lot
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [lot.facility.lon, lot.facility.lat], [a.facility.lon, a.facility.lat]]},
            "properties": {"allocation": a.id, "tonnes": float(a.tonnes), "from": lot.facility.name,
                           "to": a.facility.name, "lot": lot.title, "mode": "rail" if a.rail_km else "road"}})
    return {"type": "FeatureCollection", "features": features}


def list_runs(session: so.Session, limit: int = 50) -> list[MatchRun]:
    """Latest runs (not scenarios), newest first."""
    return list(session.scalars(sa.select(MatchRun).where(MatchRun.is_scenario.is_(False))
                                .options(so.selectinload(MatchRun.category))
                                .order_by(MatchRun.id.desc()).limit(limit)))


@dataclass(frozen=True)
class HeldCategory:
    """A category a running clearing holds: no other clearing of it can start until that run ends."""

    category: WasteCategory
    run_id: int
    locked_at: dt.datetime


def held_categories(session: so.Session) -> list[HeldCategory]:
    """The categories locked by running clearings now (the clearing_locks rows), in catalogue order."""
    rows = session.execute(sa.select(WasteCategory, ClearingLock.run_id, ClearingLock.locked_at)
                           .join(ClearingLock, ClearingLock.category_id == WasteCategory.id)
                           .order_by(WasteCategory.code)).all()
    return [HeldCategory(category, run_id, locked_at) for category, run_id, locked_at in rows]
