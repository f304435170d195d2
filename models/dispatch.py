"""A carrier's trucks, its dispatch plans (routes over several shipments) and each plan's stops."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, TimestampMixin, Tonnes, in_set, utcnow

if TYPE_CHECKING:
    from models.facilities import Facility
    from models.orgs import Organization, User
    from models.shipments import Shipment

# Distances exact to the metre.
Km = sa.Numeric(14, 3, asdecimal=True)
PLAN_STATUSES = ("queued", "running", "ready", "failed", "accepted", "discarded")
STOP_ACTIONS = ("pickup", "dropoff")


class Vehicle(TimestampMixin, Base):
    """A truck of a carrier organisation, based at a depot facility or a point."""

    __tablename__ = "vehicles"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "plate", name="uq_vehicles_organization_plate"),
        sa.CheckConstraint("capacity_t > 0 AND capacity_t <= 1000", name="capacity_range"),
        sa.CheckConstraint("cost_yuan_per_km >= 0 AND cost_yuan_per_km <= 100", name="cost_range"),
        sa.CheckConstraint("max_km > 0 AND max_km <= 20000", name="max_km_range"),
        sa.CheckConstraint("depot_facility_id IS NOT NULL OR (depot_lon IS NOT NULL AND depot_lat IS NOT NULL)",
                           name="has_depot"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    plate: so.Mapped[str] = so.mapped_column(sa.String(16))
    capacity_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    cost_yuan_per_km: so.Mapped[Decimal]
    max_km: so.Mapped[int]
    depot_facility_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("facilities.id"))
    depot_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    depot_lon: so.Mapped[Optional[float]] = so.mapped_column(sa.Float)
    depot_lat: so.Mapped[Optional[float]] = so.mapped_column(sa.Float)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Listed on the organisation's road dangerous-goods transport permit: may carry hazardous loads.
    hazardous_ok: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    organization: so.Mapped[Organization] = so.relationship()
    depot_facility: so.Mapped[Optional[Facility]] = so.relationship()

    @property
    def depot_lonlat(self) -> tuple[float, float]:
        """WGS84 position of the depot."""
        if self.depot_facility is not None:
            return self.depot_facility.lon, self.depot_facility.lat
        return self.depot_lon, self.depot_lat

    @property
    def depot_label(self) -> str:
        """The depot's facility or place name, else its coordinates."""
        if self.depot_facility is not None:
            return self.depot_facility.name
        return self.depot_name or f"{self.depot_lon:.4f}, {self.depot_lat:.4f}"


class DispatchPlan(Base):
    """One planning of a carrier's shipments onto its trucks: inputs, the solver's routes and the km figures."""

    __tablename__ = "dispatch_plans"
    __table_args__ = (
        sa.CheckConstraint(in_set("status", PLAN_STATUSES), name="status"),
        sa.CheckConstraint("time_limit_s > 0 AND time_limit_s <= 600", name="time_limit_range"),
        sa.CheckConstraint("days >= 1 AND days <= 31", name="days_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued", index=True)
    start_date: so.Mapped[dt.date]
    days: so.Mapped[int] = so.mapped_column(default=1)
    time_limit_s: so.Mapped[int] = so.mapped_column(default=10)
    inputs: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    job_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    started_at: so.Mapped[Optional[dt.datetime]]
    finished_at: so.Mapped[Optional[dt.datetime]]
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    solver_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(12))
    total_km: so.Mapped[Optional[Decimal]] = so.mapped_column(Km)
    empty_km: so.Mapped[Optional[Decimal]] = so.mapped_column(Km)
    baseline_km: so.Mapped[Optional[Decimal]] = so.mapped_column(Km)
    baseline_empty_km: so.Mapped[Optional[Decimal]] = so.mapped_column(Km)
    cost_yuan: so.Mapped[Optional[Decimal]]
    co2_kg: so.Mapped[Optional[Decimal]] = so.mapped_column(Km)
    baseline_co2_kg: so.Mapped[Optional[Decimal]] = so.mapped_column(Km)
    unserved: so.Mapped[Optional[list[Any]]] = so.mapped_column(sa.JSON)
    route_figures: so.Mapped[Optional[list[Any]]] = so.mapped_column(sa.JSON)
    accepted_at: so.Mapped[Optional[dt.datetime]]

    organization: so.Mapped[Organization] = so.relationship()
    created_by: so.Mapped[Optional[User]] = so.relationship()
    stops: so.Mapped[list[DispatchStop]] = so.relationship(
        back_populates="plan", cascade="all, delete-orphan",
        order_by="(DispatchStop.day, DispatchStop.vehicle_id, DispatchStop.sequence)")

    @property
    def co2_saved_kg(self) -> Decimal | None:
        """CO2 the plan avoids against one round trip per truckload."""
        if self.co2_kg is None or self.baseline_co2_kg is None:
            return None
        return self.baseline_co2_kg - self.co2_kg


class DispatchStop(Base):
    """A pickup or drop-off of a truckload of one shipment, in a vehicle's route on one day of a plan."""

    __tablename__ = "dispatch_stops"
    __table_args__ = (
        sa.CheckConstraint(in_set("action", STOP_ACTIONS), name="action"),
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
        sa.CheckConstraint("leg_km >= 0", name="leg_km_non_negative"),
        sa.UniqueConstraint("plan_id", "vehicle_id", "day", "sequence", name="uq_dispatch_stops_plan_vehicle_day_seq"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    plan_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("dispatch_plans.id", ondelete="CASCADE"), index=True)
    vehicle_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vehicles.id"))
    shipment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("shipments.id"), index=True)
    day: so.Mapped[int]
    sequence: so.Mapped[int]
    action: so.Mapped[str] = so.mapped_column(sa.String(8))
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    leg_km: so.Mapped[Decimal] = so.mapped_column(Km)

    plan: so.Mapped[DispatchPlan] = so.relationship(back_populates="stops")
    vehicle: so.Mapped[Vehicle] = so.relationship()
    shipment: so.Mapped[Shipment] = so.relationship()
