"""The audit trail: market state changes are recorded; verify detects altered and deleted events."""
import pytest
import sqlalchemy as sa

from app.services import awards, clearing, shipments
from models import Allocation, AuditEvent, Award
from tests.factories import small_market


def _market_history(db):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    allocation = db.session.scalar(sa.select(Allocation))
    awards.decide(db.session, m["producer"], allocation.id, True)
    awards.decide(db.session, m["near_user"], allocation.id, True)
    award = db.session.scalar(sa.select(Award))
    shipment = shipments.dispatch(db.session, m["producer"], award.id, 10, "黑A12345")
    shipments.receive(db.session, m["near_user"], shipment.id, 10)
    return m


def test_every_market_state_change_is_recorded(db, reference):
    _market_history(db)
    kinds = set(db.session.execute(sa.select(AuditEvent.entity_type, AuditEvent.action)).all())
    for expected in [("match_run", "succeeded"), ("allocation", "proposed"), ("bid", "allocated"), ("lot", "matched"),
                     ("allocation", "producer_accepted"), ("award", "awarded"), ("shipment", "dispatched"),
                     ("shipment", "received")]:
        assert expected in kinds


def test_verify_passes_on_an_intact_chain(runner, db, reference):
    _market_history(db)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_verify_names_the_first_altered_event(runner, db, reference):
    _market_history(db)
    target = db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "awarded"))
    with db.engine.begin() as conn:
        _as_the_database_owner(conn)
        conn.execute(sa.text("UPDATE audit_events SET action = 'declined' WHERE id = :id"), {"id": target})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"event {target}" in result.output


