"""Chain-of-custody manifests (联单) and what the delivered material became."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.hybrid import hybrid_property

from models.base import Base, Rate, Tonnes, in_set, utcnow

if TYPE_CHECKING:
    from models.catalogue import WasteCategory
    from models.clearing import Award
    from models.dispatch import Vehicle
    from models.facilities import Facility
    from models.orgs import Organization

SHIPMENT_STATUSES = ("dispatched", "received")
PRODUCTS = (
    "cement", "clinker_raw_meal", "concrete_admixture", "road_base", "bricks_blocks", "gypsum_board",
    "backfill", "recovered_silicon", "recovered_glass", "recovered_aluminium", "recovered_metal",
    "recycled_plastic", "fuel", "fertiliser", "other",
)


class Shipment(Base):
    """One load of an award: dispatched by the producer, weighed in by the recycler."""

    __tablename__ = "shipments"
    __table_args__ = (
        sa.CheckConstraint(in_set("status", SHIPMENT_STATUSES), name="status"),
        sa.CheckConstraint("dispatched_tonnes > 0", name="dispatched_positive"),
        sa.CheckConstraint("received_tonnes IS NULL OR received_tonnes >= 0", name="received_non_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    award_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("awards.id"), index=True)
    manifest_no: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    carrier_organization_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("organizations.id"))
    vehicle_plate: so.Mapped[str] = so.mapped_column(sa.String(16))
    dispatched_tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    dispatched_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    received_tonnes: so.Mapped[Optional[Decimal]] = so.mapped_column(Tonnes)
    received_at: so.Mapped[Optional[dt.datetime]]
    discrepancy_pct: so.Mapped[Optional[Decimal]] = so.mapped_column(Rate)
    discrepancy_flagged: so.Mapped[bool] = so.mapped_column(default=False)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="dispatched", index=True)
    # Set when the carrier accepts a dispatch plan: the truck, its place in the route, the arrival day.
    dispatch_plan_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("dispatch_plans.id"), index=True)
    vehicle_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("vehicles.id"))
    route_sequence: so.Mapped[Optional[int]]
    expected_arrival: so.Mapped[Optional[dt.date]]
    # E-manifest facts of a hazardous load: packages on the truck, the permit and licence numbers as they stood at
    # dispatch (a later renewal does not rewrite the manifest) and the receiver's utilisation/disposal method code.
    packaging_count: so.Mapped[Optional[int]]
    carrier_permit_no: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    receiver_licence_no: so.Mapped[Optional[str]] = so.mapped_column(sa.String(60))
    disposal_method: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))

    award: so.Mapped[Award] = so.relationship()
    carrier: so.Mapped[Optional[Organization]] = so.relationship()
    vehicle: so.Mapped[Optional[Vehicle]] = so.relationship()


class UtilisationRecord(Base):
    """A declaration of what delivered (or self-used) material became."""

    __tablename__ = "utilisation_records"
    __table_args__ = (
        sa.CheckConstraint(in_set("product", PRODUCTS), name="product"),
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    award_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("awards.id"), index=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"), index=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    # Where the material was generated: the rate is credited to the producer's base.
    source_facility_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("facilities.id"))
    product: so.Mapped[str] = so.mapped_column(sa.String(24))
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    period: so.Mapped[dt.date] = so.mapped_column(index=True)
    # The month the producer supplied the tonnes (Beijing month of the load's dispatch): the producer's statistics
    # count a platform delivery there, where its reported 外供 is, not in the recycler's month (`period`). Null on
    # rows written before it existed or by bulk loads: those count in `period`.
    supply_period: so.Mapped[Optional[dt.date]] = so.mapped_column()
    declared_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    award: so.Mapped[Optional[Award]] = so.relationship()
    facility: so.Mapped[Facility] = so.relationship(foreign_keys=[facility_id])
    source_facility: so.Mapped[Optional[Facility]] = so.relationship(foreign_keys=[source_facility_id])
    category: so.Mapped[WasteCategory] = so.relationship()

    @hybrid_property
    def counted_period(self) -> dt.date:
        """The month the producer's statistics count these tonnes in (see supply_period); in SQL too."""
        return self.supply_period or self.period

    @counted_period.inplace.expression
    @classmethod
    def _counted_period_sql(cls) -> sa.ColumnElement[dt.date]:
        return sa.func.coalesce(cls.supply_period, cls.period)
