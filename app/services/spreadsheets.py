"""Reading spreadsheets users upload (CSV in UTF-8 or GBK, XLSX) and reporting their bad rows."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import load_workbook

from app.services.errors import ServiceError


@dataclass(frozen=True)
class RowError:
    """A bad row: its line in the file (header is line 1) and every reason."""

    line: int
    reasons: tuple[str, ...]


class ImportRejected(ServiceError):
    """The file had bad rows; nothing was imported."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(_("%(n)d rows have errors; nothing was imported.", n=len(errors)))
        self.errors = errors


def header(key: str, zh: str, en: str) -> str:
    """The bilingual header of a column, e.g. '吨数 / Tonnes'."""
    return f"{zh} / {en}"


def normalised(text) -> str:
    """Text without whitespace, lower-cased: how header cells and names are compared."""
    return re.sub(r"\s+", "", str(text or "")).lower()


def column_map(cells: list, columns) -> dict[int, str]:
    """Column index → key for every header cell naming one of `columns` ((key, zh, en, …) tuples) by key,
    Chinese, English or '中文 / English'."""
    known = {}
    for key, zh, en, *_rest in columns:
        for name in (key, zh, en, header(key, zh, en)):
            known[normalised(name)] = key
    found = {}
    for index, cell in enumerate(cells):
        text = normalised(cell)
        key = known.get(text) or next((known[p] for p in text.split("/") if p in known), None)
        if key:
            found[index] = key
    return found


def _rows_from_csv(content: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ServiceError(_("The CSV file is neither UTF-8 nor GBK text."), field="file")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _rows_from_xlsx(content: bytes) -> list[list]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise ServiceError(_("This is not a readable XLSX workbook."), field="file") from exc
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def read_rows(filename: str, content: bytes) -> list[list]:
    """The cells of a CSV or XLSX file, row by row (XLSX is recognised by its ZIP content)."""
    if content[:4] == b"PK\x03\x04":
        return _rows_from_xlsx(content)
    if (filename or "").lower().endswith((".xlsx", ".xlsm")):
        raise ServiceError(_("This is not a readable XLSX workbook."), field="file")
    return _rows_from_csv(content)


# A cell starting with one of these is read as a formula by Excel, WPS and LibreOffice (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell that cannot run as a formula (prefixed with an apostrophe); numbers and dates unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(header: list[str], rows: list[list]) -> bytes:
    """A CSV file in UTF-8 with a byte-order mark (Excel opens it as UTF-8), every text cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(title: str, header: list[str], rows: list[list]) -> bytes:
    """An XLSX workbook of one sheet; numbers stay numbers (Decimal exact), every text cell neutralised."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append([neutralise(h) for h in header])
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
