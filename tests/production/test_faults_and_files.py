"""Attacks on inputs and faults (issue 12, failures 3, 5 and 6): NUL bytes, huge and hostile spreadsheets,
Redis gone under the rate limiter, and page reads racing to expire the same allocations."""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import threading
import time
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app.extensions import db as database
from app.extensions import limiter
from app.services import api_tokens, clearing, generation_reports, lot_import, spreadsheets
from app.services.errors import ServiceError
from models import Allocation, Lot, utcnow
from tests.conftest import csrf_token, sign_in
from tests.factories import FacilityFactory, small_market
from tests.production.conftest import on_postgres


def test_a_nul_byte_in_a_web_form_is_a_clear_400(client, db, reference):
    m = small_market()
    sign_in(client, m["producer"])
    response = client.post("/lots/new?lang=en", data={"title": "slag\x00", "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    assert client.get("/lots?category=fly\x00ash").status_code == 400


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)",
                                  "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_run_is_written_as_text(text):
    assert spreadsheets.neutralised(text) == "'" + text
    sheet = load_workbook(io.BytesIO(spreadsheets.xlsx_bytes("t", [[text, 5, -5]]))).active
    assert sheet["A1"].value.startswith("'") and sheet["A1"].data_type == "s"
    assert (sheet["B1"].value, sheet["C1"].value) == (5, -5)  # numbers stay numbers
    assert spreadsheets.csv_bytes([[text]]).decode("utf-8-sig").strip().strip('"').startswith("'")


def test_a_producers_facility_name_is_no_formula_in_the_report_template(db, reference):
    m = small_market()
    FacilityFactory(organization=m["producer"].organization, name='=HYPERLINK("http://evil.example","点此")')
    sheet = load_workbook(io.BytesIO(generation_reports.template_xlsx(db.session, m["producer"], "zh"))).active
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert '\'=HYPERLINK("http://evil.example","点此")' in names
    assert not any(isinstance(n, str) and n.startswith("=") for n in names)


def test_every_template_and_export_writer_uses_the_neutralising_helper():
    import inspect

    from app.bases import views as base_views

    for source in (inspect.getsource(lot_import), inspect.getsource(generation_reports),
                   inspect.getsource(base_views)):
        assert "Workbook(" not in source and "csv.writer(" not in source


def _xlsx(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["设施 / Facility", "类别 / Category"])
    for k in range(rows):
        sheet.append([f"plant {k}", "fly_ash"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_with_too_many_rows_is_refused_before_its_rows_are_read():
    content = _xlsx(200_000)  # ≈2 MB packed, 25 MB of XML unpacked
    started = time.perf_counter()
    with pytest.raises(ServiceError) as refused:
        spreadsheets.read_rows("big.xlsx", content, max_rows=5000)
    assert refused.value.field == "file" and "5000" in refused.value.message
    assert time.perf_counter() - started < 1.0  # refused from the ZIP directory, not after parsing 200k rows


def test_a_workbook_within_the_envelope_but_over_the_limit_is_stopped_while_streaming(monkeypatch):
    read = []
    original = spreadsheets.load_workbook

    def lying(*args, **kwargs):
        book = original(*args, **kwargs)
        sheet = book.worksheets[0]
        monkeypatch.setattr(type(sheet), "max_row", property(lambda self: None))
        iterate = sheet.iter_rows

        def counted(*a, **k):
            for row in iterate(*a, **k):
                read.append(1)
                yield row

        monkeypatch.setattr(sheet, "iter_rows", counted)
        return book

    monkeypatch.setattr(spreadsheets, "load_workbook", lying)
    with pytest.raises(ServiceError):
        spreadsheets.read_rows("big.xlsx", _xlsx(2_000), max_rows=1000)
    assert len(read) <= 1002


def test_a_csv_with_too_many_rows_is_refused():
    content = ("a,b\n" + "x,y\n" * 6000).encode()
    with pytest.raises(ServiceError):
        spreadsheets.read_rows("big.csv", content, max_rows=5000)


def test_the_api_keeps_answering_when_the_rate_limit_store_is_down(app, client, db, reference, monkeypatch, caplog):
    import redis

    m = small_market()
    secret = api_tokens.create(db.session, m["producer"], "t").secret

    def unreachable(*_args, **_kwargs):
        raise redis.exceptions.ConnectionError("Redis is gone")

    monkeypatch.setattr(limiter._limiter, "hit", unreachable)
    monkeypatch.setattr(limiter._limiter, "test", unreachable, raising=False)
    with caplog.at_level(logging.WARNING):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    limiter._storage_dead = False
    assert response.status_code == 200
    assert "falling back to in-memory storage" in caplog.text


def test_reading_the_awards_page_changes_nothing(client, db, reference):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    allocation = db.session.scalar(sa.select(Allocation))
    allocation.deadline = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    sign_in(client, m["producer"])
    assert client.get("/awards").status_code == 200
    db.session.expire_all()
    assert db.session.get(Allocation, allocation.id).status == "proposed"  # expiry is the job's, not a read's


@pytest.mark.skipif(not on_postgres(), reason="needs TEST_DATABASE_URL on PostgreSQL (concurrent sessions)")
def test_ten_concurrent_award_reads_with_overdue_allocations_all_succeed(app, db, reference):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    for allocation in db.session.scalars(sa.select(Allocation)):
        allocation.deadline = utcnow() - dt.timedelta(minutes=1)
    db.session.commit()
    secret = api_tokens.create(db.session, m["producer"], "t").secret
    barrier, statuses = threading.Barrier(10), []

    def read():
        client = app.test_client()
        with app.app_context():
            barrier.wait()
            statuses.append(client.get("/api/v1/awards", headers={"Authorization": f"Bearer {secret}"}).status_code)
            statuses.append(client.get("/api/v1/allocations",
                                       headers={"Authorization": f"Bearer {secret}"}).status_code)
            database.session.remove()

    threads = [threading.Thread(target=read) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 20
    from app.services import awards

    assert awards.expire_overdue(db.session) >= 1  # the job expires them, once
    assert awards.expire_overdue(db.session) == 0


def test_a_nul_byte_in_any_value_of_a_repeated_field_is_a_400_too(client, db, reference):
    m = small_market()
    sign_in(client, m["producer"])
    token = csrf_token(client, "/")
    assert client.post("/lots/new?lang=en", data={"title": ["slag", "slag\x00"], "csrf_token": token}).status_code \
        == 400
    assert client.get("/lots?q=slag&q=fly\x00ash").status_code == 400


def _import(client, text: str):
    return client.post("/lots/import?lang=en", content_type="multipart/form-data", data={
        "file": (io.BytesIO(text.encode("utf-8")), "lots.csv"), "csrf_token": csrf_token(client, "/lots/import")})


@pytest.mark.parametrize("column", ["title", "description", "facility", "quality"])
def test_a_nul_byte_inside_an_imported_file_is_a_row_error_never_stored(client, db, reference, column):
    m = small_market()
    sign_in(client, m["producer"])
    row = {"facility": "Harbin power plant", "category": "fly_ash", "tonnes": "10", "reserve_yuan_per_t": "5",
           "available_from": "2026-11-01", "title": "slag", "description": "fine", "quality": ""}
    row[column] += "\x00evil"
    response = _import(client, ",".join(row) + "\n" + ",".join(row.values()) + "\n")
    assert response.status_code == 400
    assert database.session.scalar(sa.select(sa.func.count(Lot.id))) == 1  # only small_market's lot


def _bomb(rows: int) -> bytes:
    """A workbook as the attacker builds it: one repeated row, no declared dimension, deflated to a few hundred KB."""
    row = b'<row><c t="inlineStr"><is><t>plant</t></is></c><c t="inlineStr"><is><t>fly_ash</t></is></c></row>'
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
        'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"'
        '/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="s" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData>' + row * rows + b"</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_two_million_row_workbook_posted_to_either_import_page_is_refused_before_it_is_parsed(
        client, db, reference, monkeypatch):
    m = small_market()
    sign_in(client, m["producer"])
    content = _bomb(2_000_000)
    assert len(content) < 1_000_000  # the attack's few hundred KB
    assert spreadsheets.read_rows("small.xlsx", _bomb(3), 10) == [["plant", "fly_ash"]] * 3  # a real workbook

    def parsed(*_args, **_kwargs):
        raise AssertionError("openpyxl was asked to parse a workbook the envelope check should have refused")

    monkeypatch.setattr(spreadsheets, "load_workbook", parsed)
    for url, page in (("/lots/import?lang=en", "/lots/import"), ("/bases/reports/import?lang=en", "/bases/reports")):
        response = client.post(url, content_type="multipart/form-data", data={
            "file": (io.BytesIO(content), "big.xlsx"), "csrf_token": csrf_token(client, page)})
        assert response.status_code == 400 and "At most" in response.get_data(as_text=True)


@pytest.mark.skipif(not on_postgres(), reason="needs TEST_DATABASE_URL on PostgreSQL (server-side disconnects)")
def test_every_request_succeeds_after_the_server_terminated_the_pooled_connections(app, db, reference):
    m = small_market()
    secret = api_tokens.create(db.session, m["producer"], "t").secret
    database.session.remove()
    held = [database.engine.connect() for _ in range(4)]  # four live connections go back into the pool
    for connection in held:
        connection.execute(sa.text("SELECT 1"))
    for connection in held:
        connection.close()
    killer = sa.create_engine(database.engine.url, poolclass=sa.pool.NullPool)
    with killer.begin() as connection:  # a restart or failover, as the server's side sees it: this database only
        killed = connection.scalar(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    killer.dispose()
    assert killed >= 4
    client = app.test_client()
    statuses = [client.get("/api/v1/lots", headers={"Authorization": f"Bearer {secret}"}).status_code
                for _ in range(12)]
    assert statuses == [200] * 12


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_another_partys_formula_in_a_lot_title_or_org_name_is_text_in_every_downloaded_export(client, db, reference,
                                                                                              fmt):
    m = small_market()
    m["lot"].title = '=HYPERLINK("http://evil.example","点此")'
    m["lot"].facility.organization.name = "+cmd|' /C calc'!A0"
    database.session.commit()
    clearing.start_clearing(database.session, None, "fly_ash")
    sign_in(client, m["near_user"])  # the recycler downloads what the producer typed
    for what in ("bids", "allocations"):
        body = client.get(f"/exports/{what}.{fmt}").data
        if fmt == "csv":
            cells = [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]
        else:
            cells = [c for row in load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True) for c in row]
        texts = [c for c in cells if isinstance(c, str) and not re.fullmatch(r"-?[0-9.]+", c)]  # CSV numbers
        assert any("HYPERLINK" in c for c in texts), what
        assert not [c for c in texts if c.startswith(spreadsheets.FORMULA_STARTS)], (what, texts)


@pytest.mark.skipif(not on_postgres(), reason="needs TEST_DATABASE_URL on PostgreSQL (numeric bounds enforced)")
def test_a_prefectures_sum_of_the_largest_reports_fits_the_rollup(db, reference):
    """10,001 facilities of one prefecture each reporting the largest month allowed: one report line fits Numeric(14,
    3), their sum (above 10^11 t) must fit the rollup too, or filing a report breaks statistics for the province."""
    from app.services import quantities, rollup
    from models import Facility, GenerationReport, UtilisationRollup
    from tests.factories import GenerationReportFactory

    period = dt.date(2026, 1, 1)
    report = GenerationReportFactory(period=period, generated_t=quantities.MAX_TONNES,
                                     stored_t=quantities.MAX_TONNES)
    facility = database.session.get(Facility, report.facility_id)
    columns = [c.name for c in Facility.__table__.columns if c.name != "id"]
    copied = ", ".join(columns)
    database.session.execute(sa.text(
        f"INSERT INTO facilities ({copied}) SELECT {copied} FROM facilities, generate_series(1, 10000) "  # noqa: S608
        "WHERE id = :id"), {"id": facility.id})
    report_columns = [c.name for c in GenerationReport.__table__.columns if c.name not in ("id", "facility_id")]
    copied = ", ".join(report_columns)
    database.session.execute(sa.text(
        f"INSERT INTO generation_reports (facility_id, {copied}) SELECT f.id, {', '.join('r.' + c for c in report_columns)} "  # noqa: S608,E501
        "FROM facilities f, generation_reports r WHERE r.id = :report AND f.id <> :facility"),
        {"report": report.id, "facility": facility.id})
    rollup.refresh(database.session, {(period, report.category_id, facility.prefecture_code)})
    database.session.commit()
    total = database.session.scalar(sa.select(sa.func.sum(UtilisationRollup.generated_t)))
    assert total == quantities.MAX_TONNES * 10_001
