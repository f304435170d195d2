"""Page guards over app.policy, and the Flask-Login user loader that checks each session is still valid."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import sqlalchemy.orm as so
from flask import abort, current_app
from flask_login import UserMixin, current_user, login_required

from app import policy
from app.extensions import db, login_manager
from models import Organization, User


class SessionUser(UserMixin):
    """The signed-in user as Flask-Login sees it, wrapping the ORM row."""

    def __init__(self, user: User) -> None:
        self.row = user
        self.id = user.id

    def __getattr__(self, name):
        return getattr(self.row, name)

    def get_id(self) -> str:
        """The session's id: the user and their session nonce, so a new nonce ends every older session."""
        return f"{self.row.id}:{self.row.session_nonce}"

    @property
    def is_active(self) -> bool:
        return self.row.active

    @property
    def can_trade(self) -> bool:
        """Only users of verified organisations trade."""
        return policy.may_trade(self.row)


_USER_LOAD = (so.joinedload(User.organization).joinedload(Organization.roles),)


@login_manager.user_loader
def load_user(session_id: str) -> SessionUser | None:
    """The session's user, if the id and nonce still match an active user (logout and password change rotate it)."""
    user_id, _sep, nonce = session_id.partition(":")
    if not user_id.isdigit() or not nonce:
        return None
    # One query per request: the user, the organisation and its roles joined (the roles' selectin load would be a
    # second round trip on every page).
    user = db.session.get(User, int(user_id), options=_USER_LOAD)
    if user is None or not user.active or user.session_nonce != nonce:
        return None
    return SessionUser(user)


def allowed(predicate: Callable[[User], bool]):
    """Page guard: sign in first, then 403 unless `predicate(user)` (with the reason when it is verification)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not predicate(current_user.row):
                abort(403, description=policy.refusal_reason(current_user.row))
            return view(*args, **kwargs)

        wrapped.policy_predicate = predicate  # read by may_open: the menu asks the guard itself
        return wrapped

    return decorator


_NO_GUARD = object()  # may_open's cache: the page has no policy guard


def _guard_of(endpoint: str):
    """The policy predicate guarding `endpoint`, _NO_GUARD, or None for an unknown endpoint; worked out once per
    app and endpoint (the menu asks about a dozen pages on every page view)."""
    guards = current_app.extensions.setdefault("gufei_page_guards", {})
    if endpoint not in guards:
        view = current_app.view_functions.get(endpoint)
        while view is not None and not hasattr(view, "policy_predicate"):
            view = getattr(view, "__wrapped__", None)
        if view is not None:
            guards[endpoint] = view.policy_predicate
        else:
            guards[endpoint] = _NO_GUARD if endpoint in current_app.view_functions else None
    return guards[endpoint]


def may_open(endpoint: str) -> bool:
    """Whether the current visitor passes the guard of the page at `endpoint`: the navigation shows a link only
    when this holds, so the menu and the pages cannot disagree (a page without a policy guard is open to all)."""
    guard = _guard_of(endpoint)
    if guard is None:
        return False
    if guard is _NO_GUARD:
        return True
    return bool(current_user.is_authenticated and guard(current_user.row))


def awaiting_verification() -> bool:
    """Whether the signed-in user's organisation still waits for verification (the banner under the menu)."""
    return bool(current_user.is_authenticated and policy.refusal_reason(current_user.row))


def check(allowed_: bool) -> None:
    """Inside a view: 403 unless `allowed_` (the object-level half of a guard)."""
    if not allowed_:
        abort(403, description=policy.refusal_reason(current_user.row if current_user.is_authenticated else None))
