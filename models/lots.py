"""Lots of waste on offer, sealed bids on them and standing demand."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, Money, TimestampMixin, Tonnes, in_set, trigram_index, utcnow

if TYPE_CHECKING:
    from models.catalogue import WasteCategory
    from models.facilities import Facility
    from models.orgs import User

LOT_STATUSES = (
    "draft", "open", "matched", "awarded", "shipping", "delivered", "utilised", "withdrawn", "expired",
)
BID_STATUSES = ("active", "withdrawn", "allocated", "unsuccessful")
# Bulk materials settle on the net weight received unless the parties agree on the awarded tonnes.
SETTLEMENT_BASES = ("received", "awarded")


class Lot(TimestampMixin, Base):
    """Tonnes of one category at a producer facility, with a reserve price at the gate."""

    __tablename__ = "lots"
    __table_args__ = (
        sa.CheckConstraint(in_set("status", LOT_STATUSES), name="status"),
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
        sa.CheckConstraint("remaining_tonnes >= 0 AND remaining_tonnes <= tonnes", name="remaining_in_range"),
        sa.CheckConstraint("available_to IS NULL OR available_to >= available_from", name="window_ordered"),
        sa.CheckConstraint("min_shipment_t IS NULL OR min_shipment_t > 0", name="min_shipment_positive"),
        sa.CheckConstraint(in_set("settle_on", SETTLEMENT_BASES), name="settle_on"),
        sa.Index("ix_lots_status_category", "status", "category_id"),
        # Browsing sorts newest first, overall or within a category: an index walk instead of a sort.
        sa.Index("ix_lots_created_at_id", "created_at", "id"),
        sa.Index("ix_lots_category_created_at", "category_id", "created_at", "id"),
        # Counting a prefecture's or base's buyable lots: an index-only walk over its facilities' lots (with
        # count(*)), where a join read all 100,000 rows (migration 0027).
        sa.Index("ix_lots_buyable_facility", "facility_id", "remaining_tonnes",
                 postgresql_include=["available_to"],
                 postgresql_where=sa.text("status IN ('open', 'matched', 'awarded') AND remaining_tonnes > 0"),
                 sqlite_where=sa.text("status IN ('open', 'matched', 'awarded') AND remaining_tonnes > 0")),
        # Price guidance's market version reads each category's newest change (migration 0027).
        sa.Index("ix_lots_category_updated_at", "category_id", "updated_at"),
        trigram_index("ix_lots_search_text_trgm", "search_text"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"), index=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # What keyword search looks in (models/search.py keeps it): never set by hand.
    search_text: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    remaining_tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    # Negative when the producer pays to be rid of it.
    reserve_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    available_from: so.Mapped[dt.date]
    available_to: so.Mapped[Optional[dt.date]]
    quality: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    min_shipment_t: so.Mapped[Optional[Decimal]] = so.mapped_column(Tonnes)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="open", index=True)
    settle_on: so.Mapped[str] = so.mapped_column(sa.String(8), default="received", server_default="received")
    # Hazardous lots only (危险废物转移管理办法 2021): the cross-province transfer approval/filing number without
    # which the lot never leaves Heilongjiang, and the waste's form, hazard characteristics and packaging as the
    # e-manifest (危险废物电子转移联单) states them.
    transfer_approval_ref: so.Mapped[Optional[str]] = so.mapped_column(sa.String(60))
    waste_form: so.Mapped[Optional[str]] = so.mapped_column(sa.String(12))
    hazard_characteristics: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20))
    packaging_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))

    facility: so.Mapped[Facility] = so.relationship(lazy="joined")
    category: so.Mapped[WasteCategory] = so.relationship(lazy="joined")
    created_by: so.Mapped[Optional[User]] = so.relationship()
    bids: so.WriteOnlyMapped[Bid] = so.relationship(back_populates="lot")
    documents: so.Mapped[list[LotDocument]] = so.relationship(
        back_populates="lot", cascade="all, delete-orphan"
    )


class LotDocument(Base):
    """A photo or document attached to a lot (stored under instance/uploads)."""

    __tablename__ = "lot_documents"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    lot_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    stored_name: so.Mapped[str] = so.mapped_column(sa.String(80), unique=True)
    content_type: so.Mapped[str] = so.mapped_column(sa.String(80))
    size_bytes: so.Mapped[int]
    uploaded_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)

    lot: so.Mapped[Lot] = so.relationship(back_populates="documents")


class Bid(TimestampMixin, Base):
    """A sealed price per tonne delivered, on one lot or on every compatible lot of a category."""

    __tablename__ = "bids"
    __table_args__ = (
        sa.CheckConstraint(in_set("status", BID_STATUSES), name="status"),
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
        sa.CheckConstraint("max_haul_km IS NULL OR max_haul_km > 0", name="max_haul_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    lot_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("lots.id"), index=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"), index=True)
    price_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    max_haul_km: so.Mapped[Optional[int]]
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="active", index=True)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))

    lot: so.Mapped[Optional[Lot]] = so.relationship(back_populates="bids")
    category: so.Mapped[WasteCategory] = so.relationship()
    facility: so.Mapped[Facility] = so.relationship()


class DemandProfile(TimestampMixin, Base):
    """A recycler's standing bid for a category over a period."""

    __tablename__ = "demand_profiles"
    __table_args__ = (
        sa.CheckConstraint("tonnes > 0", name="tonnes_positive"),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        sa.CheckConstraint("max_haul_km IS NULL OR max_haul_km > 0", name="max_haul_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    facility_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("facilities.id"), index=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    tonnes: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    price_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    period_start: so.Mapped[dt.date]
    period_end: so.Mapped[dt.date]
    max_haul_km: so.Mapped[Optional[int]]
    quality_limits: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    active: so.Mapped[bool] = so.mapped_column(default=True, index=True)

    facility: so.Mapped[Facility] = so.relationship()
    category: so.Mapped[WasteCategory] = so.relationship()


class SavedSearch(TimestampMixin, Base):
    """A buyer's standing search: a matching lot, when posted, lands in the inbox (and the outbox)."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        sa.CheckConstraint("max_km IS NULL OR (max_km > 0 AND facility_id IS NOT NULL)", name="distance_needs_origin"),
        sa.CheckConstraint("min_tonnes IS NULL OR min_tonnes >= 0", name="min_tonnes_non_negative"),
        sa.CheckConstraint("max_tonnes IS NULL OR min_tonnes IS NULL OR max_tonnes >= min_tonnes",
                           name="tonnes_ordered"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    category_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    keyword: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    min_tonnes: so.Mapped[Optional[Decimal]] = so.mapped_column(Tonnes)
    max_tonnes: so.Mapped[Optional[Decimal]] = so.mapped_column(Tonnes)
    max_price_yuan_per_t: so.Mapped[Optional[Decimal]] = so.mapped_column(Money)
    facility_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("facilities.id", ondelete="CASCADE"))
    max_km: so.Mapped[Optional[int]]
    active: so.Mapped[bool] = so.mapped_column(default=True, index=True)

    user: so.Mapped[User] = so.relationship()
    category: so.Mapped[Optional[WasteCategory]] = so.relationship()
    facility: so.Mapped[Optional[Facility]] = so.relationship()


class LotQuestion(Base):
    """A public question a buyer asks about a lot, and the producer's answer; an administrator can hide it."""

    __tablename__ = "lot_questions"
    __table_args__ = (
        sa.CheckConstraint("answer IS NULL OR answered_at IS NOT NULL", name="answer_dated"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    lot_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("lots.id", ondelete="CASCADE"), index=True)
    asked_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    question: so.Mapped[str] = so.mapped_column(sa.Text)
    asked_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    answer: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    answered_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    answered_at: so.Mapped[Optional[dt.datetime]]
    hidden: so.Mapped[bool] = so.mapped_column(default=False)
    hidden_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))

    lot: so.Mapped[Lot] = so.relationship()
    asked_by: so.Mapped[User] = so.relationship(foreign_keys=[asked_by_id])
