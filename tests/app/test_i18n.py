"""Translations: complete catalogues for every string in the source, and no English leaking into Chinese pages."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.services import translations
from tests.conftest import csrf_token
from tests.factories import FacilityFactory, OrganizationFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
LATIN_WORD = re.compile(r"\b[A-Za-z]{4,}\b")


def _catalogue(locale: str):
    with (translations.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_no_catalogue_entry_is_untranslated_or_fuzzy(locale):
    assert translations.missing(locale) == []


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_translations_keep_every_placeholder(locale):
    problems = [(m.id, [str(e) for e in errors]) for m, errors in _catalogue(locale).check()]
    assert problems == []


def test_every_string_in_the_source_is_in_both_catalogues():
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    source = {msg[2] if isinstance(msg[2], str) else msg[2][0]
              for msg in extract_from_dir(str(ROOT), method_map, keywords=keywords)}
    for locale in ("zh_CN", "en"):
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(locale) if m.id}
        assert sorted(source - known) == [], f"run make translations-update ({locale})"


def test_the_403_page_is_chinese_in_the_chinese_ui(client, auth, reference):
    user = UserFactory(organization=OrganizationFactory(verified=False))
    FacilityFactory(organization=user.organization)
    auth.login(user.email)
    page = client.get("/lots/new", headers=ZH).get_data(as_text=True)
    body = page.split('<div class="py-5')[1].split("</main>")[0]
    assert "403" in body and "贵单位须通过认证后才能交易" in body
    assert not LATIN_WORD.search(re.sub(r"<[^>]+>", " ", body.split(">", 1)[1]))


def test_a_plain_403_shows_no_stock_english_description(client, auth, reference):
    buyer = UserFactory(role="recycler")
    auth.login(buyer.email)
    page = client.get("/lots/mine", headers=ZH).get_data(as_text=True)
    assert "permission to access" not in page and "403" in page


def test_wtforms_messages_name_no_field_code_in_chinese(client, db):
    data = {"organization_name": "测试单位", "credit_code": "91350100M000100Y43", "role": "producer",
            "user_name": "张三", "email": "zhang@example.com", "password": "correct horse battery",
            "confirm": "something else entirely", "csrf_token": csrf_token(client, "/register")}
    page = client.post("/register", data=data, headers=ZH).get_data(as_text=True)
    assert _errors(page) == ["两次输入的密码不一致。"]
    page = client.post("/register", data={**data, "email": "", "confirm": data["password"]}, headers=ZH)
    errors = _errors(page.get_data(as_text=True))
    assert errors and not any(LATIN_WORD.search(e) for e in errors)


def _errors(page: str) -> list[str]:
    return re.findall(r'<div class="invalid-feedback">([^<]*)</div>', page)


def test_one_lot_imported_is_singular(client, auth, reference):
    from app.services.lot_import import COLUMNS, header

    user = UserFactory()
    plant = FacilityFactory(organization=user.organization, name="一号渣场")
    auth.login(user.email)
    import csv

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header(*c[:3]) for c in COLUMNS])
    writer.writerow([plant.name, "fly_ash", "1000", "-5", "2026-11-01", "", "", "", "", ""])
    client.post("/lots/import", content_type="multipart/form-data", headers=EN,
                data={"csrf_token": csrf_token(client, "/lots/import"),
                      "file": (io.BytesIO(out.getvalue().encode("utf-8-sig")), "lots.csv")})
    page = client.get("/lots/mine", headers=EN).get_data(as_text=True)
    assert "1 lot imported." in page and "1 lots" not in page
