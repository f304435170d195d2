"""Plants and yards, with what recyclers accept and the licences they hold."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, TimestampMixin, Tonnes, in_set

if TYPE_CHECKING:
    from models.bases import ResourceBase
    from models.catalogue import WasteCategory
    from models.orgs import Organization

COORDINATE_SYSTEMS = ("wgs84", "gcj02", "bd09")
FACILITY_KINDS = ("producer", "recycler", "both")


class Facility(TimestampMixin, Base):
    """A located plant or yard; location stored in WGS84."""

    __tablename__ = "facilities"
    __table_args__ = (
        sa.CheckConstraint(in_set("kind", FACILITY_KINDS), name="kind"),
        sa.CheckConstraint(in_set("input_crs", COORDINATE_SYSTEMS), name="input_crs"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="lonlat_range"),
        sa.CheckConstraint("max_haul_km IS NULL OR max_haul_km > 0", name="max_haul_positive"),
        sa.Index("ix_facilities_lon_lat", "lon", "lat"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), index=True)
    address: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))
    lon: so.Mapped[float] = so.mapped_column(sa.Float)
    lat: so.Mapped[float] = so.mapped_column(sa.Float)
    input_crs: so.Mapped[str] = so.mapped_column(sa.String(6), default="wgs84")
    prefecture_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(6), index=True)
    county_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(6))
    base_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bases.id"), index=True)
    in_province: so.Mapped[bool] = so.mapped_column(default=True)
    max_haul_km: so.Mapped[Optional[int]]
    large_producer: so.Mapped[bool] = so.mapped_column(default=False)
    # Seasons: share of each calendar month (January first) the plant runs, and relative monthly
    # generation weights; null means all year and flat (see app/services/seasonal.py).
    operating_months: so.Mapped[Optional[list[float]]] = so.mapped_column(sa.JSON)
    generation_profile: so.Mapped[Optional[list[float]]] = so.mapped_column(sa.JSON)

    organization: so.Mapped[Organization] = so.relationship(back_populates="facilities")
    base: so.Mapped[Optional[ResourceBase]] = so.relationship()
    capacities: so.Mapped[list[FacilityCapacity]] = so.relationship(
        back_populates="facility", cascade="all, delete-orphan"
    )
    licences: so.Mapped[list[Licence]] = so.relationship(
        back_populates="facility", cascade="all, delete-orphan"
    )


class FacilityCapacity(Base):
    """A recycler facility's accepted category, monthly capacity and quality limits."""

    __tablename__ = "facility_capacities"
    __table_args__ = (
        sa.UniqueConstraint("facility_id", "category_id", name="uq_facility_capacities_facility_category"),
        sa.CheckConstraint("tonnes_per_month > 0", name="tonnes_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id", ondelete="CASCADE"))
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    tonnes_per_month: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    # {"attribute": [min or null, max or null]}
    quality_limits: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

    facility: so.Mapped[Facility] = so.relationship(back_populates="capacities")
    category: so.Mapped[WasteCategory] = so.relationship()


class Licence(Base):
    """A permit, e.g. a hazardous-waste business licence covering some categories."""

    __tablename__ = "licences"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[str] = so.mapped_column(sa.String(60))
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), default="hazardous_waste_business")
    category_codes: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    valid_until: so.Mapped[Optional[dt.date]]

    facility: so.Mapped[Facility] = so.relationship(back_populates="licences")
