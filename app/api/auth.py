"""Bearer-token authentication and the permission rules the web pages use, as API checks."""
from __future__ import annotations

import hashlib

from flask import g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from app import policy
from app.api.errors import ApiError
from app.extensions import db
from app.services import api_tokens
from models import User

LIVE_TOKEN = "gufei.live_token"  # noqa: S105 - a WSGI environ key, not a secret


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
    token = _live_token()
    if token is None:
        raise ApiError(401, _("The API token is unknown or revoked."), slug="invalid-token")
    g.api_token = token
    g.api_user = token.user
    return token.user


def current_user() -> User:
    """The authenticated user of this API request."""
    return g.api_user


def has_live_token() -> bool:
    """Whether the request carries a live token (looked up once per request)."""
    return _live_token() is not None


def _live_token():
    # Kept on the request, not on g: an app context (and its g) may outlive one request.
    if LIVE_TOKEN not in request.environ:
        secret = bearer_secret()
        request.environ[LIVE_TOKEN] = api_tokens.authenticate(db.session, secret) if secret else None
    return request.environ[LIVE_TOKEN]


def address_key() -> str:
    """The client's address (behind trusted proxies, the forwarded one) as a rate-limit key."""
    return "addr:" + (get_remote_address() or "-")


def rate_limit_key() -> str:
    """Rate limits count per token (by a digest of it), or per address without one."""
    secret = bearer_secret()
    if secret:
        return "token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "addr:" + (get_remote_address() or "-")


def require(allowed: bool, message: str | None = None) -> None:
    """403 problem unless `allowed` (a predicate of app.policy); an unverified organisation is named as the reason."""
    if allowed:
        return
    reason = policy.refusal_reason(g.get("api_user"))
    if reason:
        raise ApiError(403, reason, slug="unverified")
    raise ApiError(403, message or _("Your role may not do this."))
