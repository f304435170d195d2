"""Indexes for lot search counts and price guidance's market version.

- ix_lots_buyable_facility: the buyable lots (partial: the statuses and tonnes of lots.buyable_clause) by facility
  and remaining tonnes, carrying available_to, so that counting a prefecture's or a base's lots is an index-only
  walk over its facilities' entries instead of reading every lot.
- ix_lots_category_updated_at: the newest change of a category's lots (guidance.market_version) without reading
  the category's rows.

Revision ID: 0027
Revises: 0028
"""
from collections.abc import Sequence
from typing import Union

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: Union[str, Sequence[str], None] = "0028"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BUYABLE = "status IN ('open', 'matched', 'awarded') AND remaining_tonnes > 0"


def upgrade() -> None:
    """Create both indexes."""
    op.create_index("ix_lots_buyable_facility", "lots", ["facility_id", "remaining_tonnes"],
                    postgresql_include=["available_to"], postgresql_where=sa.text(BUYABLE),
                    sqlite_where=sa.text(BUYABLE))
    op.create_index("ix_lots_category_updated_at", "lots", ["category_id", "updated_at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_lots_category_updated_at", table_name="lots")
    op.drop_index("ix_lots_buyable_facility", table_name="lots")
