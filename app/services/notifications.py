"""In-app notifications and the e-mail outbox (sent through SMTP when configured)."""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from app import i18n
from app.services.errors import ServiceError
from models import Notification, OutboxEmail, User, utcnow
from models.bulk import insert_rows

logger = logging.getLogger(__name__)

# Each kind renders its sentence from the stored params, in the reader's language.
MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "bid_received": lambda p: _("Your lot %(lot)s received a sealed bid (%(count)s in total).", **p),
    "allocation_proposed": lambda p: _(
        "The clearing proposes %(tonnes)s t of %(lot)s to %(facility)s: accept or decline by %(deadline)s.", **p),
    "allocations_proposed": lambda p: _(
        "The clearing proposes %(count)s allocations (%(tonnes)s t) to your organisation: accept or decline by "
        "%(deadline)s.", **p),
    "allocation_declined": lambda p: _("The allocation of %(tonnes)s t of %(lot)s was declined.", **p),
    "allocation_expired": lambda p: _("The allocation of %(tonnes)s t of %(lot)s expired without both answers.", **p),
    "award_made": lambda p: _("Both parties accepted: %(tonnes)s t of %(lot)s are awarded.", **p),
    "manifest_assigned": lambda p: _("Manifest %(manifest)s: %(tonnes)s t to move.", **p),
    "shipment_dispatched": lambda p: _("Load %(manifest)s of %(tonnes)s t is on its way: weigh it in on arrival.", **p),
    "shipment_planned": lambda p: _("Load %(manifest)s travels on truck %(plate)s, expected on %(arrival)s.", **p),
    "saved_search_match": lambda p: _("New lot for your saved search %(search)s: %(lot)s (%(tonnes)s t).", **p),
    "question_asked": lambda p: _("A buyer asked a question about your lot %(lot)s.", **p),
    "question_answered": lambda p: _("The producer answered your question about %(lot)s.", **p),
    "discrepancy_flagged": lambda p: _(
        "Load %(manifest)s: dispatched %(dispatched)s t but %(received)s t received (%(pct)s %% difference).", **p),
}


TIME_PARAMS = ("deadline",)


def _localised(params: dict[str, Any], memo: dict[str, str] | None = None) -> dict[str, Any]:
    """Times among the parameters shown in the display zone with the zone named, as in every list.

    ``memo`` (stored text → shown text) lets a batch in one language format each distinct time once.
    """
    out = dict(params)
    for key in TIME_PARAMS:
        stored = out.get(key)
        if not isinstance(stored, str):
            continue
        if memo is not None and stored in memo:
            out[key] = memo[stored]
            continue
        moment = i18n.parse_stored_time(stored)
        if moment is not None:
            out[key] = i18n.when(moment)
            if memo is not None:
                memo[stored] = out[key]
    return out


def message(notification: Notification, memo: dict[str, str] | None = None) -> str:
    """The notification's sentence in the current language."""
    return sentence(notification.kind, notification.params, memo)


def sentence(kind: str, params: dict[str, Any] | None, memo: dict[str, str] | None = None) -> str:
    """The sentence of a notification of ``kind`` with ``params`` in the current language."""
    render = MESSAGES.get(kind)
    if render is None:
        return kind
    try:
        return render(_localised(params or {}, memo))
    except (KeyError, ValueError, TypeError):
        return kind


def organisation_users(session: so.Session, organization_id: int) -> list[User]:
    """The active users of an organisation."""
    return list(session.scalars(
        sa.select(User).where(User.organization_id == organization_id, User.active.is_(True)).order_by(User.id)
    ))


def notify(session: so.Session, users: Iterable[User], kind: str, params: dict[str, Any],
           link: str | None = None) -> list[Notification]:
    """Add an inbox message and an outbox e-mail per user to the caller's transaction."""
    params = {k: str(v) for k, v in params.items()}
    made = []
    for user in users:
        note = Notification(user_id=user.id, kind=kind, params=params, link=link)
        session.add(note)
        text = message(note)
        session.add(OutboxEmail(to_address=user.email, subject=text[:200],
                                body=text + (f"\n\n{link}" if link else "")))
        made.append(note)
    return made


