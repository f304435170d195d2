"""API resource: photos and documents of a lot — upload (multipart), list, download."""
from __future__ import annotations

from types import SimpleNamespace

from flask import current_app, send_file, url_for
from flask_babel import gettext as _

from app.api import more_schemas, pagination, schemas
from app.api.auth import current_user, require_trader
from app.api.blueprint import get_or_404, op
from app.api.errors import ApiError
from app.api.lots import _visible
from app.api.registry import UPLOAD_ERROR_STATUSES
from app.extensions import db
from app.permissions import SessionUser
from app.services import lots, uploads
from app.services.errors import ServiceError
from models import Lot, LotDocument

DOCUMENT_TYPES = tuple(content_type for _magic, content_type, _ext in uploads.SIGNATURES)


def document_out(document: LotDocument) -> more_schemas.LotDocument:
    """A document's metadata with the path that downloads it."""
    return more_schemas.LotDocument(
        id=document.id, lot_id=document.lot_id, filename=document.filename, content_type=document.content_type,
        size_bytes=document.size_bytes, uploaded_at=document.uploaded_at,
        download_path=url_for("api.lot-documents_download_document", lot_id=document.lot_id,
                              document_id=document.id, _external=False))


def _viewable(lot: Lot) -> None:
    """403 unless the user may see the lot's documents (its producer always; others while it is on the market)."""
    if not uploads.can_view(SessionUser(current_user()), SimpleNamespace(lot=lot)):  # a lot's documents share it
        raise ApiError(403, _("The documents of this lot are not visible to you."))


@op("POST", "/lots/<int:lot_id>/documents", summary="Upload a photo or PDF to one of your lots",
    tag="lot-documents", form=more_schemas.DocumentUpload, response=more_schemas.LotDocument, status=201,
    errors=UPLOAD_ERROR_STATUSES)
def upload_document(lot_id: int, form: more_schemas.DocumentUpload):
    """Send `multipart/form-data` with a `file` part: a JPEG or PNG photo or a PDF (the type is read from the
    content, never the name), at most 10 MB. Only the lot's producer may upload."""
    user = current_user()
    require_trader(user, "producer")
    lot = get_or_404(Lot, lot_id)
    if not lots.can_manage(user, lot):
        raise ApiError(403, _("Only the producer that posted this lot can add documents."))
    upload = form.file
    document = uploads.save_lot_document(
        db.session, user, lot, upload.stream, upload.filename or "", current_app.config["UPLOAD_FOLDER"],
        current_app.config.get("LOT_DOCUMENT_MAX_BYTES", uploads.MAX_DOCUMENT_BYTES))
    return document_out(document)


@op("GET", "/lots/<int:lot_id>/documents", summary="List a lot's photos and documents", tag="lot-documents",
    query=schemas.PageQuery, response=more_schemas.LotDocumentPage)
def list_documents(lot_id: int, query: schemas.PageQuery):
    """The documents of a lot you may see, newest first."""
    lot = _visible(lot_id)
    _viewable(lot)
    rows = sorted(lot.documents, key=lambda d: d.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return more_schemas.LotDocumentPage(items=[document_out(d) for d in page], next_cursor=cursor)


@op("GET", "/lots/<int:lot_id>/documents/<int:document_id>", summary="Download a lot's document",
    tag="lot-documents", produces=DOCUMENT_TYPES)
def download_document(lot_id: int, document_id: int):
    """The document's bytes with its content type (PDFs as an attachment)."""
    document = db.session.get(LotDocument, document_id)
    if document is None or document.lot_id != lot_id:
        raise ApiError(404)
    if not uploads.can_view(SessionUser(current_user()), document):
        raise ApiError(403, _("The documents of this lot are not visible to you."))
    try:
        path, mimetype = uploads.served_file(current_user(), current_app.config["UPLOAD_FOLDER"], document)
    except ServiceError as exc:
        raise ApiError(404) from exc
    if not path.is_file():
        raise ApiError(404)
    return send_file(path, mimetype=mimetype, download_name=document.filename,
                     as_attachment=document.content_type == "application/pdf")
