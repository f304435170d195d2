"""The /api/v1 blueprint and the decorator that registers its operations."""
from __future__ import annotations

from functools import partial

from flask import Blueprint

from app.api.errors import ApiError
from app.api.registry import API_PREFIX, operation
from app.extensions import db

blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
op = partial(operation, blueprint)


def get_or_404(model, row_id: int):
    """The row of `model` with this id, or a 404 problem."""
    row = db.session.get(model, row_id)
    if row is None:
        raise ApiError(404)
    return row
