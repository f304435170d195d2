"""Hazardous transfer regime (carriers' dangerous-goods permits, lots' transfer approvals, e-manifest facts) and
reports' tonnes disposed from earlier years' storage (处置往年贮存量).

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
    with op.batch_alter_table("generation_reports") as batch:
        batch.add_column(sa.Column("disposed_from_storage_t", sa.Numeric(precision=14, scale=3), server_default="0",
                                   nullable=False))
        batch.create_check_constraint(op.f("ck_generation_reports_disposed_from_storage_non_negative"),
                                      "disposed_from_storage_t >= 0")


def downgrade() -> None:
    """Drop them again."""
    with op.batch_alter_table("generation_reports") as batch:
        batch.drop_constraint("ck_generation_reports_disposed_from_storage_non_negative", type_="check")
        batch.drop_column("disposed_from_storage_t")
    for table, columns in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            for name, _type in reversed(columns):
                batch.drop_column(name)
