"""RFC 9457 problem details: every error under /api/v1 answers application/problem+json."""
from __future__ import annotations

import logging
from typing import Any

from flask import Response, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.services.errors import PermissionDenied, ServiceError, Throttled

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://gufei.example/problems/"


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        401: _("Authentication required"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        413: _("Request too large"),
        415: _("Unsupported media type"),
        422: _("Unprocessable request"),
        429: _("Too many requests"),
        500: _("Internal server error"),
    }


SLUGS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
         406: "not-acceptable", 409: "conflict", 413: "too-large", 415: "unsupported-media-type",
         422: "validation-error", 429: "rate-limited", 500: "internal-error"}


class ApiError(Exception):
    """An error the API reports as a problem document."""

    def __init__(self, status: int, detail: str | None = None, errors: list[dict[str, str]] | None = None,
                 slug: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or str(status))
        self.status = status
        self.detail = detail
        self.errors = errors
        self.slug = slug
        self.headers = headers or {}


def problem(status: int, detail: str | None = None, errors: list[dict[str, str]] | None = None,
            slug: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """A problem+json response with type, title, status, detail, instance (and errors when given)."""
    status = status if status in SLUGS else (500 if status >= 500 else 400)
    body: dict[str, Any] = {
        "type": TYPE_BASE + (slug or SLUGS[status]),
        "title": _titles()[status],
        "status": status,
        "detail": detail or _titles()[status],
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="gufei-api"'
    return response


def is_api_request() -> bool:
    """Whether the current request is under /api/ (errors there are problem documents, not pages)."""
    return request.path.startswith("/api/v1")


def from_exception(error: BaseException) -> Response:
    """The problem response for any exception raised while serving an API request."""
    if isinstance(error, ApiError):
        return problem(error.status, error.detail, error.errors, error.slug, error.headers)
    if isinstance(error, Throttled):
        db.session.rollback()
        return problem(429, error.message, headers={"Retry-After": str(error.retry_after)})
    if isinstance(error, PermissionDenied):
        db.session.rollback()
        return problem(403, error.message)
    if isinstance(error, ServiceError):
        db.session.rollback()
        problems = getattr(error, "problems", None) or ([(error.field, error.message)] if error.field else [])
        errors = [{"field": f or "", "message": m} for f, m in problems]
        return problem(422, error.message, errors or None, "business-rule" if not errors else None)
    if isinstance(error, HTTPException):
        code = error.code or 500
        if code >= 500:
            db.session.rollback()
            return problem(500)
        headers = {}
        if code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        if code == 429:
            headers["Retry-After"] = str(_retry_after(error))
        description = error.description if code not in (404, 405) else None
        return problem(code, description if isinstance(description, str) else None, headers=headers)
    db.session.rollback()
    logger.exception("unhandled error in API request %s %s", request.method, request.path, exc_info=error)
    return problem(500)


def _retry_after(error: HTTPException) -> int:
    """Seconds until the breached rate limit resets (at least 1)."""
    import time

    from app.extensions import limiter

    try:
        reset = limiter.current_limit.reset_at if limiter.current_limit else None
    except (AttributeError, RuntimeError):
        reset = None
    return max(1, int(reset - time.time()) + 1) if reset else 60


def register(blueprint) -> None:
    """Turn every exception of the API blueprint into a problem document."""
    blueprint.register_error_handler(Exception, from_exception)
