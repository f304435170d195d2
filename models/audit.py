"""Append-only audit events in a hash chain, and the in-app notifications."""
from __future__ import annotations

import datetime as dt
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from models.base import Base, utcnow


class AuditEvent(Base):
    """A state change; `hash` covers the event and the previous event's hash."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    occurred_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    actor_user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    entity_type: so.Mapped[str] = so.mapped_column(sa.String(30))
    entity_id: so.Mapped[int]
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)


class AuditCheckpoint(Base):
    """A signed statement of the chain's head: the last event's id and hash, and how many events preceded it.

    The signature is an HMAC under the audit key kept outside the database, so the head cannot be moved back
    (events deleted) or re-chained (events rewritten) without the key.
    """

    __tablename__ = "audit_checkpoints"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    event_id: so.Mapped[int]
    event_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    event_count: so.Mapped[int]
    signature: so.Mapped[str] = so.mapped_column(sa.String(64))


# PostgreSQL refuses UPDATE and DELETE on audit events for every role (migration 0012 installs the same trigger;
# create_all, as in the tests, installs it from here).
APPEND_ONLY = [
    sa.DDL("CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN "
           "RAISE EXCEPTION 'audit_events is append-only: %% refused', TG_OP USING ERRCODE = 'insufficient_privilege'; "
           "END; $$ LANGUAGE plpgsql").execute_if(dialect="postgresql"),
    sa.DDL("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
           "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()").execute_if(dialect="postgresql"),
]
for _ddl in APPEND_ONLY:
    sa.event.listen(AuditEvent.__table__, "after_create", _ddl)


class Notification(Base):
    """An inbox message for a user; mirrored to e-mail when SMTP is configured."""

    __tablename__ = "notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    link: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    read_at: so.Mapped[Optional[dt.datetime]]


class OutboxEmail(Base):
    """An e-mail waiting to be sent, or kept here when no SMTP server is configured."""

    __tablename__ = "outbox_emails"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    to_address: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(200))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    sent_at: so.Mapped[Optional[dt.datetime]]
