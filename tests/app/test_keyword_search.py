"""Keyword search: one service for the lots page, the API and saved searches; both languages, ranked, escaped."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.extensions import limiter
from app.services import api_tokens, keywords, lots, saved_searches
from app.services.errors import ServiceError
from models import Lot, Notification, OrganizationRole
from tests.factories import FacilityFactory, LotFactory, OrganizationFactory, UserFactory, category

EN = {"Accept-Language": "en"}


@pytest.fixture
def market(db, reference):
    """Lots whose words sit in different places: title, category, organisation, description."""
    anshan = FacilityFactory(organization=OrganizationFactory(name="鞍山钢铁集团", name_en="Ansteel Group"),
                             name="鲅鱼圈厂")
    other = FacilityFactory(organization=OrganizationFactory(name="大庆热电"), name="一号机组")
    return {
        # "slag" in the title and the category: the best match for "slag"
        "title": LotFactory(facility=other, category=category("steel_slag"), title="Converter steel slag, dry"),
        # only the category says "slag" (钢渣 / Steel slag); the organisation says 鞍山
        "category": LotFactory(facility=anshan, category=category("steel_slag"), title="转炉渣料 800 吨"),
        # only the description mentions slag
        "description": LotFactory(facility=other, category=category("fly_ash"), title="二级粉煤灰",
                                  description="Low carbon; no slag mixed in."),
        "percent": LotFactory(facility=other, category=category("fly_ash"), title="含水率 <5% 粉煤灰"),
        "underscore": LotFactory(facility=other, category=category("fly_ash"), title="Batch A_7 ash"),
        "quote": LotFactory(facility=other, category=category("fly_ash"), title="O'Brien's \"dry\" ash"),
    }


def _found(db, q: str, **filters) -> list[int]:
    page = lots.search(db.session, lots.LotFilters(keyword=q, sort="relevance", **filters), 1, 50)
    return [lot.id for lot in page.items]


def _ids(market, *names) -> list[int]:
    return [market[name].id for name in names]


def test_english_word_finds_title_category_and_description_ranked_by_where_it_hits(db, market):
    assert _found(db, "slag") == _ids(market, "title", "category", "description")


def test_chinese_category_name_finds_lots_with_neither_word_in_the_title(db, market):
    assert set(_found(db, "钢渣")) == set(_ids(market, "title", "category"))  # both hit only by category
    assert set(_found(db, "粉煤灰")) == set(_ids(market, "description", "percent", "underscore", "quote"))


def test_every_word_must_match(db, market):
    assert _found(db, "钢渣 鞍山") == _ids(market, "category")
    assert _found(db, "slag ANSTEEL") == _ids(market, "category")  # the English organisation name, any case
    assert _found(db, "slag 鞍山 nothing-like-this") == []


def test_organisation_and_facility_names_are_searched(db, market):
    assert _found(db, "鞍山钢铁") == _ids(market, "category")
    assert _found(db, "鲅鱼圈") == _ids(market, "category")


def test_category_name_in_english_with_two_words(db, market):
    assert _found(db, "steel slag") == _ids(market, "title", "category")


@pytest.mark.parametrize(("q", "expected"), [
    ("%", ["percent"]), ("5%", ["percent"]), ("_", ["underscore"]), ("A_7", ["underscore"]),
    ("O'Brien's", ["quote"]), ('"dry"', ["quote"]), ("' OR 1=1 --", []), ("%' OR '1'='1", []),
    ("\\", []), ("[a-z]*", []),
])
def test_wildcards_and_quotes_are_searched_literally(db, market, q, expected):
    assert _found(db, q) == _ids(market, *expected)


def test_control_characters_separate_words_instead_of_breaking_the_query(db, market):
    assert _found(db, "钢渣\x00鞍山") == _ids(market, "category")
    assert keywords.parse("\x00\t\x1f ") == ()


def test_long_or_wordy_queries_are_refused_with_a_clear_error(db, market):
    with pytest.raises(ServiceError) as too_long:
        _found(db, "渣" * (keywords.MAX_LENGTH + 1))
    assert too_long.value.field == "q" and str(keywords.MAX_LENGTH) in too_long.value.message
    with pytest.raises(ServiceError) as too_many:
        _found(db, " ".join(f"w{i}" for i in range(keywords.MAX_WORDS + 1)))
    assert too_many.value.field == "q"
    assert _found(db, "渣" * keywords.MAX_LENGTH) == []  # at the limit: searched, nothing found


def test_repeated_words_count_once(db, market):
    assert keywords.parse("Slag slag SLAG 钢渣") == ("Slag", "钢渣")


def test_keywords_combine_with_the_other_filters(db, market):
    assert _found(db, "slag", category="fly_ash") == _ids(market, "description")


def test_without_keywords_relevance_means_newest_first(db, market):
    page = lots.search(db.session, lots.LotFilters(sort="relevance"), 1, 50)
    assert [lot.id for lot in page.items] == sorted((lot.id for lot in market.values()), reverse=True)


def test_lots_page_searches_and_keeps_the_words(client, market):
    page = client.get("/lots?q=钢渣+鞍山&lang=en", headers=EN).get_data(as_text=True)
    assert f"/lots/{market['category'].id}\"" in page and f"/lots/{market['title'].id}\"" not in page
    assert 'value="钢渣 鞍山"' in page


def test_lots_page_refuses_an_overlong_query_beside_the_box(client, market):
    response = client.get("/lots", query_string={"q": "x" * 300, "lang": "en"}, headers=EN)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "at most 100 characters" in page and 'value="' + "x" * 300 + '"' in page
    assert "0 lots found" in page


def test_lots_page_survives_nul_and_wildcards(client, market):
    for q in ("%", "_%_", "'\"", "%00", "\\"):
        response = client.get("/lots", query_string={"q": q})
        assert response.status_code == 200, q
    # NUL is refused for every page before any query runs (app/__init__.py), with a message, not a 500.
    response = client.get("/lots", query_string={"q": "a\x00b", "lang": "en"}, headers=EN)
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_map_json_uses_the_same_search(client, market):
    assert [p["id"] for p in client.get("/lots/map.json?q=slag").get_json()["lots"]] == \
        _ids(market, "title", "category", "description")
    assert client.get("/lots/map.json", query_string={"q": "x " * 60}).status_code == 400


def _api(db, role="recycler"):
    limiter.reset()
    user = UserFactory(role=role, organization=OrganizationFactory(roles=[OrganizationRole(role=role)]))
    return {"Authorization": f"Bearer {api_tokens.create(db.session, user, 'search').secret}"}


def test_api_search_ranks_like_the_page(client, db, market):
    body = client.get("/api/v1/lots?q=slag", headers=_api(db)).get_json()
    assert [lot["id"] for lot in body["items"]] == _ids(market, "title", "category", "description")
    assert body["total"] == 3


def test_api_refuses_overlong_and_nul_queries_as_problems(client, db, market):
    headers = _api(db)
    for q in ("x" * 101, "a\x00b", " ".join(f"w{i}" for i in range(20))):
        response = client.get("/api/v1/lots", query_string={"q": q}, headers=headers)
        assert response.status_code == 422 and response.mimetype == "application/problem+json", q
        assert response.get_json()["errors"][0]["field"] == "q"


def test_api_wildcards_are_literal(client, db, market):
    body = client.get("/api/v1/lots", query_string={"q": "%"}, headers=_api(db)).get_json()
    assert [lot["id"] for lot in body["items"]] == _ids(market, "percent")


def test_saved_search_keywords_match_category_names_in_either_language(db, reference):
    org = OrganizationFactory(roles=[OrganizationRole(role="recycler")])
    buyer = UserFactory(role="recycler", organization=org)
    saved_searches.create(db.session, buyer, saved_searches.SearchInput(name="slag", keyword="slag"))
    saved_searches.create(db.session, buyer, saved_searches.SearchInput(name="渣", keyword="钢渣 鞍山"))
    producer = UserFactory(organization=OrganizationFactory(name="鞍山钢铁"))
    plant = FacilityFactory(organization=producer.organization)
    lot = lots.post(db.session, producer, lots.LotInput(
        facility_id=plant.id, category="steel_slag", tonnes=Decimal(500), reserve_yuan_per_t=Decimal(5),
        available_from=dt.date.today(), title="转炉渣料"))
    alerts = db.session.scalars(sa.select(Notification).where(Notification.user_id == buyer.id)).all()
    assert [a.link for a in alerts] == [f"/lots/{lot.id}"]  # one message per user and lot
    assert {s.name for s in saved_searches.matching(db.session, lot)} == {"slag", "渣"}


def test_saved_search_keywords_are_bounded_like_the_search(db, reference):
    buyer = UserFactory(role="recycler", organization=OrganizationFactory(roles=[OrganizationRole(role="recycler")]))
    with pytest.raises(ServiceError) as refused:
        saved_searches.create(db.session, buyer, saved_searches.SearchInput(name="n", keyword="x" * 101))
    assert refused.value.field == "keyword"
    kept = saved_searches.create(db.session, buyer, saved_searches.SearchInput(name="n", keyword=" 5%\x00 ash "))
    assert kept.keyword == "5% ash"


def test_trigram_indexes_exist_on_postgresql(db, market):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_trgm is PostgreSQL's")
    names = {i["name"] for i in sa.inspect(db.engine).get_indexes("lots")}
    assert "ix_lots_search_text_trgm" in names
    with db.engine.connect() as connection:
        method = connection.execute(sa.text(
            "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam WHERE c.relname = :n"),
            {"n": "ix_lots_search_text_trgm"}).scalar()
    assert method == "gin"


def test_renaming_an_organisation_or_a_facility_moves_its_lots_in_the_search(db, market):
    anshan = market["category"].facility
    anshan.organization.name = "本钢集团"
    db.session.commit()
    assert _found(db, "鞍山钢铁") == [] and _found(db, "本钢") == _ids(market, "category")
    anshan.name = "南芬选厂"
    db.session.commit()
    assert _found(db, "鲅鱼圈") == [] and _found(db, "南芬") == _ids(market, "category")


def test_editing_a_lot_moves_it_in_the_search(db, market):
    lot = market["percent"]
    lot.title, lot.description = "湿排粉煤灰", "stockpiled"
    db.session.commit()
    assert _found(db, "5%") == [] and _found(db, "stockpiled") == _ids(market, "percent")
    lot.category = category("steel_slag")
    db.session.commit()
    assert market["percent"].id in _found(db, "钢渣")


def test_the_search_document_is_built_in_sql_for_every_new_lot(db, market):
    text = db.session.scalar(sa.select(Lot.search_text).where(Lot.id == market["category"].id))
    assert text.split("\n") == ["转炉渣料 800 吨", "", "鲅鱼圈厂", "鞍山钢铁集团", "ansteel group", "钢渣",
                                 "steel slag"]
