"""Monthly generation reports: file one (upsert), import a spreadsheet all-or-nothing, find who has not reported.

Each report is the producer's monthly balance of one category (docs/statistics.md); a report that does not
balance is refused with the numbers that break it, from the form, the API and the import alike.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app import policy
from app.services import audit, periods, quantities
from app.services.errors import PermissionDenied, ServiceError
from app.services.spreadsheets import ImportRejected, RowError, column_map, read_rows, xlsx_bytes
from models import Facility, GenerationReport, User, WasteCategory

TONNE_FIELDS = ("generated_t", "stored_t", "self_utilised_t", "supplied_t", "disposed_t", "dumped_t",
                "from_storage_t", "disposed_from_storage_t")
# Columns a file may leave out (read as 0).
OPTIONAL_COLUMNS = ("supplied_t", "dumped_t", "from_storage_t", "disposed_from_storage_t")
# (key, Chinese header, English header)
COLUMNS = (
    ("facility", "设施", "Facility"),
    ("category", "类别", "Category"),
    ("period", "月份", "Month"),
    ("generated_t", "产生量（吨）", "Generated (t)"),
    ("stored_t", "贮存量（吨）", "Stored (t)"),
    ("self_utilised_t", "自行综合利用量（吨）", "Self-utilised (t)"),
    ("supplied_t", "外供/委托利用量（吨）", "Supplied to others for utilisation (t)"),
    ("disposed_t", "处置量（吨）", "Disposed (t)"),
    ("dumped_t", "倾倒丢弃量（吨）", "Dumped (t)"),
    ("from_storage_t", "其中：利用往年贮存量（吨）", "Of which from earlier storage (t)"),
    ("disposed_from_storage_t", "其中：处置往年贮存量（吨）", "Of the disposed, from earlier storage (t)"),
)
MAX_ROWS = 20000


@dataclass(frozen=True)
class ReportInput:
    """One month's figures of one facility and category."""

    facility_id: int
    category_id: int
    period: dt.date
    generated_t: Decimal
    stored_t: Decimal
    self_utilised_t: Decimal
    disposed_t: Decimal
    from_storage_t: Decimal
    supplied_t: Decimal = Decimal(0)
    dumped_t: Decimal = Decimal(0)
    disposed_from_storage_t: Decimal = Decimal(0)


def first_of_month(day: dt.date) -> dt.date:
    """The first day of the month of `day`."""
    return day.replace(day=1)


def period_problem(period: dt.date | None, today: dt.date | None = None) -> str | None:
    """Why a reporting month is outside the window the statistics cover (2000-01 to next month), or None."""
    if period is None:
        return _("Give the month.")
    last = periods.last_period(today)
    if not periods.in_window(period, today):
        return _("The month must lie between %(first)s and %(last)s.", first=periods.FIRST_PERIOD.strftime("%Y-%m"),
                 last=last.strftime("%Y-%m"))
    return None


def check_figures(data: ReportInput) -> list[tuple[str, str]]:
    """(field, reason) for every figure that is out of range, and for a month that does not balance."""
    problems = []
    for name in TONNE_FIELDS:
        value = getattr(data, name)
        if value is None:
            problems.append((name, _("A number is required.")))
        elif problem := quantities.tonnes_problem(value, allow_zero=True):
            problems.append((name, problem))
    if problem := period_problem(data.period):
        problems.append(("period", problem))
    if problems:
        return problems
    figures = {name: quantities.tonnes(getattr(data, name)) for name in TONNE_FIELDS}
    utilised = figures["self_utilised_t"] + figures["supplied_t"]
    if figures["from_storage_t"] > utilised:
        return [("from_storage_t", _(
            "Tonnes utilised from earlier storage (%(storage)s t) are part of the utilised tonnes and cannot "
            "exceed self-utilised plus supplied (%(utilised)s t).",
            storage=_fmt(figures["from_storage_t"]), utilised=_fmt(utilised)))]
    if figures["disposed_from_storage_t"] > figures["disposed_t"]:
        return [("disposed_from_storage_t", _(
            "Tonnes disposed from earlier storage (%(storage)s t) are part of the disposed tonnes and cannot "
            "exceed them (%(disposed)s t).",
            storage=_fmt(figures["disposed_from_storage_t"]), disposed=_fmt(figures["disposed_t"])))]
    sources = figures["generated_t"] + figures["from_storage_t"] + figures["disposed_from_storage_t"]
    uses = utilised + figures["disposed_t"] + figures["stored_t"] + figures["dumped_t"]
    if sources != uses:
        return [("generated_t", _(
            "The month does not balance: generated %(generated)s t + utilised from earlier storage %(storage)s t "
            "+ disposed from earlier storage %(dstorage)s t = %(sources)s t, but self-utilised %(own)s + supplied "
            "%(supplied)s + disposed %(disposed)s + stored %(stored)s + dumped %(dumped)s = %(uses)s t "
            "(difference %(diff)s t).",
            generated=_fmt(figures["generated_t"]), storage=_fmt(figures["from_storage_t"]),
            dstorage=_fmt(figures["disposed_from_storage_t"]),
            sources=_fmt(sources), own=_fmt(figures["self_utilised_t"]), supplied=_fmt(figures["supplied_t"]),
            disposed=_fmt(figures["disposed_t"]), stored=_fmt(figures["stored_t"]),
            dumped=_fmt(figures["dumped_t"]), uses=_fmt(uses), diff=_fmt(sources - uses)))]
    return []


