"""Notifications: inbox with unread count, marking read, the outbox and SMTP delivery."""
import sqlalchemy as sa

from app.services import bids, notifications
from models import Notification, OutboxEmail
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, OrganizationFactory, UserFactory, small_market

EN = {"Accept-Language": "en"}


def _bid_by_newcomer(db, m):
    org = OrganizationFactory()
    user = UserFactory(email="newcomer@example.com", role="recycler", organization=org)
    plant = FacilityFactory(organization=org, kind="recycler")
    bids.place_bid(db.session, user, m["lot"].id, bids.BidInput(plant.id, 77, 100))


def test_a_bid_lands_in_the_producers_inbox_with_an_unread_count(auth, client, db, reference):
    m = small_market()
    _bid_by_newcomer(db, m)
    auth.login("producer@example.com")
    home = client.get("/", headers=EN).get_data(as_text=True)
    assert 'id="unread-count">1<' in home
    inbox = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "received a sealed bid" in inbox and "77" not in inbox


def test_marking_read_clears_the_count(auth, client, db, reference):
    m = small_market()
    _bid_by_newcomer(db, m)
    auth.login("producer@example.com")
    note = db.session.scalar(sa.select(Notification))
    response = client.post(f"/notifications/{note.id}/read", data={"csrf_token": csrf_token(client, "/notifications")})
    assert response.status_code == 302
    assert notifications.unread_count(db.session, m["producer"].id) == 0


def test_a_user_cannot_mark_someone_elses_notification(auth, client, db, reference):
    m = small_market()
    _bid_by_newcomer(db, m)
    auth.login("far@example.com")
    note = db.session.scalar(sa.select(Notification))
    response = client.post(f"/notifications/{note.id}/read", data={"csrf_token": csrf_token(client, "/notifications")})
    assert response.status_code == 404
    assert notifications.unread_count(db.session, m["producer"].id) == 1


def test_without_smtp_e_mails_stay_in_the_outbox(db, reference):
    m = small_market()
    _bid_by_newcomer(db, m)
    email = db.session.scalar(sa.select(OutboxEmail))
    assert email.to_address == "producer@example.com" and email.sent_at is None


def test_with_smtp_e_mails_are_sent(app, db, reference, monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, msg):
            sent.append(("send", msg["To"], msg["From"]))

    monkeypatch.setattr(notifications.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.example.com")
    m = small_market()
    _bid_by_newcomer(db, m)
    assert ("send", "producer@example.com", app.config["MAIL_FROM"]) in sent
    assert db.session.scalar(sa.select(OutboxEmail)).sent_at is not None
