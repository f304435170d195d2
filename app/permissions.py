"""Route guards: signed in, role, verified organisation; and the Flask-Login user loader."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required

from app.extensions import db, login_manager
from models import User

TRADING_ROLES = {"producer", "recycler", "carrier"}


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login sees it, wrapping the ORM row."""

    def __init__(self, user: User) -> None:
        self.row = user
        self.id = user.id

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def is_active(self) -> bool:
        return self.row.active

    @property
    def can_trade(self) -> bool:
        """Only users of verified organisations trade."""
        return self.row.organization.verified and self.row.role in TRADING_ROLES


@login_manager.user_loader
def load_user(user_id: str) -> SessionUser | None:
    """Load the session's user by id."""
    user = db.session.get(User, int(user_id))
    return SessionUser(user) if user is not None else None


def roles_required(*roles: str):
    """Allow only signed-in users having one of `roles` (admins always pass)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != "admin" and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def trader_required(*roles: str):
    """Allow only users of verified organisations in one of the trading `roles`."""

    def decorator(view):
        @wraps(view)
        @roles_required(*roles)
        def wrapped(*args, **kwargs):
            if current_user.role != "admin" and not current_user.organization.verified:
                abort(403, description=_("Your organisation must be verified before it can trade."))
            return view(*args, **kwargs)

        return wrapped

    return decorator