def _fmt(tonnes: Decimal) -> str:
    # Thousands separators and no trailing zeros: "1,200.5", the way a producer wrote it.
    text = f"{tonnes:,.3f}".rstrip("0").rstrip(".")
    return text or "0"


def reporting_facilities(session: so.Session, user: User) -> list[Facility]:
    """Producer facilities the user may report for (their organisation's; admins: every producer)."""
    stmt = sa.select(Facility).where(Facility.kind.in_(("producer", "both"))).order_by(Facility.name)
    if user.role != "admin":
        stmt = stmt.where(Facility.organization_id == user.organization_id)
    return list(session.scalars(stmt))


def _check_access(session: so.Session, user: User, facility_id: int) -> Facility:
    facility = session.get(Facility, facility_id)
    if facility is None or not policy.may_file_reports(user, facility):
        raise PermissionDenied(_("You may only report for your own facilities."))
    return facility


def _upsert(session: so.Session, data: ReportInput) -> tuple[GenerationReport, bool]:
    report = session.scalar(sa.select(GenerationReport).where(
        GenerationReport.facility_id == data.facility_id, GenerationReport.category_id == data.category_id,
        GenerationReport.period == data.period))
    created = report is None
    if created:
        report = GenerationReport(facility_id=data.facility_id, category_id=data.category_id, period=data.period)
        session.add(report)
    for name in TONNE_FIELDS:
        setattr(report, name, quantities.tonnes(getattr(data, name)))
    session.flush()
    return report, created


def file_report(session: so.Session, user: User, data: ReportInput) -> GenerationReport:
    """Create or replace the report of a facility, category and month, in one transaction with its audit event."""
    _check_access(session, user, data.facility_id)
    problems = check_figures(data)
    if problems:
        raise ServiceError(problems[0][1], field=problems[0][0])
    data = ReportInput(**{**data.__dict__, "period": first_of_month(data.period)})
    report, created = _upsert(session, data)
    audit.record(session, user.id, "generation_report", report.id, "filed" if created else "updated",
                 {name: getattr(report, name) for name in TONNE_FIELDS} | {"period": report.period})
    session.commit()
    return report


def reports_of(session: so.Session, user: User, limit: int = 200) -> list[GenerationReport]:
    """The latest reports the user may see: their organisation's (admin and regulator: all)."""
    stmt = (sa.select(GenerationReport).join(Facility, Facility.id == GenerationReport.facility_id)
            .options(so.joinedload(GenerationReport.facility), so.joinedload(GenerationReport.category))
            .order_by(GenerationReport.period.desc(), Facility.name, GenerationReport.category_id).limit(limit))
    if not policy.sees_every_record(user):
        stmt = stmt.where(Facility.organization_id == user.organization_id)
    return list(session.scalars(stmt))


def missing_reporters(session: so.Session, base_id: int | None, period: dt.date) -> list[Facility]:
    """ONE query: producer facilities of a base (None: the province) with no report for the month."""
    reported = sa.select(GenerationReport.id).where(
        GenerationReport.facility_id == Facility.id, GenerationReport.period == first_of_month(period))
    stmt = (sa.select(Facility).where(Facility.kind.in_(("producer", "both")), ~sa.exists(reported))
            .options(so.joinedload(Facility.organization)).order_by(Facility.name))
    stmt = stmt.where(Facility.base_id == base_id) if base_id is not None else stmt.where(
        Facility.in_province.is_(True))
    return list(session.scalars(stmt))


# ----------------------------------------------------------------------------- spreadsheet import




def _tonnes(value, key: str, reasons: list[str]) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return Decimal(0) if key in OPTIONAL_COLUMNS else _missing(key, reasons)
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        reasons.append(_("%(column)s: '%(value)s' is not a number.", column=_header(key), value=value))
        return None
    if not number.is_finite():
        reasons.append(_("%(column)s: '%(value)s' is not a number.", column=_header(key), value=value))
        return None
    return number


def _missing(key: str, reasons: list[str]) -> None:
    reasons.append(_("%(column)s is required.", column=_header(key)))
    return None


def _header(key: str) -> str:
    return next(f"{zh} / {en}" for k, zh, en in COLUMNS if k == key)


