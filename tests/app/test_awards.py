"""Awards: both parties answer allocations; declines and expiry return tonnes; netback to the fen."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from app.services import awards, clearing
from models import Allocation, Award, Lot, utcnow
from tests.conftest import csrf_token
from tests.factories import small_market


def _cleared(db):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    m["allocation"] = db.session.scalar(sa.select(Allocation))
    return m


def _answer(client, allocation_id, decision):
    return client.post(
        f"/awards/allocations/{allocation_id}/decision",
        data={"csrf_token": csrf_token(client, "/awards"), "decision": decision},
    )


def test_netback_settlement_is_exact_to_the_fen():
    s = awards.netback(Decimal("83.21"), Decimal("12.34"), Decimal("123.457"))
    assert s.recycler_pays_yuan == Decimal("10272.86")
    assert s.freight_yuan == Decimal("1523.46")
    assert s.producer_receives_yuan == Decimal("8749.40")  # 70.87 × 123.457 = 8749.39759
    assert s.netback_yuan_per_t == Decimal("70.87")


def test_both_parties_accepting_makes_an_award_with_the_netback(auth, client, db, reference):
    m = _cleared(db)
    a = m["allocation"]
    auth.login("producer@example.com")
    assert _answer(client, a.id, "accept").status_code == 302
    auth.logout()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Award.id))) == 0
    auth.login("near@example.com")
    _answer(client, a.id, "accept")
    db.session.expire_all()
    award = db.session.scalar(sa.select(Award))
    assert award.tonnes == Decimal("600.000")
    assert award.recycler_pays_yuan == (a.price_yuan_per_t * 600).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert award.freight_yuan == (a.transport_yuan_per_t * 600).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert award.producer_receives_yuan == ((a.price_yuan_per_t - a.transport_yuan_per_t) * 600).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    assert db.session.get(Allocation, a.id).status == "accepted"
    assert db.session.get(Lot, m["lot"].id).status == "awarded"
    page = client.get(f"/awards/{award.id}").get_data(as_text=True)
    assert f"{award.producer_receives_yuan:,.2f}" in page


def test_declining_returns_the_tonnes_and_reopens_the_lot(auth, client, db, reference):
    m = _cleared(db)
    auth.login("near@example.com")
    _answer(client, m["allocation"].id, "decline")
    db.session.expire_all()
    lot = db.session.get(Lot, m["lot"].id)
    assert lot.remaining_tonnes == Decimal("1000.000") and lot.status == "open"
    assert db.session.get(Allocation, m["allocation"].id).status == "declined"


def test_overdue_allocations_expire_through_the_cli(runner, db, reference):
    m = _cleared(db)
    m["allocation"].deadline = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    result = runner.invoke(args=["match", "expire"])
    assert result.exit_code == 0 and "1" in result.output
    db.session.expire_all()
    assert db.session.get(Allocation, m["allocation"].id).status == "expired"
    lot = db.session.get(Lot, m["lot"].id)
    assert lot.remaining_tonnes == Decimal("1000.000") and lot.status == "open"


def test_answering_after_the_deadline_expires_the_allocation(auth, client, db, reference):
    m = _cleared(db)
    m["allocation"].deadline = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    auth.login("producer@example.com")
    _answer(client, m["allocation"].id, "accept")
    db.session.expire_all()
    assert db.session.get(Allocation, m["allocation"].id).status == "expired"
    assert db.session.get(Lot, m["lot"].id).remaining_tonnes == Decimal("1000.000")


def test_another_organisation_cannot_answer(auth, client, db, reference):
    m = _cleared(db)
    auth.login("far@example.com")
    assert _answer(client, m["allocation"].id, "accept").status_code == 403


def test_the_desk_lists_allocations_of_both_sides(auth, client, db, reference):
    m = _cleared(db)
    for email in ("producer@example.com", "near@example.com"):
        auth.login(email)
        page = client.get("/awards").get_data(as_text=True)
        assert f'id="allocation-{m["allocation"].id}"' in page
        auth.logout()
    auth.login("far@example.com")
    assert f'id="allocation-{m["allocation"].id}"' not in client.get("/awards").get_data(as_text=True)
