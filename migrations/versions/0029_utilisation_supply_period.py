"""The month a platform delivery was supplied (utilisation_records.supply_period).

A producer reports its 外供 in the month the tonnes left it; the recycler declares them utilised when it uses them,
often a month later. The producer's statistics count a delivery in the supply month (the Beijing month of the
load's dispatch), so a delivery reported as 外供 and declared in a later month is counted once. Existing rows keep
a null supply month and count in their declaration month as before; `flask rebuild-rollup` is not needed.

Revision ID: 0029
Revises: 0027
"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: Union[str, Sequence[str], None] = "0027"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the nullable column."""
    with op.batch_alter_table("utilisation_records") as batch_op:
        batch_op.add_column(sa.Column("supply_period", sa.Date(), nullable=True))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("utilisation_records") as batch_op:
        batch_op.drop_column("supply_period")
