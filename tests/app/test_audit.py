"""The audit trail: market state changes are recorded; verify detects altered and deleted events."""
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
        conn.execute(sa.text("UPDATE audit_events SET action = 'declined' WHERE id = :id"), {"id": target})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"event {target}" in result.output


def test_verify_detects_a_deleted_event(runner, db, reference):
    _market_history(db)
    ids = db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)).all()
    victim = ids[len(ids) // 2]
    with db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": victim})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    following = next(i for i in ids if i > victim)
    assert f"event {following}" in result.output
