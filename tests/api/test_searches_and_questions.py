"""API saved searches and lot questions: the pages' rules through the same services, as problem documents."""
from __future__ import annotations

import pytest

from app.services import accounts
from tests.api.conftest import lot_body, make_user
from tests.factories import UserFactory

QUESTION = "What is the moisture in winter?"


def _delete(api, path):
    return api.client.delete("/api/v1" + path, headers={"Authorization": f"Bearer {api.token}"})


@pytest.fixture
def admin(reference, make_api):
    return make_api(accounts.create_admin(reference.session, "admin@example.com", "Admin", "correct horse battery"))


# ----------------------------------------------------------------------------- saved searches


def test_a_buyer_saves_lists_and_deletes_a_search_and_it_fires(apis, market):
    recycler = apis["recycler"]
    created = recycler.post("/saved-searches", {"name": "Ash near us", "category": "fly_ash", "keyword": "ash",
                                                "max_price_yuan_per_t": "20", "facility_id": market["cement"]["id"],
                                                "max_km": 100})
    assert created.status_code == 201
    search = created.get_json()
    assert search["max_price_yuan_per_t"] == "20.00" and search["keyword"] == "ash"
    assert [s["id"] for s in recycler.get("/saved-searches").get_json()["items"]] == [search["id"]]
    apis["producer"].post("/lots", lot_body(market["plant"]["id"], title="Dry ash 1000 t"))
    inbox = recycler.get("/notifications").get_json()["items"]
    assert [n["kind"] for n in inbox].count("saved_search_match") == 1
    assert _delete(recycler, f"/saved-searches/{search['id']}").status_code == 204
    assert recycler.get("/saved-searches").get_json()["items"] == []
    assert _delete(recycler, f"/saved-searches/{search['id']}").status_code == 404  # already gone


