"""The API documentation page at /api/docs: vendored Swagger UI, initialised from a static script (CSP-safe)."""
from __future__ import annotations

from flask import Blueprint, render_template

blueprint = Blueprint("api_docs", __name__, url_prefix="/api")


@blueprint.route("/docs")
def docs():
    """Interactive documentation of /api/v1, rendered from /api/v1/openapi.json."""
    return render_template("api/docs.html")
