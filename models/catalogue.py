"""The waste catalogue: categories with tax, freight and carbon facts."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, Money, Rate, in_set

FAMILIES = ("bulk_industrial", "emerging", "low_value", "renewable", "agricultural", "hazardous")
FREIGHT_CLASSES = ("bulk", "general", "hazardous", "oversize")


class WasteCategory(Base):
    """A kind of solid waste the market trades."""

    __tablename__ = "waste_categories"
    __table_args__ = (
        sa.CheckConstraint(in_set("family", FAMILIES), name="family"),
        sa.CheckConstraint(in_set("freight_class", FREIGHT_CLASSES), name="freight_class"),
        sa.CheckConstraint("env_tax_yuan_per_t >= 0", name="env_tax_non_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(60))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))
    family: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    hazardous: so.Mapped[bool] = so.mapped_column(default=False)
    env_tax_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    env_tax_source: so.Mapped[str] = so.mapped_column(sa.String(300))
    freight_class: so.Mapped[str] = so.mapped_column(sa.String(12))
    co2_avoided_t_per_t: so.Mapped[Decimal] = so.mapped_column(Rate)
    co2_source: so.Mapped[str] = so.mapped_column(sa.String(300))
    co2_is_estimate: so.Mapped[bool] = so.mapped_column(default=False)
    # Category-specific quality attributes a lot states, e.g. [{"key": "cao_pct", "unit": "%"}].
    quality_fields: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    storage_cost_yuan_per_t_month: so.Mapped[Optional[Decimal]] = so.mapped_column(Money)

    def display_name(self, locale: str) -> str:
        """The category name in the given locale."""
        return self.name_zh if locale.startswith("zh") else self.name_en
