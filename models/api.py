"""Idempotency keys of API POST requests: the first response, replayed for a repeated key."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, utcnow


class IdempotencyKey(Base):
    """A client's Idempotency-Key for one user, the request it named and the response it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(255))
    # SHA-256 of method, path, query and body: the same key with another request is refused.
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    # Null while the first request is still being processed.
    status_code: so.Mapped[Optional[int]]
    response_body: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)
