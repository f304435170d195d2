"""Lots: post, edit and withdraw with permissions; documents; browse filters; map JSON; sealed bids."""

from __future__ import annotations

import io
from decimal import Decimal

import sqlalchemy as sa

from models import AuditEvent, Lot, LotDocument, OrganizationRole
from tests.conftest import csrf_token
from tests.factories import (
    BidFactory,
    DemandProfileFactory,
    FacilityFactory,
    LotFactory,
    OrganizationFactory,
    UserFactory,
    category,
    photo_bytes,
)

PNG = photo_bytes()


def _producer():
    user = UserFactory()
    facility = FacilityFactory(organization=user.organization)
    return user, facility


def _lot_data(client, url, facility, **overrides):
    data = {
        "csrf_token": csrf_token(client, url),
        "facility": str(facility.id),
        "category": "fly_ash",
        "tonnes": "1500",
        "reserve_yuan_per_t": "-8.50",
        "available_from": "2026-11-01",
        "available_to": "2027-03-01",
        "q_moisture_pct": "12.5",
        "q_cao_pct": "99",
    }
    data.update(overrides)
    return data


def test_producer_posts_a_lot_with_quality_and_audit(client, auth, reference):
    user, facility = _producer()
    auth.login(user.email)
    response = client.post("/lots/new", data=_lot_data(client, "/lots/new", facility))
    assert response.status_code == 302
    lot = reference.session.scalar(sa.select(Lot))
    assert lot.tonnes == Decimal("1500.000") and lot.reserve_yuan_per_t == Decimal("-8.50")
    assert "moisture_pct" in lot.quality
    assert reference.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "lot")) == "posted"


def test_bad_lot_re_renders_with_input_and_saves_nothing(client, auth, reference):
    user, facility = _producer()
    auth.login(user.email)
    data = _lot_data(client, "/lots/new", facility, available_to="2026-01-01", description="我的说明")
    response = client.post("/lots/new", data=data)
    assert response.status_code == 400
    assert "我的说明" in response.get_data(as_text=True)
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 0


def test_unverified_organisation_cannot_post(client, auth, reference):
    user = UserFactory(organization=OrganizationFactory(verified=False))
    auth.login(user.email)
    response = client.get("/lots/new", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "must be verified" in response.get_data(as_text=True)


def test_other_producer_cannot_edit_or_withdraw(client, auth, reference):
    lot = LotFactory()
    auth.login(UserFactory().email)
    assert client.get(f"/lots/{lot.id}/edit").status_code == 403
    token = csrf_token(client, "/lots")
    assert client.post(f"/lots/{lot.id}/withdraw", data={"csrf_token": token}).status_code == 403


def test_owner_edits_and_withdraws(client, auth, reference):
    user, facility = _producer()
    lot = LotFactory(facility=facility)
    auth.login(user.email)
    url = f"/lots/{lot.id}/edit"
    assert client.post(url, data=_lot_data(client, url, facility, tonnes="900")).status_code == 302
    token = csrf_token(client, f"/lots/{lot.id}")
    assert client.post(f"/lots/{lot.id}/withdraw", data={"csrf_token": token}).status_code == 302
    reference.session.expire_all()
    lot = reference.session.get(Lot, lot.id)
    assert lot.tonnes == Decimal("900.000") and lot.status == "withdrawn"
    actions = reference.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["updated", "withdrawn"]


def _upload(client, lot, content, name):
    token = csrf_token(client, f"/lots/{lot.id}")
    return client.post(
        f"/lots/{lot.id}/documents",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(content), name)},
    )


def test_upload_checks_content_not_extension(client, auth, reference):
    user, facility = _producer()
    lot = LotFactory(facility=facility)
    auth.login(user.email)
    assert _upload(client, lot, b"just some text pretending", "photo.png").status_code == 400
    assert _upload(client, lot, PNG, "photo.png").status_code == 302
    doc = reference.session.scalar(sa.select(LotDocument))
    assert doc.content_type == "image/png" and doc.stored_name != "photo.png"
    response = client.get(f"/lots/{lot.id}/documents/{doc.id}")
    assert response.status_code == 200 and response.data == PNG


def test_upload_size_limit(app, client, auth, reference):
    user, facility = _producer()
    lot = LotFactory(facility=facility)
    auth.login(user.email)
    app.config["LOT_DOCUMENT_MAX_BYTES"] = 1000
    try:
        response = _upload(client, lot, PNG + b"\x00" * 2000, "big.png")
    finally:
        app.config.pop("LOT_DOCUMENT_MAX_BYTES")
    assert response.status_code == 400
    assert reference.session.scalar(sa.select(sa.func.count(LotDocument.id))) == 0


