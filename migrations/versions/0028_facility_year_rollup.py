"""Yearly rollup per facility (facility_year_rollup) for the base dashboards' top producers.

Kept in step with the reports and platform declarations by the app, like utilisation_rollup. Existing rows are
summed in by `flask rebuild-rollup` or on `flask load-reference` (the migration must not import the app's
definition of a counted cell).

Revision ID: 0028
Revises: 0025
"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: Union[str, Sequence[str], None] = "0025"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the empty table."""
    tonnes = sa.Numeric(20, 3, asdecimal=True)
    op.create_table(
        "facility_year_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("generated_t", tonnes, nullable=False),
        sa.Column("from_storage_t", tonnes, nullable=False),
        sa.Column("utilised_t", tonnes, nullable=False),
        sa.ForeignKeyConstraint(["facility_id"], ["facilities.id"],
                                name=op.f("fk_facility_year_rollup_facility_id_facilities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_year_rollup")),
        sa.UniqueConstraint("year", "facility_id", name="uq_facility_year_rollup_key"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("facility_year_rollup")
