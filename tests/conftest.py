"""Fixtures: app → client → database (truncated after each test) → reference data and users.

The suite runs on a throw-away SQLite file, or on the database TEST_DATABASE_URL names (PostgreSQL in CI).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="gufei-tests-"))
os.environ["GUFEI_INSTANCE_PATH"] = str(_TMP / "instance")
os.environ.setdefault("SECRET_KEY", "tests-only-secret")
os.environ.pop("REDIS_URL", None)

import sqlalchemy as sa  # noqa: E402

import models  # noqa: E402
from app import create_app  # noqa: E402
from app.extensions import db as database  # noqa: E402


def database_url_under_test() -> str:
    """The database under test: TEST_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    return f"sqlite:///{_TMP / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app():
    """The app bound to the test database, schema created from the models."""
    app = create_app({
        "TESTING": True, "DATABASE_URL": database_url_under_test(), "SERVER_NAME": "localhost",
        "UPLOAD_FOLDER": str(_TMP / "uploads"), "JOBS_IN_THREAD": False,
        "PRICE_GUIDANCE_VERSION_TTL_SECONDS": 0, "LOT_COUNT_TTL_SECONDS": 0,
    })
    models.Base.metadata.drop_all(database.engine)
    models.Base.metadata.create_all(database.engine)
    yield app
    database.session.remove()
    database.engine.dispose()


@pytest.fixture
def db(app):
    """The request-scoped session; every table is emptied after the test."""
    with app.app_context():
        yield database
    database.session.remove()
    _truncate_all(database.engine)


def _truncate_all(engine: sa.Engine) -> None:
    tables = models.Base.metadata.sorted_tables
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture
def client(app, db):
    """A test client; its requests share the test database."""
    return app.test_client()


@pytest.fixture
def runner(app, db):
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


@pytest.fixture
def reference(db):
    """The waste catalogue and the bases."""
    from app.services.reference import load_reference

    load_reference(db.session)
    return db


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """Fetch a page and return the CSRF token of its form, as a browser would."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


class Auth:
    """Signs a user in and out through the real forms."""

    def __init__(self, client) -> None:
        self.client = client

    def login(self, email: str, password: str = "correct horse battery"):
        token = csrf_token(self.client, "/login")
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    """Log in through the login form."""
    return Auth(client)


def sign_in(client, user) -> None:
    """Put the user in the client's session as Flask-Login does (its id and current session nonce)."""
    from flask import g, has_app_context

    if has_app_context():  # the test's app context outlives requests; forget the user Flask-Login cached on g
        g.pop("_login_user", None)
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_nonce}"
        session["_fresh"] = True
