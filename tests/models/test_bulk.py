"""Bulk inserts (COPY on PostgreSQL, executemany elsewhere) store exactly what the rows say, in order."""
import datetime as dt
import gc

import sqlalchemy as sa

from app.services.clearing import runs
from models import AuditEvent, Notification
from models.bulk import insert_rows
from tests.factories import UserFactory


def test_rows_keep_their_values_text_and_json(db):
    user = UserFactory()
    db.session.flush()
    now = dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)
    awkward = 'tab\there, newline\nthere, back\\slash, "quotes", 粉煤灰'
    rows = [{"user_id": user.id, "kind": "allocations_proposed", "link": awkward if k == 0 else None,
             "params": {"count": str(k), "text": awkward, "nested": {"a": [1, None]}}, "created_at": now,
             "read_at": None} for k in range(3)]
    insert_rows(db.session.connection(), Notification.__table__, rows)
    stored = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id)).all()
    assert [n.params["count"] for n in stored] == ["0", "1", "2"]  # ids ascend with the rows
    assert stored[0].params == rows[0]["params"]
    assert stored[0].link == awkward
    assert stored[1].link is None
    assert stored[0].read_at is None


def test_ids_come_back_in_row_order(db):
    rows = [{"occurred_at": dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "actor_user_id": None, "entity_type": "lot",
             "entity_id": k, "action": "matched", "payload": {"k": k}, "prev_hash": f"{k:064x}",
             "hash": f"{k + 1000:064x}"} for k in range(5)]
    back = insert_rows(db.session.connection(), AuditEvent.__table__, rows, returning=("id", "entity_id"))
    assert [r.entity_id for r in back] == [0, 1, 2, 3, 4]
    assert [r.id for r in back] == sorted(r.id for r in back)
    stored = dict(db.session.execute(sa.select(AuditEvent.id, AuditEvent.entity_id)
                                     .where(AuditEvent.id.in_([r.id for r in back]))).all())
    assert stored == {r.id: r.entity_id for r in back}


def test_the_collector_is_back_on_after_a_run_even_when_it_fails():
    assert gc.isenabled()
    try:
        with runs.collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()
