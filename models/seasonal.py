"""Storage yards (贮存场) where residues wait for the season their buyers run in."""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, Money, TimestampMixin, Tonnes

if TYPE_CHECKING:
    from models.bases import ResourceBase
    from models.catalogue import WasteCategory

# Percent per month, to a thousandth of a percent.
LossPct = sa.Numeric(6, 3, asdecimal=True)


class Yard(TimestampMixin, Base):
    """A shared yard of a base (or the province): one category, a place, a capacity and a monthly cost."""

    __tablename__ = "yards"
    __table_args__ = (
        sa.CheckConstraint("capacity_t > 0", name="capacity_positive"),
        sa.CheckConstraint("cost_yuan_per_t_month >= 0", name="cost_non_negative"),
        sa.CheckConstraint("loss_pct_per_month >= 0 AND loss_pct_per_month < 100", name="loss_pct_range"),
        sa.CheckConstraint("lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90", name="lonlat_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    base_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("bases.id"), index=True)
    category_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("waste_categories.id"), index=True)
    lon: so.Mapped[float] = so.mapped_column(sa.Float)
    lat: so.Mapped[float] = so.mapped_column(sa.Float)
    capacity_t: so.Mapped[Decimal] = so.mapped_column(Tonnes)
    cost_yuan_per_t_month: so.Mapped[Decimal] = so.mapped_column(Money)
    loss_pct_per_month: so.Mapped[Decimal] = so.mapped_column(LossPct, default=Decimal(0))
    is_demo: so.Mapped[bool] = so.mapped_column(default=False)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))

    base: so.Mapped[Optional[ResourceBase]] = so.relationship()
    category: so.Mapped[WasteCategory] = so.relationship()