def notify_organisation(session: so.Session, organization_id: int, kind: str, params: dict[str, Any],
                        link: str | None = None) -> list[Notification]:
    """Notify every active user of an organisation."""
    return notify(session, organisation_users(session, organization_id), kind, params, link)


def notify_organisations(session: so.Session, params_by_org: dict[int, dict[str, Any]], kind: str,
                         link: str | None = None) -> int:
    """One message per active user of each organisation, users read in one query, rows inserted in bulk."""
    notes, emails = organisation_messages(organisation_recipients(session, params_by_org), params_by_org, kind, link)
    insert_messages(session, notes, emails)
    return len(notes)


def organisation_recipients(session: so.Session, organization_ids) -> list[tuple[int, str, int]]:
    """(user id, e-mail, organisation id) of the active users of the organisations, in user order."""
    if not organization_ids:
        return []
    ids = list(organization_ids)
    # PostgreSQL: one array parameter (a clearing notifies thousands of organisations), not an IN list.
    among = (User.organization_id == sa.any_(sa.bindparam(None, ids, type_=sa.ARRAY(sa.Integer)))
             if session.get_bind().dialect.name == "postgresql" else User.organization_id.in_(ids))
    return [tuple(row) for row in session.execute(sa.select(User.id, User.email, User.organization_id).where(
        among, User.active.is_(True)).order_by(User.id)).all()]


def organisation_messages(users: list[tuple[int, str, int]], params_by_org: dict[int, dict[str, Any]], kind: str,
                          link: str | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The inbox and outbox rows of one message per user (no database work: it can overlap the database's)."""
    notes, emails = [], []
    texts: dict[int, tuple[dict[str, str], str]] = {}  # per organisation: its users get the same sentence
    memo: dict[str, str] = {}  # a run's deadline is the same for every organisation: formatted once
    now = utcnow()
    for user_id, email, org_id in users:
        if org_id not in texts:
            params = {k: str(v) for k, v in params_by_org[org_id].items()}
            texts[org_id] = params, sentence(kind, params, memo)
        params, text = texts[org_id]
        notes.append({"user_id": user_id, "kind": kind, "params": params, "link": link, "created_at": now,
                      "read_at": None})
        emails.append({"to_address": email, "subject": text[:200], "body": text + (f"\n\n{link}" if link else ""),
                       "created_at": now})
    return notes, emails


def insert_messages(session: so.Session, notes: list[dict[str, Any]], emails: list[dict[str, Any]]) -> None:
    """Insert rows from `organisation_messages` in bulk."""
    if notes:
        insert_rows(session.connection(), Notification.__table__, notes)
        insert_rows(session.connection(), OutboxEmail.__table__, emails)


def unread_count(session: so.Session, user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def inbox(session: so.Session, user_id: int, limit: int = 100) -> list[Notification]:
    """The user's latest notifications, newest first."""
    return list(session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: so.Session, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or, without an id, every) notification of the user read; return how many changed."""
    query = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        if session.get(Notification, notification_id) is None:
            raise ServiceError(_("No such notification."))
        query = query.where(Notification.id == notification_id)
    changed = session.execute(query.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    session.commit()
    return changed


def deliver_pending(session: so.Session) -> int:
    """Send unsent outbox e-mails through SMTP when SMTP_HOST is set; keep them in the outbox otherwise."""
    config = current_app.config
    if not config.get("SMTP_HOST"):
        return 0
    pending = list(session.scalars(sa.select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))
                                   .order_by(OutboxEmail.id).limit(200)))
    if not pending:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            for email in pending:
                msg = EmailMessage()
                msg["From"] = config["MAIL_FROM"]
                msg["To"] = email.to_address
                msg["Subject"] = email.subject
                msg.set_content(email.body)
                smtp.send_message(msg)
                email.sent_at = utcnow()
                sent += 1
    except (smtplib.SMTPException, OSError):
        logger.exception("SMTP delivery failed after %d of %d e-mails; the rest stay in the outbox",
                         sent, len(pending))
    session.commit()
    return sent
