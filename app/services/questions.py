"""Questions and answers on a lot: verified buyers ask in public, the producer answers, an administrator can hide.

Everything here is public to whoever can see the lot, so it must never become a private price channel: a
question quoting a price is refused (prices go into sealed bids), askers are shown only as "a verified buyer"
(who is interested is itself commercial information), and nothing here reads bids.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import policy
from app.services import audit, notifications
from app.services.errors import PermissionDenied, ServiceError
from models import Lot, LotQuestion, User, utcnow

MIN_LENGTH, MAX_LENGTH = 5, 1000
# A number next to a currency or a per-tonne unit: "80元", "¥75", "RMB 60", "70 yuan", "65/t", "60 元/吨", "每吨 70".
PRICE = re.compile(
    r"(?:[¥￥]|rmb|cny|每吨)\s*-?\d|\d[\d,.]*\s*(?:元|块|yuan|rmb|cny|/\s*(?:t|吨|ton))|\d[\d,.]*\s*(?:per|a)\s+ton",
    re.IGNORECASE,
)


def quotes_a_price(text: str) -> bool:
    """Whether the text names a price (a number with a currency or a per-tonne unit)."""
    return bool(PRICE.search(text))


def _text(raw: str | None, field: str) -> str:
    text = (raw or "").strip()
    if len(text) < MIN_LENGTH:
        raise ServiceError(_("Write at least %(n)d characters.", n=MIN_LENGTH), field=field)
    if len(text) > MAX_LENGTH:
        raise ServiceError(_("Write at most %(n)d characters.", n=MAX_LENGTH), field=field)
    return text


def ask(session: so.Session, user: User, lot: Lot, raw: str) -> LotQuestion:
    """A verified buyer asks a public question about a lot it could bid on; the producer is notified."""
    if user.role != "recycler" or not user.organization.verified:
        raise PermissionDenied(_("Only verified buyers can ask about a lot."))
    if lot.facility.organization_id == user.organization_id:
        raise PermissionDenied(_("You cannot ask about your own organisation's lot."))
    if lot.status in ("draft", "withdrawn"):
        raise ServiceError(_("This lot takes no questions."))
    text = _text(raw, "question")
    if quotes_a_price(text):
        raise ServiceError(_("Questions are public and may not quote prices: put your price in a sealed bid."),
                           field="question")
    question = LotQuestion(lot_id=lot.id, asked_by_id=user.id, question=text)
    session.add(question)
    session.flush()
    audit.record(session, user.id, "lot_question", question.id, "asked", {"lot": lot.id})
    notifications.notify_organisation(session, lot.facility.organization_id, "question_asked",
                                      {"lot": lot.title}, f"/lots/{lot.id}#questions")
    session.commit()
    notifications.deliver_pending(session)
    return question


def _question(session: so.Session, question_id: int) -> LotQuestion:
    question = session.get(LotQuestion, question_id)
    if question is None:
        raise PermissionDenied(_("No such question."))
    return question


def answer(session: so.Session, user: User, question_id: int, raw: str) -> LotQuestion:
    """The lot's producer answers a question (once); the asker is notified."""
    question = _question(session, question_id)
    if question.hidden:  # an administrator took it down: the producer no longer sees it, so cannot answer it
        raise PermissionDenied(_("No such question."))
    if policy.is_admin(user) or not policy.may_manage_lot(user, question.lot):
        raise PermissionDenied(_("Only the producer that posted this lot can answer."))
    if question.answer is not None:
        raise ServiceError(_("This question is already answered."))
    question.answer = _text(raw, "answer")
    question.answered_by_id, question.answered_at = user.id, utcnow()
    audit.record(session, user.id, "lot_question", question.id, "answered", {"lot": question.lot_id})
    notifications.notify(session, [question.asked_by], "question_answered", {"lot": question.lot.title},
                         f"/lots/{question.lot_id}#questions")
    session.commit()
    notifications.deliver_pending(session)
    return question


def hide(session: so.Session, user: User, question_id: int, hidden: bool = True) -> LotQuestion:
    """An administrator hides (or shows again) a question and its answer."""
    if user.role != "admin":
        raise PermissionDenied(_("Only administrators can hide posts."))
    question = _question(session, question_id)
    question.hidden, question.hidden_by_id = hidden, user.id if hidden else None
    audit.record(session, user.id, "lot_question", question.id, "hidden" if hidden else "shown")
    session.commit()
    return question


def on_lot(session: so.Session, lot: Lot, viewer: User | None) -> list[LotQuestion]:
    """The lot's questions, oldest first; hidden ones only for administrators."""
    query = sa.select(LotQuestion).where(LotQuestion.lot_id == lot.id).order_by(LotQuestion.id)
    if viewer is None or viewer.role != "admin":
        query = query.where(LotQuestion.hidden.is_(False))
    return list(session.scalars(query))
