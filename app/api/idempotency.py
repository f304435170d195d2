"""Idempotency-Key on POST: a replay gets the first response and creates nothing; another body gets 422."""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Response, request
from flask_babel import gettext as _

from app.api.errors import ApiError
from app.extensions import db
from models import IdempotencyKey, User

HEADER = "Idempotency-Key"
MAX_KEY = 255


def _multipart_parts() -> list[bytes]:
    """A multipart body as its parts (text fields, then files by name, file name and content digest), so the
    random boundary a client picks for each attempt does not make a retry look like another request."""
    parts = [f"field:{name}={value}".encode() for name, value in sorted(request.form.items(multi=True))]
    for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
        content = hashlib.sha256()
        while chunk := upload.stream.read(1 << 16):
            content.update(chunk)
        upload.stream.seek(0)
        parts.append(f"file:{name}:{upload.filename or ''}:{content.hexdigest()}".encode())
    return parts


def request_fingerprint() -> str:
    """SHA-256 of the request's method, path, query string and body (a multipart body by its parts)."""
    digest = hashlib.sha256()
    body = _multipart_parts() if request.mimetype == "multipart/form-data" else [request.get_data()]
    for part in (request.method.encode(), request.path.encode(), request.query_string, *body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def key_of_request() -> str | None:
    """The request's Idempotency-Key (400 problem when it is too long or empty)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ApiError(400, _("The Idempotency-Key header must have 1 to 255 printable characters."),
                       errors=[{"field": HEADER, "message": _("Invalid Idempotency-Key.")}])
    return key


def begin(user: User, key: str) -> tuple[IdempotencyKey | None, Response | None]:
    """Claim the key for this request, or return the stored response of its first use.

    Returns (row, None) when this request goes ahead, (None, response) for a replay; raises 422 when the key
    was used for another request and 409 while the first request is still in progress.
    """
    fingerprint = request_fingerprint()
    session = db.session
    row = IdempotencyKey(user_id=user.id, key=key, request_hash=fingerprint)
    session.add(row)
    try:
        session.commit()
        return row, None
    except sa.exc.IntegrityError:
        session.rollback()
    first = session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user.id,
                                                           IdempotencyKey.key == key))
    if first is None:  # deleted meanwhile (its request failed): the client may retry
        raise ApiError(409, _("A request with this Idempotency-Key just failed; retry."), slug="idempotency-retry")
    if first.request_hash != fingerprint:
        raise ApiError(422, _("This Idempotency-Key was already used for a different request."),
                       errors=[{"field": HEADER, "message": _("Key reused with a different request.")}],
                       slug="idempotency-key-reused")
    if first.status_code is None:
        raise ApiError(409, _("A request with this Idempotency-Key is still in progress."),
                       slug="idempotency-in-progress")
    return None, replay(first)


def replay(row: IdempotencyKey) -> Response:
    """The stored first response of a key, marked as a replay."""
    mimetype = "application/problem+json" if row.status_code >= 400 else "application/json"
    response = Response(row.response_body or "", status=row.status_code, mimetype=mimetype)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def finish(row: IdempotencyKey, response: Response) -> None:
    """Store the response of a claimed key; a server error frees the key instead, so a retry runs again."""
    session = db.session
    session.rollback()
    stored = session.get(IdempotencyKey, row.id)
    if stored is None:
        return
    if response.status_code >= 500:
        session.delete(stored)
    else:
        stored.status_code = response.status_code
        stored.response_body = response.get_data(as_text=True)
    session.commit()
