"""Bulk import: good CSV and XLSX files import every row; any bad row imports nothing and is listed."""
from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook

from app.services.lot_import import COLUMNS, header
from models import Lot
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, OrganizationFactory, UserFactory

HEADER = [header(*c[:3]) for c in COLUMNS]


def _rows(facility_name):
    return [
        [facility_name, "fly_ash", "1000", "-5", "2026-11-01", "2027-01-31", "", "", "", "moisture_pct=12"],
        [facility_name, "钢渣", "250.5", "12.30", "2026-12-01", "", "30", "Slag", "", ""],
        [facility_name, "Coal gangue", "4000", "0", "2026-11-15", "", "", "", "", ""],
    ]


def _csv(rows):
    out = io.StringIO()
    import csv
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def _xlsx(rows):
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(client, content, name):
    token = csrf_token(client, "/lots/import")
    return client.post("/lots/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), name)})


def _login_producer(auth):
    user = UserFactory()
    facility = FacilityFactory(organization=user.organization, name="一号渣场")
    auth.login(user.email)
    return facility


def test_good_csv_imports_every_row(client, auth, reference):
    facility = _login_producer(auth)
    assert _import(client, _csv(_rows(facility.name)), "lots.csv").status_code == 302
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 3


def test_good_xlsx_imports_every_row(client, auth, reference):
    facility = _login_producer(auth)
    assert _import(client, _xlsx(_rows(facility.name)), "lots.xlsx").status_code == 302
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 3


def test_file_with_two_bad_rows_imports_nothing_and_lists_both_lines(client, auth, reference):
    facility = _login_producer(auth)
    rows = _rows(facility.name)
    rows[1][2] = "-4"                 # line 3: non-positive tonnes
    rows[2][1] = "unobtainium"        # line 4: unknown category
    rows.append([facility.name, "fly_ash", "10", "1", "2026-12-01", "2026-11-01", "", "", "", ""])  # line 5: reversed
    response = _import(client, _csv(rows), "lots.csv")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for line in (3, 4, 5):
        assert f'<td class="line">{line}</td>' in page
    assert '<td class="line">2</td>' not in page
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 0


def test_unknown_facility_and_bad_date_are_reported(client, auth, reference):
    facility = _login_producer(auth)
    other = FacilityFactory(name="别人的厂")
    rows = _rows(facility.name)
    rows[0][0] = other.name
    rows[1][4] = "2026-13-45"
    page = _import(client, _xlsx(rows), "lots.xlsx").get_data(as_text=True)
    assert '<td class="line">2</td>' in page and '<td class="line">3</td>' in page
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 0


def test_templates_download_in_both_formats(client, auth, reference):
    _login_producer(auth)
    assert client.get("/lots/import/template.csv").data.startswith(b"\xef\xbb\xbf")
    assert client.get("/lots/import/template.xlsx").data[:2] == b"PK"


def test_unverified_cannot_import(client, auth, reference):
    auth.login(UserFactory(organization=OrganizationFactory(verified=False)).email)
    assert client.get("/lots/import").status_code == 403


def _hazardous_row(facility_name, *, ref="黑环危转〔2026〕018号", form="半固态", letters="T, I", packaging="吨袋",
                   category="oil_sludge"):
    return [facility_name, category, "120", "-800", "2026-11-01", "", "", "", "", "", ref, form, letters, packaging]


def test_hazardous_columns_are_imported_like_the_form_takes_them(client, auth, reference):
    facility = _login_producer(auth)
    rows = [_hazardous_row(facility.name),
            _hazardous_row(facility.name, ref="", form="Liquid", letters="C", packaging="200 L 钢桶")]
    assert _import(client, _xlsx(rows), "lots.xlsx").status_code == 302
    got = reference.session.execute(sa.select(Lot.transfer_approval_ref, Lot.waste_form, Lot.hazard_characteristics,
                                              Lot.packaging_type).order_by(Lot.id)).all()
    assert [tuple(r) for r in got] == [("黑环危转〔2026〕018号", "semi_solid", "T,I", "吨袋"),
                                       (None, "liquid", "C", "200 L 钢桶")]


def test_bad_hazardous_cells_are_refused_by_line_and_nothing_is_imported(client, auth, reference):
    facility = _login_producer(auth)
    rows = [_hazardous_row(facility.name),                               # line 2: good
            _hazardous_row(facility.name, letters="T, Q"),               # line 3: unknown characteristic
            _hazardous_row(facility.name, form="plasma"),                # line 4: unknown form
            _hazardous_row(facility.name, ref="X" * 61),                 # line 5: reference too long
            _hazardous_row(facility.name, category="fly_ash"),           # line 6: facts on a non-hazardous lot
            _hazardous_row(facility.name, packaging="桶" * 41)]          # line 7: packaging too long
    response = _import(client, _csv(rows), "lots.csv")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for line in (3, 4, 5, 6, 7):
        assert f'<td class="line">{line}</td>' in page
    assert '<td class="line">2</td>' not in page
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 0


def test_the_template_has_the_hazardous_columns_and_a_hazardous_example(client, auth, reference):
    _login_producer(auth)
    text = client.get("/lots/import/template.csv").data.decode("utf-8-sig")
    head, *examples = [line for line in text.splitlines() if line]
    for name in ("Transfer approval ref", "Form", "Hazard characteristics", "Packaging"):
        assert name in head
    assert any("oil_sludge" in line and "T, I" in line for line in examples)
