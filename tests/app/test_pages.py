"""Pages render in Simplified Chinese and English; errors are friendly."""
import pytest

from tests.factories import LotFactory

PUBLIC_PAGES = ["/", "/lots", "/categories", "/login", "/register"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_render_in_chinese_for_a_chinese_browser(client, reference, path):
    response = client.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in page and "固废交易所" in page


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_render_in_english_for_an_english_browser(client, reference, path):
    response = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page and "Gufei Exchange" in page


def test_lots_list_is_in_chinese_with_zh_cn_accept_language(client, reference):
    LotFactory(title="粉煤灰 3000 吨")
    page = client.get("/lots", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "粉煤灰 3000 吨" in page
    assert "在售批次" in page and "筛选" in page


def test_the_language_switch_overrides_the_browser(client, reference):
    client.get("/?lang=en", headers={"Accept-Language": "zh-CN"})
    page = client.get("/lots", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Lots on offer" in page


def test_unknown_page_is_a_friendly_404_in_the_users_language(client, db):
    response = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_lot_detail_shows_quantity_and_category(client, reference):
    lot = LotFactory(title="Converter slag", tonnes=20000, remaining_tonnes=20000)
    page = client.get(f"/lots/{lot.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Converter slag" in page and "20,000 t" in page and "Fly ash" in page


def test_lots_are_paginated(client, reference, app):
    for n in range(app.config["LOTS_PER_PAGE"] + 3):
        LotFactory(title=f"lot-{n:03d}")
    first = client.get("/lots?sort=newest&lang=en").get_data(as_text=True)
    second = client.get("/lots?sort=newest&page=2&lang=en").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "lot-000" in second and "lot-000" not in first


def test_lots_filter_by_category(client, reference):
    from tests.factories import category

    LotFactory(title="ash lot", category=category("fly_ash"))
    LotFactory(title="gangue lot", category=category("coal_gangue"))
    page = client.get("/lots?category=coal_gangue&lang=en").get_data(as_text=True)
    assert "gangue lot" in page and "ash lot" not in page


def test_lots_filter_by_minimum_tonnes(client, reference):
    LotFactory(title="small lot", tonnes=50, remaining_tonnes=50)
    LotFactory(title="big lot", tonnes=5000, remaining_tonnes=5000)
    page = client.get("/lots?min_tonnes=1000&lang=en").get_data(as_text=True)
    assert "big lot" in page and "small lot" not in page


def test_security_headers_are_set(client, db):
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_home_shows_tonnes_on_offer_by_category(client, reference):
    LotFactory(tonnes=1200, remaining_tonnes=1200)
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "On offer by category" in page and "Fly ash" in page and "1,200 t" in page


def test_home_shows_the_provinces_bulk_waste_utilisation_rate(client, reference):
    import datetime as dt
    from decimal import Decimal

    from models import GenerationReport
    from tests.factories import FacilityFactory, category

    reference.session.add(GenerationReport(
        facility=FacilityFactory(), category=category("fly_ash"), period=dt.date(2025, 3, 1),
        generated_t=Decimal(100), stored_t=Decimal(40), self_utilised_t=Decimal(60), disposed_t=Decimal(0),
        from_storage_t=Decimal(0)))
    reference.session.commit()
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "60.0 %" in page and "Heilongjiang, 2025" in page


def test_the_catalogue_page_lists_every_category_with_its_codes_from_the_catalogue_file(client, reference):
    import csv
    from pathlib import Path

    rows = list(csv.DictReader((Path(__file__).parents[2] / "app/data/catalogue.csv").open(encoding="utf-8")))
    page = client.get("/categories", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    for row in rows:
        assert f'id="category-{row["code"]}"' in page
        cell = page.split(f'id="category-{row["code"]}"', 1)[1].split("</tr>", 1)[0]
        assert row["name_zh"] in cell
        assert (row["national_code"] or "—") in cell and (row["hw_code"] or "—") in cell
    steel_slag = page.split('id="category-steel_slag"', 1)[1].split("</tr>", 1)[0]
    assert ">25.00<" in steel_slag  # the Art. 12 exemption at the statutory smelting-slag rate
    hazardous = next(r for r in rows if r["hazardous"] == "1")
    assert ">—<" in page.split(f'id="category-{hazardous["code"]}"', 1)[1].split("</tr>", 1)[0].replace(" ", "")
    assert "危险废物" in page and "大宗工业固体废物" in page