def test_another_users_search_is_not_found_and_stays(apis):
    mine = apis["recycler"].post("/saved-searches", {"name": "mine"}).get_json()
    response = _delete(apis["other_recycler"], f"/saved-searches/{mine['id']}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert apis["other_recycler"].get("/saved-searches").get_json()["items"] == []
    assert len(apis["recycler"].get("/saved-searches").get_json()["items"]) == 1


@pytest.mark.parametrize("who", ["producer", "regulator", "officer", "unverified"])
def test_only_verified_buyers_keep_saved_searches(apis, who):
    for response in (apis[who].get("/saved-searches"), apis[who].post("/saved-searches", {"name": "x"}),
                     _delete(apis[who], "/saved-searches/1")):
        assert response.status_code == 403 and response.mimetype == "application/problem+json", who


def test_saved_search_rules_are_the_services(apis, market):
    recycler = apis["recycler"]
    foreign = recycler.post("/saved-searches", {"name": "x", "facility_id": market["plant"]["id"], "max_km": 50})
    assert foreign.status_code == 422 and foreign.get_json()["errors"][0]["field"] == "facility"
    far = recycler.post("/saved-searches", {"name": "x", "facility_id": market["cement"]["id"], "max_km": 9000})
    assert far.status_code == 422 and far.get_json()["errors"][0]["field"] == "max_km"
    unknown = recycler.post("/saved-searches", {"name": "x", "category": "no_such_thing"})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "category"
    wordy = recycler.post("/saved-searches", {"name": "x", "keyword": " ".join(f"w{i}" for i in range(11))})
    assert wordy.status_code == 422 and wordy.get_json()["errors"][0]["field"] == "keyword"
    blank = recycler.post("/saved-searches", {"name": "", "min_tonnes": "-1"})
    assert blank.status_code == 422 and {e["field"] for e in blank.get_json()["errors"]} == {"name", "min_tonnes"}
    assert recycler.get("/saved-searches").get_json()["items"] == []


# ----------------------------------------------------------------------------- questions and answers


def _ask(apis, market, text=QUESTION, who="recycler"):
    return apis[who].post(f"/lots/{market['lot']['id']}/questions", {"question": text})


def test_a_buyer_asks_the_producer_answers_and_every_reader_sees_both(apis, market):
    asked = _ask(apis, market)
    assert asked.status_code == 201
    question = asked.get_json()
    assert question["asked_by_you"] is True and question["answer"] is None
    answered = apis["producer"].post(f"/questions/{question['id']}/answer", {"answer": "Below 15 % all year."})
    assert answered.status_code == 200 and answered.get_json()["answered_at"]
    for who in ("other_recycler", "regulator", "unverified", "producer"):
        items = apis[who].get(f"/lots/{market['lot']['id']}/questions").get_json()["items"]
        assert [(q["question"], q["answer"], q["asked_by_you"]) for q in items] == \
            [(QUESTION, "Below 15 % all year.", False)], who
    assert "r@example.com" not in apis["other_recycler"].get(f"/lots/{market['lot']['id']}/questions").get_data(
        as_text=True)  # the asker stays anonymous


@pytest.mark.parametrize("text", ["We would pay 90 yuan per tonne, deal?", "¥75 ok?", "每吨 70 行吗"])
def test_a_question_quoting_a_price_is_refused(apis, market, text):
    response = _ask(apis, market, text)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "question"
    assert apis["producer"].get(f"/lots/{market['lot']['id']}/questions").get_json()["items"] == []


@pytest.mark.parametrize("who", ["producer", "regulator", "officer", "unverified"])
def test_only_verified_buyers_ask(apis, market, who):
    assert _ask(apis, market, who=who).status_code == 403


def test_no_one_asks_about_their_own_organisations_lot(apis, market, make_api, users):
    colleague = make_api(UserFactory(role="recycler", organization=users["producer"].organization))
    assert _ask({"colleague": colleague}, market, who="colleague").status_code == 403


def test_a_too_short_question_names_its_field(apis, market):
    too_short = _ask(apis, market, "ok?")
    assert too_short.status_code == 422 and too_short.get_json()["errors"][0]["field"] == "question"


def test_only_the_lots_producer_answers_and_only_once(apis, market, make_api):
    question = _ask(apis, market).get_json()
    other_producer = make_api(make_user("producer"))
    for api in (other_producer, apis["recycler"], apis["regulator"]):
        assert api.post(f"/questions/{question['id']}/answer", {"answer": "Below 15 %."}).status_code == 403
    assert apis["producer"].post(f"/questions/{question['id']}/answer", {"answer": "Below 15 %."}).status_code == 200
    again = apis["producer"].post(f"/questions/{question['id']}/answer", {"answer": "Actually 20 %."})
    assert again.status_code == 422
    items = apis["recycler"].get(f"/lots/{market['lot']['id']}/questions").get_json()["items"]
    assert items[0]["answer"] == "Below 15 %."


def test_an_administrator_hides_a_post_from_everyone_else(apis, market, admin):
    question = _ask(apis, market).get_json()
    for who in ("producer", "recycler", "regulator"):
        assert apis[who].post(f"/questions/{question['id']}/hide", {"hidden": True}).status_code == 403
    hidden = admin.post(f"/questions/{question['id']}/hide", {"hidden": True})
    assert hidden.status_code == 200 and hidden.get_json()["hidden"] is True
    lot_path = f"/lots/{market['lot']['id']}/questions"
    for who in ("producer", "recycler", "other_recycler", "regulator"):
        assert apis[who].get(lot_path).get_json()["items"] == [], who
    assert [q["id"] for q in admin.get(lot_path).get_json()["items"]] == [question["id"]]
    # a hidden post cannot be answered either: it is not there for the producer
    answer = apis["producer"].post(f"/questions/{question['id']}/answer", {"answer": "Below 15 %."})
    assert answer.status_code == 404
    shown = admin.post(f"/questions/{question['id']}/hide", {"hidden": False})
    assert shown.get_json()["hidden"] is False
    assert len(apis["recycler"].get(lot_path).get_json()["items"]) == 1


def test_questions_of_a_withdrawn_lot_are_not_found_by_others(apis, market):
    question = _ask(apis, market).get_json()
    apis["producer"].post(f"/lots/{market['lot']['id']}/withdraw")
    lot_path = f"/lots/{market['lot']['id']}/questions"
    assert apis["recycler"].get(lot_path).status_code == 404
    assert apis["producer"].get(lot_path).status_code == 200  # its producer still sees the lot
    assert _ask(apis, market).status_code == 404
    assert apis["producer"].post(f"/questions/{question['id']}/answer", {"answer": "It is withdrawn."}
                                 ).status_code == 200


def test_unknown_lot_and_question_are_404_problems(apis, admin):
    for response in (apis["recycler"].get("/lots/999999/questions"),
                     apis["recycler"].post("/lots/999999/questions", {"question": QUESTION}),
                     apis["producer"].post("/questions/999999/answer", {"answer": "Below 15 %."}),
                     admin.post("/questions/999999/hide", {"hidden": True})):
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_the_new_operations_are_in_the_openapi_document(apis):
    paths = apis["recycler"].get("/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/saved-searches"])
    assert "delete" in paths["/api/v1/saved-searches/{search_id}"]
    assert {"get", "post"} <= set(paths["/api/v1/lots/{lot_id}/questions"])
    assert "post" in paths["/api/v1/questions/{question_id}/answer"]
    assert "post" in paths["/api/v1/questions/{question_id}/hide"]


def test_a_replayed_question_is_posted_once(apis, market):
    headers = {"Idempotency-Key": "ask-once"}
    first = apis["recycler"].post(f"/lots/{market['lot']['id']}/questions", {"question": QUESTION}, headers=headers)
    again = apis["recycler"].post(f"/lots/{market['lot']['id']}/questions", {"question": QUESTION}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert len(apis["producer"].get(f"/lots/{market['lot']['id']}/questions").get_json()["items"]) == 1
