"""API resource: the token user's notification inbox — list, mark one or all read."""
from __future__ import annotations

from app.api import more_schemas, pagination
from app.api.auth import current_user
from app.api.blueprint import op
from app.api.errors import ApiError
from app.extensions import db
from app.services import notifications
from models import Notification

INBOX_SIZE = 1000


def notification_out(note: Notification) -> more_schemas.Notification:
    """A notification with its sentence in the request's language."""
    return more_schemas.Notification(
        id=note.id, kind=note.kind, message=notifications.message(note),
        params={str(k): str(v) for k, v in (note.params or {}).items()}, link=note.link,
        created_at=note.created_at, read_at=note.read_at)


@op("GET", "/notifications", summary="Your notifications", tag="notifications",
    query=more_schemas.NotificationQuery, response=more_schemas.NotificationPage)
def inbox(query: more_schemas.NotificationQuery):
    """Your inbox, newest first (`unread=true` for only the unread ones), with the unread count."""
    user = current_user()
    rows = notifications.inbox(db.session, user.id, limit=INBOX_SIZE)
    if query.unread is not None:
        rows = [n for n in rows if (n.read_at is None) == query.unread]
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.NotificationPage(items=[notification_out(n) for n in page], next_cursor=cursor,
                                         unread=notifications.unread_count(db.session, user.id))


@op("POST", "/notifications/<int:notification_id>/read", summary="Mark a notification read",
    tag="notifications", response=more_schemas.Notification)
def read(notification_id: int):
    """Mark one of your notifications read (again is harmless); another user's is 404."""
    user = current_user()
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != user.id:
        raise ApiError(404)
    notifications.mark_read(db.session, user.id, notification_id)
    db.session.refresh(note)
    return notification_out(note)


@op("POST", "/notifications/read-all", summary="Mark every notification read", tag="notifications",
    response=more_schemas.MarkedRead)
def read_all():
    """Mark all your unread notifications read; returns how many changed."""
    return more_schemas.MarkedRead(marked=notifications.mark_read(db.session, current_user().id))
