"""The append-only audit trail: events in a keyed hash chain, signed checkpoints of its head, and verification.

Each event's hash is an HMAC (SHA-256) under AUDIT_KEY, kept outside the database, over the event and the
previous hash: rewriting an event and re-chaining the rest needs the key. A checkpoint signs the head (last id,
its hash, the number of events): deleting the newest events, which leaves a shorter but consistent chain, shows
as the head moving behind the last checkpoint. On PostgreSQL a trigger refuses UPDATE and DELETE outright.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app import policy
from models import AuditCheckpoint, AuditEvent, User, utcnow
from models.bulk import insert_rows

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 4_711_001


def _key() -> bytes:
    return current_app.config["AUDIT_KEY"].encode()


def _sign(body: str) -> str:
    return hmac.new(_key(), body.encode(), hashlib.sha256).hexdigest()


def digest(event: AuditEvent) -> str:
    """The keyed hash of one event (with its prev_hash): the one hashing function of the chain."""
    return _sign(_body(event))


def legacy_digest(event: AuditEvent) -> str:
    """The unkeyed SHA-256 over the same body that chains recorded before AUDIT_KEY existed carry (for `rechain`)."""
    return hashlib.sha256(_body(event).encode()).hexdigest()


def _body(event: AuditEvent) -> str:
    occurred = event.occurred_at
    # SQLite hands timestamps back naive; they were stored as UTC.
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=dt.UTC)
    return _body_of(event.prev_hash, occurred.isoformat(), event.actor_user_id, event.entity_type,
                    event.entity_id, event.action, event.payload)


def _body_of(prev: str, at: str, actor: int | None, entity_type: str, entity_id: int, action: str,
             payload: Any) -> str:
    return _BODY_ENCODER.encode(
        {"prev": prev, "at": at, "actor": actor, "type": entity_type, "id": entity_id, "action": action,
         "payload": payload})


# json.dumps(..., sort_keys=True, ensure_ascii=False, default=str) exactly (dumps builds this encoder on every
# call when given options; a run's audit pass hashes thousands of events).
_BODY_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


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
    event.hash = digest(event)
    session.add(event)
    session.flush()
    return event


_NATIVE = (str, int, float, bool, type(None))


def _plain(payload: dict[str, Any] | None) -> Any:
    """The payload as JSON gives it back (what is stored and hashed): strings for Decimals, dates and the like.

    A flat payload of string keys and native or str()-able scalars is converted directly, as the JSON round
    trip with ``default=str`` would; anything else (nesting, tuples, other keys) takes the round trip.
    """
    if not payload:
        return {}
    out = {}
    for key, value in payload.items():
        if type(key) is not str or isinstance(value, (dict, list, tuple, set)):
            return json.loads(json.dumps(payload, default=str))
        if type(value) is float and not math.isfinite(value):
            return json.loads(json.dumps(payload, default=str))
        out[key] = value if isinstance(value, _NATIVE) else str(value)
    return out


def record_many(session: so.Session, actor_id: int | None,
                events: list[tuple[str, int, str, dict[str, Any] | None]]) -> int:
    """Append (entity type, id, action, payload) events in order under one lock and one read of the chain's end.

    Each event is hashed by the same `digest` as `record`; rows go in with one bulk INSERT.
    """
    batch = Batch(actor_id)
    batch.add(events)
    return batch.record(session)


# Stands for the previous hash while an event's body is encoded before the chain's end is known: characters of
# Unicode's private use area, which the encoder writes out as they are and no payload of ours holds.
_PREV_MARK = "\ue000" * 8
_PREV_FIELD = f'"prev": "{_PREV_MARK}"'


class Batch:
    """Events encoded as they come (payloads converted, bodies written around the previous hash), then chained
    and inserted at once by `record`: the costly part can run before the chain's lock is taken, e.g. while
    the database works on something else. Hashes are those `record` and `digest` give, in the order added.
    """

    def __init__(self, actor_id: int | None, occurred: dt.datetime | None = None) -> None:
        self.actor_id = actor_id
        self.occurred = (occurred or utcnow()).replace(microsecond=0)
        self._at = self.occurred.isoformat()
        self._events: list[tuple[str, int, str, Any, tuple[str, str] | None]] = []

    def __len__(self) -> int:
        return len(self._events)

    def add(self, events: list[tuple[str, int, str, dict[str, Any] | None]]) -> None:
        """Encode and keep (entity type, id, action, payload) events, after those already added."""
        self.extend(self.encode(events))

    def encode(self, events: list[tuple[str, int, str, dict[str, Any] | None]]) -> list[tuple]:
        """(entity type, id, action, payload) events encoded for this batch, not yet kept (see `extend`)."""
        encoded = []
        for entity_type, entity_id, action, payload in events:
            plain = _plain(payload)
            body = _body_of(_PREV_MARK, self._at, self.actor_id, entity_type, entity_id, action, plain)
            head, field_, tail = body.rpartition(_PREV_FIELD)
            # The mark found once, where the chain puts the hash; else (a payload quoting it) encoded when chained.
            parts = (head + '"prev": "', '"' + tail) if field_ and body.count(_PREV_MARK) == 1 else None
            encoded.append((entity_type, entity_id, action, plain, parts))
        return encoded

    def extend(self, encoded: list[tuple]) -> None:
        """Keep events from `encode`, after those already added."""
        self._events.extend(encoded)

    def record(self, session: so.Session, insert: Callable[..., Any] | None = None) -> int:
        """Take the chain's lock, read its end, hash the events in order and insert them (through ``insert``,
        called like `insert_rows`, if given: e.g. to let the database work while the caller goes on)."""
        if not self._events:
            return 0
        session.flush()
        prev = _last_hash(session) or GENESIS
        keyed = hmac.new(_key(), digestmod=hashlib.sha256)  # the key's HMAC state, copied for each event
        rows = []
        for entity_type, entity_id, action, plain, parts in self._events:
            # The same per-event hash as `record` (digest), over the plain values rather than an ORM instance.
            if parts is None:
                body = _body_of(prev, self._at, self.actor_id, entity_type, entity_id, action, plain)
            else:
                body = parts[0] + prev + parts[1]
            mac = keyed.copy()
            mac.update(body.encode())
            event_hash = mac.hexdigest()
            rows.append({"occurred_at": self.occurred, "actor_user_id": self.actor_id, "entity_type": entity_type,
                         "entity_id": entity_id, "action": action, "payload": plain, "prev_hash": prev,
                         "hash": event_hash})
            prev = event_hash
        # Inserted in order, so ids ascend along the chain as verify() walks it.
        (insert or insert_rows)(session.connection(), AuditEvent.__table__, rows)
        return len(rows)


@dataclass(frozen=True)
class ChainProblem:
    """The first event where the chain breaks, and why."""

    event_id: int
    reason: str


def _checkpoint_body(event_id: int, event_hash: str, count: int) -> str:
    return f"checkpoint:{event_id}:{event_hash}:{count}"


def checkpoint(session: so.Session) -> AuditCheckpoint | None:
    """Sign the chain's current head (run periodically, e.g. from cron or the worker's beat); None when empty."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    head = session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None:
        session.rollback()
        return None
    count = session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    mark = AuditCheckpoint(event_id=head.id, event_hash=head.hash, event_count=count,
                           signature=_sign(_checkpoint_body(head.id, head.hash, count)))
    session.add(mark)
    session.commit()
    return mark


