"""Opaque cursor pagination: `limit` bounded, `cursor` from the previous page's `next_cursor`."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from flask_babel import gettext as _

from app.api.errors import ApiError

T = TypeVar("T")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_OFFSET = 10**7


def encode(position: dict[str, int]) -> str:
    """An opaque cursor for a position."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str | None, keys: tuple[str, ...]) -> dict[str, int] | None:
    """The position a cursor names; 400 problem for a cursor this API did not make."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or set(data) != set(keys):
            raise ValueError(cursor)
        values = {k: int(data[k]) for k in keys}
        if any(isinstance(data[k], bool) or not isinstance(data[k], int) or not 0 <= v <= MAX_OFFSET
               for k, v in values.items()):
            raise ValueError(cursor)
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, _("The cursor is not valid; use the next_cursor of a previous page."),
                       errors=[{"field": "cursor", "message": _("Invalid cursor.")}]) from None


def after_id(items: Sequence[T], cursor: str | None, limit: int,
             key=lambda item: item.id) -> tuple[list[T], str | None]:
    """A page of items sorted by descending id: those after the cursor's id, and the next cursor."""
    position = decode(cursor, ("before",))
    if position is not None:
        items = [item for item in items if key(item) < position["before"]]
    page = list(items[:limit])
    more = len(items) > limit
    return page, encode({"before": key(page[-1])}) if more and page else None


def page_of(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """The body of a list response."""
    return {"items": items, "next_cursor": next_cursor}
