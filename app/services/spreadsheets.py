"""Spreadsheets: reading uploads (CSV in UTF-8 or GBK, XLSX) within a row limit, and writing exports safely."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import Workbook, load_workbook

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


# A cell starting with one of these is a formula (or becomes one) when Excel or LibreOffice opens the file.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """A value safe to write into a spreadsheet cell: text that a spreadsheet would run as a formula gets a
    leading apostrophe (shown as text, never evaluated); numbers, dates and None pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(rows) -> bytes:
    """Rows as UTF-8 CSV with a BOM (so Excel opens Chinese correctly), every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(["" if v is None else neutralised(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(title: str, rows, width: int | None = None) -> bytes:
    """Rows as a one-sheet XLSX workbook, every cell neutralised; `width` sets every used column's width."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append([neutralised(v) for v in row])
    if width:
        for cells in sheet.iter_cols(max_row=1):
            sheet.column_dimensions[cells[0].column_letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _too_many(max_rows: int) -> ServiceError:
    return ServiceError(_("At most %(n)d rows per file.", n=max_rows), field="file")


def _rows_from_csv(content: bytes, max_rows: int) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ServiceError(_("The CSV file is neither UTF-8 nor GBK text."), field="file")
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if len(rows) > max_rows:  # the header and max_rows data rows
            raise _too_many(max_rows)
        rows.append(list(row))
    return rows


# Unpacked XML a workbook may hold per data row (real rows take ~100–500 bytes), plus room for styles and themes.
XLSX_BYTES_PER_ROW = 2048
XLSX_BYTES_BASE = 1024 * 1024
DIMENSION = re.compile(rb'<dimension ref="[A-Z]{1,3}\d+:[A-Z]{1,3}(\d+)"')


def _check_xlsx_envelope(content: bytes, max_rows: int) -> None:
    """Refuse a workbook too big for `max_rows` from its ZIP directory and declared dimension, before openpyxl
    parses a byte of it: a few hundred KB can unpack to millions of rows (or shared strings)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(item.file_size for item in archive.infolist())
        sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
        head = archive.open(sheets[0]).read(4096) if sheets else b""
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ServiceError(_("This is not a readable XLSX workbook."), field="file") from exc
    declared = DIMENSION.search(head)
    if unpacked > XLSX_BYTES_BASE + max_rows * XLSX_BYTES_PER_ROW or (
            declared and int(declared.group(1)) > max_rows + 1):
        raise _too_many(max_rows)


def _rows_from_xlsx(content: bytes, max_rows: int) -> list[list]:
    _check_xlsx_envelope(content, max_rows)
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise ServiceError(_("This is not a readable XLSX workbook."), field="file") from exc
    try:
        sheet = book.worksheets[0]
        # The declared dimension is refused at once; a file that lies about it is stopped while streaming.
        if (sheet.max_row or 0) > max_rows + 1:
            raise _too_many(max_rows)
        rows = []
        for row in sheet.iter_rows(values_only=True):
            if len(rows) > max_rows:
                raise _too_many(max_rows)
            rows.append(list(row))
        return rows
    finally:
        book.close()


def read_rows(filename: str, content: bytes, max_rows: int = 20000) -> list[list]:
    """The cells of a CSV or XLSX file, row by row (XLSX is recognised by its ZIP content); ServiceError when it
    holds more than `max_rows` data rows, found before the rows beyond the limit are read."""
    if content[:4] == b"PK\x03\x04":
        return _rows_from_xlsx(content, max_rows)
    if (filename or "").lower().endswith((".xlsx", ".xlsm")):
        raise ServiceError(_("This is not a readable XLSX workbook."), field="file")
    return _rows_from_csv(content, max_rows)


def write_csv(header: list[str], rows: list[list]) -> bytes:
    """An export as CSV: a header row, then the rows, every cell neutralised."""
    return csv_bytes([header, *rows])


def write_xlsx(title: str, header: list[str], rows: list[list]) -> bytes:
    """An export as XLSX (numbers stay numbers): a header row, then the rows, every cell neutralised."""
    return xlsx_bytes(title[:31], [header, *rows])