def _check_checkpoints(session: so.Session) -> ChainProblem | None:
    """Every checkpoint's signature holds and its event is still there, unchanged, with as many before it."""
    for mark in session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        body = _checkpoint_body(mark.event_id, mark.event_hash, mark.event_count)
        if not hmac.compare_digest(_sign(body), mark.signature):
            return ChainProblem(mark.event_id, "checkpoint signature invalid: a checkpoint was forged or altered")
        event_hash = session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == mark.event_id))
        if event_hash is None:
            return ChainProblem(mark.event_id, "truncated: events up to a signed checkpoint were deleted")
        if event_hash != mark.event_hash:
            return ChainProblem(mark.event_id, "rewritten: the event a checkpoint signed has changed")
        before = session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.id <= mark.event_id))
        if before != mark.event_count:
            return ChainProblem(mark.event_id, "events before a signed checkpoint were deleted")
    return None


def verify(session: so.Session) -> ChainProblem | None:
    """Walk the chain in order, then the signed checkpoints; return the first problem, or None when intact."""
    prev = GENESIS
    # Ids may have gaps (rolled-back inserts), so deletions show up as a broken link.
    for event in session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        if event.prev_hash != prev:
            return ChainProblem(event.id, "previous-hash link broken: an earlier event was deleted or altered")
        if not hmac.compare_digest(digest(event), event.hash):
            return ChainProblem(event.id, "contents altered")
        prev = event.hash
    return _check_checkpoints(session)


# ----------------------------------------------------------------------------- re-chaining


class RechainRefused(Exception):
    """`rechain` would rewrite history it cannot vouch for; the message says what and how to override."""


@dataclass(frozen=True)
class Rechained:
    """What `rechain` found and did."""

    events: int  # events re-hashed under the key
    legacy: int  # of them, carrying the unkeyed SHA-256 they were recorded with
    keyed: int  # already keyed under the current key (re-hashed unchanged)
    unverified: list[int]  # events matching neither (only with force): altered, or a link deleted before them
    superseded_checkpoints: int  # checkpoints dropped (only with force); the new head is signed instead
    head_event_id: int  # the audit event that records the re-chaining


