"""Generation reports: upsert per facility/category/month, all-or-nothing import, missing reporters."""
import datetime as dt
import io
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from app.services import generation_reports
from app.services.spreadsheets import ImportRejected
from models import GenerationReport
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, GenerationReportFactory, UserFactory, category, resource_base

D = Decimal


def _producer():
    user = UserFactory(role="producer")
    plant = FacilityFactory(organization=user.organization, name="一号厂区")
    return user, plant


def _input(plant, **kw):
    values = dict(facility_id=plant.id, category_id=category("fly_ash").id, period=dt.date(2026, 9, 15),
                  generated_t=D(100), stored_t=D(25), self_utilised_t=D(70), disposed_t=D(10), from_storage_t=D(5))
    values.update(kw)
    return generation_reports.ReportInput(**values)


def test_filing_twice_updates_the_same_month(reference):
    user, plant = _producer()
    generation_reports.file_report(reference.session, user, _input(plant))
    generation_reports.file_report(reference.session, user, _input(plant, generated_t=D(150), stored_t=D(75)))
    rows = reference.session.scalars(sa.select(GenerationReport)).all()
    assert len(rows) == 1 and rows[0].generated_t == D(150) and rows[0].period == dt.date(2026, 9, 1)


def test_storage_drawn_cannot_exceed_self_utilised(reference):
    user, plant = _producer()
    try:
        generation_reports.file_report(reference.session, user, _input(plant, from_storage_t=D(80)))
    except generation_reports.ServiceError as exc:
        assert exc.field == "from_storage_t"
    else:
        raise AssertionError("accepted")


