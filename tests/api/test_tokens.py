"""Bearer tokens: 401 problems, hashed storage, the tokens page and the create-token command."""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from app.extensions import db
from app.services import api_tokens
from models import ApiToken
from tests.api.conftest import Api
from tests.conftest import csrf_token


def test_no_token_is_401_problem_with_www_authenticate(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert {"type", "title", "status", "detail", "instance"} <= set(response.get_json())


def test_unknown_token_is_401(client):
    response = Api(client, "gf_not-a-real-token").get("/me")
    assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]


def test_a_token_is_stored_only_as_its_sha256_with_a_prefix(users):
    new = api_tokens.create(db.session, users["producer"], "ci")
    row = db.session.get(ApiToken, new.row.id)
    assert row.token_hash == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret.startswith(row.prefix) and len(row.prefix) == 10
    assert new.secret not in {row.token_hash, row.name}


def test_me_names_the_user_organisation_and_token(apis, users):
    body = apis["producer"].get("/me").get_json()
    assert body["email"] == users["producer"].email and body["can_trade"] is True
    assert body["token"]["prefix"].startswith("gf_")
    assert apis["unverified"].get("/me").get_json()["can_trade"] is False


def test_revoked_token_is_401(client, users):
    new = api_tokens.create(db.session, users["producer"], "x")
    api = Api(client, new.secret)
    assert api.get("/me").status_code == 200
    api_tokens.revoke(db.session, users["producer"], new.row.id)
    assert api.get("/me").status_code == 401


def test_tokens_page_creates_shows_once_and_revokes(client, auth, users):
    auth.login(users["producer"].email)
    page = client.post("/account/tokens", data={"name": "laptop", "csrf_token": csrf_token(client, "/account/tokens")})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = html.split('id="new-token" class="user-select-all">')[1].split("<")[0]
    assert Api(client, token).get("/me").status_code == 200
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert token not in listing and token[:10] in listing and "laptop" in listing
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "laptop"))
    client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert Api(client, token).get("/me").status_code == 401


def test_tokens_page_needs_sign_in_and_cannot_revoke_anothers(client, auth, users):
    assert client.get("/account/tokens").status_code == 302
    other = api_tokens.create(db.session, users["recycler"], "theirs")
    auth.login(users["producer"].email)
    response = client.post(f"/account/tokens/{other.row.id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account/tokens")})
    assert response.status_code == 404
    assert Api(client, other.secret).get("/me").status_code == 200


def test_create_token_command_prints_a_working_token_once(runner, client, users):
    result = runner.invoke(args=["create-token", "--user", users["recycler"].email, "--name", "etl"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[0]
    assert secret.startswith("gf_")
    assert Api(client, secret).get("/me").get_json()["email"] == users["recycler"].email
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "etl"))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_create_token_command_refuses_an_unknown_user(runner, users):
    result = runner.invoke(args=["create-token", "--user", "nobody@example.com"])
    assert result.exit_code != 0 and "no user" in result.output
