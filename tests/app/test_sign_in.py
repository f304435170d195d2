"""Attacks on sign-in (issue 12, failure 4): lockouts, open redirects, stolen cookies, timing, token guessing."""
from __future__ import annotations

import pytest
from flask import Flask, g, request
from werkzeug.security import check_password_hash

from app import trust_proxies
from app.extensions import limiter
from app.services import accounts
from models import LoginAttempt
from tests.conftest import csrf_token
from tests.factories import PASSWORD, UserFactory

SIGNED_IN = 'action="/logout"'  # the sign-out button shows only to a signed-in user


def _login(client, email, password=PASSWORD, next_=None, headers=None):
    url = "/login" + (f"?next={next_}" if next_ is not None else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")},
                       headers=headers or {})


def _switch_browser():
    """The test's app context outlives requests, and Flask-Login and Flask-WTF cache the user and CSRF token on g."""
    for key in list(g):
        g.pop(key)


def test_failures_for_unknown_emails_never_lock_out_the_administrator(app, client, db):
    UserFactory(email="admin@example.com", role="admin")
    for k in range(app.config["LOGIN_MAX_FAILURES"] * 2):  # twice the per-account limit, from the same address
        assert _login(client, f"nobody{k}@example.com", "guess").status_code == 400
    assert _login(client, "admin@example.com").status_code == 302


def test_one_address_is_held_back_after_its_own_higher_limit(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 8)
    for k in range(8):
        assert _login(client, f"nobody{k}@example.com", "guess").status_code == 400
    assert _login(client, "another@example.com", "guess").status_code == 429


def test_guessing_one_account_throttles_that_account_but_not_its_owners_browser(app, db):
    UserFactory(email="li@example.com")
    owner, attacker = app.test_client(), app.test_client()
    assert _login(owner, "li@example.com").status_code == 302  # the owner's browser is now known
    _switch_browser()
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/")})
    _switch_browser()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _login(attacker, "li@example.com", "guess").status_code == 400
    assert _login(attacker, "li@example.com").status_code == 429
    _switch_browser()
    assert _login(owner, "li@example.com").status_code == 302


def test_an_address_held_back_still_lets_a_browser_in_to_the_account_it_signed_in_to_before(app, db, monkeypatch):
    """Behind a proxy that is not trusted (TRUSTED_PROXY_HOPS=0) every client shares one address: guessing from it
    holds back new browsers, never the administrator's own."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 8)
    UserFactory(email="admin@example.com", role="admin")
    admin, attacker = app.test_client(), app.test_client()
    assert _login(admin, "admin@example.com").status_code == 302
    _switch_browser()
    admin.post("/logout", data={"csrf_token": csrf_token(admin, "/")})
    _switch_browser()
    for k in range(8):
        assert _login(attacker, f"nobody{k}@example.com", "guess").status_code == 400
    assert _login(attacker, "admin@example.com").status_code == 429  # a new browser at this address waits
    _switch_browser()
    assert _login(admin, "admin@example.com").status_code == 302


@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "\\\\evil.example",
                                    "https://evil.example/", "/%0a/evil.example", "%2F%2Fevil.example",
                                    "javascript:alert(1)", "/\t/evil.example", " //evil.example",
                                    "https:evil.example", "///evil.example", "/%5Cevil.example",
                                    "http:/\\evil.example", "%252F%252Fevil.example", "/%2F/evil.example",
                                    "%09//evil.example"])
def test_next_never_leaves_the_site(client, db, target):
    UserFactory(email="li@example.com")
    response = _login(client, "li@example.com", next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_next_follows_a_local_path(client, db):
    UserFactory(email="li@example.com")
    assert _login(client, "li@example.com", next_="/lots?category=fly_ash").headers["Location"] == \
        "/lots?category=fly_ash"


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_captured_before_logout_is_dead_after_it(app, db):
    UserFactory(email="li@example.com", name="Li Lei")
    victim = app.test_client()
    _login(victim, "li@example.com")
    stolen = _session_cookie(victim)
    _switch_browser()
    victim.post("/logout", data={"csrf_token": csrf_token(victim, "/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    _switch_browser()
    assert SIGNED_IN not in thief.get("/").get_data(as_text=True)
    assert thief.get("/notifications").status_code == 302  # sent to sign in


def test_a_password_change_ends_every_other_session(app, db):
    UserFactory(email="li@example.com", name="Li Lei")
    laptop, phone = app.test_client(), app.test_client()
    _login(laptop, "li@example.com")
    _switch_browser()
    _login(phone, "li@example.com")
    _switch_browser()
    response = laptop.post("/account/password", data={
        "current_password": PASSWORD, "password": "a brand new secret", "confirm": "a brand new secret",
        "csrf_token": csrf_token(laptop, "/account/password")})
    assert response.status_code == 302
    _switch_browser()
    assert SIGNED_IN in laptop.get("/").get_data(as_text=True)
    _switch_browser()
    assert SIGNED_IN not in phone.get("/").get_data(as_text=True)
    assert _login(phone, "li@example.com", "a brand new secret").status_code == 302


def test_a_wrong_current_password_changes_nothing(client, db):
    user = UserFactory(email="li@example.com")
    _login(client, "li@example.com")
    response = client.post("/account/password", data={
        "current_password": "wrong", "password": "a brand new secret", "confirm": "a brand new secret",
        "csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 400
    db.session.expire_all()
    assert check_password_hash(db.session.get(type(user), user.id).password_hash, PASSWORD)


def test_an_unknown_email_costs_a_password_hash_too(db, monkeypatch):
    checked = []
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checked.append(h) or False)
    throttle = accounts.Throttle(5, 50, 15)
    assert accounts.authenticate(db.session, "nobody@example.com", "guess", "1.2.3.4", throttle) is None
    assert len(checked) == 1 and checked[0].startswith(("scrypt:", "pbkdf2:"))
    accounts.create_admin(db.session, "li@example.com", "Li", "a real password")  # hashed as the app hashes
    assert accounts.authenticate(db.session, "li@example.com", "guess", "5.6.7.8", throttle) is None
    unknown, known = checked[0].split("$")[0], checked[1].split("$")[0]
    assert unknown == known  # the same method and cost parameters as a real account's hash: the same work


def test_random_bearer_strings_are_rate_limited_per_address(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "API_BAD_TOKEN_RATE_LIMIT", "3/minute")
    limiter.reset()
    statuses = [client.get("/api/v1/me", headers={"Authorization": f"Bearer gf_random{k}"}).status_code
                for k in range(5)]
    assert statuses[:3] == [401] * 3 and statuses[3:] == [429, 429]
    limiter.reset()


def test_trusted_proxy_hops_take_the_client_address_from_the_proxy():
    seen = []
    bare = Flask("proxy-test")
    bare.config["TRUSTED_PROXY_HOPS"] = 1
    bare.add_url_rule("/", "addr", lambda: seen.append(request.remote_addr) or "")
    trust_proxies(bare)
    bare.test_client().get("/", headers={"X-Forwarded-For": "203.0.113.9"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == ["203.0.113.9"]


def test_without_trusted_proxies_a_forged_forwarded_header_is_ignored(app, client, db):
    _login(client, "nobody@example.com", "guess", headers={"X-Forwarded-For": "198.51.100.7"})
    attempt = db.session.query(LoginAttempt).one()
    assert attempt.remote_addr != "198.51.100.7"