def test_documents_need_sign_in(client, auth, reference):
    lot = LotFactory()
    assert client.get(f"/lots/{lot.id}/documents/1").status_code == 302


def test_browse_filters_by_category_and_prefecture(client, reference):
    LotFactory(title="Harbin ash")
    LotFactory(
        title="Daqing slag",
        category=category("steel_slag"),
        facility=FacilityFactory(lon=125.1, lat=46.59, prefecture_code="230600"),
    )
    page = client.get("/lots?category=steel_slag").get_data(as_text=True)
    assert "Daqing slag" in page and "Harbin ash" not in page
    page = client.get("/lots?prefecture=230100").get_data(as_text=True)
    assert "Harbin ash" in page and "Daqing slag" not in page


def test_browse_filters_by_road_distance_from_my_facility(client, auth, reference):
    user = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    mine = FacilityFactory(organization=user.organization, kind="recycler", lon=126.63, lat=45.75)
    LotFactory(title="Near Harbin", facility=FacilityFactory(lon=126.70, lat=45.70))
    LotFactory(title="Far Heihe", facility=FacilityFactory(lon=127.50, lat=50.25, prefecture_code="231100"))
    auth.login(user.email)
    page = client.get(f"/lots?near={mine.id}&max_km=100").get_data(as_text=True)
    assert "Near Harbin" in page and "Far Heihe" not in page
    data = client.get(f"/lots/map.json?near={mine.id}&max_km=100").get_json()
    assert [p["title"] for p in data["lots"]] == ["Near Harbin"]


def test_map_view_and_json(client, reference):
    lot = LotFactory(title="On the map")
    assert client.get("/lots?view=map").status_code == 200
    assert client.get("/lots/map").status_code == 200
    data = client.get("/lots/map.json?category=fly_ash").get_json()
    assert data["count"] == 1 and data["lots"][0]["id"] == lot.id and data["lots"][0]["lon"] == 126.63


def test_lot_page_shows_no_bid_price_or_count_and_no_guidance_to_anonymous_visitors(client, reference):
    lot = LotFactory(reserve_yuan_per_t=Decimal("5.00"))
    BidFactory(
        lot=lot, price_yuan_per_t=Decimal("87.13"), facility=FacilityFactory(kind="recycler", lon=126.9, lat=45.8)
    )
    DemandProfileFactory(
        price_yuan_per_t=Decimal("93.47"), facility=FacilityFactory(kind="recycler", lon=125.1, lat=46.59)
    )
    page = client.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert 'id="bid-count"' not in page
    assert "87.13" not in page and "93.47" not in page
    assert 'id="price-guidance"' not in page and "guidance-box" in page


def test_the_producer_sees_how_many_bids_its_lot_has_but_not_their_prices(client, auth, reference):
    producer = UserFactory(email="mill@example.com")
    lot = LotFactory(facility=FacilityFactory(organization=producer.organization))
    BidFactory(
        lot=lot, price_yuan_per_t=Decimal("87.13"), facility=FacilityFactory(kind="recycler", lon=126.9, lat=45.8)
    )
    auth.login("mill@example.com")
    page = client.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert 'id="bid-count">1<' in page and "87.13" not in page


def test_quality_inputs_come_from_the_catalogue_and_values_are_checked_by_type(client, auth, reference):
    """A category row with a new key is enough: the form offers it, the service checks its type."""
    from models import WasteCategory

    new = WasteCategory(code="test_widgets", name_zh="测试件", name_en="Test widgets", family="other_industrial",
                        env_tax_yuan_per_t=Decimal(0), env_tax_basis="none", env_tax_source="-",
                        freight_class="general",
                        co2_avoided_t_per_t=Decimal(0), co2_source="-",
                        quality_fields=[{"key": "widget_count", "type": "count", "unit": ""},
                                        {"key": "moisture_pct", "type": "pct", "unit": "%"}])
    reference.session.add(new)
    reference.session.commit()
    user, facility = _producer()
    auth.login(user.email)
    assert 'name="q_widget_count"' in client.get("/lots/new").get_data(as_text=True)
    for field, bad in (("q_widget_count", "2.5"), ("q_widget_count", "-1"), ("q_moisture_pct", "120"),
                       ("q_moisture_pct", "wet")):
        data = _lot_data(client, "/lots/new", facility, category="test_widgets", q_cao_pct="", **{field: bad})
        response = client.post("/lots/new", data=data)
        assert response.status_code == 400, (field, bad)
        assert f'value="{bad}"' in response.get_data(as_text=True)
    assert reference.session.scalar(sa.select(sa.func.count(Lot.id))) == 0
    data = _lot_data(client, "/lots/new", facility, category="test_widgets", q_cao_pct="", q_widget_count="3")
    assert client.post("/lots/new", data=data).status_code == 302
    lot = reference.session.scalar(sa.select(Lot))
    assert lot.quality == {"widget_count": 3, "moisture_pct": 12.5}


