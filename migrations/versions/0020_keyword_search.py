"""Keyword search: pg_trgm trigram GIN indexes on lot titles and descriptions, organisation and facility names.

On PostgreSQL the indexes serve the ILIKE '%word%' conditions of app/services/keywords.py (pg_trgm also splits
Chinese text into trigrams, which the default full-text parser cannot); SQLite gets plain indexes of the
same names so that the models and the migrated schema stay alike.

Revision ID: 0020
Revises: 0012
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0020"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEXES = (
    ("ix_lots_title_trgm", "lots", "title"),
    ("ix_lots_description_trgm", "lots", "description"),
    ("ix_organizations_name_trgm", "organizations", "name"),
    ("ix_organizations_name_en_trgm", "organizations", "name_en"),
    ("ix_facilities_name_trgm", "facilities", "name"),
)


def upgrade() -> None:
    """Enable pg_trgm (PostgreSQL) and add the trigram indexes."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    """Drop the indexes (the extension stays: other objects may use it)."""
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
