"""Lot photos and documents: content-checked uploads stored under random names, served with permission."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

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
IMAGE_TYPES = ("image/jpeg", "image/png")
# Derived JPEGs of a photo: longest side in pixels. They carry no EXIF (GPS position, camera, owner);
# the original upload is kept untouched and served only to the lot's own organisation.
SIZES = {"thumb": 320, "large": 1600}
# A decompression bomb (a tiny file declaring a huge canvas) is refused rather than decoded.
Image.MAX_IMAGE_PIXELS = 60_000_000


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
        if kind.content_type in IMAGE_TYPES:
            for size in SIZES:
                make_derivative(path, size)
        document = LotDocument(lot=lot, filename=display_name(filename, kind.extension),
                               stored_name=stored_name, content_type=kind.content_type, size_bytes=len(data))
        session.add(document)
        session.flush()
        audit.record(session, user.id, "lot", lot.id, "document_added",
                     {"document": document.id, "type": kind.content_type, "bytes": len(data)})
        session.commit()
    except Exception:
        session.rollback()
        for leftover in (path, *(derivative_path_of(path, size) for size in SIZES)):
            leftover.unlink(missing_ok=True)
        raise
    return document


def derivative_path_of(original: Path, size: str) -> Path:
    """Where the derived JPEG of a stored photo lives, beside it."""
    return original.with_name(f"{original.stem}.{size}.jpg")


def make_derivative(original: Path, size: str) -> Path:
    """Write a photo's EXIF-free JPEG of the given size (upright as the camera meant it); ServiceError if unreadable."""
    target = derivative_path_of(original, size)
    try:
        with Image.open(original) as image:
            upright = ImageOps.exif_transpose(image)
            upright = upright.convert("RGB")
            upright.thumbnail((SIZES[size], SIZES[size]))
            upright.save(target, "JPEG", quality=82, optimize=True)  # no exif= argument: no metadata written
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        target.unlink(missing_ok=True)
        raise ServiceError(_("The photo could not be read; upload a JPEG or PNG file."), field="file") from exc
    return target


def photo_path(folder: str, document: LotDocument, size: str) -> Path:
    """The derived JPEG of a photo document, made on first use for photos uploaded before derivatives existed."""
    original = document_path(folder, document)
    target = derivative_path_of(original, size)
    if not target.is_file() and original.is_file():
        make_derivative(original, size)
    return target


def served_file(user, folder: str, document: LotDocument) -> tuple[Path, str]:
    """The file a viewer gets and its type: the original for the lot's organisation, an EXIF-free copy of a
    photo for everyone else (its metadata can carry the yard's GPS position and the camera owner)."""
    if document.content_type in IMAGE_TYPES and not policy.may_manage_lot(user, document.lot):
        return photo_path(folder, document, "large"), "image/jpeg"
    return document_path(folder, document), document.content_type


def first_photo_ids(session: so.Session, lot_ids: list[int]) -> dict[int, int]:
    """The id of each lot's first photo (for list thumbnails), by lot id."""
    if not lot_ids:
        return {}
    return dict(session.execute(sa.select(LotDocument.lot_id, sa.func.min(LotDocument.id))
                                .where(LotDocument.lot_id.in_(lot_ids), LotDocument.content_type.in_(IMAGE_TYPES))
                                .group_by(LotDocument.lot_id)).all())


def display_name(filename: str | None, extension: str) -> str:
    """The uploader's file name without any directory part (kept only for display and download)."""
    name = Path((filename or "").replace("\\", "/")).name.strip()
    return (name or "upload" + extension)[:200]


def document_path(folder: str, document: LotDocument) -> Path:
    """Where a document's bytes are stored."""
    return Path(folder) / document.stored_name
