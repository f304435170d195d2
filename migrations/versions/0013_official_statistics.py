"""Official statistics: the producer's full monthly balance, national catalogue codes, the tax basis.

Revision ID: 0013
Revises: 0017
Create Date: 2026-11-30 22:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OLD_FAMILIES = "('bulk_industrial', 'emerging', 'low_value', 'renewable', 'agricultural', 'hazardous')"
FAMILIES = "('bulk_industrial', 'other_industrial', 'emerging', 'low_value', 'renewable', 'agricultural', " \
           "'hazardous')"
TAX_BASES = "('coal_gangue', 'tailings', 'smelting_slag', 'fly_ash', 'furnace_slag', 'other', 'hazardous', " \
            "'agricultural', 'none')"


def upgrade() -> None:
    """Add supplied/dumped tonnes to reports and codes and tax basis to the catalogue."""
    with op.batch_alter_table("generation_reports") as batch_op:
        batch_op.add_column(sa.Column("supplied_t", sa.Numeric(precision=14, scale=3), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("dumped_t", sa.Numeric(precision=14, scale=3), server_default="0",
                                      nullable=False))
        batch_op.create_check_constraint(op.f("ck_generation_reports_supplied_dumped_non_negative"), "supplied_t >= 0 AND dumped_t >= 0")
    with op.batch_alter_table("waste_categories") as batch_op:
        batch_op.add_column(sa.Column("national_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("hw_code", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("env_tax_basis", sa.String(length=20), server_default="other",
                                      nullable=False))
        batch_op.create_check_constraint(op.f("ck_waste_categories_env_tax_basis"), f"env_tax_basis IN {TAX_BASES}")
    _family_check(FAMILIES)


def _family_check(families: str) -> None:
    for table in ("waste_categories", "base_targets"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_family"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_family"), f"family IN {families}")


def downgrade() -> None:
    """Drop what upgrade added."""
    _family_check(OLD_FAMILIES)
    with op.batch_alter_table("waste_categories") as batch_op:
        batch_op.drop_constraint("ck_waste_categories_env_tax_basis", type_="check")
        batch_op.drop_column("env_tax_basis")
        batch_op.drop_column("hw_code")
        batch_op.drop_column("national_code")
    with op.batch_alter_table("generation_reports") as batch_op:
        batch_op.drop_constraint("ck_generation_reports_supplied_dumped_non_negative", type_="check")
        batch_op.drop_column("dumped_t")
        batch_op.drop_column("supplied_t")
