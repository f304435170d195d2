"""Questions and answers on a lot: public, from verified buyers, answered by the producer, never a price channel."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.services import accounts, questions
from app.services.errors import ServiceError
from models import LotQuestion, Notification, OrganizationRole
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, OrganizationFactory, UserFactory, small_market

EN = {"Accept-Language": "en"}


def _ask(client, lot_id, text):
    return client.post(f"/lots/{lot_id}/questions", headers=EN,
                       data={"csrf_token": csrf_token(client, f"/lots/{lot_id}"), "question": text})


@pytest.mark.parametrize("text", ["我们出价80元，可以吗", "Would you take ¥75?", "we pay 70 yuan", "65/t delivered?",
                                  "每吨 70 行吗", "RMB 60 ok?", "offer 55 per ton"])
def test_a_question_quoting_a_price_is_refused(text):
    assert questions.quotes_a_price(text)


@pytest.mark.parametrize("text", ["What is the moisture in winter?", "含水率多少？能否提供化验单？",
                                  "Is 30 t per truck possible?", "能否分 3 批提货？"])
def test_ordinary_questions_pass(text):
    assert not questions.quotes_a_price(text)


def test_a_buyer_asks_the_producer_answers_and_everyone_sees_both(auth, client, db, reference):
    m = small_market()
    lot = m["lot"]
    auth.login("near@example.com")
    response = _ask(client, lot.id, "What is the moisture in winter?")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Notification).where(Notification.kind == "question_asked")) is not None
    auth.logout()
    auth.login("producer@example.com")
    q = db.session.scalar(sa.select(LotQuestion))
    response = client.post(f"/lots/questions/{q.id}/answer", headers=EN,
                           data={"csrf_token": csrf_token(client, f"/lots/{lot.id}"), "answer": "Below 15 %."})
    assert response.status_code == 302
    auth.logout()
    page = client.get(f"/lots/{lot.id}", headers=EN).get_data(as_text=True)  # anonymous visitor
    assert "What is the moisture in winter?" in page and "Below 15 %." in page
    assert "A verified buyer" in page and "近水泥厂" not in page  # the asker stays anonymous
    assert "83.21" not in page  # no bid shows


def test_a_price_in_a_question_re_renders_with_the_text_and_saves_nothing(auth, client, db, reference):
    m = small_market()
    auth.login("near@example.com")
    response = _ask(client, m["lot"].id, "We would pay 90 yuan per tonne, deal?")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "sealed bid" in page and "We would pay 90 yuan" in page
    assert db.session.scalar(sa.select(sa.func.count(LotQuestion.id))) == 0


def test_unverified_buyers_producers_and_strangers_cannot_ask(auth, client, db, reference):
    m = small_market()
    unverified = UserFactory(role="recycler", organization=OrganizationFactory(
        verified=False, roles=[OrganizationRole(role="recycler")]))
    for email in (unverified.email, "producer@example.com"):
        auth.login(email)
        assert _ask(client, m["lot"].id, "What is the moisture?").status_code == 403
        auth.logout()
    anonymous = client.post(f"/lots/{m['lot'].id}/questions", data={"csrf_token": csrf_token(client, "/login"),
                                                                     "question": "What is the moisture?"})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(LotQuestion.id))) == 0


def test_only_the_lots_producer_answers_and_only_once(auth, client, db, reference):
    m = small_market()
    q = questions.ask(db.session, m["near_user"], m["lot"], "Any assay report?")
    other = UserFactory()
    FacilityFactory(organization=other.organization)
    auth.login(other.email)
    response = client.post(f"/lots/questions/{q.id}/answer",
                           data={"csrf_token": csrf_token(client, "/lots"), "answer": "Yes, attached."})
    assert response.status_code == 403
    questions.answer(db.session, m["producer"], q.id, "Yes, attached.")
    with pytest.raises(ServiceError):
        questions.answer(db.session, m["producer"], q.id, "Changed my mind.")
    db.session.rollback()
    assert db.session.get(LotQuestion, q.id).answer == "Yes, attached."


def test_the_administrator_hides_a_post_from_everyone_else(auth, client, db, reference):
    m = small_market()
    q = questions.ask(db.session, m["near_user"], m["lot"], "Spam spam spam")
    accounts.create_admin(db.session, "root@example.com", "Root", "correct horse battery")
    auth.login("root@example.com")
    response = client.post(f"/lots/questions/{q.id}/hide",
                           data={"csrf_token": csrf_token(client, f"/lots/{m['lot'].id}"), "hidden": "1"})
    assert response.status_code == 302
    assert "Spam spam spam" in client.get(f"/lots/{m['lot'].id}").get_data(as_text=True)  # admin still sees it
    auth.logout()
    assert "Spam spam spam" not in client.get(f"/lots/{m['lot'].id}").get_data(as_text=True)
    auth.login("near@example.com")
    response = client.post(f"/lots/questions/{q.id}/hide",
                           data={"csrf_token": csrf_token(client, f"/lots/{m['lot'].id}"), "hidden": "0"})
    assert response.status_code == 403
