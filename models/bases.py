"""Resource-utilisation bases, their targets, generation reports and the evaluation register."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, Rate, TimestampMixin, Tonnes, TotalTonnes, in_set
from models.catalogue import FAMILIES

if TYPE_CHECKING:
    from models.catalogue import WasteCategory
    from models.facilities import Facility
    from models.orgs import Organization

EVALUATION_STATUSES = ("applied", "under_review", "evaluated", "rejected")


class ResourceBase(Base):
    """A national resource-utilisation base; its polygon is its prefecture's boundary."""

    __tablename__ = "bases"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(60))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))
    prefecture_code: so.Mapped[str] = so.mapped_column(sa.String(6), unique=True)


class BaseTarget(Base):
    """A utilisation-rate target for a base (or the province when base is null) and year."""

    __tablename__ = "base_targets"
    __table_args__ = (
        sa.UniqueConstraint("base_id", "family", "year", name="uq_base_targets_base_family_year"),
        sa.CheckConstraint(in_set("family", FAMILIES), name="family"),
        sa.CheckConstraint("target_rate >= 0 AND target_rate <= 1", name="rate_fraction"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    base_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bases.id"))
    family: so.Mapped[str] = so.mapped_column(sa.String(20))
    year: so.Mapped[int]
    target_rate: so.Mapped[Decimal] = so.mapped_column(Rate)
    source: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))

    base: so.Mapped[Optional[ResourceBase]] = so.relationship()


class GenerationReport(TimestampMixin, Base):
    """A producer facility's monthly balance of one category (docs/statistics.md).

    generated + from_storage + disposed_from_storage = self_utilised + supplied + disposed + stored + dumped,
    where from_storage is the part of the utilised tonnes (self or supplied) and disposed_from_storage the part of
    the disposed tonnes taken from earlier years' storage.
    """

    __tablename__ = "generation_reports"
    __table_args__ = (
        sa.UniqueConstraint("facility_id", "category_id", "period", name="uq_generation_reports_fcp"),
        sa.CheckConstraint(
            "generated_t >= 0 AND stored_t >= 0 AND self_utilised_t >= 0 AND disposed_t >= 0"
            " AND from_storage_t >= 0",
            name="tonnes_non_negative",
        ),
        sa.CheckConstraint("supplied_t >= 0 AND dumped_t >= 0", name="supplied_dumped_non_negative"),
        sa.CheckConstraint("disposed_from_storage_t >= 0", name="disposed_from_storage_non_negative"),
        # Covering on PostgreSQL so a scope's monthly sums are an index-only scan.
        sa.Index("ix_generation_reports_period_category", "period", "category_id",
                 postgresql_include=["facility_id", "generated_t", "stored_t", "self_utilised_t", "disposed_t",
                                     "from_storage_t"]),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"), index=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"))
    period: so.Mapped[dt.date]  # first day of the month
    generated_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    stored_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    self_utilised_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    # 外供/委托利用: handed to others for utilisation, on or off the platform.
    supplied_t: so.Mapped[Decimal] = so.mapped_column(Tonnes, default=Decimal(0), server_default="0")
    disposed_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    dumped_t: so.Mapped[Decimal] = so.mapped_column(Tonnes, default=Decimal(0), server_default="0")
    from_storage_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    # 处置往年贮存量: of the disposed tonnes, those taken from earlier years' storage (not in the rate).
    disposed_from_storage_t: so.Mapped[Decimal] = so.mapped_column(Tonnes, default=Decimal(0), server_default="0")

    facility: so.Mapped[Facility] = so.relationship()
    category: so.Mapped[WasteCategory] = so.relationship()


class EnterpriseEvaluation(TimestampMixin, Base):
    """An enterprise's comprehensive-utilisation evaluation (the plan counts 300 by 2025)."""

    __tablename__ = "enterprise_evaluations"
    __table_args__ = (sa.CheckConstraint(in_set("status", EVALUATION_STATUSES), name="status"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    organization_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("organizations.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12))
    evaluated_on: so.Mapped[Optional[dt.date]]
    note: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))

    organization: so.Mapped[Organization] = so.relationship()


class UtilisationRollup(Base):
    """Counted tonnes of one month, category and place (docs/statistics.md), kept in step with the reports and
    platform declarations so a province's year is read from a few thousand rows instead of millions."""

    __tablename__ = "utilisation_rollup"
    __table_args__ = (
        # Non-null keys ('' and 0 for "none") so the database refuses a second row for one place and month.
        sa.UniqueConstraint("period", "category_id", "prefecture_key", "base_key", "in_province",
                            name="uq_utilisation_rollup_key"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    period: so.Mapped[dt.date]
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"))
    prefecture_key: so.Mapped[str] = so.mapped_column(sa.String(6))  # '' outside any prefecture
    base_key: so.Mapped[int]  # 0 outside any base
    in_province: so.Mapped[bool]
    # Sums over every facility of a place: wider than one report line's columns.
    generated_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    stored_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    disposed_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    dumped_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    from_storage_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    self_utilised_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    supplied_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    market_utilised_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    utilised_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    demo_cells: so.Mapped[int] = so.mapped_column(default=0)  # cells from demo organisations


class FacilityYearRollup(Base):
    """Counted tonnes of one facility in one year (docs/statistics.md), kept in step with the reports and platform
    declarations like UtilisationRollup, so a base's top producers are read from one row per facility instead of a
    year of its reports. Keyed by facility, not place: a facility moved to another base is read where it is now."""

    __tablename__ = "facility_year_rollup"
    __table_args__ = (sa.UniqueConstraint("year", "facility_id", name="uq_facility_year_rollup_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    year: so.Mapped[int]
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"))
    generated_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)
    from_storage_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)  # as counted
    utilised_t: so.Mapped[Decimal] = so.mapped_column(TotalTonnes)  # as counted
