"""The join: write a run's solved categories in bulk, re-checking under row locks that nothing moved.

Each category is written inside its own savepoint: lots are locked in id order and reduced by one
conditional UPDATE per lot (checked row counts), bids flipped set-wise, profiles locked and their
commitments re-summed, allocations inserted together. A category whose market moved (or whose rows
break a constraint) is rolled back alone and reported; the others are written. The audit chain is
extended for the whole run in one pass under one lock, notifications go out once per organisation,
and the run's locks are freed in the same commit.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so
from flask import current_app

import matching
from app.services import audit, notifications, quantities
from app.services.clearing.problem import CLEARABLE_LOT_STATUSES, PENDING_ALLOCATION_STATUSES
from app.services.clearing.runs import MarketMoved, SolvedCategory, Unfinished, reason_of, release_locks
from models import Allocation, Bid, DemandProfile, Facility, Lot, MatchRun, utcnow
from models.bulk import draw_ids, insert_rows

logger = logging.getLogger(__name__)

HALF_KG = Decimal("0.0005")


def money(value: Decimal | float | int) -> Decimal:
    """Round to the fen (the project's one rounding rule)."""
    return quantities.yuan(value)


@dataclass
class _Written:
    """What the category writes leave for the run's single audit pass, notifications and totals."""

    batch: audit.Batch
    by_org: dict[int, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Decimal] = field(default_factory=lambda: {k: Decimal(0) for k in (
        "tonnes", "transport", "surplus", "co2_kg")})
    allocations: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # category code → reason


class _Overlap:
    """Database work handed to a helper thread on PostgreSQL, so Python work goes on while the server checks,
    updates and indexes rows (the larger part of writing a run): one piece at a time, each waited for before
    the session is used again (psycopg serialises a connection's commands in any case). Elsewhere inline."""

    def __init__(self, session: so.Session) -> None:
        self._pool = ThreadPoolExecutor(1) if session.get_bind().dialect.name == "postgresql" else None
        self._pending: Future | None = None
        self._result: Any = None

    def start(self, work: Callable[..., Any], *args: Any) -> None:
        """Begin ``work(*args)`` (after what was pending), in the background where possible."""
        self.wait()
        if self._pool is None:
            self._result = work(*args)
        else:
            self._pending = self._pool.submit(work, *args)

    def insert(self, connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Begin inserting rows (as `insert_rows`)."""
        self.start(insert_rows, connection, table, rows)

    def wait(self) -> Any:
        """Until the work begun last is done: its result; raises its error."""
        pending, self._pending = self._pending, None
        result, self._result = (pending.result() if pending is not None else self._result), None
        return result

    def close(self) -> None:
        """Wait for what is pending (errors were raised by `wait`) and stop the helper thread."""
        if self._pending is not None:
            self._pending.exception()
            self._pending = None
        if self._pool is not None:
            self._pool.shutdown()


def _own(session: so.Session) -> so.Session:
    """The session itself, not a scoped proxy: work handed to the helper thread must not open another session."""
    return session() if isinstance(session, so.scoped_session) else session


def join_run(session: so.Session, run_id: int, solved: list[SolvedCategory],
             failed: dict[str, str] | None = None) -> bool:
    """Write every category's allocations (each all or nothing); False if the run ended meanwhile (e.g. swept).

    ``failed`` names categories that could not be solved (code → reason): reported, the others written.
    """
    session.commit()
    run = session.get(MatchRun, run_id, with_for_update=True, populate_existing=True)  # serialises with the sweep
    if run is None or run.status != "running":
        session.rollback()
        return False
    run.stage, run.progress_pct, run.message = "writing", 90, "writing"
    started = time.perf_counter()
    deadline = utcnow() + dt.timedelta(days=current_app.config["ALLOCATION_DEADLINE_DAYS"])
    out = _Written(audit.Batch(run.created_by_id), failed=dict(failed or {}))
    overlap = _Overlap(session)
    try:
        for part in solved:
            try:
                with session.begin_nested():
                    _write_category(session, run, part, deadline, out, overlap)
            except (MarketMoved, Unfinished, sa_exc.IntegrityError, sa_exc.DataError) as exc:
                logger.warning("clearing run %s: category %s not written (%s)", run_id, part.category.code, exc)
                out.failed[part.category.code] = reason_of(exc)
        _finish(session, run, solved, out, started, overlap)
    finally:
        overlap.close()
    session.commit()
    notifications.deliver_pending(session)
    return True


def _finish(session: so.Session, run: MatchRun, solved: list[SolvedCategory], out: _Written, started: float,
            overlap: _Overlap) -> None:
    """Totals, results, timings and status of the run; one audit pass; one notification per organisation."""
    merged = matching.merge_results([p.result for p in solved if p.category.code not in out.failed])
    run.objective_yuan = money(merged.objective_yuan)
    run.tonnes_matched = out.totals["tonnes"]
    run.transport_cost_yuan = out.totals["transport"]
    run.co2_t = quantities.tonnes(out.totals["co2_kg"] / 1000)
    run.solver = merged.solver[:20]
    everything_failed = bool(out.failed) and len(out.failed) == len(solved) + len(
        set(out.failed) - {p.category.code for p in solved})
    run.status = "failed" if everything_failed else "succeeded"
    run.stage = run.status
    run.failure_reason = next(iter(out.failed.values())) if everything_failed else None
    run.progress_pct = 100
    run.message = "done" if not out.failed else f"not written: {', '.join(sorted(out.failed))}"
    release_locks(session, run.id)
    out.batch.add([("match_run", run.id, run.status, {
        "allocations": out.allocations, "tonnes": run.tonnes_matched, "objective_yuan": run.objective_yuan,
        "failed_categories": sorted(out.failed)})])
    params = {org: {"count": v["count"], "tonnes": v["tonnes"], "deadline": v["deadline"]}
              for org, v in out.by_org.items()}
    users = notifications.organisation_recipients(session, params)
    out.batch.record(session, insert=overlap.insert)
    # While the server takes the audit rows: the run's results, which need no database.
    run.input_snapshot = {p.category.code: p.snapshot for p in solved}
    data = merged.to_json_dict(allocations=False)  # the allocations are rows of their own
    run.results = {
        "status": data["status"], "solver": data["solver"], "timings": data["timings"],
        "unmatched": data["unmatched"], "lot_prices": data["lot_prices"], "demand_prices": data["demand_prices"],
        "surplus_yuan": float(out.totals["surplus"]),
        "failed_categories": out.failed,
    }
    overlap.wait()
    # The run's row (its results and snapshot: the largest values of the run) written while the messages are made.
    overlap.start(_own(session).flush)
    notes, emails = notifications.organisation_messages(users, params, "allocations_proposed", "/awards")
    overlap.wait()
    notifications.insert_messages(session, notes, emails)
    session.flush()
    # Timed last, so writing (audit pass, notifications, the run's own row) is inside both figures.
    run.finished_at = utcnow()
    begun = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=dt.UTC)
    run.seconds = (run.finished_at - begun).total_seconds()  # wall time of the whole run, writing included
    run.timings = {"build": sum(p.timings.get("build", 0.0) for p in solved),
                   "solve": sum(p.timings.get("solve", 0.0) for p in solved),
                   "write": time.perf_counter() - started}


def _take_market(session: so.Session, taken: dict[int, Decimal], bids: set[int], profiles: dict[int, Decimal],
                 facilities: set[int]) -> tuple[list[Any] | None, dict[int, int]]:
    """Take the lots, bids and profiles (MarketMoved if any moved); the lots' rows as `_take_lots` gives them and
    the organisation of each receiving facility."""
    lots = _take_lots(session, taken)
    _take_bids(session, bids)
    _take_profiles(session, profiles)
    org_of = dict(session.execute(sa.select(Facility.id, Facility.organization_id)
                                  .where(_among(session, Facility.id, facilities))).all())
    return lots, org_of


def _take_lots(session: so.Session, taken: dict[int, Decimal]) -> list[Any] | None:
    """Lock the lots in id order, then reduce each only if it still has the tonnes (row counts checked).

    PostgreSQL: one UPDATE joined to the arrays of lot ids and tonnes, returning each lot's id, remaining
    tonnes, status and organisation (in id order). SQLite (which stores NUMERIC as floating point, hence the
    half-kilogram allowance and the clamp at zero): an executemany, returning None.
    """
    ids = sorted(taken)
    session.execute(sa.select(Lot.id).where(_among(session, Lot.id, ids)).order_by(Lot.id).with_for_update())
    lots = None
    if session.get_bind().dialect.name == "postgresql":
        lots = session.execute(sa.text(
            "UPDATE lots SET remaining_tonnes = GREATEST(lots.remaining_tonnes - v.t, 0), "
            "status = CASE WHEN lots.status = 'open' THEN 'matched' ELSE lots.status END, updated_at = :now "
            "FROM unnest(CAST(:ids AS INTEGER[]), CAST(:tonnes AS NUMERIC[])) AS v(id, t), facilities AS f "
            "WHERE lots.id = v.id AND lots.remaining_tonnes >= v.t AND lots.status IN ('open', 'matched', 'awarded') "
            "AND f.id = lots.facility_id "
            "RETURNING lots.id, lots.remaining_tonnes, lots.status, f.organization_id"),
            {"ids": ids, "tonnes": [taken[i] for i in ids], "now": utcnow()}).all()
        changed = len(lots)
        lots.sort(key=lambda lot: lot.id)
    else:
        left = Lot.remaining_tonnes - sa.bindparam("t", type_=Lot.remaining_tonnes.type)
        table = Lot.__table__
        stmt = (sa.update(table)
                .where(table.c.id == sa.bindparam("lot"),
                       table.c.remaining_tonnes >= sa.bindparam("t", type_=Lot.remaining_tonnes.type) - HALF_KG,
                       # OR of equalities: an IN list cannot be expanded in an executemany
                       sa.or_(*(table.c.status == s for s in CLEARABLE_LOT_STATUSES)))
                .values(remaining_tonnes=sa.case((left < 0, 0), else_=left),
                        status=sa.case((table.c.status == "open", "matched"), else_=table.c.status),
                        updated_at=utcnow()))
        changed = session.connection().execute(stmt, [{"lot": i, "t": taken[i]} for i in ids]).rowcount
    if changed != len(ids):
        raise MarketMoved(f"{len(ids) - changed} of {len(ids)} lots changed while the clearing ran")
    return lots


def _among(session: so.Session, column, ids) -> sa.ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL as ``= ANY(array)``, one parameter however many ids."""
    ids = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, ids, type_=sa.ARRAY(sa.Integer)))
    return column.in_(ids)