def _xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["设施 / Facility", "类别 / Category", "月份 / Month", "产生量（吨） / Generated (t)",
                  "贮存量（吨） / Stored (t)", "自行综合利用量（吨） / Self-utilised (t)",
                  "处置量（吨） / Disposed (t)",
                  "其中：利用往年贮存量（吨） / Of which from earlier storage (t)"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_with_a_bad_row_imports_nothing_and_lists_every_bad_row(reference):
    user, _plant = _producer()
    content = _xlsx([
        ["一号厂区", "fly_ash", "2026-08", 100, 10, 80, 10, 0],
        ["不存在的厂", "fly_ash", "2026-08", 100, 10, 80, 10, 0],
        ["一号厂区", "no_such", "2026-13", "abc", 10, 80, 10, 0],
        ["一号厂区", "fly_ash", "2026-09", 100, 10, 80, 10, 0],
    ])
    try:
        generation_reports.import_reports(reference.session, user, "r.xlsx", content)
    except ImportRejected as exc:
        assert [e.line for e in exc.errors] == [3, 4]
        assert len(exc.errors[1].reasons) == 3  # category, month and number
    else:
        raise AssertionError("imported")
    assert reference.session.scalar(sa.select(sa.func.count(GenerationReport.id))) == 0


def test_import_upserts_every_good_row(reference):
    user, plant = _producer()
    GenerationReportFactory(facility=plant, category=category("fly_ash"), period=dt.date(2026, 8, 1))
    content = _xlsx([["一号厂区", "fly_ash", "2026-08", 300, 10, 280, 10, 0],
                     ["一号厂区", "粉煤灰", "2026年9月", 200, 10, 185, 10, 5]])
    assert generation_reports.import_reports(reference.session, user, "r.xlsx", content) == 2
    rows = reference.session.scalars(sa.select(GenerationReport).order_by(GenerationReport.period)).all()
    assert [(r.period.month, r.generated_t) for r in rows] == [(8, D(300)), (9, D(200))]


def test_the_template_downloads_and_reimports(client, auth, reference):
    user, _plant = _producer()
    auth.login(user.email)
    response = client.get("/bases/reports/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.cell(2, 1).value == "一号厂区"
    token = csrf_token(client, "/bases/reports")
    response = client.post("/bases/reports/import", data={"csrf_token": token,
                                                          "file": (io.BytesIO(response.data), "t.xlsx")})
    assert response.status_code == 302


def test_import_names_every_row_that_does_not_balance(reference):
    user, _plant = _producer()
    content = _xlsx([["一号厂区", "fly_ash", "2026-08", 100, 10, 80, 10, 0],
                     ["一号厂区", "fly_ash", "2026-09", 100, 10, 50, 10, 0]])
    try:
        generation_reports.import_reports(reference.session, user, "r.xlsx", content)
    except ImportRejected as exc:
        [error] = exc.errors
        assert error.line == 3 and "不平衡" in error.reasons[0] and "相差 30 吨" in error.reasons[0]
    else:
        raise AssertionError("imported")


def test_import_page_shows_bad_rows(client, auth, reference):
    user, _plant = _producer()
    auth.login(user.email)
    token = csrf_token(client, "/bases/reports")
    content = _xlsx([["一号厂区", "fly_ash", "2026-08", -5, 10, 80, 10, 0]])
    response = client.post("/bases/reports/import", data={"csrf_token": token, "file": (io.BytesIO(content), "r.xlsx")})
    assert response.status_code == 400
    assert "import-errors" in response.get_data(as_text=True)


def test_report_form_errors_keep_the_input(client, auth, reference):
    user, plant = _producer()
    auth.login(user.email)
    token = csrf_token(client, "/bases/reports")
    response = client.post("/bases/reports", data={
        "csrf_token": token, "facility": plant.id, "category": "fly_ash", "period": "2026-9",
        "generated_t": "123.5", "stored_t": "1", "self_utilised_t": "1", "disposed_t": "1", "from_storage_t": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "is-invalid" in page and 'value="123.5"' in page
    response = client.post("/bases/reports", data={
        "csrf_token": token, "facility": plant.id, "category": "fly_ash", "period": "2026-09",
        "generated_t": "123.5", "stored_t": "1", "self_utilised_t": "1", "disposed_t": "1", "from_storage_t": "0",
        "supplied_t": "0", "dumped_t": "0", "disposed_from_storage_t": "0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "不平衡" in page and "相差 120.5 吨" in page
    assert 'value="123.5"' in page
    response = client.post("/bases/reports", data={
        "csrf_token": token, "facility": plant.id, "category": "fly_ash", "period": "2026-09",
        "generated_t": "123.5", "stored_t": "1", "self_utilised_t": "1", "disposed_t": "1", "from_storage_t": "0",
        "supplied_t": "120.5", "dumped_t": "0"})
    assert response.status_code == 302


def test_a_producer_sees_only_its_own_reports(client, auth, reference):
    user, plant = _producer()
    other = FacilityFactory(name="别人的厂")
    GenerationReportFactory(facility=plant)
    GenerationReportFactory(facility=other)
    auth.login(user.email)
    page = client.get("/bases/reports").get_data(as_text=True)
    assert "一号厂区" in page and "别人的厂" not in page


def test_a_producer_cannot_report_for_another_facility(reference):
    user, _plant = _producer()
    other = FacilityFactory()
    try:
        generation_reports.file_report(reference.session, user, _input(other))
    except generation_reports.PermissionDenied:
        pass
    else:
        raise AssertionError("accepted")


def test_missing_reporters_of_a_base(reference):
    base = resource_base("daqing")
    reported = FacilityFactory(base_id=base.id, name="reported")
    FacilityFactory(base_id=base.id, name="silent")
    FacilityFactory(name="elsewhere")
    GenerationReportFactory(facility=reported, period=dt.date(2026, 10, 1))
    missing = generation_reports.missing_reporters(reference.session, base.id, dt.date(2026, 10, 20))
    assert [f.name for f in missing] == ["silent"]


def test_tonnes_disposed_from_earlier_storage_enter_the_balance(reference):
    """Hand-computed: 100 generated + 5 utilised and 30 disposed from storage = 70 + 40 + 25 used/disposed/stored."""
    user, plant = _producer()
    unbalanced = _input(plant, disposed_t=D(40))
    assert generation_reports.check_figures(unbalanced)[0][0] == "generated_t"  # 105 ≠ 135 without the column
    report = generation_reports.file_report(reference.session, user, _input(
        plant, disposed_t=D(40), disposed_from_storage_t=D(30)))
    assert report.disposed_from_storage_t == D(30)
    too_much = generation_reports.check_figures(_input(plant, disposed_from_storage_t=D(11), generated_t=D(89)))
    assert too_much[0][0] == "disposed_from_storage_t" and "10" in too_much[0][1]


def test_the_import_reads_the_disposed_from_storage_column(reference):
    user, plant = _producer()
    book = Workbook()
    sheet = book.active
    sheet.append(["设施", "类别", "月份", "产生量（吨）", "贮存量（吨）", "自行综合利用量（吨）", "处置量（吨）",
                  "其中：处置往年贮存量（吨）"])
    sheet.append(["一号厂区", "fly_ash", "2026-08", 100, 20, 60, 50, 30])
    out = io.BytesIO()
    book.save(out)
    assert generation_reports.import_reports(reference.session, user, "r.xlsx", out.getvalue()) == 1
    row = reference.session.scalar(sa.select(GenerationReport))
    assert (row.disposed_t, row.disposed_from_storage_t) == (D(50), D(30))
