"""Clearing runs, the allocations they propose and the awards both parties accept."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, Money, Tonnes, TotalMoney, TotalTonnes, in_set, utcnow

if TYPE_CHECKING:
    from models.catalogue import WasteCategory
    from models.facilities import Facility
    from models.lots import Bid, DemandProfile, Lot

RUN_STATUSES = ("queued", "running", "succeeded", "failed")
ALLOCATION_STATUSES = ("proposed", "accepted", "declined", "expired")
DECISIONS = ("accepted", "declined")
AWARD_STATUSES = ("open", "shipping", "delivered", "utilised", "closed")


class MatchRun(Base):
    """One clearing: inputs snapshot, parameters, solver, status, timings and totals."""

    __tablename__ = "match_runs"
    __table_args__ = (sa.CheckConstraint(in_set("status", RUN_STATUSES), name="status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued", index=True)
    category_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("waste_categories.id"))
    is_scenario: so.Mapped[bool] = so.mapped_column(default=False, index=True)
    solver: so.Mapped[str] = so.mapped_column(sa.String(20), default="mincostflow")
    parameters: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    # Large (every lot and demand of the run) and read by no page: loaded only when asked for.
    input_snapshot: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(sa.JSON, deferred=True)
    results: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(sa.JSON)
    job_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(80))
    progress_pct: so.Mapped[int] = so.mapped_column(default=0)
    message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Totals over every allocation of a run: wider than one allocation's columns, so a province-wide sum fits.
    objective_yuan: so.Mapped[Optional[Decimal]] = so.mapped_column(TotalMoney)
    tonnes_matched: so.Mapped[Optional[Decimal]] = so.mapped_column(TotalTonnes)
    transport_cost_yuan: so.Mapped[Optional[Decimal]] = so.mapped_column(TotalMoney)
    co2_t: so.Mapped[Optional[Decimal]] = so.mapped_column(TotalTonnes)
    seconds: so.Mapped[Optional[float]]
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[Optional[dt.datetime]]
    finished_at: so.Mapped[Optional[dt.datetime]]
    # Progress the pages translate: the stage and how many categories are solved out of how many.
    stage: so.Mapped[Optional[str]] = so.mapped_column(sa.String(12))
    categories_done: so.Mapped[int] = so.mapped_column(default=0)
    categories_total: so.Mapped[int] = so.mapped_column(default=0)
    # Why a run failed, as a code the pages translate (the log keeps the technical detail).
    failure_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(30))
    timings: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(sa.JSON)

    category: so.Mapped[Optional[WasteCategory]] = so.relationship()
    allocations: so.WriteOnlyMapped[Allocation] = so.relationship(back_populates="run")


class ClearingLock(Base):
    """A category being cleared by a run: the primary key lets at most one run hold a category at a time."""

    __tablename__ = "clearing_locks"

    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    locked_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class Allocation(Base):
    """Tonnes of a lot proposed to a recycler facility by a clearing."""

    __tablename__ = "allocations"
    __table_args__ = (
        sa.CheckConstraint(in_set("status", ALLOCATION_STATUSES), name="status"),
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
        sa.CheckConstraint(
            "producer_decision IS NULL OR " + in_set("producer_decision", DECISIONS), name="producer_decision"
        ),
        sa.CheckConstraint(
            "recycler_decision IS NULL OR " + in_set("recycler_decision", DECISIONS), name="recycler_decision"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    lot_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lots.id"), index=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"), index=True)
    bid_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bids.id"))
    demand_profile_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("demand_profiles.id"))
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    price_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    reserve_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    transport_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    transport_cost_yuan: so.Mapped[Decimal] = so.mapped_column(Money)
    surplus_yuan: so.Mapped[Decimal] = so.mapped_column(Money)
    road_km: so.Mapped[Optional[float]]
    rail_km: so.Mapped[Optional[float]]
    co2_kg: so.Mapped[Optional[Decimal]] = so.mapped_column(Money)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="proposed", index=True)
    producer_decision: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    recycler_decision: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    deadline: so.Mapped[Optional[dt.datetime]]

    run: so.Mapped[MatchRun] = so.relationship(back_populates="allocations")
    lot: so.Mapped[Lot] = so.relationship()
    facility: so.Mapped[Facility] = so.relationship()
    bid: so.Mapped[Optional[Bid]] = so.relationship()
    demand_profile: so.Mapped[Optional[DemandProfile]] = so.relationship()
    award: so.Mapped[Optional[Award]] = so.relationship(back_populates="allocation")


class Award(Base):
    """An allocation both parties accepted, with its netback settlement."""

    __tablename__ = "awards"
    __table_args__ = (
        sa.CheckConstraint(in_set("status", AWARD_STATUSES), name="status"),
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
        sa.CheckConstraint("dispatched_tonnes >= 0 AND dispatched_tonnes <= tonnes", name="dispatched_in_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    allocation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("allocations.id"), unique=True)
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    dispatched_tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes, default=Decimal("0"))
    price_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    freight_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    netback_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    recycler_pays_yuan: so.Mapped[Decimal] = so.mapped_column(Money)
    freight_yuan: so.Mapped[Decimal] = so.mapped_column(Money)
    producer_receives_yuan: so.Mapped[Decimal] = so.mapped_column(Money)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="open", index=True)
    awarded_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    allocation: so.Mapped[Allocation] = so.relationship(back_populates="award")