def test_the_lot_form_keeps_transfer_facts_for_hazardous_categories_only(client, auth, reference):
    user, facility = _producer()
    auth.login(user.email)
    page = client.get("/lots/new").get_data(as_text=True)
    assert 'id="hazardous-facts"' in page and "oil_sludge" in page
    leftover = _lot_data(client, "/lots/new", facility, transfer_approval_ref="X-1", packaging_type="吨袋")
    assert client.post("/lots/new", data=leftover).status_code == 302  # fly ash: the hidden facts are dropped
    assert reference.session.scalar(sa.select(Lot.transfer_approval_ref)) is None
    data = _lot_data(client, "/lots/new", facility, category="oil_sludge", q_cao_pct="", q_moisture_pct="30",
                     transfer_approval_ref="黑环危转〔2026〕019号", waste_form="semi_solid",
                     hazard_characteristics=["T", "I"], packaging_type="吨袋")
    assert client.post("/lots/new", data=data).status_code == 302
    lot = reference.session.scalars(sa.select(Lot).order_by(Lot.id.desc())).first()
    assert (lot.transfer_approval_ref, lot.waste_form, lot.hazard_characteristics) == (
        "黑环危转〔2026〕019号", "semi_solid", "T,I")
    bad = _lot_data(client, "/lots/new", facility, category="oil_sludge", q_cao_pct="", waste_form="plasma")
    response = client.post("/lots/new", data=bad)
    assert response.status_code == 400


def test_a_search_count_is_reused_only_within_its_ttl_and_only_for_the_same_filters(app, db, reference):
    from app.services import lots as lots_service

    LotFactory()
    LotFactory()
    lots_service._COUNTS.clear()
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    app.config["LOT_COUNT_TTL_SECONDS"] = 60
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = lots_service.search(db.session, lots_service.LotFilters(), 1, 25)
        LotFactory()  # a new lot: the list shows it at once, the cached total may lag
        again = lots_service.search(db.session, lots_service.LotFilters(sort="tonnes"), 1, 25)
        other = lots_service.search(db.session, lots_service.LotFilters(category="steel_slag"), 1, 25)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
        app.config["LOT_COUNT_TTL_SECONDS"] = 0
        lots_service._COUNTS.clear()
    assert (first.total, len(again.items), again.total, other.total) == (2, 3, 2, 0)
    assert sum("count(" in s for s in statements) == 2  # the sort is not part of the count's key
    assert lots_service.search(db.session, lots_service.LotFilters(), 1, 25).total == 3  # TTL 0: counted afresh


def test_every_sort_lists_the_same_lots_in_the_same_order_across_pages(app, client, reference):
    """The page's rows come from one statement (ids as a subquery): pages join up in the sort's total order."""
    import datetime as dt

    for k in range(7):
        LotFactory(title=f"Sorted {k}", tonnes=Decimal(100 + 10 * (k % 3)), reserve_yuan_per_t=Decimal(k % 4),
                   available_from=dt.date.today() - dt.timedelta(days=k % 2))
    keys = {
        "newest": lambda lot: (-lot.created_at.timestamp(), -lot.id),
        "tonnes_desc": lambda lot: (-lot.remaining_tonnes, -lot.id),
        "tonnes_asc": lambda lot: (lot.remaining_tonnes, lot.id),
        "reserve_asc": lambda lot: (lot.reserve_yuan_per_t, lot.id),
        "available": lambda lot: (lot.available_from, lot.id),
    }
    every = reference.session.scalars(sa.select(Lot)).all()
    app.config["LOTS_PER_PAGE"] = 3
    try:
        for sort, key in keys.items():
            seen = []
            for number in (1, 2, 3):
                page = client.get(f"/lots?sort={sort}&page={number}").get_data(as_text=True)
                seen += [t for _i, t in sorted((page.index(f">{lot.title}<"), lot.title)
                                                for lot in every if f">{lot.title}<" in page)]
            assert seen == [lot.title for lot in sorted(every, key=key)], sort
    finally:
        app.config["LOTS_PER_PAGE"] = 25


