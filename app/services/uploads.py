"""Lot photos and documents: content-checked uploads stored under random names, served with permission."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import policy
from app.services import audit
from app.services.errors import PermissionDenied, ServiceError
from models import Lot, LotDocument

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# Type is decided by the file's first bytes, never by its name or the browser's claim.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


@dataclass(frozen=True)
class Sniffed:
    """A recognised upload type."""

    content_type: str
    extension: str


def sniff(head: bytes) -> Sniffed | None:
    """The type of a file from its magic bytes (JPEG, PNG or PDF), or None."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return Sniffed(content_type, extension)
    return None


def save_lot_document(session: so.Session, user, lot: Lot, stream: BinaryIO, filename: str, folder: str,
                      max_bytes: int = MAX_DOCUMENT_BYTES) -> LotDocument:
    """Check and store one upload for a lot the user manages; commit and audit."""
    if not policy.may_manage_lot(user, lot):
        raise PermissionDenied(_("Only the producer that posted this lot can add documents."))
    data = stream.read(max_bytes + 1)
    if not data:
        raise ServiceError(_("The file is empty."), field="file")
    if len(data) > max_bytes:
        raise ServiceError(_("The file is larger than %(mb).0f MB.", mb=max_bytes / 1024 / 1024), field="file")
    kind = sniff(data[:16])
    if kind is None:
        raise ServiceError(_("Only JPEG and PNG photos and PDF documents can be uploaded; "
                             "this file's content is none of them."), field="file")
    stored_name = secrets.token_hex(16) + kind.extension
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / stored_name
    path.write_bytes(data)
    try:
        document = LotDocument(lot=lot, filename=display_name(filename, kind.extension),
                               stored_name=stored_name, content_type=kind.content_type, size_bytes=len(data))
        session.add(document)
        session.flush()
        audit.record(session, user.id, "lot", lot.id, "document_added",
                     {"document": document.id, "type": kind.content_type, "bytes": len(data)})
        session.commit()
    except Exception:
        session.rollback()
        path.unlink(missing_ok=True)
        raise
    return document


def display_name(filename: str | None, extension: str) -> str:
    """The uploader's file name without any directory part (kept only for display and download)."""
    name = Path((filename or "").replace("\\", "/")).name.strip()
    return (name or "upload" + extension)[:200]


def document_path(folder: str, document: LotDocument) -> Path:
    """Where a document's bytes are stored."""
    return Path(folder) / document.stored_name
