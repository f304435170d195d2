"""Keyword search: pg_trgm trigram GIN indexes on lot titles and descriptions, organisation and facility names.

On PostgreSQL the indexes serve the ILIKE '%word%' conditions of app/services/keywords.py (pg_trgm also splits
Chinese text into trigrams, which the default full-text parser cannot); SQLite gets plain indexes of the
same names so that the models and the migrated schema stay alike.

Revision ID: 0020
Revises: 0012
"""
from typing import Sequence, Union

import sqlalchemy as sa
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


def _operator_class() -> str:
    """gin_trgm_ops, qualified by the schema pg_trgm lives in (it need not be on this search_path)."""
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return "gin_trgm_ops"
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = connection.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_trgm'")).scalar_one()
    return f'"{schema}".gin_trgm_ops'


def upgrade() -> None:
    """Enable pg_trgm (PostgreSQL) and add the trigram indexes."""
    ops = _operator_class()
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: ops})


def downgrade() -> None:
    """Drop the indexes (the extension stays: other objects may use it)."""
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