def _take_bids(session: so.Session, bid_ids: set[int]) -> None:
    if not bid_ids:
        return
    changed = session.execute(sa.update(Bid).where(_among(session, Bid.id, sorted(bid_ids)), Bid.status == "active")
                              .values(status="allocated", updated_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
    if changed != len(bid_ids):
        raise MarketMoved(f"{len(bid_ids) - changed} of {len(bid_ids)} bids are no longer active")


def _take_profiles(session: so.Session, wanted: dict[int, Decimal]) -> None:
    """Lock the profiles, re-sum what pending allocations commit, refuse any over its tonnes."""
    if not wanted:
        return
    ids = sorted(wanted)
    rows = session.execute(sa.select(DemandProfile.id, DemandProfile.tonnes, DemandProfile.active)
                           .where(_among(session, DemandProfile.id, ids)).order_by(DemandProfile.id)
                           .with_for_update()).all()
    committed = dict(session.execute(
        sa.select(Allocation.demand_profile_id, sa.func.sum(Allocation.tonnes))
        .where(_among(session, Allocation.demand_profile_id, ids), Allocation.status.in_(PENDING_ALLOCATION_STATUSES))
        .group_by(Allocation.demand_profile_id)).all())
    for pid, tonnes, active in rows:
        used = Decimal(str(committed.get(pid) or 0))
        if not active or used + wanted[pid] > tonnes + HALF_KG:
            raise MarketMoved(f"demand profile {pid} is committed elsewhere")
    if len(rows) != len(ids):
        raise MarketMoved("a demand profile disappeared")


def _allocation_rows(run_id: int, part: SolvedCategory, tonnes: list[Decimal],
                     deadline: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for a, t, (road_km, rail_km) in zip(part.allocations, tonnes, part.arc_km, strict=True):
        facility_id, bid_id, profile_id = part.demand_refs[a.demand_id]
        rows.append({
            "run_id": run_id, "lot_id": a.lot_id, "facility_id": facility_id, "bid_id": bid_id,
            "demand_profile_id": profile_id, "tonnes": t,
            "price_yuan_per_t": money(a.price_yuan_per_t), "reserve_yuan_per_t": money(a.reserve_yuan_per_t),
            "transport_yuan_per_t": money(a.transport_yuan_per_t), "transport_cost_yuan": money(a.transport_cost_yuan),
            "surplus_yuan": money(a.surplus_yuan), "road_km": road_km, "rail_km": rail_km,
            "co2_kg": None if a.co2_kg is None else money(a.co2_kg), "status": "proposed", "deadline": deadline})
    return rows


def _allocation_events(run_id: int, rows: list[dict[str, Any]], ids: list[int]) -> list[tuple]:
    events = []
    for allocation_id, r in zip(ids, rows, strict=True):
        events.append(("allocation", allocation_id, "proposed", {
            "run": run_id, "lot": r["lot_id"], "facility": r["facility_id"], "tonnes": r["tonnes"],
            "price_yuan_per_t": r["price_yuan_per_t"]}))
        if r["bid_id"]:
            events.append(("bid", r["bid_id"], "allocated", {"allocation": allocation_id}))
    return events


def _write_category(session: so.Session, run: MatchRun, part: SolvedCategory, deadline: dt.datetime,
                    out: _Written, overlap: _Overlap) -> None:
    """One category's allocations, lot, bid and profile updates; raises MarketMoved if anything moved.

    ``out`` changes only once everything of the category is written (a category that fails leaves no trace).
    While the server updates the lots and then inserts the allocations, the rows and events are prepared.
    """
    allocations = part.allocations
    if not allocations:
        part.finished()
        return
    run_id = run.id
    tonnes = [quantities.tonnes(a.tonnes) for a in allocations]
    taken: dict[int, Decimal] = {}
    profiles: dict[int, Decimal] = {}
    bids, facilities = set(), set()
    for a, t in zip(allocations, tonnes, strict=True):
        taken[a.lot_id] = taken.get(a.lot_id, Decimal(0)) + t
        facility_id, bid_id, profile_id = part.demand_refs[a.demand_id]
        facilities.add(facility_id)
        if bid_id:
            bids.add(bid_id)
        if profile_id:
            profiles[profile_id] = profiles.get(profile_id, Decimal(0)) + t
    own = _own(session)
    connection = session.connection()
    encoded: list[tuple] = []
    # Inside the category's savepoint, each piece waited for before the next: a market that moved (raised by
    # the wait) rolls the category back.
    try:
        overlap.start(draw_ids, connection, Allocation.__table__, len(allocations))  # PostgreSQL; else on insert
        rows = _allocation_rows(run_id, part, tonnes, deadline)
        ids = overlap.wait()
        overlap.start(_take_market, own, taken, bids, profiles, facilities)
        if ids is not None:
            encoded = out.batch.encode(_allocation_events(run_id, rows, ids))
    finally:
        lots, org_of = overlap.wait() or (None, None)
    if lots is None:  # the update returned nothing to write the lots' events from (SQLite)
        lots = session.execute(sa.select(Lot.id, Lot.remaining_tonnes, Lot.status, Facility.organization_id)
                               .join(Facility, Facility.id == Lot.facility_id)
                               .where(_among(session, Lot.id, sorted(taken))).order_by(Lot.id)).all()
    if ids is None:
        ids = [r.id for r in insert_rows(connection, Allocation.__table__, rows, returning=("id",))]
        encoded = out.batch.encode(_allocation_events(run_id, rows, ids))
    else:  # the server checks and indexes the allocations while the rest is worked out
        overlap.insert(connection, Allocation.__table__, [{"id": i, **r} for i, r in zip(ids, rows, strict=True)])
    try:
        encoded += out.batch.encode([("lot", lot.id, "matched", {
            "run": run_id, "remaining_tonnes": lot.remaining_tonnes, "status": lot.status}) for lot in lots])
        by_org = _count_for_organisations(rows, {lot.id: lot.organization_id for lot in lots}, org_of, deadline)
        # No tax figure here: sales to others are not the Art. 12(1)(4) exemption (self-utilisation,
        # docs/statistics.md).
        totals = {k: Decimal(0) for k in out.totals}
        for r in rows:
            totals["tonnes"] += r["tonnes"]
            totals["transport"] += r["transport_cost_yuan"]
            totals["surplus"] += r["surplus_yuan"]
            totals["co2_kg"] += r["co2_kg"] or 0
    finally:
        overlap.wait()  # inside the category's savepoint: an insert that fails rolls the category back
    part.finished()  # its prices and explanations, worked out meanwhile; a failure rolls the category back
    out.batch.extend(encoded)
    out.allocations += len(rows)
    for k, v in totals.items():
        out.totals[k] += v
    for org, entry in by_org.items():
        into = out.by_org.setdefault(org, {"count": 0, "tonnes": Decimal(0), "deadline": entry["deadline"]})
        into["count"] += entry["count"]
        into["tonnes"] += entry["tonnes"]


def _count_for_organisations(rows: list[dict[str, Any]], lot_org: dict[int, int], org_of: dict[int, int],
                             deadline: dt.datetime) -> dict[int, dict[str, Any]]:
    """Allocations and tonnes per organisation on either side, for one message each."""
    by_org: dict[int, dict[str, Any]] = {}
    when = deadline.strftime("%Y-%m-%d %H:%M UTC")
    for r in rows:
        for org in {lot_org[r["lot_id"]], org_of[r["facility_id"]]}:
            entry = by_org.setdefault(org, {"count": 0, "tonnes": Decimal(0), "deadline": when})
            entry["count"] += 1
            entry["tonnes"] += r["tonnes"]
    return by_org
