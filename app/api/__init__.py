"""The JSON API v1: its own blueprint at /api/v1, one module per resource, plus the docs and tokens pages."""
from __future__ import annotations

from flask import Flask, current_app, jsonify

from app.api import (  # noqa: F401 - importing a resource module registers its operations
    admin,
    allocations,
    awards,
    bases,
    bids,
    categories,
    demand_profiles,
    dispatch,
    evaluations,
    facilities,
    generation_reports,
    imports,
    lot_documents,
    lots,
    match_runs,
    me,
    notifications,
    openapi,
    questions,
    saved_searches,
    seasonal,
    shipments,
    utilisation,
)
from app.api.auth import address_key, has_live_token, rate_limit_key
from app.api.blueprint import blueprint
from app.api.docs import blueprint as docs_blueprint
from app.api.errors import from_exception, is_api_request
from app.api.tokens_page import blueprint as tokens_blueprint
from app.extensions import limiter

__all__ = ["blueprint", "docs_blueprint", "from_exception", "init_app", "is_api_request", "tokens_blueprint"]


def _rate() -> str:
    return current_app.config.get("API_RATE_LIMIT", "300/minute")


@blueprint.route("/openapi.json")
@limiter.exempt
def openapi_json():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(openapi.document())


def _bad_token_rate() -> str:
    return current_app.config.get("API_BAD_TOKEN_RATE_LIMIT", "30/minute")


limiter.limit(_rate, key_func=rate_limit_key)(blueprint)
# Guessing tokens: requests without a live token count per address against a much smaller limit.
limiter.limit(_bad_token_rate, key_func=address_key, exempt_when=has_live_token)(blueprint)


def init_app(app: Flask) -> None:
    """Register the API blueprint (create_app exempts it from CSRF), the docs page and the tokens page."""
    app.register_blueprint(blueprint)
    app.register_blueprint(docs_blueprint)
    app.register_blueprint(tokens_blueprint)
