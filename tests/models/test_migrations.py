"""The Alembic migrations build exactly the schema the ORM models describe."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

import models
from tests.conftest import _TMP, database_url_under_test


@pytest.fixture
def migrated_url():
    """A URL of an empty database (SQLite file or PostgreSQL schema) upgraded to head."""
    base = database_url_under_test()
    if base.startswith("sqlite"):
        url = f"sqlite:///{_TMP / f'migrate-{uuid.uuid4().hex}.sqlite'}"
        cleanup = None
    else:
        schema = f"mig_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(base)
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"

        def cleanup():
            with engine.begin() as connection:
                connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            engine.dispose()
    config = Config("alembic.ini")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
    yield url
    if cleanup:
        cleanup()


def test_migrated_schema_matches_the_models(migrated_url):
    engine = models.make_engine(migrated_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, models.Base.metadata)
    engine.dispose()
    assert diff == []


def test_migrated_schema_enforces_lot_status(migrated_url):
    engine = models.make_engine(migrated_url)
    inspector = sa.inspect(engine)
    checks = {c["name"] for c in inspector.get_check_constraints("lots")}
    engine.dispose()
    assert "ck_lots_status" in checks and "ck_lots_tonnes_positive" in checks
