"""Keyword search: lots.search_text (title, description, facility, organisation and category names) with a
pg_trgm trigram GIN index.

On PostgreSQL the index serves the ILIKE '%word%' conditions of app/services/keywords.py (pg_trgm also splits
Chinese text into trigrams, which the default full-text parser cannot); SQLite gets a plain index of the same
name so that the models and the migrated schema stay alike. models/search.py keeps the column up to date.

Revision ID: 0020
Revises: 0019
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: Union[str, Sequence[str], None] = "0019"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The same document as models/search.py builds: fields joined by a newline, lower-cased.
BACKFILL = """
UPDATE lots SET search_text = (
    SELECT LOWER(lots.title || '\n' || COALESCE(lots.description, '') || '\n' || f.name || '\n' || o.name || '\n'
                 || COALESCE(o.name_en, '') || '\n' || c.name_zh || '\n' || c.name_en)
    FROM facilities f JOIN organizations o ON o.id = f.organization_id, waste_categories c
    WHERE f.id = lots.facility_id AND c.id = lots.category_id)
"""


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
    """Add and fill lots.search_text; enable pg_trgm (PostgreSQL) and index the column."""
    op.add_column("lots", sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    op.execute(BACKFILL)
    op.create_index("ix_lots_search_text_trgm", "lots", ["search_text"], postgresql_using="gin",
                    postgresql_ops={"search_text": _operator_class()})


def downgrade() -> None:
    """Drop the index and the column (the extension stays: other objects may use it)."""
    op.drop_index("ix_lots_search_text_trgm", table_name="lots")
    with op.batch_alter_table("lots") as batch:
        batch.drop_column("search_text")
