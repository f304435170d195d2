"""Hazardous transfer regime: carriers' dangerous-goods permits, lots' transfer approvals and e-manifest facts.

Revision ID: 0019
Revises: 0012
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ORGANIZATION_COLUMNS = (("dg_permit_no", sa.String(length=40)), ("dg_permit_valid_until", sa.Date()))
LOT_COLUMNS = (("transfer_approval_ref", sa.String(length=60)), ("waste_form", sa.String(length=12)),
               ("hazard_characteristics", sa.String(length=20)), ("packaging_type", sa.String(length=40)))
SHIPMENT_COLUMNS = (("packaging_count", sa.Integer()), ("carrier_permit_no", sa.String(length=40)),
                    ("receiver_licence_no", sa.String(length=60)), ("disposal_method", sa.String(length=8)))
TABLES = (("organizations", ORGANIZATION_COLUMNS), ("lots", LOT_COLUMNS), ("shipments", SHIPMENT_COLUMNS))


def upgrade() -> None:
    """Add the nullable columns (existing rows simply have none of these facts)."""
    for table, columns in TABLES:
        with op.batch_alter_table(table) as batch:
            for name, type_ in columns:
                batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    """Drop them again."""
    for table, columns in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            for name, _type in reversed(columns):
                batch.drop_column(name)
