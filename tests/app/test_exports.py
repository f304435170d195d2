"""Exports: my own lots, bids, allocations, awards and shipments as CSV and XLSX; neutralised; no one else's."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.services import awards, clearing, shipments
from app.services.spreadsheets import neutralised, write_csv
from models import Allocation, Award
from tests.factories import BidFactory, FacilityFactory, LotFactory, UserFactory, small_market

EN = {"Accept-Language": "en"}


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _xlsx(response) -> list[tuple]:
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.get_data())).active.iter_rows(values_only=True))


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("plain", "plain"), (Decimal("-8.50"), Decimal("-8.50")), (5, 5), (None, None)])
def test_text_cells_that_could_run_as_formulas_are_neutralised(value, expected):
    assert neutralised(value) == expected


def test_my_lots_export_lists_only_my_lots_with_state_and_neutralised_titles(auth, client, db, reference):
    user = UserFactory()
    plant = FacilityFactory(organization=user.organization)
    mine = LotFactory(facility=plant, title="=cmd|' /C calc'!A0")
    BidFactory(lot=mine)
    LotFactory(title="Someone else's lot")
    auth.login(user.email)
    rows = _csv(client.get("/exports/lots.csv", headers=EN))
    assert rows[0][:4] == ["Lot", "Title", "Category", "State"]
    assert len(rows) == 2 and rows[1][0] == str(mine.id)
    assert rows[1][1] == "'=cmd|' /C calc'!A0" and rows[1][3] == "Open" and rows[1][9] == "1"
    sheet = _xlsx(client.get("/exports/lots.xlsx", headers=EN))
    assert sheet[1][1].startswith("'=") and sheet[1][4] == 1000  # tonnes stay numbers


def test_awards_and_shipments_export_the_billed_figures(auth, client, db, reference):
    m = small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    allocation = db.session.scalar(sa.select(Allocation))
    awards.decide(db.session, m["producer"], allocation.id, True)
    awards.decide(db.session, m["near_user"], allocation.id, True)
    award = db.session.scalar(sa.select(Award))
    load = shipments.dispatch(db.session, m["producer"], award.id, Decimal("600"), "黑E·12345", None)
    shipments.receive(db.session, m["near_user"], load.id, Decimal("598.5"))
    auth.login("near@example.com")
    rows = _csv(client.get("/exports/awards.csv", headers=EN))
    assert rows[1][5] == "received" and rows[1][6] == "598.500"
    loads = _csv(client.get("/exports/shipments.csv", headers=EN))
    assert loads[1][0] == load.manifest_no and "(UTC+8)" in loads[0][5]
    allocations = _csv(client.get("/exports/allocations.csv", headers=EN))
    assert len(allocations) == 2 and allocations[1][0] == str(allocation.id)


def test_an_outsider_exports_nothing_of_the_trade(auth, client, db, reference):
    small_market()
    clearing.start_clearing(db.session, None, "fly_ash")
    auth.login("far@example.com")  # bid but was not allocated
    assert len(_csv(client.get("/exports/allocations.csv"))) == 1
    bids = _csv(client.get("/exports/bids.csv", headers=EN))
    assert all("83.21" not in cell for row in bids for cell in row)  # the other bidder's price stays sealed


def test_exports_follow_the_role(auth, client, db, reference):
    small_market()
    auth.login("near@example.com")
    assert client.get("/exports/lots.csv").status_code == 403
    auth.logout()
    auth.login("producer@example.com")
    assert client.get("/exports/bids.csv").status_code == 403
    assert client.get("/exports/lots.csv").status_code == 200


def test_write_csv_keeps_chinese_for_excel():
    assert write_csv(["批次"], [["粉煤灰"]]).startswith("\ufeff".encode())


def test_a_demo_organisations_export_ends_with_the_demo_mark(auth, client, db, reference):
    # The demo producer account is a real enterprise's name (建龙西林钢铁) with invented lots: its file says so.
    user = UserFactory()
    LotFactory(facility=FacilityFactory(organization=user.organization), title="Invented lot")
    auth.login(user.email)
    assert not any("DEMO" in cell for row in _csv(client.get("/exports/lots.csv", headers=EN)) for cell in row)
    user.organization.is_demo = True
    db.session.commit()
    rows = _csv(client.get("/exports/lots.csv", headers=EN))
    assert rows[1][1] == "Invented lot" and rows[-1][0].startswith("DEMO DATA")
    assert _xlsx(client.get("/exports/lots.xlsx", headers=EN))[-1][0].startswith("DEMO DATA")
