"""API resource: all-or-nothing spreadsheet imports (lots, generation reports) and their templates."""
from __future__ import annotations

from flask import Response
from flask_babel import get_locale

from app import policy
from app.api import more_schemas
from app.api.auth import current_user
from app.api.blueprint import op
from app.api.errors import ApiError
from app.api.registry import UPLOAD_ERROR_STATUSES
from app.extensions import db
from app.services import generation_reports, lot_import
from app.services.spreadsheets import ImportRejected

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rejected(exc: ImportRejected) -> ApiError:
    """A 422 problem listing every reason of every bad row, with its line (the header is line 1)."""
    errors = [{"field": "file", "line": row.line, "message": reason} for row in exc.errors for reason in row.reasons]
    return ApiError(422, exc.message, errors=errors, slug="import-rejected")


def _import(importer, user, form: more_schemas.SpreadsheetUpload) -> more_schemas.ImportResult:
    """Run an all-or-nothing import of the uploaded file; a rejected file becomes a 422 problem."""
    try:
        count = importer(db.session, user, form.file.filename or "", form.file.read())
    except ImportRejected as exc:
        db.session.rollback()
        raise rejected(exc) from None
    return more_schemas.ImportResult(imported=count)


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={filename}"})


@op("POST", "/lots/import", summary="Import lots from a CSV or XLSX file", tag="imports",
    form=more_schemas.SpreadsheetUpload, response=more_schemas.ImportResult, status=201,
    errors=UPLOAD_ERROR_STATUSES, allow=policy.may_produce)
def import_lots(form: more_schemas.SpreadsheetUpload):
    """Send `multipart/form-data` with a `file` part laid out like the template (GET /lots/import-template).
    Every row is checked: all become open lots, or none does and the 422 problem lists every bad row's
    reasons in `errors` with their `line`."""
    user = current_user()
    return _import(lot_import.import_lots, user, form)


@op("GET", "/lots/import-template", summary="The lot import template", tag="imports",
    query=more_schemas.TemplateQuery, produces=(CSV, XLSX))
def lot_template(query: more_schemas.TemplateQuery):
    """The template as CSV or XLSX: bilingual header row and an example row (any signed-in user)."""
    locale = str(get_locale())
    if query.format == "csv":
        return _attachment(lot_import.template_csv(locale), CSV, "gufei-lots-template.csv")
    return _attachment(lot_import.template_xlsx(locale), XLSX, "gufei-lots-template.xlsx")


@op("POST", "/generation-reports/import", summary="Import generation reports from a spreadsheet",
    tag="imports", form=more_schemas.SpreadsheetUpload, response=more_schemas.ImportResult, status=201,
    errors=UPLOAD_ERROR_STATUSES, allow=policy.may_produce)
def import_reports(form: more_schemas.SpreadsheetUpload):
    """Send `multipart/form-data` with a `file` part (XLSX or CSV, laid out like GET
    /generation-reports/template). Every row is filed (replacing the same facility, category and month), or
    none is and the 422 problem lists every bad row's reasons in `errors` with their `line`."""
    user = current_user()
    return _import(generation_reports.import_reports, user, form)


@op("GET", "/generation-reports/template", summary="The generation report import template", tag="imports",
    produces=(XLSX,), allow=policy.may_produce)
def report_template():
    """The XLSX template, with one example row per facility of yours."""
    user = current_user()
    body = generation_reports.template_xlsx(db.session, user, str(get_locale()))
    return _attachment(body, XLSX, "generation-reports.xlsx")
