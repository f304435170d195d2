"""API resource: public questions and answers on a lot — list, ask, answer, hide (as on the lot page).

Who may do what and what is refused (a question quoting a price, a second answer, asking about one's own lot)
is the service's (app/services/questions.py); here a question the caller may not see is simply not found.
Askers are never identified: `asked_by_you` tells only the caller whether the question is its own.
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field

from app import policy
from app.api import pagination
from app.api.auth import current_user
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.api.lots import _visible as visible_lot
from app.api.schemas import Input, Output, PageQuery, Text
from app.api.types import Timestamp
from app.extensions import db
from app.services import questions
from models import LotQuestion as QuestionRow


class QuestionIn(Input):
    """A public question about the lot: no prices (they go into sealed bids)."""

    question: Text(5000) = Field(description="5–1000 characters; a question quoting a price is refused.")


class AnswerIn(Input):
    """The producer's public answer."""

    answer: Text(5000) = Field(description="5–1000 characters.")


class HideIn(Input):
    """Hide the post (true) or show it again (false)."""

    hidden: bool = True


class LotQuestion(Output):
    """A question and its answer; the asker stays anonymous."""

    id: int
    lot_id: int
    question: str
    asked_at: Timestamp
    asked_by_you: bool
    answer: Optional[str]
    answered_at: Optional[Timestamp]
    hidden: bool = Field(description="Only administrators ever see hidden posts.")


class LotQuestionPage(Output):
    """A page of a lot's questions, newest first."""

    items: list[LotQuestion]
    next_cursor: Optional[str]


def question_out(question: QuestionRow) -> LotQuestion:
    """A question as the API shows it."""
    return LotQuestion(
        id=question.id, lot_id=question.lot_id, question=question.question, asked_at=question.asked_at,
        asked_by_you=question.asked_by_id == current_user().id, answer=question.answer,
        answered_at=question.answered_at, hidden=question.hidden)


def _visible_question(question_id: int) -> QuestionRow:
    """A question on a lot the caller may see; a hidden one only for administrators."""
    question = get_or_404(QuestionRow, question_id)
    user = current_user()
    if not policy.may_see_lot(user, question.lot) or (question.hidden and not policy.is_admin(user)):
        raise ApiError(404)
    return question


@op("GET", "/lots/<int:lot_id>/questions", summary="Questions and answers on a lot", tag="questions",
    query=PageQuery, response=LotQuestionPage)
def list_questions(lot_id: int, query: PageQuery):
    """The lot's public questions and answers, newest first, to whoever may see the lot (hidden posts only to
    administrators)."""
    lot = visible_lot(lot_id)
    rows = sorted(questions.on_lot(db.session, lot, current_user()), key=lambda q: q.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return LotQuestionPage(items=[question_out(q) for q in page], next_cursor=cursor)


@op("POST", "/lots/<int:lot_id>/questions", summary="Ask about a lot", tag="questions", body=QuestionIn,
    response=LotQuestion, status=201, allow=policy.may_recycle)
def ask(lot_id: int, body: QuestionIn):
    """Ask the producer a public question (verified buyers of other organisations; no prices)."""
    lot = visible_lot(lot_id)
    return question_out(questions.ask(db.session, current_user(), lot, body.question))


@op("POST", "/questions/<int:question_id>/answer", summary="Answer a question", tag="questions", body=AnswerIn,
    response=LotQuestion, allow=policy.may_produce)
def answer(question_id: int, body: AnswerIn):
    """Answer a question about one of your organisation's lots (once); the asker is notified."""
    _visible_question(question_id)
    return question_out(questions.answer(db.session, current_user(), question_id, body.answer))


@op("POST", "/questions/<int:question_id>/hide", summary="Hide or show a question", tag="questions", body=HideIn,
    response=LotQuestion, allow=policy.may_administer)
def hide(question_id: int, body: HideIn):
    """Hide a question and its answer from everyone but administrators (or, with hidden=false, show it again)."""
    get_or_404(QuestionRow, question_id)
    return question_out(questions.hide(db.session, current_user(), question_id, body.hidden))
