"""Run totals sized for sums: a clearing's objective, transport cost, tonnes and CO2 add up over every allocation.

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

COLUMNS = (("objective_yuan", 2), ("transport_cost_yuan", 2), ("tonnes_matched", 3), ("co2_t", 3))


def upgrade() -> None:
    """Widen match_runs' totals from 14 to 20 digits."""
    with op.batch_alter_table("match_runs") as batch:
        for name, scale in COLUMNS:
            batch.alter_column(name, existing_type=sa.Numeric(14, scale), type_=sa.Numeric(20, scale),
                               existing_nullable=True)


def downgrade() -> None:
    """Narrow them back (fails if a stored total no longer fits)."""
    with op.batch_alter_table("match_runs") as batch:
        for name, scale in COLUMNS:
            batch.alter_column(name, existing_type=sa.Numeric(20, scale), type_=sa.Numeric(14, scale),
                               existing_nullable=True)