_REHASH_BATCH = 1000
_EVENT_COLUMNS = [AuditEvent.__table__.c[name] for name in (
    "id", "occurred_at", "actor_user_id", "entity_type", "entity_id", "action", "payload", "prev_hash", "hash")]


def _events_in_order(session: so.Session) -> Iterator[SimpleNamespace]:
    """Every event in id order, as plain records (read in keyset batches, so rewriting them never disturbs a cursor)."""
    after = 0
    while True:
        rows = session.execute(sa.select(*_EVENT_COLUMNS).where(AuditEvent.id > after)
                               .order_by(AuditEvent.id).limit(_REHASH_BATCH)).mappings().all()
        if not rows:
            return
        yield from (SimpleNamespace(**row) for row in rows)
        after = rows[-1]["id"]


def _survey(session: so.Session) -> tuple[int, int, list[int]]:
    """How each event was recorded: (unkeyed, keyed under the current key, ids verifying as neither)."""
    legacy, keyed, unverified, prev = 0, 0, [], GENESIS
    for event in _events_in_order(session):
        linked = event.prev_hash == prev
        if linked and event.hash == legacy_digest(event):
            legacy += 1
        elif linked and hmac.compare_digest(event.hash, digest(event)):
            keyed += 1
        else:
            unverified.append(event.id)
        prev = event.hash
    return legacy, keyed, unverified


def _rehash(session: so.Session) -> int:
    """Chain every event to its predecessor's new keyed hash, in id order, in batched UPDATEs; return how many."""
    table = AuditEvent.__table__
    update = (sa.update(table).where(table.c.id == sa.bindparam("event_id"))
              .values(prev_hash=sa.bindparam("new_prev"), hash=sa.bindparam("new_hash")))
    prev, count, batch = GENESIS, 0, []
    for event in _events_in_order(session):
        event.prev_hash = prev
        prev = digest(event)
        batch.append({"event_id": event.id, "new_prev": event.prev_hash, "new_hash": prev})
        count += 1
        if len(batch) == _REHASH_BATCH:
            session.execute(update, batch)
            batch = []
    if batch:
        session.execute(update, batch)
    return count


def rechain(session: so.Session, actor: User, force: bool = False) -> Rechained:
    """Re-compute every event's hash under AUDIT_KEY, in order, for chains recorded before the key existed.

    First every event is checked as it was recorded — linked to its predecessor and hashed either unkeyed
    (the old scheme) or under the current key — and the chain must carry no signed checkpoint: both would mean
    re-chaining could launder a rewrite, so either refuses unless `force` (then the audit event names the
    unverified events and the dropped checkpoints). On PostgreSQL the append-only trigger is disabled and
    enabled again inside this one transaction: ALTER TABLE holds an exclusive lock on audit_events until
    commit, so no other transaction ever sees the table unguarded, and a failure rolls everything back,
    trigger included. The re-chaining is recorded as an audit event and the new head signed in a checkpoint.
    """
    policy.require(policy.may_administer(actor), "only an administrator may re-chain the audit trail")
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    first = session.scalar(sa.select(sa.func.min(AuditEvent.id)))
    if first is None:
        session.rollback()
        raise RechainRefused("the audit trail has no events: nothing to re-chain")
    marks = session.scalars(sa.select(AuditCheckpoint).where(AuditCheckpoint.event_id >= first)).all()
    if marks and not force:
        session.rollback()
        raise RechainRefused(
            f"{len(marks)} signed checkpoint(s) cover events since #{first}: this chain was anchored under the "
            "current key, and re-chaining it would rewrite signed history. Run `flask audit verify` first; "
            "--force re-chains anyway and records the checkpoints it drops.")
    legacy, keyed, unverified = _survey(session)
    if unverified and not force:
        session.rollback()
        raise RechainRefused(
            f"event {unverified[0]} (and {len(unverified) - 1} more) verifies neither as recorded unkeyed nor "
            "under the current key: it was altered, or an event before it deleted. --force re-chains anyway "
            "and records these event ids.")
    if not legacy and not unverified:
        session.rollback()
        raise RechainRefused("every event already verifies under the current key: nothing to re-chain")
    if postgres:
        session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    count = _rehash(session)
    if postgres:
        session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    superseded = [{"event_id": m.event_id, "event_hash": m.event_hash, "event_count": m.event_count} for m in marks]
    for mark in marks:
        session.delete(mark)
    session.expire_all()
    head_id = record(session, actor.id, "audit_chain", count, "rechained", {
        "events": count, "legacy": legacy, "keyed": keyed, "unverified": unverified[:100],
        "unverified_count": len(unverified), "forced": force, "superseded_checkpoints": superseded}).id
    checkpoint(session)  # signs the new head and commits the whole re-chaining
    return Rechained(count, legacy, keyed, unverified, len(marks), head_id)
