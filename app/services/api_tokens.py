"""API tokens: create (the secret shown once, only its SHA-256 stored), list, revoke, authenticate."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.services import audit
from app.services.errors import PermissionDenied, ServiceError
from models import ApiToken, User, utcnow

TOKEN_PREFIX = "gf_"  # noqa: S105 - a public marker, not a secret
PREFIX_LENGTH = 10  # "gf_" and 7 characters: enough to tell tokens apart, useless to an attacker
MAX_NAME = 100
# last_used_at is written at most this often per token, so reads do not turn into writes.
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    """A freshly created token: the row and the secret, which is never stored nor shown again."""

    row: ApiToken
    secret: str


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create(session: so.Session, user: User, name: str | None) -> NewToken:
    """Create a token for the user; commit and audit; return it with its secret (shown once)."""
    name = (name or "").strip() or _("API token")
    if len(name) > MAX_NAME:
        raise ServiceError(_("The name may have at most %(n)d characters.", n=MAX_NAME), field="name")
    if not user.active:
        raise PermissionDenied(_("This account is disabled."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=digest(secret), prefix=secret[:PREFIX_LENGTH])
    session.add(token)
    session.flush()
    audit.record(session, user.id, "api_token", token.id, "created", {"name": name, "prefix": token.prefix})
    session.commit()
    return NewToken(token, secret)


def of_user(session: so.Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones included, marked)."""
    return list(session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke(session: so.Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's tokens (administrators may revoke anyone's); commit and audit."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != user.id and user.role != "admin"):
        raise PermissionDenied(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, user.id, "api_token", token.id, "revoked", {"prefix": token.prefix})
        session.commit()
    return token


def authenticate(session: so.Session, secret: str) -> ApiToken | None:
    """The live token with this secret and an active user, or None; records when it was last used."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    if last is None or now - last > TOUCH_EVERY:
        token.last_used_at = now
        session.commit()
    return token
