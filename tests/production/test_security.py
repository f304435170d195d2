"""Security: response headers, cookie flags, no inline scripts or styles, uploads by content, throttled sign-in."""
from __future__ import annotations

import io
import re
from pathlib import Path

from tests.conftest import csrf_token
from tests.factories import FacilityFactory, LotFactory, OrganizationFactory, UserFactory, photo_bytes

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
PNG = photo_bytes()


def test_pages_send_the_security_headers(client):
    headers = client.get("/login").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # plain http (development): no HSTS


def test_hsts_and_secure_cookies_when_served_over_tls(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = client.get("/login?lang=en", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_session_cookie_is_httponly_and_samesite(client):
    cookie = client.get("/login?lang=en").headers["Set-Cookie"]
    assert cookie.startswith("session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_templates_have_no_inline_scripts_styles_or_handlers():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle\s*=", r"<style\b", r"\son[a-z]+\s*=\s*[\"']",
                        r"javascript:"):
            offenders += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    assert not offenders, "CSP forbids inline code:\n" + "\n".join(offenders)


def _producer_with_lot():
    org = OrganizationFactory()
    user = UserFactory(organization=org, email="uploader@example.com")
    return user, LotFactory(facility=FacilityFactory(organization=org))


def _upload(client, lot, content: bytes, name: str):
    token = csrf_token(client, f"/lots/{lot.id}")
    return client.post(f"/lots/{lot.id}/documents", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), name)})


def test_uploads_are_judged_by_content_not_by_name(client, auth, reference):
    user, lot = _producer_with_lot()
    auth.login(user.email)
    for content, name in ((b"<svg onload=alert(1)>", "x.png"), (b"<html><script>", "x.pdf"),
                          (b"MZ\x90\x00 an executable", "photo.jpg"), (b"", "empty.png")):
        response = _upload(client, lot, content, name)
        assert response.status_code == 400, name
    assert _upload(client, lot, PNG, "renamed.exe").status_code == 302  # a real PNG whatever its name


def test_a_100_mb_upload_is_refused_with_a_friendly_413(client, auth, reference):
    user, lot = _producer_with_lot()
    auth.login(user.email)
    token = csrf_token(client, f"/lots/{lot.id}")
    response = client.post(f"/lots/{lot.id}/documents?lang=en", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(b"\0" * (100 * 1024 * 1024)), "big.png")})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html" and "<footer" in page  # the app's error page, not a bare 413
    assert "too large" in page or "太大" in page or "过大" in page


def test_sign_in_is_throttled_after_repeated_failures(app, client, db):
    UserFactory(email="victim@example.com")
    token = csrf_token(client, "/login")
    statuses = [client.post("/login", data={"email": "victim@example.com", "password": f"guess {k}",
                                            "csrf_token": token}).status_code
                for k in range(app.config["LOGIN_MAX_FAILURES"] + 1)]
    assert statuses[:-1] == [400] * app.config["LOGIN_MAX_FAILURES"]
    response = client.post("/login", data={"email": "victim@example.com", "password": "correct horse battery",
                                           "csrf_token": token})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
