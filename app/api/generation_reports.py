"""API resource: monthly generation reports — the denominator of the utilisation rate."""
from __future__ import annotations

from flask_babel import gettext as _

from app.api import pagination, schemas
from app.api.auth import current_user, require_roles
from app.api.blueprint import op
from app.api.errors import ApiError
from app.extensions import db
from app.services import catalogue, generation_reports
from models import GenerationReport


def report_out(report: GenerationReport) -> schemas.GenerationReport:
    """A report as the API shows it."""
    return schemas.GenerationReport(
        id=report.id, facility_id=report.facility_id, category=report.category.code, period=report.period,
        updated_at=report.updated_at, **{name: getattr(report, name) for name in generation_reports.TONNE_FIELDS})


@op("GET", "/generation-reports", summary="List generation reports", tag="generation-reports",
    query=schemas.PageQuery, response=schemas.GenerationReportPage)
def list_reports(query: schemas.PageQuery):
    """The latest reports you may see: your organisation's (regulators: all)."""
    user = current_user()
    require_roles(user, "producer", "regulator")
    rows = sorted(generation_reports.reports_of(db.session, user, limit=1000), key=lambda r: r.id, reverse=True)
    page, cursor = pagination.after_id(rows, query.cursor, query.limit)
    return schemas.GenerationReportPage(items=[report_out(r) for r in page], next_cursor=cursor)


@op("POST", "/generation-reports", summary="File a generation report", tag="generation-reports",
    body=schemas.GenerationReportIn, response=schemas.GenerationReport, status=201)
def file_report(body: schemas.GenerationReportIn):
    """Create or replace the report of one of your facilities for a category and month."""
    user = current_user()
    require_roles(user, "producer")
    category = next((c for c in catalogue.categories(db.session) if c.code == body.category), None)
    if category is None:
        raise ApiError(422, _("Unknown category %(code)s.", code=body.category),
                       errors=[{"field": "category", "message": _("Unknown category.")}])
    report = generation_reports.file_report(db.session, user, generation_reports.ReportInput(
        facility_id=body.facility_id, category_id=category.id, period=body.period,
        **{name: getattr(body, name) for name in generation_reports.TONNE_FIELDS}))
    db.session.refresh(report)
    return report_out(report)
