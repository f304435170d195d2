"""The waste catalogue: categories with tax, freight and carbon facts."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.ext.hybrid import hybrid_method

from models.base import Base, Money, Rate, in_set

FAMILIES = ("bulk_industrial", "other_industrial", "emerging", "low_value", "renewable", "agricultural",
            "hazardous")
FREIGHT_CLASSES = ("bulk", "general", "hazardous", "oversize")
# Lines of the Environmental Protection Tax Law's annex a category falls under; "none": the tax does not reach it.
# The annex lines that name the material; for 其他固体废物 each province fixes what is taxable (实施条例 Art. 2),
# and hazardous waste may only go to licensed units, so no exemption figure is shown for those (docs/statistics.md).
NAMED_TAX_BASES = ("coal_gangue", "tailings", "smelting_slag", "fly_ash", "furnace_slag")
TAX_BASES = ("coal_gangue", "tailings", "smelting_slag", "fly_ash", "furnace_slag", "other", "hazardous",
             "agricultural", "none")


class WasteCategory(Base):
    """A kind of solid waste the market trades."""

    __tablename__ = "waste_categories"
    __table_args__ = (
        sa.CheckConstraint(in_set("family", FAMILIES), name="family"),
        sa.CheckConstraint(in_set("freight_class", FREIGHT_CLASSES), name="freight_class"),
        sa.CheckConstraint("env_tax_yuan_per_t >= 0", name="env_tax_non_negative"),
        sa.CheckConstraint(in_set("env_tax_basis", TAX_BASES), name="env_tax_basis"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(60))
    name_en: so.Mapped[str] = so.mapped_column(sa.String(80))
    family: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    hazardous: so.Mapped[bool] = so.mapped_column(default=False)
    # Class code of the 2024 固体废物分类与代码目录 (e.g. "S02"); null where the class is unclear. The code format is
    # sourced, each row's class is our reading (app/data/README.md).
    national_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20))
    # 国家危险废物名录 category and waste code (e.g. "HW11 252-002-11") for hazardous waste.
    hw_code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    env_tax_basis: so.Mapped[str] = so.mapped_column(sa.String(20), default="other", server_default="other")
    env_tax_yuan_per_t: so.Mapped[Decimal] = so.mapped_column(Money)
    env_tax_source: so.Mapped[str] = so.mapped_column(sa.String(300))
    freight_class: so.Mapped[str] = so.mapped_column(sa.String(12))
    co2_avoided_t_per_t: so.Mapped[Decimal] = so.mapped_column(Rate)
    co2_source: so.Mapped[str] = so.mapped_column(sa.String(300))
    co2_is_estimate: so.Mapped[bool] = so.mapped_column(default=False)
    # Category-specific quality attributes a lot states, e.g. [{"key": "cao_pct", "unit": "%"}].
    quality_fields: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    storage_cost_yuan_per_t_month: so.Mapped[Optional[Decimal]] = so.mapped_column(Money)

    @property
    def exemption_rate(self) -> Decimal | None:
        """Yuan per tonne of the Art. 12(1)(4) exemption figure, or None where the figure is not shown."""
        return self.env_tax_yuan_per_t if self.env_tax_basis in NAMED_TAX_BASES else None

    @hybrid_method
    def display_name(self, locale: str) -> str:
        """The category name in the given locale; on the class, the column to select it by."""
        return self.name_zh if locale.startswith("zh") else self.name_en
