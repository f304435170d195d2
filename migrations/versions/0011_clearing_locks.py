"""Clearing locks (one run per category at a time) and run progress, failure reason and timings.

Revision ID: 0011
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "clearing_locks",
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["waste_categories.id"],
                                name=op.f("fk_clearing_locks_category_id_waste_categories")),
        sa.ForeignKeyConstraint(["run_id"], ["match_runs.id"], name=op.f("fk_clearing_locks_run_id_match_runs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("category_id", name=op.f("pk_clearing_locks")),
    )
    with op.batch_alter_table("clearing_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clearing_locks_run_id"), ["run_id"], unique=False)
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stage", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("categories_done", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("categories_total", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("failure_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("timings", sa.JSON(), nullable=True))
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.alter_column("categories_done", server_default=None)
        batch_op.alter_column("categories_total", server_default=None)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.drop_column("timings")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("categories_total")
        batch_op.drop_column("categories_done")
        batch_op.drop_column("stage")
    with op.batch_alter_table("clearing_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clearing_locks_run_id"))
    op.drop_table("clearing_locks")
