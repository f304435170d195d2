"""Declarative base, naming convention, shared column types and the timestamp mixin."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Tonnes are exact to the kilogram and money to the fen: never floats.
Tonnes = sa.Numeric(14, 3, asdecimal=True)
Money = sa.Numeric(14, 2, asdecimal=True)
Rate = sa.Numeric(7, 4, asdecimal=True)


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class Base(so.DeclarativeBase):
    """Root of every ORM model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Decimal: Money,
        dt.datetime: sa.DateTime(timezone=True),
    }


class TimestampMixin:
    """Creation and update times, computed per row (not once at import)."""

    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


def trigram_index(name: str, column: str) -> sa.Index:
    """A pg_trgm GIN index serving ILIKE '%word%' on PostgreSQL (a plain index elsewhere); keyword search."""
    return sa.Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


# Trigram indexes need the extension before their tables (create_all in tests; migration 0020 otherwise).
sa.event.listen(Base.metadata, "before_create",
                sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


def in_set(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK that `column` takes one of `values`."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
