"""Official statistics: the producer's full monthly balance, national catalogue codes, the tax basis.

Revision ID: 0013
Revises: 0015
Create Date: 2026-11-30 22:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0015"
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
    tonnes = [sa.Column(name, sa.Numeric(precision=14, scale=3), nullable=False) for name in (
        "generated_t", "stored_t", "disposed_t", "dumped_t", "from_storage_t", "self_utilised_t", "supplied_t",
        "market_utilised_t", "utilised_t")]
    op.create_table(
        "utilisation_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("prefecture_key", sa.String(length=6), nullable=False),
        sa.Column("base_key", sa.Integer(), nullable=False),
        sa.Column("in_province", sa.Boolean(), nullable=False),
        *tonnes,
        sa.Column("demo_cells", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["waste_categories.id"],
                                name=op.f("fk_utilisation_rollup_category_id_waste_categories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_utilisation_rollup")),
        sa.UniqueConstraint("period", "category_id", "prefecture_key", "base_key", "in_province",
                            name="uq_utilisation_rollup_key"),
    )
    # Existing reports and declarations are summed into the rollup by `flask rebuild-rollup` (it needs the app's
    # definition of a counted cell, which a migration must not import).


def _family_check(families: str) -> None:
    for table in ("waste_categories", "base_targets"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_family"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_family"), f"family IN {families}")


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("utilisation_rollup")
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
