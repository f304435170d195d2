"""Unbound extensions, bound to the app in create_app with init_app."""
from __future__ import annotations

import sqlalchemy.orm as so
from celery import Celery
from flask import Flask
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

import models


class Database:
    """The app's engine and a request-scoped SQLAlchemy session."""

    def __init__(self) -> None:
        self.engine = None
        self.session = so.scoped_session(so.sessionmaker(expire_on_commit=False))

    def init_app(self, app: Flask) -> None:
        """Create the engine from DATABASE_URL and end the session after each request."""
        self.engine = models.make_engine(app.config["DATABASE_URL"])
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(self._remove_session)
        app.extensions["database"] = self

    def _remove_session(self, _exc: BaseException | None) -> None:
        self.session.remove()


db = Database()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
# Rate limits (the API's, per token): memory storage, or Redis when REDIS_URL is set (see settings).
limiter = Limiter(key_func=get_remote_address)
# The job queue: bound to REDIS_URL by app.jobs.init_app; without it jobs run in-process.
celery = Celery("gufei")
