"""Bearer-token authentication and the permission rules the web pages use, as API checks."""
from __future__ import annotations

import hashlib

from flask import g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app.api.errors import ApiError
from app.extensions import db
from app.permissions import TRADING_ROLES
from app.services import api_tokens
from models import User


def bearer_secret() -> str | None:
    """The token in the Authorization header, if it carries a bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def authenticate() -> User:
    """The user of the request's token; 401 problem (with WWW-Authenticate) when missing, unknown or revoked."""
    secret = bearer_secret()
    if secret is None:
        raise ApiError(401, _("Send an API token as 'Authorization: Bearer <token>'."))
    token = api_tokens.authenticate(db.session, secret)
    if token is None:
        raise ApiError(401, _("The API token is unknown or revoked."), slug="invalid-token")
    g.api_token = token
    g.api_user = token.user
    return token.user


def current_user() -> User:
    """The authenticated user of this API request."""
    return g.api_user


def rate_limit_key() -> str:
    """Rate limits count per token (by a digest of it), or per address without one."""
    secret = bearer_secret()
    if secret:
        return "token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "addr:" + (get_remote_address() or "-")


def require_roles(user: User, *roles: str) -> None:
    """403 unless the user has one of `roles` (administrators always pass), like roles_required."""
    if user.role != "admin" and user.role not in roles:
        raise ApiError(403, _("Your role may not do this."))


def require_trader(user: User, *roles: str) -> None:
    """403 unless the user trades in one of `roles` for a verified organisation, like trader_required."""
    require_roles(user, *roles)
    if user.role != "admin" and not user.organization.verified:
        raise ApiError(403, _("Your organisation must be verified before it can trade."), slug="unverified")


def can_trade(user: User) -> bool:
    """Whether the user trades for a verified organisation."""
    return user.organization.verified and user.role in TRADING_ROLES
