"""Conventions: problem+json for every error, idempotent POSTs, cursor pagination and rate limits."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from models import Lot
from tests.api.conftest import lot_body


def test_unknown_path_and_wrong_method_are_problems(apis):
    missing = apis["producer"].get("/no-such-thing")
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    assert missing.get_json()["instance"] == "/api/v1/no-such-thing"
    token = apis["producer"].token
    wrong = apis["producer"].client.delete("/api/v1/lots", headers={"Authorization": f"Bearer {token}"})
    assert wrong.status_code == 405 and wrong.get_json()["status"] == 405 and "GET" in wrong.headers["Allow"]


def test_malformed_json_is_a_400_problem(apis):
    response = apis["producer"].client.post("/api/v1/lots", data="{not json", content_type="application/json",
                                            headers={"Authorization": f"Bearer {apis['producer'].token}"})
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == "body"


def test_invalid_fields_are_listed(apis, market):
    response = apis["producer"].post("/lots", lot_body(market["plant"]["id"], tonnes=12.5, available_from="soon"))
    body = response.get_json()
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    assert {e["field"] for e in body["errors"]} == {"tonnes", "available_from"}


def test_an_unexpected_error_is_a_500_problem(apis, monkeypatch):
    from app.services import catalogue

    def broken(_session):
        raise RuntimeError("boom")

    monkeypatch.setattr(catalogue, "categories", broken)
    response = apis["producer"].get("/categories")
    assert response.status_code == 500 and response.content_type == "application/problem+json"
    assert "boom" not in response.get_data(as_text=True)


def test_a_replayed_post_returns_the_first_response_and_creates_nothing(apis, market):
    body = lot_body(market["plant"]["id"], title="once")
    headers = {"Idempotency-Key": "abc-123"}
    first = apis["producer"].post("/lots", body, headers=headers)
    again = apis["producer"].post("/lots", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count(Lot.id)).where(Lot.title == "once")) == 1


def test_an_idempotency_key_reused_with_another_body_is_422(apis, market):
    headers = {"Idempotency-Key": "k1"}
    apis["producer"].post("/lots", lot_body(market["plant"]["id"]), headers=headers)
    other = apis["producer"].post("/lots", lot_body(market["plant"]["id"], tonnes="5"), headers=headers)
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "Idempotency-Key"


def test_idempotency_keys_are_per_user_and_errors_replay_too(apis, market):
    denied = apis["recycler"].post("/lots", lot_body(market["plant"]["id"]), headers={"Idempotency-Key": "same"})
    assert denied.status_code == 403
    again = apis["recycler"].post("/lots", lot_body(market["plant"]["id"]), headers={"Idempotency-Key": "same"})
    assert again.status_code == 403 and again.headers["Idempotent-Replayed"] == "true"
    mine = apis["producer"].post("/lots", lot_body(market["plant"]["id"]), headers={"Idempotency-Key": "same"})
    assert mine.status_code == 201


def test_cursor_pagination_walks_every_item_once(apis, market):
    for n in range(4):
        apis["producer"].post("/lots", lot_body(market["plant"]["id"], title=f"lot {n}"))
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = apis["recycler"].get("/lots", query_string=query).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5 == page["total"]


def test_limit_is_bounded_and_a_forged_cursor_is_400(apis):
    assert apis["recycler"].get("/lots", query_string={"limit": 1000}).status_code == 422
    bad = apis["recycler"].get("/categories", query_string={"cursor": "not-ours"})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "cursor"


def test_rate_limit_is_429_with_retry_after(app, apis):
    app.config["API_RATE_LIMIT"] = "3/minute"
    try:
        codes = [apis["producer"].get("/me").status_code for _ in range(4)]
        limited = apis["producer"].get("/me")
        other_token = apis["recycler"].get("/me")
    finally:
        app.config["API_RATE_LIMIT"] = "300/minute"
    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429 and limited.content_type == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0
    assert other_token.status_code == 200


def test_times_are_iso_8601_utc_and_amounts_decimal_strings(apis, market):
    lot = apis["producer"].get(f"/lots/{market['lot']['id']}").get_json()
    assert lot["created_at"].endswith("Z") and "T" in lot["created_at"]
    assert lot["reserve_yuan_per_t"] == "10.00" and lot["tonnes"] == "1000.000"
