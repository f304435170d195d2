"""Vehicles covered by the carrier's road dangerous-goods transport permit (vehicles.hazardous_ok).

Dispatch planning puts hazardous loads only on these trucks. Existing trucks are not covered until the carrier
says so.

Revision ID: 0025
Revises: 0023
"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: Union[str, Sequence[str], None] = "0023"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the flag, false for every existing truck."""
    with op.batch_alter_table("vehicles") as batch:
        batch.add_column(sa.Column("hazardous_ok", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Drop it again."""
    with op.batch_alter_table("vehicles") as batch:
        batch.drop_column("hazardous_ok")