def _period(value, reasons: list[str]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value or "").strip().replace("年", "-").replace("月", "").replace("/", "-").replace(".", "-")
    parts = [p for p in text.split("-") if p]
    try:
        if len(parts) in (2, 3):
            return dt.date(int(parts[0]), int(parts[1]), 1)
    except ValueError:
        pass
    if not text:
        return _missing("period", reasons)
    reasons.append(_("%(column)s: '%(value)s' is not a month (YYYY-MM).", column=_header("period"), value=value))
    return None


def _row_input(cells: dict, facilities: dict[str, Facility], categories: dict[str, WasteCategory],
               reasons: list[str]) -> ReportInput | None:
    name = str(cells.get("facility") or "").strip()
    facility = facilities.get(name)
    if facility is None:
        reasons.append(_("Facility '%(name)s' is not one of your producer facilities.", name=name) if name
                       else _("%(column)s is required.", column=_header("facility")))
    code = str(cells.get("category") or "").strip()
    category = categories.get(code) or categories.get(code.lower())
    if category is None:
        reasons.append(_("Unknown category '%(code)s'.", code=code) if code
                       else _("%(column)s is required.", column=_header("category")))
    period = _period(cells.get("period"), reasons)
    figures = {k: _tonnes(cells.get(k), k, reasons) for k in TONNE_FIELDS}
    if reasons:
        return None
    data = ReportInput(facility.id, category.id, period, **figures)
    for field_name, reason in check_figures(data):
        reasons.append(f"{_header(field_name)}: {reason}")
    return None if reasons else data


def check_file(session: so.Session, user: User, filename: str, content: bytes
               ) -> tuple[list[tuple[int, ReportInput]], list[RowError]]:
    """Every row of the file checked: the good rows and every bad row with its line and reasons."""
    rows = read_rows(filename, content, MAX_ROWS)
    if not rows:
        raise ServiceError(_("The file is empty."), field="file")
    columns = column_map(rows[0], COLUMNS)
    missing = [k for k, *_n in COLUMNS if k not in columns.values() and k not in OPTIONAL_COLUMNS]
    if missing:
        raise ServiceError(_("The header row lacks: %(columns)s.", columns=", ".join(_header(k) for k in missing)),
                           field="file")
    if len(rows) - 1 > MAX_ROWS:
        raise ServiceError(_("At most %(n)d rows per file.", n=MAX_ROWS), field="file")
    facilities = {f.name: f for f in reporting_facilities(session, user)}
    categories = {}
    for c in session.scalars(sa.select(WasteCategory)):
        categories.update({c.code: c, c.name_zh: c, c.name_en: c, c.name_en.lower(): c})
    good, bad, seen = [], [], {}
    for line, raw in enumerate(rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in raw):
            continue
        cells = {key: raw[i] if i < len(raw) else None for i, key in columns.items()}
        reasons: list[str] = []
        data = _row_input(cells, facilities, categories, reasons)
        if data is not None:
            key = (data.facility_id, data.category_id, data.period)
            if key in seen:
                reasons.append(_("Same facility, category and month as line %(line)d.", line=seen[key]))
            seen.setdefault(key, line)
        if reasons:
            bad.append(RowError(line, tuple(reasons)))
        else:
            good.append((line, data))
    if not good and not bad:
        raise ServiceError(_("The file has no reports below its header row."), field="file")
    return good, bad


def import_reports(session: so.Session, user: User, filename: str, content: bytes) -> int:
    """Upsert every row of the file, or nothing when any row is bad (ImportRejected); one transaction."""
    good, bad = check_file(session, user, filename, content)
    if bad:
        raise ImportRejected(bad)
    try:
        for line, data in good:
            report, created = _upsert(session, data)
            audit.record(session, user.id, "generation_report", report.id, "imported" if created else "updated",
                         {"file": filename, "line": line, "period": report.period})
        session.commit()
    except Exception:
        session.rollback()
        raise
    return len(good)


def template_xlsx(session: so.Session, user: User, locale: str) -> bytes:
    """The import template: bilingual header and one example row per facility of the user."""
    rows = [[f"{zh} / {en}" for _k, zh, en in COLUMNS]]
    facilities = reporting_facilities(session, user)[:20]
    example_month = first_of_month(dt.date.today()).strftime("%Y-%m")
    for facility in facilities or [None]:
        # A producer names its facilities: the name goes into an administrator's workbook, neutralised.
        name = facility.name if facility else ("1号厂区" if locale.startswith("zh") else "Plant 1")
        # A balanced month: 1,200 generated = 300 stored + 800 self-utilised + 100 disposed.
        rows.append([name, "fly_ash", example_month, 1200, 300, 800, 0, 100, 0, 0])
    return xlsx_bytes("reports", rows, width=22)