def test_verify_detects_a_deleted_event(runner, db, reference):
    _market_history(db)
    ids = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    victim = ids[len(ids) // 2]
    with db.engine.begin() as conn:
        _as_the_database_owner(conn)
        conn.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": victim})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    following = next(i for i in ids if i > victim)
    assert f"event {following}" in result.output


def _as_the_database_owner(conn):
    """An attacker with the owner's rights may switch the PostgreSQL trigger off (it is switched on again when the
    transaction commits, for the next test); the keyed chain still tells."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))

        @sa.event.listens_for(conn, "commit", once=True)
        def _switch_back_on(connection):
            connection.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def test_deleting_the_newest_events_after_a_checkpoint_is_reported_as_truncation(runner, db, reference):
    from app.services import audit

    _market_history(db)
    audit.checkpoint(db.session)
    last = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(2)).all()
    with db.engine.begin() as conn:
        _as_the_database_owner(conn)
        conn.execute(sa.text("DELETE FROM audit_events WHERE id >= :id"), {"id": min(last)})
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and "truncated" in result.output


def test_rewriting_an_event_and_rechaining_without_the_key_is_detected(runner, db, reference, app):
    import hashlib
    import json

    _market_history(db)
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    target = next(e for e in events if e.action == "awarded")
    prev = None
    with db.engine.begin() as conn:
        _as_the_database_owner(conn)
        for event in events:  # recompute every hash the way an unkeyed chain would be forged
            if prev is not None:
                event.prev_hash = prev
            if event.id == target.id:
                event.action = "declined"
            body = json.dumps({"prev": event.prev_hash, "action": event.action, "id": event.entity_id},
                              sort_keys=True)
            event.hash = prev = hashlib.sha256(body.encode()).hexdigest()
            conn.execute(sa.text("UPDATE audit_events SET action = :a, prev_hash = :p, hash = :h WHERE id = :id"),
                         {"a": event.action, "p": event.prev_hash, "h": event.hash, "id": event.id})
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and "contents altered" in result.output


def test_a_forged_checkpoint_is_detected(runner, db, reference):
    from app.services import audit
    from models import AuditCheckpoint

    _market_history(db)
    mark = audit.checkpoint(db.session)
    with db.engine.begin() as conn:
        conn.execute(sa.update(AuditCheckpoint).where(AuditCheckpoint.id == mark.id).values(event_count=1))
    db.session.expire_all()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and "checkpoint signature invalid" in result.output


def test_the_chain_depends_on_the_key_kept_outside_the_database(app, db, reference, monkeypatch):
    from app.services import audit

    _market_history(db)
    assert audit.verify(db.session) is None
    monkeypatch.setitem(app.config, "AUDIT_KEY", "another key")
    assert audit.verify(db.session) is not None


def test_postgresql_refuses_to_change_audit_events(db, reference):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    _market_history(db)
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events"))
    with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_events SET action = 'x'"))


# ----------------------------------------------------------------------------- re-chaining a pre-key chain


def _as_recorded_before_the_key(db):
    """Rewrite the chain the way it was hashed before AUDIT_KEY existed: plain SHA-256, same body."""
    from app.services import audit

    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = audit.GENESIS
    with db.engine.begin() as conn:
        _as_the_database_owner(conn)
        for event in events:
            event.prev_hash = prev
            prev = audit.legacy_digest(event)
            conn.execute(sa.text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
                         {"p": event.prev_hash, "h": prev, "id": event.id})
    db.session.expire_all()
    return [e.id for e in events]


def _admin():
    from tests.factories import UserFactory

    return UserFactory(email="root@example.com", role="admin")


def test_rechain_rekeys_a_chain_recorded_before_the_key_and_records_that_it_did(runner, db, reference):
    from models import AuditCheckpoint

    _market_history(db)
    admin = _admin()
    db.session.commit()
    ids = _as_recorded_before_the_key(db)
    assert "contents altered" in runner.invoke(args=["audit", "verify"]).output
    result = runner.invoke(args=["audit", "rechain", "--by", "root@example.com"])
    assert result.exit_code == 0, result.output
    assert f"Re-chained {len(ids)} events" in result.output and f"{len(ids)} recorded unkeyed" in result.output
    db.session.expire_all()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    note = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (note.entity_type, note.action, note.actor_user_id) == ("audit_chain", "rechained", admin.id)
    assert note.payload["events"] == len(ids) and note.payload["legacy"] == len(ids)
    assert note.payload["unverified"] == [] and note.payload["forced"] is False
    assert db.session.scalar(sa.select(AuditCheckpoint.event_id)) == note.id  # the new head is signed
    # Same events, same order, same contents: only the hashes changed.
    assert db.session.scalars(sa.select(AuditEvent.id).where(AuditEvent.id < note.id).order_by(AuditEvent.id)
                              ).all() == ids
    if db.engine.dialect.name == "postgresql":  # the append-only trigger is on again
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit_events SET action = 'x'"))


def test_rechain_refuses_a_chain_a_checkpoint_signed_unless_forced(runner, db, reference):
    from app.services import audit
    from models import AuditCheckpoint

    _market_history(db)
    _admin()
    audit.checkpoint(db.session)
    _as_recorded_before_the_key(db)  # as if someone rewrote signed history
    refused = runner.invoke(args=["audit", "rechain", "--by", "root@example.com"])
    assert refused.exit_code != 0 and "signed checkpoint" in refused.output and "--force" in refused.output
    assert "contents altered" in runner.invoke(args=["audit", "verify"]).output  # nothing was touched
    forced = runner.invoke(args=["audit", "rechain", "--by", "root@example.com", "--force"])
    assert forced.exit_code == 0 and "1 checkpoints superseded" in forced.output
    db.session.expire_all()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    note = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "rechained"))
    assert note.payload["forced"] is True and len(note.payload["superseded_checkpoints"]) == 1
    assert db.session.scalars(sa.select(AuditCheckpoint.event_id)).all() == [note.id]


def test_rechain_will_not_launder_an_event_altered_before_it(runner, db, reference):
    _market_history(db)
    _admin()
    db.session.commit()
    _as_recorded_before_the_key(db)
    target = db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "awarded"))
    with db.engine.begin() as conn:
        _as_the_database_owner(conn)
        conn.execute(sa.text("UPDATE audit_events SET action = 'declined' WHERE id = :id"), {"id": target})
    result = runner.invoke(args=["audit", "rechain", "--by", "root@example.com"])
    assert result.exit_code != 0 and f"event {target}" in result.output
    assert runner.invoke(args=["audit", "verify"]).exit_code != 0


def test_rechain_is_for_administrators_and_only_when_needed(runner, db, reference):
    m = _market_history(db)
    _admin()
    db.session.commit()
    refused = runner.invoke(args=["audit", "rechain", "--by", m["producer"].email])
    assert refused.exit_code != 0 and "administrator" in refused.output
    already = runner.invoke(args=["audit", "rechain", "--by", "root@example.com"])
    assert already.exit_code != 0 and "already verifies" in already.output
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "rechained")) == 0


def test_a_rechain_that_fails_midway_changes_nothing_and_leaves_the_trigger_on(db, reference, monkeypatch):
    from app.services import audit

    _market_history(db)
    admin = _admin()
    db.session.commit()
    _as_recorded_before_the_key(db)
    before = db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all()
    calls = []
    real = audit.digest

    def failing(event):
        calls.append(event)
        if len(calls) > len(before) // 2:  # half the chain rewritten (in batches of two) when this strikes
            raise RuntimeError("disk full")
        return real(event)

    monkeypatch.setattr(audit, "digest", failing)
    monkeypatch.setattr(audit, "_REHASH_BATCH", 2)
    with pytest.raises(RuntimeError):
        audit.rechain(db.session, admin)
    db.session.rollback()
    assert db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all() == before
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DBAPIError), db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_events"))


def test_a_database_refusal_during_rechain_is_reported_and_changes_nothing(runner, db, reference, monkeypatch):
    from app.services import audit

    _market_history(db)
    _admin()
    db.session.commit()
    _as_recorded_before_the_key(db)
    before = db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all()

    def refused(_session):
        raise sa.exc.ProgrammingError("ALTER TABLE", {}, Exception("must be owner of table audit_events"))

    monkeypatch.setattr(audit, "_rehash", refused)
    result = runner.invoke(args=["audit", "rechain", "--by", "root@example.com"])
    assert result.exit_code != 0 and "nothing was changed" in result.output and "must be owner" in result.output
    assert db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id)).all() == before


def test_batch_payloads_are_stored_and_hashed_as_the_json_round_trip_gives_them():
    import datetime as dt
    import json
    from decimal import Decimal

    from app.services.audit import _plain

    cases = [None, {}, {"lot": 3, "tonnes": Decimal("12.500"), "price_yuan_per_t": Decimal("83.21"), "ok": True,
                        "note": "粉煤灰", "none": None, "share": 0.25, "at": dt.datetime(2026, 1, 2, 3, 4, 5)},
             {"failed_categories": ["fly_ash"], "n": 1}, {"pair": (1, 2)}, {1: "int key"},
             {"nested": {"a": Decimal(1)}}]
    for payload in cases:
        assert _plain(payload) == json.loads(json.dumps(payload or {}, default=str)), payload
    # The batch's shared encoder writes exactly what json.dumps with the chain's options writes.
    from app.services.audit import _body_of

    body = {"prev": "0" * 64, "at": "2026-01-02T03:04:05+00:00", "actor": None, "type": "lot", "id": 7,
            "action": "matched", "payload": {"b": "粉煤灰", "a": {"z": 1, "y": [2.5, None]}}}
    assert _body_of(body["prev"], body["at"], None, "lot", 7, "matched", body["payload"]) == json.dumps(
        body, sort_keys=True, ensure_ascii=False, default=str)


def test_a_batch_hashes_each_event_as_digest_does_whatever_its_payload_quotes(db, reference):
    from decimal import Decimal

    from app.services import audit

    awkward = [{"note": audit._PREV_MARK}, {"note": '"prev": "' + "0" * 64 + '"'}, {"tonnes": Decimal("1.500")}, None]
    audit.record(db.session, None, "lot", 1, "created")  # a chain to extend
    audit.record_many(db.session, None, [("lot", k, "noted", p) for k, p in enumerate(awkward, start=2)])
    db.session.commit()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.payload for e in events[1:]] == [{"note": audit._PREV_MARK}, awkward[1], {"tonnes": "1.500"}, {}]
    for before, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == before.hash and event.hash == audit.digest(event)
    assert audit.verify(db.session) is None