def test_the_filter_markup_follows_the_catalogue_the_query_and_the_language_at_once(app, client, reference):
    """The filters' markup is reused per field state: a new base, another selection, an error or the other
    language shows at once, and the markup is the field macro's own."""
    from flask import get_template_attribute

    from app.lots.forms import LotFilterForm, filter_field
    from models import ResourceBase

    first = client.get("/lots?lang=en").get_data(as_text=True)
    assert "Test base" not in first
    reference.session.add(ResourceBase(code="TB", name_zh="测试基地", name_en="Test base", prefecture_code="239999"))
    reference.session.commit()
    again = client.get("/lots?lang=en").get_data(as_text=True)
    assert ">Test base</option>" in again
    assert '<option selected value="steel_slag">' in client.get("/lots?category=steel_slag").get_data(as_text=True)
    assert '<option selected value="steel_slag">' not in client.get("/lots?category=fly_ash").get_data(as_text=True)
    bad = client.get("/lots?min_tonnes=abc&lang=en").get_data(as_text=True)
    assert "is-invalid" in bad and "is-invalid" not in client.get("/lots?lang=en").get_data(as_text=True)
    assert "测试基地" in client.get("/lots?lang=zh_CN").get_data(as_text=True)
    macro = None
    for query in ("", "category=fly_ash&min_tonnes=5", "min_tonnes=abc", "sort=reserve_asc&lang=en"):
        with app.test_request_context(f"/lots?{query}"):
            from app.lots import views

            macro = macro or get_template_attribute("macros.html", "field")
            form, _filters = views._filters("en" if "lang=en" in query else "zh_CN")
            assert isinstance(form, LotFilterForm)
            for field in form:
                assert filter_field(field) == macro(field) == filter_field(field), (query, field.name)


def test_the_list_rows_show_title_state_place_tonnes_reserve_and_date_in_the_readers_language(client, reference):
    """The rows are worked out in Python (views.ListRow): the same text the macros and filters gave."""
    import datetime as dt

    LotFactory(title="Row lot", tonnes=Decimal("1234.500"), reserve_yuan_per_t=Decimal("-8.50"),
               available_from=dt.date(2026, 3, 1))
    LotFactory(title="Partly gone", tonnes=Decimal("100"), remaining_tonnes=Decimal("40"),
               reserve_yuan_per_t=Decimal("1234.5"))
    en = client.get("/lots?lang=en").get_data(as_text=True)
    for text in (">Row lot</a>", ">1,234.5 t<", ">-¥8.50<", ">Mar 1, 2026<", ">¥1,234.50<", ">40 t<",
                 "lot-state-open", "lot-state-partly_matched", ">Harbin<", ">Fly ash<"):
        assert text in en, text
    zh = client.get("/lots?lang=zh_CN").get_data(as_text=True)
    for text in (">2026年3月1日<", ">哈尔滨市<", ">粉煤灰<"):
        assert text in zh, text


def test_lots_of_a_demo_organisation_carry_a_demo_mark_in_the_list_and_on_their_page(client, reference):
    """Seeded lots name real enterprises with invented tonnes and prices: each shows the demo mark; a real
    organisation's lot does not."""
    demo_org = OrganizationFactory(name="建龙北满特殊钢有限责任公司", is_demo=True)
    invented = LotFactory(title="Invented slag", facility=FacilityFactory(organization=demo_org))
    real = LotFactory(title="Real slag")
    for lang, mark in (("en", "Demo"), ("zh_CN", "演示")):
        rows = client.get(f"/lots?lang={lang}").get_data(as_text=True).split("<tr>")
        [demo_row] = [r for r in rows if ">Invented slag</a>" in r]
        [real_row] = [r for r in rows if ">Real slag</a>" in r]
        assert f'demo-mark">{mark}<' in demo_row and "demo-mark" not in real_row
        assert f'demo-mark">{mark}<' in client.get(f"/lots/{invented.id}?lang={lang}").get_data(as_text=True)
        assert "demo-mark" not in client.get(f"/lots/{real.id}?lang={lang}").get_data(as_text=True)
