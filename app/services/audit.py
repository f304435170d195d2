"""The append-only audit trail: record events in a hash chain and verify it."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from models import AuditEvent, utcnow
from models.bulk import insert_rows

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 4_711_001


def _digest(event: AuditEvent) -> str:
    occurred = event.occurred_at
    # SQLite hands timestamps back naive; they were stored as UTC.
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=dt.UTC)
    body = json.dumps(
        {
            "prev": event.prev_hash,
            "at": occurred.isoformat(),
            "actor": event.actor_user_id,
            "type": event.entity_type,
            "id": event.entity_id,
            "action": event.action,
            "payload": event.payload,
        },
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _last_hash(session: so.Session) -> str | None:
    """The newest event's hash, after taking the chain's lock for the rest of the transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers so two transactions never chain to the same predecessor.
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    return session.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))


def record(session: so.Session, actor_id: int | None, entity_type: str, entity_id: int, action: str,
           payload: dict[str, Any] | None = None) -> AuditEvent:
    """Append an event chained to the last one; the caller's transaction commits it."""
    session.flush()
    prev = _last_hash(session)
    occurred = utcnow().replace(microsecond=0)
    event = AuditEvent(
        occurred_at=occurred, actor_user_id=actor_id, entity_type=entity_type, entity_id=entity_id,
        action=action, payload=json.loads(json.dumps(payload or {}, default=str)), prev_hash=prev or GENESIS,
    )
    event.hash = _digest(event)
    session.add(event)
    session.flush()
    return event


def record_many(session: so.Session, actor_id: int | None,
                events: list[tuple[str, int, str, dict[str, Any] | None]]) -> int:
    """Append (entity type, id, action, payload) events in order under one lock and one read of the chain's end.

    Each event is hashed by the same `_digest` as `record`; rows go in with one bulk INSERT.
    """
    if not events:
        return 0
    session.flush()
    prev = _last_hash(session) or GENESIS
    occurred = utcnow().replace(microsecond=0)
    rows = []
    for entity_type, entity_id, action, payload in events:
        row = {"occurred_at": occurred, "actor_user_id": actor_id, "entity_type": entity_type,
               "entity_id": entity_id, "action": action, "payload": json.loads(json.dumps(payload or {}, default=str)),
               "prev_hash": prev}
        # The same per-event hash as `record`, over a plain record rather than an ORM instance.
        row["hash"] = prev = _digest(SimpleNamespace(**row))
        rows.append(row)
    # Inserted in order, so ids ascend along the chain as verify() walks it.
    insert_rows(session.connection(), AuditEvent.__table__, rows)
    return len(rows)


@dataclass(frozen=True)
class ChainProblem:
    """The first event where the chain breaks, and why."""

    event_id: int
    reason: str


def verify(session: so.Session) -> ChainProblem | None:
    """Walk the chain in order; return the first broken event, or None when intact."""
    prev = GENESIS
    # Ids may have gaps (rolled-back inserts), so deletions show up as a broken link.
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        if event.prev_hash != prev:
            return ChainProblem(event.id, "previous-hash link broken: an earlier event was deleted or altered")
        if _digest(event) != event.hash:
            return ChainProblem(event.id, "contents altered")
        prev = event.hash
    return None
