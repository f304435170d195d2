"""Totals sized for sums: a clearing's objective, transport cost, tonnes and CO2 add up over every allocation, and
the utilisation rollup's tonnes over every facility of a place.

Each allocation fits Numeric(14, 2) (the limits bound price × tonnes), but a province-wide run adds many of them:
two of the largest allowed overflowed the run row and failed every category with it.

Revision ID: 0023
Revises: 0020
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: Union[str, Sequence[str], None] = "0020"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = {
    "match_runs": (("objective_yuan", 2), ("transport_cost_yuan", 2), ("tonnes_matched", 3), ("co2_t", 3)),
    "utilisation_rollup": tuple((name, 3) for name in (
        "generated_t", "stored_t", "disposed_t", "dumped_t", "from_storage_t", "self_utilised_t", "supplied_t",
        "market_utilised_t", "utilised_t")),
}


def upgrade() -> None:
    """Widen the totals from 14 to 20 digits."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, scale in columns:
                batch.alter_column(name, existing_type=sa.Numeric(14, scale), type_=sa.Numeric(20, scale),
                                   existing_nullable=table == "match_runs")


def downgrade() -> None:
    """Narrow them back (fails if a stored total no longer fits)."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name, scale in columns:
                batch.alter_column(name, existing_type=sa.Numeric(20, scale), type_=sa.Numeric(14, scale),
                                   existing_nullable=table == "match_runs")
