"""Bulk lot import from CSV or XLSX: every row checked, all rows imported or none, with a template."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import get_locale
from flask_babel import gettext as _

from app.services import audit, lots, notifications, saved_searches
from app.services.errors import ServiceError
from app.services.spreadsheets import (
    ImportRejected,
    RowError,
    column_map,
    csv_bytes,
    header,
    normalised,
    read_rows,
    xlsx_bytes,
)
from models import WasteCategory

# (key, Chinese header, English header, required)
COLUMNS = (
    ("facility", "设施", "Facility", True),
    ("category", "类别", "Category", True),
    ("tonnes", "吨数", "Tonnes", True),
    ("reserve_yuan_per_t", "底价（元/吨）", "Reserve (yuan/t)", True),
    ("available_from", "可供日期起", "Available from", True),
    ("available_to", "可供日期止", "Available to", False),
    ("min_shipment_t", "最小起运量（吨）", "Min shipment (t)", False),
    ("title", "标题", "Title", False),
    ("description", "说明", "Description", False),
    ("quality", "质量指标", "Quality", False),
)
MAX_ROWS = 5000
DATE_PATTERN = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decimal(value, key: str, reasons: list[tuple[str, str]]) -> Decimal | None:
    text = _text(value).replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        number = Decimal(str(value) if isinstance(value, (int, float)) else text)
    except InvalidOperation:
        reasons.append((key, _("%(column)s: %(value)s is not a number.", column=_label(key), value=text)))
        return None
    if not number.is_finite():
        reasons.append((key, _("%(column)s: %(value)s is not a number.", column=_label(key), value=text)))
        return None
    return number


def _date(value, key: str, reasons: list[tuple[str, str]]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    match = DATE_PATTERN.match(text)
    try:
        if not match:
            raise ValueError(text)
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        reasons.append((key, _("%(column)s: %(value)s is not a date (use YYYY-MM-DD).",
                               column=_label(key), value=text)))
        return None


def _label(key: str) -> str:
    """The column's header in the user's language."""
    zh, en = next((c[1], c[2]) for c in COLUMNS if c[0] == key)
    return zh if str(get_locale() or "").startswith("zh") else en


def _quality(text: str, reasons: list[tuple[str, str]]) -> dict:
    quality = {}
    for part in text.replace("；", ";").split(";"):
        if not part.strip():
            continue
        key, sep, raw = part.partition("=")
        if not sep:
            reasons.append(("quality", _("Quality: %(part)s is not key=number.", part=part.strip())))
            continue
        # Typed by the lot service against the category's catalogue row.
        quality[key.strip()] = raw.strip()
    return quality


@dataclass(frozen=True)
class _Lookups:
    categories: dict[str, WasteCategory]
    category_names: dict[str, str]
    facilities: dict
    facility_names: dict[str, int]


def _lookups(session: so.Session, user) -> _Lookups:
    categories = {c.code: c for c in session.scalars(sa.select(WasteCategory))}
    names = {}
    for c in categories.values():
        for name in (c.code, c.name_zh, c.name_en):
            names[normalised(name)] = c.code
    facilities = {f.id: f for f in lots.producer_facilities(session, user)}
    facility_names = {normalised(f.name): f.id for f in facilities.values()}
    return _Lookups(categories, names, facilities, facility_names)


def _row_input(cells: dict[str, object], look: _Lookups, reasons: list[tuple[str, str]]) -> lots.LotInput:
    facility_text = _text(cells.get("facility"))
    facility_id = look.facility_names.get(normalised(facility_text))
    if facility_id is None and facility_text.isdigit() and int(facility_text) in look.facilities:
        facility_id = int(facility_text)
    category_text = _text(cells.get("category"))
    return lots.LotInput(
        facility_id=facility_id,
        category=look.category_names.get(normalised(category_text), category_text),
        tonnes=_decimal(cells.get("tonnes"), "tonnes", reasons),
        reserve_yuan_per_t=_decimal(cells.get("reserve_yuan_per_t"), "reserve_yuan_per_t", reasons),
        available_from=_date(cells.get("available_from"), "available_from", reasons),
        available_to=_date(cells.get("available_to"), "available_to", reasons),
        min_shipment_t=_decimal(cells.get("min_shipment_t"), "min_shipment_t", reasons),
        title=_text(cells.get("title")) or None,
        description=_text(cells.get("description")) or None,
        quality=_quality(_text(cells.get("quality")), reasons),
    )


def check_file(session: so.Session, user, filename: str, content: bytes) -> tuple[list, list[RowError]]:
    """Parse and check every row; return ([(line, input, facility, category)], [RowError])."""
    rows = read_rows(filename, content, MAX_ROWS)
    if not rows:
        raise ServiceError(_("The file is empty."), field="file")
    columns = column_map(rows[0], COLUMNS)
    missing = [en for key, _zh, en, required in COLUMNS if required and key not in columns.values()]
    if missing:
        raise ServiceError(_("The header row lacks the columns: %(names)s. Download the template.",
                             names=", ".join(missing)), field="file")
    look = _lookups(session, user)
    good, bad = [], []
    for line, row in enumerate(rows[1:], start=2):
        if all(_text(v) == "" for v in row):
            continue
        if len(good) + len(bad) >= MAX_ROWS:
            raise ServiceError(_("A file may hold at most %(n)d lots.", n=MAX_ROWS), field="file")
        cells = {key: row[i] for i, key in columns.items() if i < len(row)}
        reasons: list[tuple[str, str]] = []
        data = _row_input(cells, look, reasons)
        problems, facility, category = lots.check_input(session, user, data, look.categories, look.facilities)
        if data.facility_id is None and _text(cells.get("facility")):
            problems = [(f, m) if f != "facility" else
                        (f, _("Unknown facility of yours: %(name)s.", name=_text(cells.get("facility"))))
                        for f, m in problems]
        # A value that did not parse is reported once, not again as "missing" or "must be positive".
        unparsed = {f for f, _m in reasons}
        messages = [m for _f, m in reasons] + [m for f, m in problems if f not in unparsed]
        if messages:
            bad.append(RowError(line, tuple(messages)))
        else:
            good.append((line, data, facility, category))
    if not good and not bad:
        raise ServiceError(_("The file has no lots below its header row."), field="file")
    return good, bad


def import_lots(session: so.Session, user, filename: str, content: bytes) -> int:
    """Import every row of the file as an open lot, or none when any row is bad (ImportRejected)."""
    good, bad = check_file(session, user, filename, content)
    if bad:
        raise ImportRejected(bad)
    try:
        posted = []
        for line, data, facility, category in good:
            lot = lots.build_lot(data, facility, category, user)
            session.add(lot)
            session.flush()
            audit.record(session, user.id, "lot", lot.id, "posted",
                         {**lots.audit_payload(lot), "import": filename, "line": line})
            posted.append(lot)
        saved_searches.notify_matches(session, posted)
        session.commit()
    except Exception:
        session.rollback()
        raise
    notifications.deliver_pending(session)
    return len(good)


def _example(locale: str) -> list:
    return ["1号渣场" if locale.startswith("zh") else "Slag yard 1", "steel_slag", 5000, -12.5,
            "2026-11-01", "2027-04-30", 30, "", "", "f_cao_pct=3.2; mgo_pct=8.1"]


def template_csv(locale: str) -> bytes:
    """The import template as UTF-8 CSV with a BOM (so Excel opens Chinese correctly)."""
    return csv_bytes([[header(*c[:3]) for c in COLUMNS], _example(locale)])


def template_xlsx(locale: str) -> bytes:
    """The import template as an XLSX workbook."""
    return xlsx_bytes("lots", [[header(*c[:3]) for c in COLUMNS], _example(locale)], width=20)
